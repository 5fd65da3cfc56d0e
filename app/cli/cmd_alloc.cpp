// ptq allocate and ptq pareto: the integer program and the Pareto frontier over a sensitivity
// table (core/alloc).
#include "cli/commands.h"

#include "cli/common.h"
#include "core/alloc/allocation.h"
#include "core/alloc/pareto.h"
#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <chrono>
#include <cstdio>

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

double ratioArg(const Args& a, const std::string& key) {
    const double r = a.number(key, 0);
    if (!(r > 0)) throw invalidInput("--" + key + " takes a ratio above 0 (for example 0.16), not '" + a.value(key) + "'.");
    return r;
}

}  // namespace

int runAllocate(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"},
                 {"table", "max-degradation", "max-size-ratio", "max-bops-ratio", "lock", "exclude", "out", "measure",
                  "reference", "minimise"},
                 "allocate");
    if (!a.positionals().empty())
        throw invalidInput("'ptq allocate' takes no model: give the sensitivity table with --table FILE.");
    const SensitivityTable table = tableArg(a, "allocate");
    const AllocationProblem problem = problemFromArgs(a, table, "allocate");
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
    budget.minimise = costKindFromString(a.value("minimise", "size"));
    if (!budget.any())
        throw invalidInput("'ptq allocate' needs a budget: --max-degradation X, --max-size-ratio R or --max-bops-ratio "
                           "R (ratios of the FP32 model unless --reference int8).");
    if (!a.has("out") && !a.flag("json"))
        throw invalidInput("'ptq allocate' needs --out FILE for the allocation (or --json to print it).");

    Allocator allocator(problem);
    const AllocationResult r = allocator.solve(budget);
    if (!r.optimal()) throw invalidInput(r.message);
    AllocationFile file = makeAllocationFile(table, a.value("table"), problem, r);
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
        o["fp32_top1"] = file.fp32Top1;
        o["columns"] = allocator.columns();
        QJsonArray layers;
        for (const AllocatedLayer& l : file.layers)
            layers.append(QJsonObject{{"name", QString::fromStdString(l.name)},
                                      {"option", QString::fromStdString(l.option.name())},
                                      {"degradation", l.degradation}});
        o["layers"] = layers;
        if (a.has("out")) o["out"] = QString::fromStdString(a.value("out"));
        printJson(o);
        return 0;
    }
    std::printf("%s: %zu layers x %zu options, degradation = %s (%s), optimal in %.2f ms\n", a.value("table").c_str(),
                problem.layerCount(), problem.optionCount(), file.measure.c_str(), table.result.metric.c_str(),
                r.solveMs);
    std::printf("  %-28s %-8s %12s %12s\n", "layer", "option", "degradation", "weight bits");
    for (const AllocatedLayer& l : file.layers)
        std::printf("  %-28s %-8s %12.5f %12.0f\n", l.name.c_str(), l.option.name().c_str(), l.degradation, l.sizeBits);
    std::printf("  summed degradation %.5f; weight size %.4f of FP32 (%s bits); BOPs %.4f of FP32\n", r.degradation,
                r.size / problem.referenceSize, human(r.size).c_str(), r.bops / problem.referenceBops);
    std::printf("  predicted top-1 %.2f %% (table's base %.2f %% plus the layers' measured changes, %+.2f pt; FP32 "
                "%.2f %%) on %lld samples of %s\n",
                file.predictedTop1(), file.baseTop1, file.deltaTop1, file.fp32Top1, (long long)table.result.samples,
                table.provenance.data.c_str());
    std::printf("  wrote %s\n", a.value("out").c_str());
    return 0;
}

int runPareto(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "csv"}, {"table", "cost", "measure", "lock", "exclude"}, "pareto");
    if (!a.positionals().empty()) throw invalidInput("'ptq pareto' takes no model: give the table with --table FILE.");
    const SensitivityTable table = tableArg(a, "pareto");
    const AllocationProblem problem = problemFromArgs(a, table, "pareto");
    const CostKind cost = costKindFromString(a.value("cost", "size"));
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
        o["cost"] = costKindName(cost);
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
                a.value("table").c_str(), costKindName(cost), frontier.size(), ms);
    std::printf("  %12s %14s %16s\n", "of FP32", "degradation", "pred. top-1 pt");
    for (const ParetoPoint& p : frontier)
        std::printf("  %12.4f %14.6f %+16.2f\n", p.cost / ref, p.degradation, deltaTop1(p));
    return 0;
}

}  // namespace ptq::cli
