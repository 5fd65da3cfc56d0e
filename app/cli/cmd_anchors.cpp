// ptq anchors: allocations along the Pareto frontier measured with a pipeline, the measurements
// the predictions of `ptq allocate --anchors` rest on (core/workflow/prediction.h).
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/terminal_progress.h"
#include "core/alloc/sensitivity_table.h"
#include "core/quant/quantizer.h"
#include "core/quant/range_calibration.h"
#include "core/util/error.h"
#include "core/util/file_hash.h"
#include "core/workflow/prediction.h"

#include <tuple>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cmath>
#include <cstdio>

namespace ptq::cli {

int runAnchors(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "sequential", "adaquant-blocks", "skip-bad", "equalize-ranges", "equalize-dense"},
                 withModelCard({"table", "eval", "calib", "pipeline", "count", "from", "to", "out", "batch", "seed",
                                "adaquant-iters", "block-iters", "block-layers"}),
                 "anchors");
    TerminalProgress progress(a.flag("json"));
    if (!a.has("table") || !a.has("eval") || !a.has("out"))
        throw invalidInput("'ptq anchors' needs --table FILE (the sensitivity table), --eval SRC (labelled data to "
                           "measure on) and --out FILE (the anchors file), for example: ptq anchors MODEL --table "
                           "t.json --eval fmnist:test --pipeline light --out anchors.json");
    const SensitivityTable table = readSensitivityTable(a.value("table"));
    ModelRequest modelRequest = modelRequestArg(a, "anchors");
    if (!table.provenance.modelSha256.empty() && fileSha256(modelRequest.path) != table.provenance.modelSha256)
        throw invalidInput("The table " + a.value("table") + " was measured on another model (" +
                           table.provenance.modelPath + "): measure a table of " + modelRequest.path + " first.");
    QuantizeRequest req;
    pipelineArgs(a, req);
    TuningOptions& tuning = req.tuning;
    tuning.adaquant.seed = uint64_t(a.integer("seed", 0));
    tuning.adaquant.iterations = int(a.integer("adaquant-iters", tuning.adaquant.iterations));
    tuning.biasTuning.seed = tuning.adaquant.seed;
    tuning.validateFor(req.steps);
    const int count = int(a.integer("count", 5));
    const double from = a.number("from", 0.08), to = a.number("to", 0.25);

    AllocationSpec spec;
    spec.model = openModelForData(modelRequest, progress.get());
    spec.table = std::make_shared<SensitivityResult>(table.result);
    QuantizerSettings& q = spec.quantizer;
    q.granularity = granularityFromString(table.provenance.granularity.empty() ? "per-channel"
                                                                                : table.provenance.granularity);
    if (!table.provenance.weightRange.empty()) q.weightRange = rangeMethodFromString(table.provenance.weightRange);
    if (!table.provenance.activationRange.empty())
        q.activationRange = rangeMethodFromString(table.provenance.activationRange);
    q.batchSize = a.integer("batch", 256);
    if (q.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    spec.calibrationSource = dataSourceArg(a, "calib", table.provenance.data);
    std::tie(spec.equalizeRanges, spec.equalizeDense) = equalizationArgs(a);
    if (!spec.calibrationSource.given())
        throw invalidInput("The table does not name its calibration data: give --calib SRC.");
    const DataSourceSpec eval = dataSourceArg(a, "eval");

    const BudgetProblem problem(table.result);
    const std::vector<std::vector<int>> choices = frontierAnchorChoices(problem, count, from, to);
    const std::string pipeline = pipelineName(req.steps, spec.equalizeRanges, spec.equalizeDense);
    const double fp32Size = problem.referenceCost(CostMetric::Size, CostReference::Fp32);
    AnchorSet set;
    set.pipeline = pipeline;
    set.evaluationSource = eval.text;
    set.table = a.value("table");
    set.modelSha256 = table.provenance.modelSha256;
    for (const SensitivityLayer& l : table.result.layers) set.layers.push_back(l.name);
    for (const BitOption& o : table.result.options) set.options.push_back(o.name());
    set.measured = measureAllocations(problem, spec, choices, req.steps, tuning, eval, {}, progress.get());
    progress.finish();
    writeAnchors(a.value("out"), set);
    progress.wrote(a.value("out"));
    const DropModel model = dropModelFor(problem, set.measured, pipeline, eval.text);

    if (a.flag("json")) {
        QJsonArray points;
        for (const MeasuredAllocation& m : set.measured) {
            const double load = problem.deltaLossOf(m.choice);
            points.append(QJsonObject{{"size_ratio", m.sizeBytes / fp32Size},
                                      {"load", load},
                                      {"top1", m.top1},
                                      {"fp32_top1", m.fp32Top1},
                                      {"drop", m.fp32Top1 - m.top1},
                                      {"fitted_drop", model.predict(load).drop},
                                      {"seconds", m.seconds}});
        }
        printJson(QJsonObject{{"table", QString::fromStdString(a.value("table"))},
                              {"pipeline", QString::fromStdString(pipeline)},
                              {"eval", QString::fromStdString(eval.text)},
                              {"anchors", points},
                              {"fit", QString::fromStdString(model.describe())},
                              {"out", QString::fromStdString(a.value("out"))}});
        return 0;
    }
    std::printf("%s: %zu allocations between %.3f and %.3f of the FP32 weight size, pipeline %s, on %s\n",
                a.value("table").c_str(), set.measured.size(), from, to, pipeline.c_str(), eval.text.c_str());
    std::printf("  %10s %10s %8s %8s %12s\n", "size", "load", "top-1", "drop", "fitted drop");
    for (const MeasuredAllocation& m : set.measured) {
        const double load = problem.deltaLossOf(m.choice);
        std::printf("  %10.4f %10.5f %8.2f %8.2f %12.2f\n", m.sizeBytes / fp32Size, load, m.top1, m.fp32Top1 - m.top1,
                    model.predict(load).drop);
    }
    std::printf("  %s\n  wrote %s (give it to ptq allocate --anchors)\n", model.describe().c_str(),
                a.value("out").c_str());
    return 0;
}

}  // namespace ptq::cli
