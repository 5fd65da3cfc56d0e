// ptq allocate and ptq pareto: the integer program and the Pareto frontier over a sensitivity
// table (core/alloc).
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/target_args.h"
#include "core/alloc/allocation.h"
#include "core/alloc/sensitivity_table.h"
#include "core/target/target_costs.h"
#include "core/target/target_registry.h"
#include "core/workflow/allocate.h"
#include "core/workflow/prediction.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cmath>
#include <chrono>
#include <cstdio>
#include <optional>

namespace ptq::cli {

namespace {

SensitivityTable tableArg(const Args& a, const std::string& command) {
    if (!a.has("table"))
        throw invalidInput("'ptq " + command + "' needs --table FILE, a sensitivity table (ptq sensitivity MODEL "
                           "--calib SRC --out FILE writes one).");
    return readSensitivityTable(a.value("table"));
}

double ratioArg(const Args& a, const std::string& key) {
    const double r = a.number(key, 0);
    if (!(r > 0)) throw invalidInput("--" + key + " takes a ratio above 0 (for example 0.16), not '" + a.value(key) + "'.");
    return r;
}

/// --measure, --lock, --exclude, --target and the budget flags as the workflow's settings.
AllocationSettings settingsArgs(const Args& a) {
    AllocationSettings s;
    s.measure = degradationMeasureFromString(a.value("measure", "delta-loss"));
    for (const std::string& lock : a.all("lock")) {
        const auto eq = lock.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == lock.size())
            throw invalidInput("--lock takes LAYER=OPTION (for example --lock conv1=w8a8), not '" + lock + "'.");
        s.locks.emplace_back(lock.substr(0, eq), lock.substr(eq + 1));
    }
    s.excluded = a.all("exclude");
    if (const TargetInfo* info = targetArg(a)) {
        s.targetInfo = info;
        s.target = TargetRegistry::shared().target(info->name);
    }
    const std::string reference = a.value("reference", "fp32");
    if (reference != "fp32" && reference != "int8")
        throw invalidInput("--reference takes fp32 or int8 (what the ratios are of), not '" + reference + "'.");
    s.reference = reference == "int8" ? CostReference::Int8 : CostReference::Fp32;
    if (a.has("max-degradation")) s.maxDegradation = a.number("max-degradation", 0);
    if (a.has("max-size-ratio")) s.maxSizeRatio = ratioArg(a, "max-size-ratio");
    if (a.has("max-bops-ratio")) s.maxBopsRatio = ratioArg(a, "max-bops-ratio");
    // A target's cost ratio is of every layer at the target's widest option (it has no FP32).
    if (a.has("max-cost-ratio")) s.maxTargetCostRatio = ratioArg(a, "max-cost-ratio");
    const std::string minimise = a.value("minimise", "size");
    if (minimise == "size") s.minimise = CostMetric::Size;
    else if (minimise == "bops") s.minimise = CostMetric::Bops;
    else if (minimise == "cost") s.minimise = CostMetric::Target;
    else throw invalidInput("Unknown cost '" + minimise + "'; --minimise takes size (weight bits), bops (bit "
                            "operations) or cost (a hardware target's, with --target).");
    if ((s.maxTargetCostRatio || s.minimise == CostMetric::Target) && !s.target)
        throw invalidInput("--max-cost-ratio and --minimise cost count a hardware target's cost: add --target NAME "
                           "(ptq targets lists them).");
    if ((s.maxTargetCostRatio || s.minimise == CostMetric::Target) && (s.maxBopsRatio || s.minimise == CostMetric::Bops))
        throw invalidInput("Give either a BOPs budget or a target cost budget, not both (the target's cost replaces "
                           "BOPs in the program).");
    return s;
}

}  // namespace

