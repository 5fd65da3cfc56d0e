// ptq bench workflow: a session end to end on one model (bench/harness/bench_workflow.h).
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/terminal_progress.h"
#include "bench/harness/bench_workflow.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdio>

namespace ptq::cli {

int runBenchWorkflow(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "no-pipelines"},
                 withModelCard({"calib", "options", "granularity", "weight-range", "act-range", "batch", "ratio"}),
                 "bench workflow");
    TerminalProgress progress(a.flag("json"));
    WorkflowBenchRequest req;
    req.model = modelRequestArg(a, "bench workflow");
    if (!a.has("calib"))
        throw invalidInput("'ptq bench workflow' needs --calib SRC, the calibration data (for example "
                           "--calib fmnist:train:64).");
    req.calibration = dataSourceArg(a, "calib");
    if (a.has("options")) req.sensitivity.options = BitOption::parseList(a.value("options"));
    req.sensitivity.quantizer = quantizerArgs(a);
    req.sizeRatio = a.number("ratio", req.sizeRatio);
    if (!(req.sizeRatio > 0 && req.sizeRatio <= 1))
        throw invalidInput("--ratio takes the first allocation's weight size as a fraction of FP32, above 0 and at "
                           "most 1 (for example 0.16).");
    req.pipelines = !a.flag("no-pipelines");
    const WorkflowBenchResult r = benchWorkflow(req, progress.get());
    progress.finish();
    if (a.flag("json")) {
        QJsonObject o;
        o["benchmark"] = "workflow";
        o["model"] = QString::fromStdString(req.model.path);
        o["calib"] = QString::fromStdString(req.calibration.text);
        o["layers"] = r.layers;
        o["options"] = r.options;
        o["samples"] = qint64(r.samples);
        o["size_ratio"] = req.sizeRatio;
        o["allocation"] = QString::fromStdString(r.allocation);
        o["first_allocation"] = QString::fromStdString(r.firstAllocation);
        o["rank_correlation"] = r.rankCorrelation;
        o["first_measured_delta_loss"] = r.firstMeasuredDeltaLoss;
        o["optimal_delta_loss"] = r.optimalDeltaLoss;
        o["same_choices"] = r.sameChoices;
        QJsonArray stages;
        for (const WorkflowStage& s : r.stages)
            stages.append(QJsonObject{{"stage", QString::fromStdString(s.name)},
                                      {"seconds", s.seconds},
                                      {"since_open_s", s.sinceOpenS},
                                      {"peak_rss_mb", double(s.peakRssKb) / 1024.0}});
        o["stages"] = stages;
        printJson(o);
        return 0;
    }
    std::printf("Workflow on %s: %d layers x %d options, table on %lld images of %s\n", req.model.path.c_str(),
                r.layers, r.options, (long long)r.samples, req.calibration.text.c_str());
    std::printf("  %-18s %10s %12s %12s\n", "stage", "seconds", "since open", "peak RSS");
    for (const WorkflowStage& s : r.stages)
        std::printf("  %-18s %10.2f %12.2f %9.0f MB\n", s.name.c_str(), s.seconds, s.sinceOpenS,
                    double(s.peakRssKb) / 1024.0);
    std::printf("  at %.2f of the FP32 size, on the estimate: %s\n", req.sizeRatio, r.firstAllocation.c_str());
    std::printf("  at %.2f of the FP32 size, on the measured table: %s\n", req.sizeRatio, r.allocation.c_str());
    std::printf("  estimate vs measured: Spearman %.3f over the cells; the estimate's allocation has measured sum of "
                "delta loss %.5f against the optimum %.5f (%d of %d layers chose alike)\n",
                r.rankCorrelation, r.firstMeasuredDeltaLoss, r.optimalDeltaLoss, r.sameChoices, r.layers);
    return 0;
}

}  // namespace ptq::cli
