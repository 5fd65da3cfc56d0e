#pragma once
/// @file
/// Model quality on data: top-1 and cross-entropy on labelled data, KL divergence of a
/// (quantized) run against the FP model on any data.

#include "core/data/dataset.h"
#include "core/runtime/executor.h"
#include "core/util/progress.h"

#include <cstdint>

namespace ptq {

struct EvalResult {
    int64_t samples = 0;
    int64_t correct = 0;
    double crossEntropy = 0.0;  ///< mean over samples (labelled data only)
    double klToReference = 0.0; ///< mean KL(reference || evaluated), when a reference was run
    double seconds = 0.0;
    double top1() const { return samples ? 100.0 * double(correct) / double(samples) : 0.0; }
};

/// Runs @p executor with @p hooks over @p data and measures top-1 and cross-entropy (labels
/// needed). Long; any thread; progress/cancel through @p progress.
EvalResult evaluate(const Executor& executor, const Dataset& data, const RunHooks& hooks = {},
                    int64_t batchSize = 500, const Progress* progress = nullptr);

/// Runs the model twice per batch, plain (the reference) and with @p hooks, and measures the
/// mean KL divergence of the hooked run's softmax from the reference's; also top-1 and
/// cross-entropy of the hooked run when @p data has labels.
EvalResult evaluateAgainstReference(const Executor& executor, const Dataset& data, const RunHooks& hooks,
                                    int64_t batchSize = 500, const Progress* progress = nullptr);

}  // namespace ptq
