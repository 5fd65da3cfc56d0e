#pragma once
/// @file
/// AdaQuant (Hubara et al., ICML 2021): per quantizable layer, minimise
/// ||W X - Q(W + V) Q(X)||^2 over the calibration set by learning a weight offset V, the bias,
/// the weight quantizer's per-channel scales and the input activation quantizer's scale and
/// zero point, with Adam, one learning rate per group. The loss is taken after the ReLU that
/// follows the layer, when there is one. Rounding passes gradients straight through.
///
/// Parametrisation (chosen so one set of learning rates suits every layer): V is learned in
/// units of the layer's starting weight grid step (per channel), and scales as log(scale), so
/// the weight and quantizer-parameter learning rates are relative steps; the activation zero
/// point is learned in grid steps; the bias is absolute.
///
/// Parallel flavour: every layer on the FP model's inputs; the results do not depend on one
/// another, so they are kept per (layer, weight bits, activation bits) in an AdaQuantStore for
/// a bit allocation to mix. Sequential flavour: layer by layer, each on the inputs of the model
/// quantized (and tuned) so far, over the whole calibration set.
///
/// Block reconstruction (adaQuantBlocks): the same parameters, learned for all layers of a
/// block at once against the block's FP output (the loss sees how the layers' errors combine,
/// e.g. through a residual sum), block after block on the quantized-so-far model's inputs.

#include "core/data/dataset.h"
#include "core/quant/quantized_model.h"
#include "core/util/progress.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace ptq {

struct AdaQuantLayerResult;
struct AdaQuantBlockResult;

/// One training step's figures, for live plots. Plain data.
struct AdaQuantTick {
    int layerIndex = 0;  ///< 0-based among the layers tuned in this call
    int layerCount = 0;
    std::string layer;
    int iteration = 0;   ///< 1-based
    int iterations = 0;
    double loss = 0.0;   ///< the mini-batch's loss (mean squared error after the ReLU, if any)
    bool block = false;  ///< block reconstruction: layerIndex, layerCount and layer name a block
};

struct AdaQuantOptions {
    int iterations = 200;          ///< Adam steps per layer
    int64_t batchSize = 64;        ///< samples per step, drawn at random from the cached set
    double lrWeight = 1e-2;        ///< V, in grid steps of the layer's starting weight quantizer
    double lrBias = 1e-3;          ///< the bias (absolute)
    double lrActivation = 1e-2;    ///< log of the activation scale; its zero point in grid steps
    double lrWeightQuant = 1e-3;   ///< log of the weight scales
    bool learnWeight = true, learnBias = true, learnActivationParams = true, learnWeightParams = true;
    bool sequential = false;
    int64_t maxCacheBytes = int64_t(1) << 30;  ///< bound of the layer cache (core/methods/layer_cache.h)
    int64_t runBatchSize = 256;    ///< samples per model run while filling the cache
    uint64_t seed = 0;
    /// Block reconstruction: a block ends where a residual sum (any join of two values) has
    /// been reached, or, in a plain chain, once it holds this many tuned layers.
    int blockMaxLayers = 3;
    /// Block reconstruction: Adam steps per block.
    int blockIterations = 400;
    /// Called from the working thread after every step. May be empty; must be cheap.
    std::function<void(const AdaQuantTick&)> onIteration;
    /// Called from the working thread after each layer with its figures. May be empty.
    std::function<void(const AdaQuantLayerResult&)> onLayer;
    /// Block reconstruction: called from the working thread after each block. May be empty.
    std::function<void(const AdaQuantBlockResult&)> onBlock;

    /// Throws ptq::Error (InvalidInput) with a sentence naming the bad option: iterations
    /// (per layer or per block), a block size or a batch size below 1, a learning rate that is not a positive number, a cache bound below
    /// 1 MB.
    void validate() const;
};

/// One layer's tuned quantization. Plain data (tensors flattened row-major).
struct AdaQuantLayerResult {
    std::string layer;
    int weightBits = 8, activationBits = 8;
    std::vector<float> weight;          ///< the tuned float weight (W + V), weightShape
    std::vector<int64_t> weightShape;
    std::vector<float> bias;            ///< empty when the layer has none
    QuantParams weightParams;           ///< per channel (or per tensor, as the layer's spec)
    QuantParams activationParams;       ///< empty when the input stays in float
    double mseBefore = 0, mseAfter = 0; ///< output MSE on the layer's cached inputs, after the ReLU if any
    bool applied = true;                ///< false: tuning did not lower the MSE, the start is kept
    bool reluInLoss = false;
    int iterations = 0;
    int64_t samples = 0;                ///< calibration samples the layer was trained on
    double seconds = 0;                 ///< training and measuring, not the caching
    int64_t macsPerSample = 0;
};

