#include "core/io/export_allocation.h"

#include "core/io/aimet_export.h"
#include "core/io/layer_csv.h"
#include "core/io/quant_config_file.h"
#include "core/io/torchscript_export.h"
#include "core/methods/pipeline.h"
#include "core/util/error.h"

namespace ptq {

const char* exportFormatName(ExportFormat f) {
    switch (f) {
    case ExportFormat::Json: return "json";
    case ExportFormat::Aimet061: return "aimet-0.6.1";
    case ExportFormat::Aimet100: return "aimet-1.0.0";
    case ExportFormat::Csv: return "csv";
    case ExportFormat::TorchScript: return "torchscript";
    }
    return "json";
}

std::string exportAllocation(const AllocationExport& r, const Progress* progress) {
    if (r.out.empty()) throw invalidInput("Choose the file to export to.");
    if (r.layers.empty()) throw invalidInput("There is no allocation to export: wait for the first allocation.");
    QuantizeRequest req;
    req.modelPath = r.modelPath;
    req.calibSource = r.calibrationSource;
    req.setPipeline(r.pipeline);
    req.granularity = r.granularity;
    req.weightMethod = r.weightMethod;
    req.activationMethod = r.activationMethod;
    req.batchSize = r.batchSize;
    for (const auto& [name, o] : r.layers)
        req.layerOverrides[name] = LayerQuant{o.weightBits, o.activationBits, r.granularity, o.weightPoints};
    QuantizedRun run = quantizeModel(req, progress);
    if (progress) progress->throwIfCancelled();
    switch (r.format) {
    case ExportFormat::Json: {
        ConfigProvenance prov;
        prov.modelPath = r.modelPath;
        prov.pipeline = req.pipelineName();
        prov.calibration = r.calibrationSource;
        prov.predictedTop1 = r.predictedTop1;
        writeQuantConfig(r.out, *run.model, prov);
        return "Wrote the configuration (ptq-config v1) to " + r.out + ".";
    }
    case ExportFormat::Aimet061:
    case ExportFormat::Aimet100:
        writeAimetEncodings(r.out, *run.model, r.format == ExportFormat::Aimet061 ? AimetVersion::V0_6_1 : AimetVersion::V1_0_0);
        return "Wrote AIMET encodings to " + r.out + ".";
    case ExportFormat::Csv:
        writeLayerCsv(r.out, *run.model);
        return "Wrote the per-layer CSV to " + r.out + ".";
    case ExportFormat::TorchScript: {
        const TorchScriptExportReport rep = exportQuantizedTorchScript(r.modelPath, *run.model, r.out);
        return "Wrote quantized TorchScript (" + std::to_string(rep.layers) + " layers) to " + r.out + ".";
    }
    }
    return {};
}

}  // namespace ptq
