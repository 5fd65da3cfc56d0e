#include "core/workflow/export.h"

#include "core/io/layer_csv.h"
#include "core/io/onnx_export.h"
#include "core/io/torchscript_export.h"
#include "core/util/error.h"
#include "core/workflow/quantize.h"

#include <cstdio>

namespace ptq {

namespace {

std::string joined(const std::vector<float>& v) {
    std::string s;
    char buf[32];
    for (float x : v) {
        std::snprintf(buf, sizeof buf, "%.9g", double(x));  // exact for a float: read back bit for bit
        s += (s.empty() ? "" : ",") + std::string(buf);
    }
    return s;
}

// The model's name, where it came from and the normalization its input is expected with.
OnnxExportOptions onnxOptions(const LoadedModel& model) {
    OnnxExportOptions o;
    const ModelCard& card = model.card();
    const Normalization& norm = model.normalization();
    o.modelName = card.name.empty() ? "model" : card.name;
    o.metadata["ptq_studio.source"] = model.path();
    o.metadata["ptq_studio.input"] = "normalized pixels: (pixel / 255 - mean) / std per channel";
    o.metadata["ptq_studio.normalization.mean"] = norm.mean.empty() ? "0" : joined(norm.mean);
    o.metadata["ptq_studio.normalization.std"] = norm.std.empty() ? "1" : joined(norm.std);
    std::string shape;
    for (int64_t d : model.inputShape()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    o.metadata["ptq_studio.input_shape"] = shape;  // one sample, C,H,W
    if (card.cropRatio > 0) o.metadata["ptq_studio.crop_ratio"] = joined({float(card.cropRatio)});
    return o;
}

}  // namespace

std::string exportQuantized(const QuantizedRun& run, const ExportRequest& r) {
    if (r.path.empty()) throw invalidInput("Choose the file to export to.");
    const QuantizedModel& model = *run.model;
    switch (r.format) {
    case ExportFormat::Json: {
        ConfigProvenance prov = r.provenance;
        if (prov.modelPath.empty()) prov.modelPath = run.source->path();
        writeQuantConfig(r.path, model, prov);
        return "configuration (ptq-config v1)";
    }
    case ExportFormat::Aimet:
        // AIMET applies encodings to the user's own model, whose tensors the rescale changed.
        if (run.equalized)
            throw invalidInput("AIMET encodings describe the tensors of the original model, and range equalization "
                               "rescaled some of its channels: export without range equalization, or export the "
                               "rescaled model itself (torchscript, onnx or json).");
        writeAimetEncodings(r.path, model, r.aimetVersion);
        return std::string("AIMET encodings (version ") +
               (r.aimetVersion == AimetVersion::V0_6_1 ? "0.6.1" : "1.0.0") + ")";
    case ExportFormat::Csv:
        writeLayerCsv(r.path, model);
        return "per-layer CSV";
    case ExportFormat::TorchScript: {
        const TorchScriptExportReport rep = exportQuantizedTorchScript(run.source->path(), model, r.path);
        return "quantized TorchScript (" + std::to_string(rep.layers) + " layers' weights quantized, float activations)";
    }
    case ExportFormat::Onnx:
        return exportQuantizedOnnx(model, r.path, onnxOptions(*run.source)).description;
    case ExportFormat::OnnxFp32:
        return exportFloatOnnx(run.source->graph(), r.path, onnxOptions(*run.source)).description;
    case ExportFormat::Html:
        break;
    }
    throw invalidInput("The HTML report describes an allocation and its table: export it from an allocation.");
}

std::string exportFloatModel(const LoadedModel& model, const std::string& path) {
    return exportFloatOnnx(model.graph(), path, onnxOptions(model)).description;
}

std::string exportAllocation(const AllocationExport& r, const Progress* progress) {
    if (r.out.path.empty()) throw invalidInput("Choose the file to export to.");
    if (r.layers.empty()) throw invalidInput("There is no allocation to export: wait for the first allocation.");
    if (!r.model) throw invalidInput("Open a model first.");
    QuantizeRequest req;
    req.opened = r.model;
    req.model.path = r.model->path();
    req.calibSource = r.calibrationSource;
    req.steps = r.steps;
    req.equalizeRanges = r.equalizeRanges;
    req.equalization.denseReaders = r.equalizeDense;
    req.tuning = r.tuning;
    req.quantizer = r.quantizer;
    for (const auto& [name, o] : r.layers)
        req.layerOverrides[name] = LayerQuant{o.weightBits, o.activationBits, r.quantizer.granularity, o.weightPoints};
    const QuantizedRun run = quantizeModel(req, progress);
    if (progress) progress->throwIfCancelled();
    ExportRequest out = r.out;
    out.provenance.modelPath = r.model->path();
    out.provenance.pipeline = pipelineName(req.steps, req.equalizeRanges, req.equalization.denseReaders);
    out.provenance.calibration = r.calibrationSource.text;
    out.provenance.seed = r.tuning.adaquant.seed;
    out.provenance.predictedTop1 = r.predictedTop1;
    return "Wrote the " + exportQuantized(run, out) + " to " + out.path + ".";
}

std::string exportTuned(const TunedModel& tuned, const ExportRequest& request) {
    ExportRequest out = request;
    const TunedState state = tuned.state();
    out.provenance.modelPath = tuned.run().source->path();
    out.provenance.pipeline = pipelineName(state.steps, state.equalizedRanges, state.equalizedDense);
    out.provenance.calibration = state.calibrationSource;
    return "Wrote the " + exportQuantized(tuned.run(), out) + " to " + out.path + ".";
}

}  // namespace ptq
