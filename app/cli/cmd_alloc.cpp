// ptq allocate and ptq pareto: the integer program and the Pareto frontier over a sensitivity
// table (core/alloc).
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/target_args.h"
#include "core/alloc/allocation.h"
#include "core/alloc/pareto.h"
#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "core/target/target_costs.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cmath>
#include <chrono>
#include <cstdio>
#include <optional>

namespace ptq::cli {

namespace {

/// The table's problem with the command's --measure, --lock and --exclude applied.
AllocationProblem problemFromArgs(const Args& a, const SensitivityTable& table, const std::string& command) {
    AllocationProblem p = problemFromTable(table, degradationMeasureFromString(a.value("measure", "delta-loss")));
    for (const std::string& lock : a.all("lock")) {
        const auto eq = lock.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == lock.size())
            throw invalidInput("--lock takes LAYER=OPTION (for example --lock conv1=w8a8), not '" + lock + "'.");
        p.pin(lock.substr(0, eq), lock.substr(eq + 1));
    }
    for (const std::string& option : a.all("exclude")) p.exclude(option);
    p.validate();
    return p;
}

SensitivityTable tableArg(const Args& a, const std::string& command) {
    if (!a.has("table"))
        throw invalidInput("'ptq " + command + "' needs --table FILE, a sensitivity table (ptq sensitivity MODEL "
                           "--calib SRC --out FILE writes one).");
    return readSensitivityTable(a.value("table"));
}

/// --target NAME over @p table: the target's costs, and its exclusions applied to @p p. A table
/// measured at a granularity the target does not run, or a lock on an option it does not run,
/// is a usage error: the allocation could not run on the target.
std::optional<TargetCosts> applyTarget(const Args& a, const SensitivityTable& table, AllocationProblem& p) {
    const TargetInfo* info = targetArg(a);
    if (!info) return std::nullopt;
    TargetCosts costs = targetCosts(*info, *TargetRegistry::shared().target(info->name), table.result,
                                    table.provenance.granularity);
    if (!costs.granularityWarning.empty()) throw invalidInput(costs.granularityWarning);
    for (size_t o = 0; o < p.optionCount(); ++o) {
        if (costs.allowed[o]) continue;
        p.excluded[o] = true;
        for (size_t l = 0; l < p.layerCount(); ++l)
            if (p.pinned[l] == int(o))
                throw invalidInput("--lock " + p.layers[l] + "=" + p.options[o] + ": target " + costs.target +
                                   " does not run " + p.options[o] + "; it supports " + describeSupport(*info) + ".");
    }
    p.validate();
    return costs;
}

/// @p p with the target's cost in the BOPs row: the row the solver budgets or minimises for
/// --max-cost-ratio and --minimise cost (the allocation's BOPs are recounted from @p p itself).
AllocationProblem withTargetCostRow(AllocationProblem p, const TargetCosts& costs) {
    p.bops = costs.cost;
    p.referenceBops = costs.reference;
    return p;
}

double ratioArg(const Args& a, const std::string& key) {
    const double r = a.number(key, 0);
    if (!(r > 0)) throw invalidInput("--" + key + " takes a ratio above 0 (for example 0.16), not '" + a.value(key) + "'.");
    return r;
}

}  // namespace