/// One block of block reconstruction. Plain data.
struct AdaQuantBlockResult {
    std::string name;                 ///< the layers' common module path, or "first … last"
    std::vector<std::string> layers;  ///< the tuned layers in it, in execution order
    double mseBefore = 0, mseAfter = 0; ///< the block output's MSE against FP on the held samples
    bool applied = true;              ///< false: tuning did not lower the MSE, the start is kept
    int iterations = 0;
    int64_t samples = 0;
    double seconds = 0;
};

/// Parallel results by (layer, weight bits, activation bits). Plain data; thread-compatible.
class AdaQuantStore {
public:
    using Key = std::tuple<std::string, int, int>;
    void put(const AdaQuantLayerResult& result);
    /// nullptr when absent.
    const AdaQuantLayerResult* find(const std::string& layer, int weightBits, int activationBits) const;
    size_t size() const { return results_.size(); }
    const std::map<Key, AdaQuantLayerResult>& results() const { return results_; }

private:
    std::map<Key, AdaQuantLayerResult> results_;
};

/// What one adaQuant() call did.
struct AdaQuantReport {
    std::vector<AdaQuantLayerResult> layers;  ///< in execution order
    std::vector<AdaQuantBlockResult> blocks;  ///< block reconstruction only, in execution order
    bool sequential = false;       ///< also true for block reconstruction (block after block)
    bool blockwise = false;        ///< block reconstruction
    int64_t samples = 0;           ///< calibration samples used (fewer than given when sub-sampled)
    bool subsampled = false;
    double cacheSeconds = 0, trainSeconds = 0, seconds = 0;
};

/// "blocks", "sequential" or "parallel".
inline const char* adaQuantFlavour(const AdaQuantReport& r) {
    return r.blockwise ? "blocks" : r.sequential ? "sequential" : "parallel";
}

/// Tunes every quantized layer of @p model (after calibrate()) at its configured bits and
/// applies the results: float weight and bias via setFloatParam, weight params pinned via
/// setWeightParams, activation params via setActivationParams. Parallel results are also put
/// into @p store when given. Long; any one thread (it sets grad mode on that thread for the
/// call); progress, and cancel within one step, through @p progress. On ptq::Cancelled or any
/// error the model is left exactly as it was. Throws ptq::Error (InvalidInput) for bad options.
AdaQuantReport adaQuant(QuantizedModel& model, const Dataset& calib, const AdaQuantOptions& options,
                        const Progress* progress = nullptr, AdaQuantStore* store = nullptr);

/// A block of block reconstruction: nodes [first, end) of the graph, read from one value made
/// before first and, unless end is the graph's end, read after it through one value.
struct ReconstructionBlock {
    int first = 0, end = 0;
    std::vector<int> layers;  ///< tuned layers (node ids) in it
    std::string name;
};

/// The blocks of @p model's tuned layers (see AdaQuantOptions::blockMaxLayers): single-input
/// single-output stretches of the graph, in execution order, covering every tuned layer.
std::vector<ReconstructionBlock> reconstructionBlocks(const QuantizedModel& model, int maxLayers);

/// Block reconstruction of @p model (after calibrate()): blocks in execution order, each on the
/// quantized-so-far model's input to it against the FP model's output of it, over the
/// calibration set (a seeded sub-sample when the held activations would pass
/// options.maxCacheBytes). Applies the results as adaQuant() does; report.layers has each
/// layer's parameters, report.blocks each block's figures; ticks name the block. Long; any one
/// thread; progress and cancel through @p progress; on ptq::Cancelled or any error the model is
/// left exactly as it was.
AdaQuantReport adaQuantBlocks(QuantizedModel& model, const Dataset& calib, const AdaQuantOptions& options,
                              const Progress* progress = nullptr);

/// Parallel AdaQuant of every layer of @p graph at each (weight bits, activation bits) option,
/// starting from range-calibrated quantizers (@p granularity, min-max ranges), into @p store;
/// one cache fill serves every option. For a bit allocation that mixes options per layer.
void adaQuantOptions(const Graph& graph, const Dataset& calib, const std::vector<std::pair<int, int>>& bitOptions,
                     Granularity granularity, const AdaQuantOptions& options, AdaQuantStore& store,
                     const Progress* progress = nullptr);

/// Applies the stored results that match each layer's configured bits to @p model; returns how
/// many layers were set. Throws ptq::Error (InvalidInput) when a result does not fit its layer.
int applyAdaQuant(QuantizedModel& model, const AdaQuantStore& store);
/// Applies @p results to @p model (layers not named are left alone).
void applyAdaQuant(QuantizedModel& model, const std::vector<AdaQuantLayerResult>& results);

}  // namespace ptq
