#pragma once
/// @file
/// The benchmark behind `ptq bench quant`: a whole evaluation pass of a data set through the
/// executor, FP32 against fake-quantized (weights quantized once, activations quantized at every
/// quantizable layer's input). Figures only; never a pass/fail.

#include "core/data/data_source.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

struct QuantEvalBenchRequest {
    std::string modelPath;
    std::vector<int64_t> inputShape;  ///< empty: from the model's sidecar
    DataSourceSpec evalSource = parseDataSource("fmnist:test");  ///< parsed where the user named it
    DataSourceSpec calibSource = parseDataSource("fmnist:train:1000");
    int weightBits = 8, activationBits = 8;
    bool perChannel = true;
    int64_t batchSize = 256;
    int runs = 3;  ///< evaluation passes of each kind, alternated
};

struct QuantEvalBenchResult {
    int64_t samples = 0;
    int runs = 0;
    int threads = 0;
    int layers = 0;
    double fp32MedianSeconds = 0, quantMedianSeconds = 0;
    double fp32MinSeconds = 0, quantMinSeconds = 0;
    double fp32Top1 = 0, quantTop1 = 0;
    double calibrateSeconds = 0;
    double ratio() const { return fp32MedianSeconds > 0 ? quantMedianSeconds / fp32MedianSeconds : 0; }
};

/// Imports and folds the model, calibrates it on the calibration source, then alternates FP32
/// and fake-quantized evaluation passes over the evaluation source (after one warm-up pass of
/// each) and reports the medians. Slow by design (a pass of 10k images is seconds); any thread.
QuantEvalBenchResult benchQuantEval(const QuantEvalBenchRequest& request);

}  // namespace ptq
