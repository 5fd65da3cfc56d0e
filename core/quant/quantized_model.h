#pragma once
/// @file
/// A graph with a QuantConfig applied: each quantizable layer's weight quantized once, and an
/// activation quantizer on its input calibrated over a calibration set; an attention matmul
/// (Q·Kᵀ, P·V) gets a quantizer on each of its two inputs, a softmax output the fixed range
/// [0, 1]. Applied to runs through Executor hooks, so the graph itself is never changed.

#include "core/data/dataset.h"
#include "core/quant/quant_config.h"
#include "core/runtime/executor.h"
#include "core/util/progress.h"

#include <functional>
#include <memory>
#include <vector>
#include <string>

namespace ptq {

class QuantizedModel {
public:
    /// @p graph (usually with BatchNorms folded) must outlive this object and not change while
    /// it is used. Throws ptq::Error (InvalidInput) when @p config misses a layer of the graph
    /// or names one the graph does not have.
    QuantizedModel(const Graph& graph, QuantConfig config);
    ~QuantizedModel();
    QuantizedModel(QuantizedModel&&) noexcept;
    QuantizedModel& operator=(QuantizedModel&&) noexcept;

    /// Quantizes the weights and calibrates the activation quantizers on @p calib (the FP
    /// model's activations); params set by setWeightParams / setActivationParams are dropped. Long; any one thread; throws ptq::Error (InvalidInput) for an empty
    /// set or data of the wrong shape, ptq::Cancelled when asked to stop.
    /// @p onBatch, when given, gets each batch's FP model outputs of the calibration pass (for a
    /// caller that needs them too and would otherwise run the FP model again).
    void calibrate(const Dataset& calib, int64_t batchSize = 256, const Progress* progress = nullptr,
                   const std::function<void(const Batch&, const std::vector<at::Tensor>&)>& onBatch = {});

    /// Hooks that make an Executor run the quantized model. Valid while this object lives.
    RunHooks hooks() const;
    /// hooks() with each layer that fits 8-bit integers (one weight point, weight and input at
    /// most 8 bits) run by an integer kernel (core/quant/integer_kernels.h): the same values to
    /// float rounding, several times faster. hooks() where the machine has none. For inference
    /// runs; a run with gradients takes the float path. A caller that changes a layer's input or
    /// weight in its own beforeNode or paramOverride must also give that layer's runNode its
    /// own answer (false: the float op), as the kernel quantizes the raw input with this
    /// model's parameters. Valid while this object lives; made again after the weights change.
    RunHooks integerHooks() const;

    /// Replaces a float parameter of the graph for this model only (a tuned folded weight or
    /// bias); a replaced weight is quantized like the graph's. Call requantizeWeights() after
    /// replacing weights. Core .cpp only (LibTorch types). One thread at a time.
    void setFloatParam(const std::string& key, const at::Tensor& value);
    /// The weight @p layer runs with: quantized (dequantized values), or the float weight when
    /// the layer keeps float weights. Core .cpp only. Throws before calibrate().
    const at::Tensor& runWeight(const std::string& layer) const;
    /// The float parameter this model uses for @p key: its replacement, else the graph's.
    const at::Tensor& floatParam(const std::string& key) const;
    /// Quantizes every layer's weight again from floatParam() (after a tuning step), with its
    /// pinned params (setWeightParams) or else params from the weight's range.
    void requantizeWeights();

    const Graph& graph() const;
    const QuantConfig& config() const;
    /// The calibrated parameters of a layer (throws for an unknown name or before calibrate()).
    const QuantParams& weightParams(const std::string& layer) const;
    /// The quantizer of @p layer's input @p input: 0, or 1 for the second input of an attention
    /// matmul (isActivationLayer).
    const QuantParams& activationParams(const std::string& layer, int input = 0) const;
    /// What the range observed on @p layer's input @p input at calibration gives for @p bits with
    /// this model's activation method: the parameters of another option for the same layer (the
    /// sensitivity table); a softmax output keeps its fixed range [0, 1]. Throws before
    /// calibrate() and for bits outside 2..8 and 16.
    QuantParams observedActivationParams(const std::string& layer, int bits, int input = 0) const;
    /// Whether @p layer is an attention matmul (Graph::isActivationMatMul): two quantized
    /// activation inputs, no weights (its config's weight bits do not apply; the weight
    /// accessors throw for it). Throws for an unknown name.
    bool isActivationLayer(const std::string& layer) const;
    /// E[x²] per channel of @p layer's input on the FP model at calibration (what multipoint
    /// weights are fitted to). Throws before calibrate() and for an unknown layer.
    const std::vector<double>& inputEnergy(const std::string& layer) const;
    /// A multipoint layer's points per output channel (empty for single-point layers).
    const std::vector<int>& weightPointsPerChannel(const std::string& layer) const;
    /// The quantizer specs of a layer (bits 32 in its config: a default spec that is not used).
    const QuantSpec& weightSpec(const std::string& layer) const;
    const QuantSpec& activationSpec(const std::string& layer) const;

    /// Pins a layer's weight quantizer to @p params (learned scales, e.g. AdaQuant's): the
    /// weight is quantized with them now and by every later requantizeWeights(), instead of
    /// params derived from the weight's range. Throws ptq::Error (InvalidInput) for an unknown
    /// layer, a layer left in float, or params that do not fit its spec. One thread at a time;
    /// after calibrate().
    void setWeightParams(const std::string& layer, const QuantParams& params);
    /// Restores one layer from saved parameters instead of data (an imported configuration):
    /// it runs with exactly @p weight (dequantized values; kept by requantizeWeights), @p bias
    /// when given, and the given quantizer params (@p activationParams ignored for float
    /// activations). Call for every layer, then markRestored(). Core .cpp only; one thread.
    /// Throws ptq::Error (InvalidInput) for an unknown layer or tensors of the wrong shape.
    void restoreLayer(const std::string& layer, const at::Tensor& weight, const at::Tensor* bias,
                      const QuantParams& weightParams, const QuantParams& activationParams);
    /// restoreLayer for an attention matmul: the quantizers of its two inputs.
    void restoreActivationLayer(const std::string& layer, const QuantParams& input0, const QuantParams& input1);
    /// Declares the model calibrated after restoreLayer() for every layer.
    void markRestored();
    /// A multipoint layer's params of every point (empty for single-point layers).
    const std::vector<QuantParams>& weightPointParams(const std::string& layer) const;
    /// Whether setWeightParams pinned the layer's weight quantizer.
    bool weightParamsPinned(const std::string& layer) const;
    /// Drops the pin: requantizeWeights() derives the layer's params from its range again.
    void unpinWeightParams(const std::string& layer);
    /// Replaces a layer's input activation quantizer params (learned, e.g. by AdaQuant). Same
    /// rules as setWeightParams; kept until calibrate() runs again.
    void setActivationParams(const std::string& layer, const QuantParams& params);

    /// Everything the setters and calibrate() change (tuned float params, quantizer params,
    /// pins), to put the model back after a step that was cancelled or failed. Cheap: tensors
    /// are shared, not copied (the model never changes a tensor in place).
    struct Snapshot {
        struct Data;
        std::shared_ptr<const Data> data;
    };
    Snapshot snapshot() const;
    /// Puts the model back as it was when @p snapshot was taken (of this model).
    void restore(const Snapshot& snapshot);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace ptq
