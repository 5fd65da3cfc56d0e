// ptq evaluate: the real accuracy of an allocation (ptq allocate's file) against its prediction.
#include "cli/commands.h"

#include "cli/common.h"
#include "core/alloc/allocation.h"
#include "core/methods/pipeline.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdio>

namespace ptq::cli {

int runEvaluate(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "sequential"},
                 {"alloc", "eval", "calib", "pipeline", "batch", "input-shape", "seed", "adaquant-iters"}, "evaluate");
    QuantizeRequest req;
    req.modelPath = modelArg(a, "evaluate");
    if (!a.has("alloc") || !a.has("eval"))
        throw invalidInput("'ptq evaluate' needs --alloc FILE (from ptq allocate) and --eval SRC (for example --eval "
                           "fmnist:test).");
    req.setPipeline(a.value("pipeline", "none"));
    const AllocationFile alloc = readAllocation(a.value("alloc"));
    // The allocation names the model's content; another file with the same layers would run but
    // answer a different question.
    const std::string sha = provenanceFor(req.modelPath, "", SensitivityRequest{}, 0).modelSha256;
    if (!alloc.modelSha256.empty() && sha != alloc.modelSha256)
        throw invalidInput("The allocation " + a.value("alloc") + " was made for another model (" + alloc.model +
                           "): allocate again from a sensitivity table of " + req.modelPath + ".");
    req.inputShape = inputShapeArg(a);
    req.calibSource = a.value("calib", alloc.table.data);
    if (req.calibSource.empty())
        throw invalidInput("The allocation does not name its calibration data: give --calib SRC.");
    req.evalSource = a.value("eval");
    const Granularity granularity = granularityFromString(alloc.table.granularity.empty() ? "per-channel"
                                                                                           : alloc.table.granularity);
    req.granularity = granularity;
    if (!alloc.table.weightRange.empty()) req.weightMethod = rangeMethodFromString(alloc.table.weightRange);
    if (!alloc.table.activationRange.empty()) req.activationMethod = rangeMethodFromString(alloc.table.activationRange);
    for (const AllocatedLayer& l : alloc.layers) {
        if (l.option.weightPoints > 1)
            throw invalidInput("Layer " + l.name + " takes the multipoint option " + l.option.name() +
                               ", which evaluation does not run yet: exclude multipoint options when allocating.");
        req.layerOverrides[l.name] = LayerQuant{l.option.weightBits, l.option.activationBits, granularity};
    }
    req.batchSize = a.integer("batch", 256);
    if (req.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    req.adaQuantOptions.seed = uint64_t(a.integer("seed", 0));
    req.adaQuantOptions.sequential = a.flag("sequential");
    req.adaQuantOptions.iterations = int(a.integer("adaquant-iters", req.adaQuantOptions.iterations));
    req.biasTuningOptions.seed = req.adaQuantOptions.seed;
    const QuantizeResult r = quantizeAndEvaluate(req);

    // The table predicts changes against its own FP32 on its own samples; carried over to the
    // evaluation set as a drop from the measured FP32.
    const double predictedDrop = alloc.fp32Top1 - alloc.predictedTop1();
    const double predictedTop1 = r.fp32Top1 - predictedDrop;
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(req.modelPath);
        o["alloc"] = QString::fromStdString(a.value("alloc"));
        o["pipeline"] = QString::fromStdString(req.pipelineName());
        o["calib"] = QString::fromStdString(req.calibSource);
        o["eval"] = QString::fromStdString(req.evalSource);
        o["eval_samples"] = qint64(r.evalSamples);
        o["size_ratio"] = alloc.sizeRatio();
        o["bops_ratio"] = alloc.bopsRatio();
        o["predicted_degradation"] = alloc.degradation;
        o["fp32_top1"] = r.fp32Top1;
        o["quant_top1"] = r.quantTop1;
        o["drop"] = r.drop();
        o["predicted_drop"] = predictedDrop;
        o["predicted_top1"] = predictedTop1;
        o["fp32_cross_entropy"] = r.fp32CrossEntropy;
        o["quant_cross_entropy"] = r.quantCrossEntropy;
        o["tune_seconds"] = r.tuneSeconds;
        printJson(o);
        return 0;
    }
    std::printf("%s with %s (%zu layers, weights %.4f of FP32, BOPs %.4f of FP32), pipeline %s, calibrated on %s\n",
                req.modelPath.c_str(), a.value("alloc").c_str(), alloc.layers.size(), alloc.sizeRatio(),
                alloc.bopsRatio(), req.pipelineName().c_str(), req.calibSource.c_str());
    std::printf("  FP32 top-1       %6.2f %%\n", r.fp32Top1);
    std::printf("  measured top-1   %6.2f %%   drop %5.2f pt\n", r.quantTop1, r.drop());
    std::printf("  predicted top-1  %6.2f %%   drop %5.2f pt (the table's summed per-layer changes)\n", predictedTop1,
                predictedDrop);
    std::printf("  on %lld images of %s\n", (long long)r.evalSamples, req.evalSource.c_str());
    return 0;
}

}  // namespace ptq::cli