int runAllocate(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"},
                 {"table", "max-degradation", "max-size-ratio", "max-bops-ratio", "lock", "exclude", "out", "measure",
                  "reference", "minimise", "target", "max-cost-ratio", "anchors"},
                 "allocate");
    if (!a.positionals().empty())
        throw invalidInput("'ptq allocate' takes no model: give the sensitivity table with --table FILE.");
    const SensitivityTable table = tableArg(a, "allocate");
    const AllocationSettings settings = settingsArgs(a);
    if (!settings.maxDegradation && !settings.maxSizeRatio && !settings.maxBopsRatio && !settings.maxTargetCostRatio)
        throw invalidInput("'ptq allocate' needs a budget: --max-degradation X, --max-size-ratio R, --max-bops-ratio "
                           "R (ratios of the FP32 model unless --reference int8) or, with --target, --max-cost-ratio R.");
    if (!a.has("out") && !a.flag("json"))
        throw invalidInput("'ptq allocate' needs --out FILE for the allocation (or --json to print it).");
    AllocationOutcome outcome = allocateTable(table, a.value("table"), settings);
    const BudgetAllocation& r = outcome.allocation;
    std::optional<DropModel> fitted;
    if (a.has("anchors")) {
        // The prediction that rests on measured allocations of this table (ptq anchors).
        const AnchorSet set = readAnchors(a.value("anchors"));
        const auto problem = problemFor(table, settings);
        fitted = dropModelFor(*problem, anchorsForTable(set, table), set.pipeline, set.evaluationSource);
        const CorrectedPrediction p = fitted->predict(problem->deltaLossOf(r.choice));
        if (!p.valid) throw invalidInput("The anchors file " + a.value("anchors") + " holds no measured allocation.");
        outcome.file.measuredPrediction =
            AllocationFile::MeasuredPrediction{p.drop, p.uncertainty, p.anchors, p.interpolated,
                                               set.pipeline, set.evaluationSource, fitted->describe()};
    }
    const AllocationFile& file = outcome.file;
    if (a.has("out")) writeAllocation(a.value("out"), file);
    const bool target = !file.target.empty();

    if (a.flag("json")) {
        QJsonObject o;
        o["table"] = QString::fromStdString(a.value("table"));
        o["status"] = "optimal";
        o["solve_ms"] = r.solverMs;
        o["degradation"] = file.degradation;
        o["size_bits"] = file.sizeBits;
        o["size_ratio"] = file.sizeRatio();
        o["bops"] = file.bops;
        o["bops_ratio"] = file.bopsRatio();
        o["predicted_delta_top1"] = file.deltaTop1;
        o["predicted_top1"] = file.predictedTop1();
        if (std::isfinite(file.predictedTop1FromLoss())) {
            o["top1_per_loss"] = file.top1PerLoss;
            o["predicted_top1_from_loss"] = file.predictedTop1FromLoss();
        }
        o["fp32_top1"] = file.fp32Top1;
        if (const auto& m = file.measuredPrediction) {
            o["measured_fit"] = QJsonObject{{"drop", m->drop},
                                            {"top1", file.fp32Top1 - m->drop},
                                            {"uncertainty", m->uncertainty},
                                            {"anchors", m->anchors},
                                            {"interpolated", m->interpolated},
                                            {"pipeline", QString::fromStdString(m->pipeline)},
                                            {"evaluation", QString::fromStdString(m->evaluation)}};
        }
        o["columns"] = r.columns;
        o["estimated_cells"] = qint64(table.result.estimatedCells());
        if (target) {
            o["target"] = QString::fromStdString(file.target);
            o["target_unit"] = QString::fromStdString(file.targetUnit);
            o["target_cost"] = file.targetCost;
            o["target_widest_cost"] = file.targetReference;
            o["target_cost_ratio"] = file.targetCost / file.targetReference;
        }
        QJsonArray layers;
        for (const AllocatedLayer& l : file.layers)
            layers.append(QJsonObject{{"name", QString::fromStdString(l.name)},
                                      {"option", QString::fromStdString(l.option.name())},
                                      {"degradation", l.degradation},
                                      {"target_cost", l.targetCost}});
        o["layers"] = layers;
        if (a.has("out")) o["out"] = QString::fromStdString(a.value("out"));
        printJson(o);
        return 0;
    }
    std::printf("%s: %zu layers x %zu options, degradation = %s (%s), optimal in %.2f ms\n", a.value("table").c_str(),
                table.result.layers.size(), table.result.options.size(), file.measure.c_str(),
                table.result.metric.c_str(), r.solverMs);
    std::printf("  %-28s %-8s %12s %12s %12s\n", "layer", "option", "degradation", "weight bits",
                target ? file.targetUnit.c_str() : "");
    for (const AllocatedLayer& l : file.layers)
        std::printf("  %-28s %-8s %12.5f %12.0f %12s\n", l.name.c_str(), l.option.name().c_str(), l.degradation,
                    l.sizeBits, target ? QString::number(l.targetCost, 'f', 3).toStdString().c_str() : "");
    std::printf("  summed degradation %.5f; weight size %.4f of FP32 (%s bits); BOPs %.4f of FP32\n", file.degradation,
                file.sizeRatio(), human(file.sizeBits).c_str(), file.bopsRatio());
    if (target)
        std::printf("  target %s: %.3f %s, %.4f of every layer at its widest option (%.3f %s)\n", file.target.c_str(),
                    file.targetCost, file.targetUnit.c_str(), file.targetCost / file.targetReference,
                    file.targetReference, file.targetUnit.c_str());
    if (std::isfinite(file.predictedTop1FromLoss()))
        std::printf("  predicted top-1 %.2f %% through the loss (FP32 %.2f %% plus the base's and the summed "
                    "degradation's loss at %.2f pt a unit, fitted over the table's cells) on %lld samples of %s\n",
                    file.predictedTop1FromLoss(), file.fp32Top1, file.top1PerLoss, (long long)table.result.samples,
                    table.provenance.data.c_str());
    if (const auto& m = file.measuredPrediction)
        std::printf("  predicted drop %.2f +/- %.2f pt from FP32 with the %s pipeline on %s, fitted to %d measured "
                    "allocations (%s them)\n",
                    m->drop, m->uncertainty, m->pipeline.c_str(), m->evaluation.c_str(), m->anchors,
                    m->interpolated ? "between" : "outside the range of");
    std::printf("  summed per-layer top-1 changes %+.2f pt (table's base %.2f %%, FP32 %.2f %%)%s\n", file.deltaTop1,
                file.baseTop1, file.fp32Top1,
                file.predictedTop1() > file.fp32Top1 ? ": above FP32, so not a prediction" : "");
    if (const size_t estimated = table.result.estimatedCells())
        std::printf("  %zu of %zu cells of the table are estimates (ptq sensitivity --estimate): the allocation and "
                    "its prediction rest on them; measure the table for figures that hold\n",
                    estimated, table.result.layers.size() * table.result.options.size());
    if (a.has("out")) std::printf("  wrote %s\n", a.value("out").c_str());
    return 0;
}