int runAllocate(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"},
                 {"table", "max-degradation", "max-size-ratio", "max-bops-ratio", "lock", "exclude", "out", "measure",
                  "reference", "minimise", "target", "max-cost-ratio"},
                 "allocate");
    if (!a.positionals().empty())
        throw invalidInput("'ptq allocate' takes no model: give the sensitivity table with --table FILE.");
    const SensitivityTable table = tableArg(a, "allocate");
    AllocationProblem problem = problemFromArgs(a, table, "allocate");
    const std::optional<TargetCosts> target = applyTarget(a, table, problem);
    const std::string minimise = a.value("minimise", "size");
    const bool targetRow = a.has("max-cost-ratio") || minimise == "cost";
    if (targetRow && !target)
        throw invalidInput("--max-cost-ratio and --minimise cost count a hardware target's cost: add --target NAME "
                           "(ptq targets lists them).");
    if (targetRow && (a.has("max-bops-ratio") || minimise == "bops"))
        throw invalidInput("Give either a BOPs budget or a target cost budget, not both (the target's cost replaces "
                           "BOPs in the program).");
    const std::string reference = a.value("reference", "fp32");
    if (reference != "fp32" && reference != "int8")
        throw invalidInput("--reference takes fp32 or int8 (what the ratios are of), not '" + reference + "'.");
    // INT8 weights are a quarter of FP32's bits; INT8 x INT8 MACs a sixteenth of the BOPs.
    const double sizeRef = problem.referenceSize / (reference == "int8" ? 4.0 : 1.0);
    const double bopsRef = problem.referenceBops / (reference == "int8" ? 16.0 : 1.0);
    AllocationBudget budget;
    if (a.has("max-degradation")) budget.maxDegradation = a.number("max-degradation", 0);
    if (a.has("max-size-ratio")) budget.maxSize = ratioArg(a, "max-size-ratio") * sizeRef;
    if (a.has("max-bops-ratio")) budget.maxBops = ratioArg(a, "max-bops-ratio") * bopsRef;
    // A target's cost ratio is of every layer at the target's widest option (it has no FP32).
    if (a.has("max-cost-ratio")) budget.maxBops = ratioArg(a, "max-cost-ratio") * target->reference;
    budget.minimise = minimise == "cost" ? CostKind::Bops : costKindFromString(minimise);
    if (!budget.any())
        throw invalidInput("'ptq allocate' needs a budget: --max-degradation X, --max-size-ratio R, --max-bops-ratio "
                           "R (ratios of the FP32 model unless --reference int8) or, with --target, --max-cost-ratio R.");
    if (!a.has("out") && !a.flag("json"))
        throw invalidInput("'ptq allocate' needs --out FILE for the allocation (or --json to print it).");

    Allocator allocator(targetRow ? withTargetCostRow(problem, *target) : problem);
    AllocationResult r = allocator.solve(budget);
    if (!r.optimal()) {
        if (targetRow) {
            std::string message = r.message;  // the solver says "bops": here that row is the target's cost
            for (size_t at = message.find("BOPs"); at != std::string::npos; at = message.find("BOPs", at))
                message.replace(at, 4, target->unit);
            for (size_t at = message.find("bops"); at != std::string::npos; at = message.find("bops", at))
                message.replace(at, 4, target->target + " cost");
            for (size_t at = message.find("of FP32"); at != std::string::npos; at = message.find("of FP32", at))
                message.replace(at, 7, "of the widest option");
            throw invalidInput(message);
        }
        throw invalidInput(r.message);
    }
    sumChoice(problem, r.choice, r);  // size and BOPs as they are, whichever row was budgeted
    AllocationFile file = makeAllocationFile(table, a.value("table"), problem, r);
    if (target) {
        file.target = target->target;
        file.targetUnit = target->unit;
        file.targetReference = target->reference;
        for (size_t l = 0; l < file.layers.size(); ++l) {
            file.layers[l].targetCost = target->cost[l][size_t(r.choice[l])];
            file.targetCost += file.layers[l].targetCost;
        }
        if (a.has("max-cost-ratio")) file.maxCostRatio = a.number("max-cost-ratio", 0);
    }
    file.reference = reference;
    file.measure = a.value("measure", "delta-loss");
    if (a.has("max-degradation")) file.maxDegradation = budget.maxDegradation;
    if (a.has("max-size-ratio")) file.maxSizeRatio = a.number("max-size-ratio", 0);
    if (a.has("max-bops-ratio")) file.maxBopsRatio = a.number("max-bops-ratio", 0);
    if (a.has("out")) writeAllocation(a.value("out"), file);

    if (a.flag("json")) {
        QJsonObject o;
        o["table"] = QString::fromStdString(a.value("table"));
        o["status"] = "optimal";
        o["solve_ms"] = r.solveMs;
        o["degradation"] = r.degradation;
        o["size_bits"] = r.size;
        o["size_ratio"] = r.size / problem.referenceSize;
        o["bops"] = r.bops;
        o["bops_ratio"] = r.bops / problem.referenceBops;
        o["predicted_delta_top1"] = file.deltaTop1;
        o["predicted_top1"] = file.predictedTop1();
        if (std::isfinite(file.predictedTop1FromLoss())) {
            o["top1_per_loss"] = file.top1PerLoss;
            o["predicted_top1_from_loss"] = file.predictedTop1FromLoss();
        }
        o["fp32_top1"] = file.fp32Top1;
        o["columns"] = allocator.columns();
        if (target) {
            o["target"] = QString::fromStdString(target->target);
            o["target_unit"] = QString::fromStdString(target->unit);
            o["target_cost"] = file.targetCost;
            o["target_widest_cost"] = target->reference;
            o["target_cost_ratio"] = file.targetCost / target->reference;
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
                problem.layerCount(), problem.optionCount(), file.measure.c_str(), table.result.metric.c_str(),
                r.solveMs);
    std::printf("  %-28s %-8s %12s %12s %12s\n", "layer", "option", "degradation", "weight bits",
                target ? target->unit.c_str() : "");
    for (const AllocatedLayer& l : file.layers)
        std::printf("  %-28s %-8s %12.5f %12.0f %12s\n", l.name.c_str(), l.option.name().c_str(), l.degradation,
                    l.sizeBits, target ? QString::number(l.targetCost, 'f', 3).toStdString().c_str() : "");
    std::printf("  summed degradation %.5f; weight size %.4f of FP32 (%s bits); BOPs %.4f of FP32\n", r.degradation,
                r.size / problem.referenceSize, human(r.size).c_str(), r.bops / problem.referenceBops);
    if (target)
        std::printf("  target %s: %.3f %s, %.4f of every layer at its widest option (%.3f %s)\n", target->target.c_str(),
                    file.targetCost, target->unit.c_str(), file.targetCost / target->reference, target->reference,
                    target->unit.c_str());
    std::printf("  predicted top-1 %.2f %% (table's base %.2f %% plus the layers' measured changes, %+.2f pt; FP32 "
                "%.2f %%) on %lld samples of %s\n",
                file.predictedTop1(), file.baseTop1, file.deltaTop1, file.fp32Top1, (long long)table.result.samples,
                table.provenance.data.c_str());
    if (std::isfinite(file.predictedTop1FromLoss()))
        std::printf("  predicted top-1 from the loss %.2f %% (FP32 plus the base's and the summed degradation's "
                    "loss at %.2f pt a unit, fitted over the table's cells)\n",
                    file.predictedTop1FromLoss(), file.top1PerLoss);
    std::printf("  wrote %s\n", a.value("out").c_str());
    return 0;
}

