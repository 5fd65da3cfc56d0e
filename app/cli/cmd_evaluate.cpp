// ptq evaluate: the real accuracy of an allocation (ptq allocate's file) against its prediction.
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/terminal_progress.h"
#include "core/alloc/allocation.h"
#include "core/analysis/evaluate.h"
#include "core/io/quant_config_file.h"
#include "core/workflow/quantize.h"
#include "core/util/error.h"
#include "core/util/file_hash.h"

#include <tuple>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cmath>
#include <cstdio>

namespace ptq::cli {

AllocationFile requestFromAllocation(const Args& a, QuantizeRequest& req) {
    AdaQuantOptions& ada = req.tuning.adaquant;
    pipelineArgs(a, req);
    const AllocationFile alloc = readAllocation(a.value("alloc"));
    // The allocation names the model's content; another file with the same layers would run but
    // answer a different question.
    const std::string sha = fileSha256(req.model.path);
    if (!alloc.modelSha256.empty() && sha != alloc.modelSha256)
        throw invalidInput("The allocation " + a.value("alloc") + " was made for another model (" + alloc.model +
                           "): allocate again from a sensitivity table of " + req.model.path + ".");
    req.calibSource = dataSourceArg(a, "calib", alloc.table.data);
    if (!req.calibSource.given())
        throw invalidInput("The allocation does not name its calibration data: give --calib SRC.");
    req.evalSource = dataSourceArg(a, "eval");
    // The table's quantizer settings; the batch is the command's.
    QuantizerSettings q;
    q.granularity = granularityFromString(alloc.table.granularity.empty() ? "per-channel" : alloc.table.granularity);
    if (!alloc.table.weightRange.empty()) q.weightRange = rangeMethodFromString(alloc.table.weightRange);
    if (!alloc.table.activationRange.empty()) q.activationRange = rangeMethodFromString(alloc.table.activationRange);
    q.batchSize = a.integer("batch", 256);
    if (q.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    req.quantizer = q;
    req.layerOverridesFile = a.value("alloc");
    for (const AllocatedLayer& l : alloc.layers)
        req.layerOverrides[l.name] =
            LayerQuant{l.option.weightBits, l.option.activationBits, q.granularity, l.option.weightPoints};
    ada.seed = uint64_t(a.integer("seed", 0));
    ada.iterations = int(a.integer("adaquant-iters", ada.iterations));
    req.tuning.biasTuning.seed = ada.seed;
    return alloc;
}

namespace {

/// ptq evaluate MODEL --config C.json: the exported configuration run as it is (no data but the
/// evaluation set), against the figures it recorded.
int evaluateConfig(const Args& a, const ModelRequest& request, TerminalProgress& progress) {
    if (a.has("alloc") || a.has("calib") || a.has("pipeline"))
        throw invalidInput("--config runs an exported configuration as it is: drop --alloc, --calib and --pipeline.");
    const auto opened = openModelForData(request, progress.get());
    const Graph& graph = opened->graph();
    const ImportedConfig imported = readQuantConfig(a.value("config"), graph);
    const std::string mismatch = modelMismatch(imported, request.path);
    if (!mismatch.empty()) std::fprintf(stderr, "ptq: warning: %s\n", mismatch.c_str());
    const auto model = restoreQuantizedModel(graph, imported);
    const auto eval = opened->openData(dataSourceArg(a, "eval"));
    if (!eval->hasLabels())
        throw invalidInput("The evaluation data " + a.value("eval") + " has no labels: give a labelled set such as "
                           "fmnist:test.");
    const Executor ex(graph);
    const int64_t batch = a.integer("batch", 256);
    if (batch < 1) throw invalidInput("--batch must be at least 1.");
    const EvalResult fp = evaluate(ex, *eval, {}, batch,
                                   ScaledProgress(progress.get(), 0.0, 0.42, "Evaluating FP32").get()),
                     q = evaluate(ex, *eval, model->hooks(), batch,
                                  ScaledProgress(progress.get(), 0.42, 1.0, "Evaluating quantized").get());
    progress.finish();
    const DataSourceSpec evalSpec = dataSourceArg(a, "eval");
    reportSkipped(evalSpec, eval->skippedSamples());
    const bool sameData = imported.provenance.evaluation == a.value("eval");
    const std::string& modelPath = request.path;
    if (a.flag("json")) {
        QJsonObject o{{"model", QString::fromStdString(modelPath)},
                      {"config", QString::fromStdString(a.value("config"))},
                      {"eval", QString::fromStdString(a.value("eval"))},
                      {"eval_samples", qint64(eval->size())},
                      {"fp32_top1", fp.top1()},
                      {"quant_top1", q.top1()},
                      {"quant_correct", qint64(q.correct)},
                      {"drop", fp.top1() - q.top1()},
                      {"model_changed", !mismatch.empty()}};
        if (imported.provenance.quantTop1 && sameData) o["recorded_top1"] = *imported.provenance.quantTop1;
        addSkipped(o, evalSpec, eval->skippedSamples(), "eval");
        printJson(o);
        return 0;
    }
    std::printf("%s with %s (pipeline %s, calibrated on %s): FP32 %.2f %%, quantized %.2f %% on %s\n",
                modelPath.c_str(), a.value("config").c_str(), imported.provenance.pipeline.c_str(),
                imported.provenance.calibration.c_str(), fp.top1(), q.top1(), a.value("eval").c_str());
    if (imported.provenance.quantTop1 && sameData)
        std::printf("  recorded at export: %.2f %%\n", *imported.provenance.quantTop1);
    return 0;
}

}  // namespace

int runEvaluate(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "sequential", "skip-bad", "adaquant-blocks", "equalize-ranges", "equalize-dense"},
                 withModelCard({"alloc", "config", "eval", "calib", "pipeline", "batch", "seed", "adaquant-iters",
                                "block-iters", "block-layers"}),
                 "evaluate");
    TerminalProgress progress(a.flag("json"));
    QuantizeRequest req;
    req.model = modelRequestArg(a, "evaluate");
    if (a.has("config") && a.has("eval")) return evaluateConfig(a, req.model, progress);
    if (!a.has("alloc") || !a.has("eval"))
        throw invalidInput("'ptq evaluate' needs --alloc FILE (from ptq allocate) or --config FILE (from ptq export), "
                           "and --eval SRC (for example --eval fmnist:test).");
    const AllocationFile alloc = requestFromAllocation(a, req);
    std::tie(req.equalizeRanges, req.equalization.denseReaders) = equalizationArgs(a);
    req.opened = openModelForData(req.model);
    const QuantizeResult r = quantizeAndEvaluate(req, progress.get());
    progress.finish();
    const std::string pipeline = pipelineName(req.steps, req.equalizeRanges, req.equalization.denseReaders);
    reportSkipped(req.calibSource, r.calibSkipped);
    reportSkipped(req.evalSource, r.evalSkipped);

