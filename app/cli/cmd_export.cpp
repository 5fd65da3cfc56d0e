// ptq export: the chosen configuration in a form a hardware toolchain reads.
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/target_args.h"
#include "core/alloc/allocation.h"
#include "core/analysis/evaluate.h"
#include "core/graph/graph.h"
#include "core/io/aimet_export.h"
#include "core/io/layer_csv.h"
#include "core/io/quant_config_file.h"
#include "core/io/torchscript_export.h"
#include "core/workflow/quantize.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace ptq::cli {

int runExport(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "keep-first-last-8bit", "data-free", "sequential"},
                 {"alloc", "format", "o", "out", "calib", "eval", "w", "a", "granularity", "points", "pipeline",
                  "weight-range", "act-range", "batch", "input-shape", "seed", "adaquant-iters", "aimet-version",
                  "target"},
                 "export");
    QuantizeRequest req;
    req.modelPath = modelArg(a, "export");
    const std::string format = a.value("format");
    const std::string out = a.value("o", a.value("out"));
    if (a.has("target")) return runTargetExport(a, format, out);  // a target's own exporter
    if (format != "json" && format != "torchscript" && format != "csv" && format != "aimet" && format != "html")
        throw invalidInput("'ptq export' needs --format json, aimet, torchscript, csv or html (got '" + format + "').");
    if (format == "html" && !a.has("alloc"))
        throw invalidInput("'ptq export --format html' reports an allocation: give --alloc ALLOC.json (ptq allocate "
                           "writes one).");
    const AimetVersion aimet = aimetVersionFromString(a.value("aimet-version", "1.0.0"));
    if (out.empty()) throw invalidInput("'ptq export' needs -o OUT, the file to write.");
    std::optional<AllocationFile> alloc;
    if (a.has("alloc")) {
        if (a.has("w") || a.has("a") || a.has("points") || a.flag("keep-first-last-8bit"))
            throw invalidInput("--alloc gives every layer's bits: drop --w, --a, --points and --keep-first-last-8bit.");
        alloc = requestFromAllocation(a, req);
    } else {
        req.setPipeline(a.value("pipeline", "none"));
        req.inputShape = inputShapeArg(a);
        req.dataFree = a.flag("data-free");
        req.calibSource = a.value("calib");
        if (req.calibSource.empty() && !req.dataFree)
            throw invalidInput("'ptq export' without --alloc needs --calib SRC (or --data-free) to calibrate on.");
        req.evalSource = a.value("eval");
        req.weightBits = int(a.integer("w", 8));
        req.activationBits = int(a.integer("a", 8));
        req.weightPoints = int(a.integer("points", 1));
        req.granularity = granularityFromString(a.value("granularity", "per-channel"));
        req.weightMethod = rangeMethodFromString(a.value("weight-range", "minmax"));
        req.activationMethod = rangeMethodFromString(a.value("act-range", "minmax"));
        req.keepFirstLast8bit = a.flag("keep-first-last-8bit");
        req.batchSize = a.integer("batch", 256);
        if (req.batchSize < 1) throw invalidInput("--batch must be at least 1.");
        req.adaQuantOptions.seed = uint64_t(a.integer("seed", 0));
        req.adaQuantOptions.sequential = a.flag("sequential");
        req.biasTuningOptions.seed = req.distillOptions.seed = req.adaQuantOptions.seed;
    }
    QuantizedRun run = quantizeModel(req);

    ConfigProvenance prov;
    prov.modelPath = req.modelPath;
    prov.pipeline = req.pipelineName();
    prov.calibration = req.dataFree ? "distilled data" : req.calibSource;
    prov.seed = req.adaQuantOptions.seed;
    if (alloc) {
        prov.allocation = a.value("alloc");
        // Through the loss (the summed per-layer Δtop-1 is no prediction); none without the fit,
        // and never above FP32's: no drop predicted is FP32's figure.
        if (std::isfinite(alloc->predictedTop1FromLoss()))
            prov.predictedTop1 = std::min(alloc->fp32Top1, alloc->predictedTop1FromLoss());
    }
    std::optional<EvalResult> fp, quant;
    if (run.eval) {
        const Executor ex(*run.graph);
        fp = evaluate(ex, *run.eval, {}, req.batchSize);
        quant = evaluate(ex, *run.eval, run.model->hooks(), req.batchSize);
        prov.evaluation = req.evalSource;
        prov.fp32Top1 = fp->top1();
        prov.quantTop1 = quant->top1();
    }
    std::string what;
    if (format == "json") {
        writeQuantConfig(out, *run.model, prov);
        what = "configuration (ptq-config v1)";
    } else if (format == "aimet") {
        writeAimetEncodings(out, *run.model, aimet);
        what = "AIMET encodings (version " + a.value("aimet-version", "1.0.0") + ")";
    } else if (format == "csv") {
        writeLayerCsv(out, *run.model);
        what = "per-layer CSV";
    } else if (format == "html") {
        writeHtmlAllocationReport(out, *alloc, req, quant ? &*quant : nullptr, fp ? &*fp : nullptr);
        what = "HTML report";
    } else {
        const TorchScriptExportReport r = exportQuantizedTorchScript(req.modelPath, *run.model, out);
        what = "quantized TorchScript (" + std::to_string(r.layers) + " layers' weights quantized, float activations)";
    }
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(req.modelPath);
        o["format"] = QString::fromStdString(format);
        o["out"] = QString::fromStdString(out);
        o["pipeline"] = QString::fromStdString(req.pipelineName());
        o["layers"] = run.result.layers;
        if (fp) o["fp32_top1"] = fp->top1();
        if (quant) o["quant_top1"] = quant->top1();
        printJson(o);
        return 0;
    }
    std::printf("%s: wrote %s to %s (%d layers, pipeline %s)\n", req.modelPath.c_str(), what.c_str(), out.c_str(),
                run.result.layers, req.pipelineName().c_str());
    if (fp && quant)
        std::printf("  top-1 on %s: FP32 %.2f %%, quantized %.2f %%\n", req.evalSource.c_str(), fp->top1(), quant->top1());
    return 0;
}

}  // namespace ptq::cli
