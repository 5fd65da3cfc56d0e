#pragma once
/// @file
/// The import benchmark behind `ptq bench import`: opening a model file in this process
/// (importModelFile: TorchScript or ONNX) against through the import helper process (importTorchScriptIsolated,
/// core/graph/import_process.h), alternated on the same file. Figures only; never a pass/fail.

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

struct ImportBenchResult {
    std::string helper;                ///< the helper's path
    std::vector<int64_t> inputShape;   ///< one sample
    int runs = 0;
    size_t nodes = 0;
    int64_t parameters = 0;
    double inProcessMedianMs = 0, helperMedianMs = 0;
    double inProcessMinMs = 0, helperMinMs = 0;
    double ratio() const { return inProcessMedianMs > 0 ? helperMedianMs / inProcessMedianMs : 0; }
};

/// Imports @p path for @p sampleShape once each way as a warm-up, then @p runs times each way,
/// alternating, and reports medians. Throws ptq::Error as the imports do, and (Failed) when no
/// import helper is found (there would be nothing to compare). Slow by design; any thread.
ImportBenchResult benchImport(const std::string& path, const std::vector<int64_t>& sampleShape, int runs);

}  // namespace ptq
