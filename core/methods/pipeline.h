#pragma once
/// @file
/// One quantization run as the command line's `ptq quantize` and the GUI's jobs start it:
/// import, fold BatchNorm, configure, calibrate, evaluate FP32 and quantized.

#include "core/analysis/layer_error.h"
#include "core/analysis/sensitivity.h"
#include "core/methods/adaquant.h"
#include "core/methods/distill.h"
#include "core/methods/bias_tuning.h"
#include "core/graph/graph.h"
#include "core/quant/quant_config.h"
#include "core/quant/quantized_model.h"
#include "core/util/progress.h"

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

struct QuantizeRequest {
    std::string modelPath;
    std::vector<int64_t> inputShape;   ///< empty: from the model's sidecar
    std::string calibSource;           ///< a data source name (core/data/data_source.h)
    /// Data-free (ZeroQ): calibrate on images distilled from the model's BatchNorm statistics
    /// (distillOptions) instead of calibSource, which must then be empty.
    bool dataFree = false;
    DistillOptions distillOptions;
    std::string evalSource;
    int weightBits = 8;
    int activationBits = 8;
    Granularity granularity = Granularity::PerChannel;
    /// Multipoint weights: points per channel on average for every layer quantized at
    /// weightBits (not the 8-bit first/last layers); 1 is plain quantization.
    int weightPoints = 1;
    RangeMethod weightMethod = RangeMethod::MinMax;
    RangeMethod activationMethod = RangeMethod::MinMax;
    bool keepFirstLast8bit = false;
    bool bnTuning = false;        ///< re-estimate folded BatchNorms on the quantized model
    bool biasCorrection = false;  ///< remove each layer's mean output shift
    bool layerErrors = false;     ///< measure each layer's local error on the calibration set
    bool evaluateFp32 = true;     ///< false: skip the FP32 pass (sweeps that know it already)
    bool adaQuant = false;        ///< AdaQuant every layer (adaQuantOptions.sequential: which flavour)
    bool biasTuning = false;      ///< train the biases against the FP model's logits (last step)
    bool evalEachStep = false;    ///< also measure top-1 after calibration and after each tuning step
    AdaQuantOptions adaQuantOptions;
    BiasTuningOptions biasTuningOptions;
    int64_t batchSize = 256;
    /// Per-layer settings over the uniform weightBits/activationBits (a mixed allocation, e.g.
    /// from ptq allocate), by layer name; every name must be a quantizable layer of the model.
    std::map<std::string, LayerQuant> layerOverrides;
    /// The allocation file layerOverrides came from (named in errors); when set, the overrides
    /// must also cover every quantizable layer, as a complete allocation does.
    std::string layerOverridesFile;
    /// Mixed precision in one go: measure the sensitivity table of mixedOptions on the
    /// calibration data (KL to FP32 on unlabelled or distilled data), then the integer program's
    /// allocation of least summed degradation under this weight-size budget (a fraction of the
    /// FP32 weights), before calibration. Its layers override the uniform bits.
    std::optional<double> maxSizeRatio;
    std::vector<BitOption> mixedOptions = {{2, 8}, {3, 8}, {4, 8}, {5, 8}, {6, 8}, {8, 8}};

    /// "none" (ranges only), "light" (ranges + BN tuning + bias correction, no backprop) or
    /// "advanced" (ranges + AdaQuant + BN tuning + bias tuning). Order of the steps that run:
    /// AdaQuant, BN tuning, bias correction, bias tuning.
    void setPipeline(const std::string& name);
    std::string pipelineName() const;
};

struct QuantizeResult {
    double fp32Top1 = 0, quantTop1 = 0;
    double fp32CrossEntropy = 0, quantCrossEntropy = 0;
    int64_t calibSamples = 0, evalSamples = 0;
    int layers = 0;
    int bnTuned = 0, biasesCorrected = 0;
    double calibrateSeconds = 0, tuneSeconds = 0, fp32EvalSeconds = 0, quantEvalSeconds = 0;
    double adaQuantSeconds = 0, bnTuningSeconds = 0, biasTuningSeconds = 0, distillSeconds = 0;
    double distillLoss = 0;          ///< the distillation's final loss (data-free)
    /// With maxSizeRatio: the table's time, the solve time and the allocation's figures.
    double sensitivitySeconds = 0, allocateMs = 0;
    double allocatedSizeRatio = 0, predictedDegradation = 0;
    AdaQuantReport adaQuant;         ///< filled when AdaQuant ran
    /// With evalEachStep: top-1 after "calibration" and after each step that ran ("adaquant",
    /// "bn-tuning", "bias-correction", "bias-tuning"), in order.
    std::vector<std::pair<std::string, double>> stepTop1;
    BiasTuningResult biasTuning;     ///< filled when bias tuning ran
    QuantConfig config;
    std::vector<LayerError> layerErrors;  ///< filled when asked for, in execution order
    double drop() const { return fp32Top1 - quantTop1; }
};

/// The model a request makes, for exporters and the GUI: the graph (BatchNorms folded), the
/// calibrated and tuned QuantizedModel over it, the data it used, and the figures of the steps
/// that ran. Not evaluated (quantTop1 and fp32Top1 stay 0). Move-only; the model refers to
/// the graph, which lives as long as the run.
struct QuantizedRun {
    std::unique_ptr<Graph> graph;
    std::unique_ptr<Dataset> calib, eval;  ///< eval only when request.evalSource was given
    std::unique_ptr<QuantizedModel> model;
    QuantizeResult result;
};

/// Imports, calibrates and tunes as @p request says, without the final evaluations (evalSource
/// may be empty unless evalEachStep). Same errors as quantizeAndEvaluate.
QuantizedRun quantizeModel(const QuantizeRequest& request, const Progress* progress = nullptr);

/// Runs @p request end to end. Long (tens of seconds); any one thread; progress and cancel
/// through @p progress. Throws ptq::Error (InvalidInput) for a bad model, data source, bits or
/// data of the wrong shape; ptq::Cancelled when asked to stop.
QuantizeResult quantizeAndEvaluate(const QuantizeRequest& request, const Progress* progress = nullptr);

}  // namespace ptq
