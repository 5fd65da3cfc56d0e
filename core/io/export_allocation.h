#pragma once
/// @file
/// One call that quantizes a model with a per-layer allocation (from a GUI session) and writes
/// it in one of the export formats: the ptq-config JSON, AIMET encodings, the per-layer CSV or
/// quantized TorchScript. What `ptq export --alloc` does, for callers that hold the allocation
/// as values rather than as a file. Plain C++ (no LibTorch types); long; any one thread.

#include "core/analysis/sensitivity.h"
#include "core/util/progress.h"

#include <map>
#include <optional>
#include <string>

namespace ptq {

enum class ExportFormat { Json, Aimet061, Aimet100, Csv, TorchScript };

/// "json", "aimet-0.6.1", "aimet-1.0.0", "csv", "torchscript".
const char* exportFormatName(ExportFormat format);

struct AllocationExport {
    std::string modelPath;
    std::string calibrationSource;
    std::map<std::string, BitOption> layers;  ///< every quantizable layer's option, by name
    Granularity granularity = Granularity::PerChannel;
    RangeMethod weightMethod = RangeMethod::MinMax;
    RangeMethod activationMethod = RangeMethod::MinMax;
    std::string pipeline = "none";            ///< none, light or advanced
    int64_t batchSize = 256;
    std::optional<double> predictedTop1;      ///< recorded in the JSON's provenance
    ExportFormat format = ExportFormat::Json;
    std::string out;
};

/// Calibrates (and tunes, as the pipeline says) the model with @p request's layers and writes
/// @p request.out atomically. Returns a sentence saying what was written. Throws ptq::Error
/// (InvalidInput) for a bad model, data source or layer, (Failed) when it cannot write,
/// ptq::Cancelled when asked to stop.
std::string exportAllocation(const AllocationExport& request, const Progress* progress = nullptr);

}  // namespace ptq
