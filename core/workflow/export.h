#pragma once
/// @file
/// Exporting: the one dispatch from a calibrated (and tuned) model to the files hardware
/// toolchains read: PTQ Studio's configuration JSON, AIMET encodings, the per-layer CSV and
/// TorchScript with quantized weights, ONNX QDQ and ONNX in float. `ptq quantize -o`, `ptq export` and the GUI's
/// File > Export all write through it, so what is written is the model that was measured.
/// (The HTML report of an allocation is core/io/html_report.h.) Plain C++; any one thread.

#include "core/io/aimet_export.h"
#include "core/io/quant_config_file.h"
#include "core/util/progress.h"
#include "core/workflow/settings.h"
#include "core/workflow/tuned_model.h"

#include <map>
#include <optional>
#include <string>

namespace ptq {

struct QuantizedRun;

/// What to write and where.
struct ExportRequest {
    ExportFormat format = ExportFormat::Json;
    std::string path;
    AimetVersion aimetVersion = AimetVersion::V1_0_0;
    /// Recorded in the configuration JSON: where the model came from and what it measured.
    ConfigProvenance provenance;
};

/// Writes @p run's model as @p request says, atomically. Returns a sentence saying what was
/// written. Throws ptq::Error (InvalidInput) for a format this call does not write (html),
/// (Failed) when the file cannot be written.
std::string exportQuantized(const QuantizedRun& run, const ExportRequest& request);

/// An allocation held as values (a GUI session): the layers' options and how to quantize them.
struct AllocationExport {
    std::shared_ptr<const LoadedModel> model;
    DataSourceSpec calibrationSource;
    std::map<std::string, BitOption> layers;  ///< every quantizable layer's option, by name
    QuantizerSettings quantizer;
    std::vector<TuningStep> steps;            ///< the pipeline run before writing
    bool equalizeRanges = false;              ///< range equalization before calibration
    bool equalizeDense = false;               ///< with dense readers (RangeEqualizationOptions::denseReaders)
    TuningOptions tuning;
    std::optional<double> predictedTop1;      ///< recorded in the JSON's provenance
    ExportRequest out;
};

/// Calibrates (and tunes, as @p request's steps say) the allocation and writes it. For a session
/// whose tuned model is the allocation's, export that model with exportTuned() instead: it is
/// what the user measured. Throws as quantizeModel() and exportQuantized() do; ptq::Cancelled.
std::string exportAllocation(const AllocationExport& request, const Progress* progress = nullptr);

/// Writes @p model's graph (BatchNorms folded) as ONNX in float, the model as the executor runs
/// it (ExportFormat::OnnxFp32 without a calibration). Returns what was written, as
/// exportQuantized() does. Throws ptq::Error (InvalidInput) naming a layer with no ONNX mapping,
/// (Failed) when the file cannot be written.
std::string exportFloatModel(const LoadedModel& model, const std::string& path);

/// Writes the session's tuned model @p tuned (calibrated, with the steps that ran on it).
std::string exportTuned(const TunedModel& tuned, const ExportRequest& request);

}  // namespace ptq