    // The table predicts changes against its own FP32 on its own samples; carried over to the
    // evaluation set as a drop from the measured FP32.
    const double predictedDrop = alloc.fp32Top1 - alloc.predictedTop1();
    const double predictedTop1 = r.fp32Top1 - predictedDrop;
    // The same through the loss (NaN for older allocation files without the fit).
    const double predictedDropFromLoss = alloc.fp32Top1 - alloc.predictedTop1FromLoss();
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(req.model.path);
        o["alloc"] = QString::fromStdString(a.value("alloc"));
        addSkipped(o, req.calibSource, r.calibSkipped, "calib");
        addSkipped(o, req.evalSource, r.evalSkipped, "eval");
        o["pipeline"] = QString::fromStdString(pipeline);
        o["calib"] = QString::fromStdString(req.calibSource.text);
        o["eval"] = QString::fromStdString(req.evalSource.text);
        o["eval_samples"] = qint64(r.evalSamples);
        o["size_ratio"] = alloc.sizeRatio();
        o["bops_ratio"] = alloc.bopsRatio();
        o["predicted_degradation"] = alloc.degradation;
        o["fp32_top1"] = r.fp32Top1;
        o["quant_top1"] = r.quantTop1;
        o["drop"] = r.drop();
        o["predicted_drop"] = predictedDrop;
        o["predicted_top1"] = predictedTop1;
        if (std::isfinite(predictedDropFromLoss)) {
            o["predicted_drop_from_loss"] = predictedDropFromLoss;
            o["predicted_top1_from_loss"] = r.fp32Top1 - predictedDropFromLoss;
        }
        if (const auto& m = alloc.measuredPrediction) {
            o["predicted_drop_measured_fit"] = m->drop;
            o["predicted_top1_measured_fit"] = r.fp32Top1 - m->drop;
            o["predicted_uncertainty"] = m->uncertainty;
            o["prediction_pipeline"] = QString::fromStdString(m->pipeline);
        }
        o["fp32_cross_entropy"] = r.fp32CrossEntropy;
        o["quant_cross_entropy"] = r.quantCrossEntropy;
        o["tune_seconds"] = r.tuneSeconds;
        printJson(o);
        return 0;
    }
    std::printf("%s with %s (%zu layers, weights %.4f of FP32, BOPs %.4f of FP32), pipeline %s, calibrated on %s\n",
                req.model.path.c_str(), a.value("alloc").c_str(), alloc.layers.size(), alloc.sizeRatio(),
                alloc.bopsRatio(), pipeline.c_str(), req.calibSource.text.c_str());
    std::printf("  FP32 top-1       %6.2f %%\n", r.fp32Top1);
    std::printf("  measured top-1   %6.2f %%   drop %5.2f pt\n", r.quantTop1, r.drop());
    std::printf("  predicted top-1  %6.2f %%   drop %5.2f pt (the table's summed per-layer changes)\n", predictedTop1,
                predictedDrop);
    if (std::isfinite(predictedDropFromLoss))
        std::printf("  predicted top-1  %6.2f %%   drop %5.2f pt (the base's and the summed degradation's loss at "
                    "the table's top-1 per loss)\n",
                    r.fp32Top1 - predictedDropFromLoss, predictedDropFromLoss);
    if (const auto& m = alloc.measuredPrediction) {
        std::printf("  predicted top-1  %6.2f %%   drop %5.2f +/- %.2f pt (fitted to %d allocations measured with the "
                    "%s pipeline)\n",
                    r.fp32Top1 - m->drop, m->drop, m->uncertainty, m->anchors, m->pipeline.c_str());
        if (m->pipeline != pipeline)
            std::printf("  note: the fit is of the %s pipeline, this run is %s: its prediction is for the other\n",
                        m->pipeline.c_str(), pipeline.c_str());
    }
    std::printf("  on %lld images of %s\n", (long long)r.evalSamples, req.evalSource.text.c_str());
    return 0;
}

}  // namespace ptq::cli
