#pragma once
/// @file
/// The forward benchmark behind `ptq bench forward`: the executor against TorchScript's own
/// forward on the same batch. Figures only; never a pass/fail.

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

struct ForwardBenchResult {
    std::vector<int64_t> inputShape;  ///< one sample, as the model was opened
    int64_t batch = 0;
    int runs = 0;
    bool foldedBn = false;
    double executorMedianMs = 0, torchScriptMedianMs = 0;
    double executorMinMs = 0, torchScriptMinMs = 0;
    int64_t peakLiveBytes = 0;   ///< largest total of live intermediates in one executor run
    int64_t producedBytes = 0;   ///< all intermediates one run produces (what no freeing would keep)
    int64_t maxRssBytes = 0;     ///< the process's peak resident memory after the benchmark
    int threads = 0;
    double ratio() const { return torchScriptMedianMs > 0 ? executorMedianMs / torchScriptMedianMs : 0; }
};

/// Imports @p path for @p sampleShape, then alternates executor and TorchScript runs on one
/// seeded batch (@p runs each, after a warm-up) and reports medians. Slow by design; any thread.
ForwardBenchResult benchForward(const std::string& path, const std::vector<int64_t>& sampleShape, int64_t batch,
                                int runs, bool foldBn);

}  // namespace ptq
