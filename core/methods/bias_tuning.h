#pragma once
/// @file
/// Bias tuning (Hubara et al., ICML 2021): train only the biases of the quantizable layers of a
/// fake-quantized model so that its outputs match the FP model's, by the KL divergence of the
/// softmax outputs on the calibration set. Weights and quantizers stay as they are.

#include "core/data/dataset.h"
#include "core/quant/quantized_model.h"
#include "core/util/progress.h"

#include <cstdint>
#include <functional>

namespace ptq {

struct BiasTuningOptions {
    int iterations = 100;     ///< Adam steps over random mini-batches of the calibration set
    int64_t batchSize = 100;
    double lr = 1e-3;
    uint64_t seed = 0;
    /// Called from the working thread after every step with the mini-batch's KL. May be empty.
    std::function<void(int iteration, int iterations, double kl)> onIteration;
    /// Throws ptq::Error (InvalidInput) for iterations or a batch size below 1 or a learning
    /// rate that is not a positive number.
    void validate() const;
};

struct BiasTuningResult {
    int biases = 0;            ///< layers whose bias was trained
    double klBefore = 0, klAfter = 0;  ///< mean KL(FP || quantized) over the calibration set
    bool applied = false;      ///< false: the KL did not go down, the biases were left alone
    int iterations = 0;
    double seconds = 0;
};

/// Trains the biases of @p model (after calibrate()) and sets them with setFloatParam when they
/// lower the calibration KL. Long; any one thread (it turns grad mode on for the call);
/// progress and cancel within one step through @p progress; on ptq::Cancelled or an error the
/// model is left as it was. Throws ptq::Error (InvalidInput) for bad options or data.
BiasTuningResult tuneBiases(QuantizedModel& model, const Dataset& calib, const BiasTuningOptions& options = {},
                            const Progress* progress = nullptr);

}  // namespace ptq
