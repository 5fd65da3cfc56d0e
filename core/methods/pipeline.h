#pragma once
/// @file
/// One quantization run as the command line's `ptq quantize` and the GUI's jobs start it:
/// import, fold BatchNorm, configure, calibrate, evaluate FP32 and quantized.

#include "core/analysis/layer_error.h"
#include "core/methods/adaquant.h"
#include "core/methods/bias_tuning.h"
#include "core/quant/quant_config.h"
#include "core/util/progress.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

struct QuantizeRequest {
    std::string modelPath;
    std::vector<int64_t> inputShape;   ///< empty: from the model's sidecar
    std::string calibSource;           ///< a data source name (core/data/data_source.h)
    std::string evalSource;
    int weightBits = 8;
    int activationBits = 8;
    Granularity granularity = Granularity::PerChannel;
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
    double adaQuantSeconds = 0, bnTuningSeconds = 0, biasTuningSeconds = 0;
    AdaQuantReport adaQuant;         ///< filled when AdaQuant ran
    /// With evalEachStep: top-1 after "calibration" and after each step that ran ("adaquant",
    /// "bn-tuning", "bias-correction", "bias-tuning"), in order.
    std::vector<std::pair<std::string, double>> stepTop1;
    BiasTuningResult biasTuning;     ///< filled when bias tuning ran
    QuantConfig config;
    std::vector<LayerError> layerErrors;  ///< filled when asked for, in execution order
    double drop() const { return fp32Top1 - quantTop1; }
};

/// Runs @p request end to end. Long (tens of seconds); any one thread; progress and cancel
/// through @p progress. Throws ptq::Error (InvalidInput) for a bad model, data source, bits or
/// data of the wrong shape; ptq::Cancelled when asked to stop.
QuantizeResult quantizeAndEvaluate(const QuantizeRequest& request, const Progress* progress = nullptr);

}  // namespace ptq
