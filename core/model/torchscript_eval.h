#pragma once
/// @file
/// Accuracy of a TorchScript file through LibTorch's own forward: the reference the executor
/// and every quantized evaluation are compared with.

#include "core/data/dataset.h"
#include "core/util/progress.h"

#include <cstdint>
#include <string>

namespace ptq {

struct Top1Result {
    int64_t correct = 0;
    int64_t total = 0;
    double seconds = 0.0;
    double percent() const { return total ? 100.0 * double(correct) / double(total) : 0.0; }
};

/// Runs the TorchScript module at @p path on every labelled sample of @p data in batches of
/// @p batchSize and counts top-1 hits. Long (seconds); any thread; progress and cancel through
/// @p progress. Throws ptq::Error (InvalidInput) for a bad file or a set without labels.
Top1Result torchScriptTop1(const std::string& path, const Dataset& data, int64_t batchSize = 500,
                           const Progress* progress = nullptr);

}  // namespace ptq