int runPareto(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "csv"}, {"table", "cost", "measure", "lock", "exclude", "target"}, "pareto");
    if (!a.positionals().empty()) throw invalidInput("'ptq pareto' takes no model: give the table with --table FILE.");
    const SensitivityTable table = tableArg(a, "pareto");
    const AllocationSettings settings = settingsArgs(a);
    const std::unique_ptr<BudgetProblem> problem = problemFor(table, settings);
    BudgetRequest request = budgetRequestFor(*problem, table, settings, false);
    const std::shared_ptr<const TargetCosts> target = problem->targetCosts();
    // With a target the frontier is of its cost unless --cost says otherwise.
    const std::string costName = a.value("cost", target ? "target" : "size");
    if (costName == "target" && !target) throw invalidInput("--cost target needs --target NAME (ptq targets lists them).");
    if (costName != "target" && costName != "size" && costName != "bops")
        throw invalidInput("Unknown cost '" + costName + "'; --cost takes size (weight bits), bops (bit operations) or "
                           "target (a hardware target's cost, with --target).");
    request.metric = costName == "target" ? CostMetric::Target : costName == "bops" ? CostMetric::Bops : CostMetric::Size;
    request.reference = CostReference::Fp32;
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<BudgetPoint> frontier = problem->pareto(request);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    // Sizes in bits, as the allocation files count them.
    const double unit = request.metric == CostMetric::Size ? 8.0 : 1.0;
    const double ref = problem->referenceCost(request.metric, CostReference::Fp32) * unit;
    auto deltaTop1 = [&](const BudgetPoint& p) { return problem->evaluate(p.choice).deltaTop1; };
    if (a.flag("json")) {
        QJsonObject o;
        o["table"] = QString::fromStdString(a.value("table"));
        o["cost"] = costName == "target" ? QString::fromStdString(target->unit) : QString::fromStdString(costName);
        if (target) o["target"] = QString::fromStdString(target->target);
        o["milliseconds"] = ms;
        QJsonArray points;
        for (const BudgetPoint& p : frontier) {
            QJsonArray choice;
            for (int c : p.choice) choice.append(QString::fromStdString(table.result.options[size_t(c)].name()));
            points.append(QJsonObject{{"cost", p.costRatio * ref},
                                      {"cost_ratio", p.costRatio},
                                      {"degradation", p.deltaLoss},
                                      {"predicted_delta_top1", deltaTop1(p)},
                                      {"options", choice}});
        }
        o["points"] = points;
        printJson(o);
        return 0;
    }
    if (a.flag("csv")) {
        std::printf("cost,cost_ratio,degradation,predicted_delta_top1\n");
        for (const BudgetPoint& p : frontier)
            std::printf("%.17g,%.6f,%.9g,%.4f\n", p.costRatio * ref, p.costRatio, p.deltaLoss, deltaTop1(p));
        return 0;
    }
    std::printf("%s: exact Pareto frontier of %s vs summed degradation, %zu points in %.1f ms\n",
                a.value("table").c_str(), costName == "target" ? (target->target + " " + target->unit).c_str() : costName.c_str(),
                frontier.size(), ms);
    std::printf("  %12s %14s %16s\n", costName == "target" ? "of widest" : "of FP32", "degradation", "pred. top-1 pt");
    for (const BudgetPoint& p : frontier) std::printf("  %12.4f %14.6f %+16.2f\n", p.costRatio, p.deltaLoss, deltaTop1(p));
    return 0;
}

}  // namespace ptq::cli
