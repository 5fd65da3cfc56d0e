#include "bench/harness/bench_workflow.h"

#include "core/analysis/sensitivity_estimate.h"
#include "core/workflow/budget.h"
#include "core/workflow/sensitivity.h"
#include "core/workflow/settings.h"
#include "core/workflow/tuned_model.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

namespace ptq {

namespace {

int64_t peakRssKb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return int64_t(u.ru_maxrss);
}

}  // namespace

WorkflowBenchResult benchWorkflow(const WorkflowBenchRequest& req, const Progress* progress) {
    using Clock = std::chrono::steady_clock;
    WorkflowBenchResult out;
    const auto opened = Clock::now();
    auto last = opened;
    auto stage = [&](const std::string& name) {
        const auto now = Clock::now();
        out.stages.push_back({name, std::chrono::duration<double>(now - last).count(),
                              std::chrono::duration<double>(now - opened).count(), peakRssKb()});
        last = now;
    };
    reportProgress(progress, 0.0, "Opening the model");
    const std::shared_ptr<const LoadedModel> model = openModel(req.model, progress);
    stage("open");

    SensitivityJob job;
    job.calibrationSource = req.calibration;
    job.request = req.sensitivity;
    BudgetRequest budget;
    budget.kind = BudgetKind::Cost;
    budget.metric = CostMetric::Size;
    budget.costRatio = req.sizeRatio;

    // What a user sees first: the estimated table and its allocation.
    reportProgress(progress, 0.05, "Estimated sensitivity");
    job.estimate = true;
    ScaledProgress estimateProgress(progress, 0.05, 0.1);
    const SensitivityTable estimate = measureSensitivityTable(*model, job, {}, estimateProgress.get());
    stage("estimate");
    const BudgetProblem estimated(estimate.result);
    const BudgetAllocation first = estimated.solve(budget);
    stage("first allocation");

    reportProgress(progress, 0.1, "Sensitivity table");
    job.estimate = false;
    ScaledProgress tableProgress(progress, 0.1, 0.55);
    const SensitivityTable table = measureSensitivityTable(*model, job, {}, tableProgress.get());
    out.layers = int(table.result.layers.size());
    out.options = int(table.result.options.size());
    out.samples = table.result.samples;
    stage("table");

    const BudgetProblem problem(table.result);
    const BudgetAllocation a = problem.solve(budget);
    stage("measured allocation");
    const auto summary = [&](const BudgetAllocation& x) {
        char line[200];
        std::snprintf(line, sizeof line, "%s: size %.4f of FP32, predicted sum of delta loss %.5f",
                      x.feasible ? x.status.c_str() : "infeasible",
                      x.sizeBytes / problem.referenceCost(CostMetric::Size, CostReference::Fp32), x.deltaLoss);
        return x.feasible ? std::string(line) : x.status;
    };
    out.allocation = summary(a);
    out.firstAllocation = summary(first);
    out.rankCorrelation = cellRankCorrelation(estimate.result, table.result);
    if (first.feasible && a.feasible) {
        // The estimate's allocation scored on the measured table (max(0, dL) as the program sums).
        for (size_t l = 0; l < first.choice.size(); ++l)
            out.firstMeasuredDeltaLoss += std::max(0.0, table.result.cells[l][size_t(first.choice[l])].deltaLoss);
        out.optimalDeltaLoss = a.deltaLoss;
        for (size_t l = 0; l < first.choice.size(); ++l) out.sameChoices += first.choice[l] == a.choice[l] ? 1 : 0;
    }
    if (!req.pipelines || !a.feasible) return out;

    AllocationSpec spec;
    spec.model = model;
    spec.table = std::make_shared<SensitivityResult>(table.result);
    spec.quantizer = req.sensitivity.quantizer;
    spec.choice = a.choice;
    spec.calibrationSource = req.calibration;
    double at = 0.55;
    for (PipelineKind kind : {PipelineKind::Light, PipelineKind::Advanced}) {
        const std::vector<TuningStep> steps = pipelineSteps(kind);
        reportProgress(progress, at, std::string("The ") + pipelineKindName(kind) + " pipeline");
        ScaledProgress calibrate(progress, at, at + 0.02);
        std::unique_ptr<TunedModel> tuned = calibrateAllocation(spec, calibrate.get());
        TuningOptions options;
        for (size_t i = 0; i < steps.size(); ++i) {
            const double from = at + 0.02 + 0.2 * double(i) / double(steps.size());
            ScaledProgress step(progress, from, from + 0.2 / double(steps.size()));
            applyTuningStep(*tuned, steps[i], options, nullptr, step.get());
        }
        stage(pipelineKindName(kind));
        at += 0.22;
    }
    return out;
}

}  // namespace ptq
