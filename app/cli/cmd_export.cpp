// ptq export: the chosen configuration in a form a hardware toolchain reads.
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/terminal_progress.h"
#include "cli/target_args.h"
#include "core/alloc/allocation.h"
#include "core/analysis/evaluate.h"
#include "core/graph/graph.h"
#include "core/workflow/export.h"
#include "core/workflow/quantize.h"
#include "core/util/error.h"

#include <tuple>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace ptq::cli {

namespace {

// --format onnx-fp32: the graph as the executor runs it; nothing to calibrate.
int exportFp32(const Args& a, const ModelRequest& request, const std::string& out, TerminalProgress& progress) {
    for (const char* option : {"alloc", "calib", "w", "a", "pipeline", "points", "granularity"})
        if (a.has(option))
            throw invalidInput(std::string("'ptq export --format onnx-fp32' writes the FP32 model: drop --") + option + ".");
    const auto model = openModelForData(request, progress.get());
    const std::string what = exportFloatModel(*model, out);
    progress.finish();
    progress.wrote(out);
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(request.path);
        o["format"] = exportFormatName(ExportFormat::OnnxFp32);
        o["out"] = QString::fromStdString(out);
        printJson(o);
        return 0;
    }
    std::printf("%s: wrote %s to %s\n", request.path.c_str(), what.c_str(), out.c_str());
    return 0;
}

}  // namespace

int runExport(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "keep-first-last-8bit", "data-free", "sequential", "skip-bad", "adaquant-blocks",
                         "equalize-ranges", "equalize-dense"},
                 withModelCard({"alloc", "format", "o", "out", "calib", "eval", "w", "a", "granularity", "points",
                                "pipeline", "weight-range", "act-range", "batch", "seed", "adaquant-iters",
                                "block-iters", "block-layers", "aimet-version", "target"}),
                 "export");
    TerminalProgress progress(a.flag("json"));
    QuantizeRequest req;
    req.model = modelRequestArg(a, "export");
    const std::string out = a.value("o", a.value("out"));
    if (a.has("target")) return runTargetExport(a, a.value("format"), out);  // a target's own exporter
    if (!a.has("format"))
        throw invalidInput("'ptq export' needs --format json, aimet, torchscript, onnx, onnx-fp32, csv or html.");
    const ExportFormat format = exportFormatFromString(a.value("format"));
    if (format == ExportFormat::Html && !a.has("alloc"))
        throw invalidInput("'ptq export --format html' reports an allocation: give --alloc ALLOC.json (ptq allocate "
                           "writes one).");
    ExportRequest exportRequest;
    exportRequest.format = format;
    exportRequest.path = out;
    exportRequest.aimetVersion = aimetVersionFromString(a.value("aimet-version", "1.0.0"));
    if (out.empty()) throw invalidInput("'ptq export' needs -o OUT, the file to write.");
    if (format == ExportFormat::OnnxFp32) return exportFp32(a, req.model, out, progress);
    std::optional<AllocationFile> alloc;
    AdaQuantOptions& ada = req.tuning.adaquant;
    if (a.has("alloc")) {
        if (a.has("w") || a.has("a") || a.has("points") || a.flag("keep-first-last-8bit"))
            throw invalidInput("--alloc gives every layer's bits: drop --w, --a, --points and --keep-first-last-8bit.");
        alloc = requestFromAllocation(a, req);
    } else {
        pipelineArgs(a, req);
        req.dataFree = a.flag("data-free");
        req.calibSource = dataSourceArg(a, "calib");
        if (!req.calibSource.given() && !req.dataFree)
            throw invalidInput("'ptq export' without --alloc needs --calib SRC (or --data-free) to calibrate on.");
        req.evalSource = dataSourceArg(a, "eval");
        req.weightBits = int(a.integer("w", 8));
        req.activationBits = int(a.integer("a", 8));
        req.weightPoints = int(a.integer("points", 1));
        req.quantizer = quantizerArgs(a);
        req.keepFirstLast8bit = a.flag("keep-first-last-8bit");
        ada.seed = uint64_t(a.integer("seed", 0));
        req.tuning.biasTuning.seed = req.distillOptions.seed = ada.seed;
    }
    std::tie(req.equalizeRanges, req.equalization.denseReaders) = equalizationArgs(a);
    if (req.equalizeRanges && format == ExportFormat::Aimet)  // before the calibration, not after
        throw invalidInput("AIMET encodings describe the tensors of the original model, and --equalize-ranges "
                           "rescales some of its channels: drop --equalize-ranges, or export the rescaled model "
                           "itself (--format torchscript, onnx or json).");
    EvaluationShares shares;
    req.opened = openModelForData(req.model);
    const QuantizedRun run = quantizeModel(req, progress.get(), shares);

    ConfigProvenance& prov = exportRequest.provenance;
    prov.modelPath = req.model.path;
    prov.pipeline = pipelineName(req.steps, req.equalizeRanges, req.equalization.denseReaders);
    prov.calibration = req.dataFree ? "distilled data" : req.calibSource.text;
    prov.seed = ada.seed;
    if (alloc) {
        prov.allocation = a.value("alloc");
        // The prediction through the loss, and never above FP32 (core/io/html_report.h).
        const double fromLoss = alloc->predictedTop1FromLoss();
        if (std::isfinite(fromLoss)) prov.predictedTop1 = std::min(fromLoss, alloc->fp32Top1);
    }
    std::optional<EvalResult> fp, quant;
    if (run.eval) {
        const Executor ex(run.graph());
        fp = evaluate(Executor(run.source->graph()), *run.eval, {}, req.quantizer.batchSize,
                      ScaledProgress(progress.get(), shares.fp32From, shares.quantFrom, "Evaluating FP32").get());
        quant = evaluate(ex, *run.eval, run.model->hooks(), req.quantizer.batchSize,
                         ScaledProgress(progress.get(), shares.quantFrom, 1.0, "Evaluating quantized").get());
        prov.evaluation = req.evalSource.text;
        prov.fp32Top1 = fp->top1();
        prov.quantTop1 = quant->top1();
    }
    progress.finish();
    reportSkipped(req.calibSource, run.result.calibSkipped);
    reportSkipped(req.evalSource, run.result.evalSkipped);
    std::string what;
    if (format == ExportFormat::Html) {
        writeHtmlAllocationReport(out, *alloc, req, quant ? &*quant : nullptr, fp ? &*fp : nullptr);
        what = "HTML report";
    } else {
        what = exportQuantized(run, exportRequest);
    }
    progress.wrote(out);
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(req.model.path);
        o["format"] = exportFormatName(format);
        o["out"] = QString::fromStdString(out);
        o["pipeline"] = QString::fromStdString(prov.pipeline);
        o["layers"] = run.result.layers;
        addSkipped(o, req.calibSource, run.result.calibSkipped, "calib");
        addSkipped(o, req.evalSource, run.result.evalSkipped, "eval");
        if (fp) o["fp32_top1"] = fp->top1();
        if (quant) o["quant_top1"] = quant->top1();
        printJson(o);
        return 0;
    }
    std::printf("%s: wrote %s to %s (%d layers, pipeline %s)\n", req.model.path.c_str(), what.c_str(), out.c_str(),
                run.result.layers, prov.pipeline.c_str());
    if (fp && quant)
        std::printf("  top-1 on %s: FP32 %.2f %%, quantized %.2f %%\n", req.evalSource.text.c_str(), fp->top1(), quant->top1());
    return 0;
}

}  // namespace ptq::cli