int runPareto(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "csv"}, {"table", "cost", "measure", "lock", "exclude", "target"}, "pareto");
    if (!a.positionals().empty()) throw invalidInput("'ptq pareto' takes no model: give the table with --table FILE.");
    const SensitivityTable table = tableArg(a, "pareto");
    AllocationProblem problem = problemFromArgs(a, table, "pareto");
    const std::optional<TargetCosts> target = applyTarget(a, table, problem);
    // With a target the frontier is of its cost unless --cost says otherwise.
    const std::string costName = a.value("cost", target ? "target" : "size");
    if (costName == "target" && !target)
        throw invalidInput("--cost target needs --target NAME (ptq targets lists them).");
    if (costName == "target") problem = withTargetCostRow(problem, *target);
    const CostKind cost = costName == "target" ? CostKind::Bops : costKindFromString(costName);
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<ParetoPoint> frontier = paretoFrontier(problem, cost);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const double ref = problem.reference(cost);
    auto deltaTop1 = [&](const ParetoPoint& p) {
        double d = 0;
        for (size_t l = 0; l < p.choice.size(); ++l) d += table.result.cells[l][size_t(p.choice[l])].deltaTop1;
        return d;
    };
    if (a.flag("json")) {
        QJsonObject o;
        o["table"] = QString::fromStdString(a.value("table"));
        o["cost"] = costName == "target" ? QString::fromStdString(target->unit) : QString(costKindName(cost));
        if (target) o["target"] = QString::fromStdString(target->target);
        o["milliseconds"] = ms;
        QJsonArray points;
        for (const ParetoPoint& p : frontier) {
            QJsonArray choice;
            for (int c : p.choice) choice.append(QString::fromStdString(problem.options[size_t(c)]));
            points.append(QJsonObject{{"cost", p.cost},
                                      {"cost_ratio", p.cost / ref},
                                      {"degradation", p.degradation},
                                      {"predicted_delta_top1", deltaTop1(p)},
                                      {"options", choice}});
        }
        o["points"] = points;
        printJson(o);
        return 0;
    }
    if (a.flag("csv")) {
        std::printf("cost,cost_ratio,degradation,predicted_delta_top1\n");
        for (const ParetoPoint& p : frontier)
            std::printf("%.17g,%.6f,%.9g,%.4f\n", p.cost, p.cost / ref, p.degradation, deltaTop1(p));
        return 0;
    }
    std::printf("%s: exact Pareto frontier of %s vs summed degradation, %zu points in %.1f ms\n",
                a.value("table").c_str(),
                costName == "target" ? (target->target + " " + target->unit).c_str() : costKindName(cost),
                frontier.size(), ms);
    std::printf("  %12s %14s %16s\n", costName == "target" ? "of widest" : "of FP32", "degradation", "pred. top-1 pt");
    for (const ParetoPoint& p : frontier)
        std::printf("  %12.4f %14.6f %+16.2f\n", p.cost / ref, p.degradation, deltaTop1(p));
    return 0;
}

}  // namespace ptq::cli
