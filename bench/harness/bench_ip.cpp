#include "bench/harness/bench_ip.h"

#include "core/util/percentile.h"

#include "core/alloc/pareto.h"
#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "bench/harness/synthetic.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTextStream>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ptq {

namespace {

double elapsedMs(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

/// CBC on the one-shot program of @p budget (written as MPS), from scratch: the summed
/// objective of its answer (NaN when it found none) and its wall time, process start included.
std::pair<double, double> solveWithCbc(const std::string& cbc, const AllocationProblem& p, const AllocationBudget& budget,
                                       int objective) {
    QTemporaryDir dir;
    const std::string mps = dir.filePath("ip.mps").toStdString(), sol = dir.filePath("ip.sol").toStdString();
    const std::vector<std::pair<int, int>> columns = writeAllocationMps(p, budget, mps);
    const auto t0 = std::chrono::steady_clock::now();
    QProcess proc;
    // zero gaps, as the Allocator: the optimum, not one within a tolerance of it
    proc.start(QString::fromStdString(cbc), {QString::fromStdString(mps), "-ratioGap", "0", "-allowableGap", "0",
                                             "-threads", "1", "-solve", "-solu", QString::fromStdString(sol)});
    if (!proc.waitForFinished(600000)) proc.kill();
    const double ms = elapsedMs(t0);
    std::vector<int> choice(p.layerCount(), -1);
    for (size_t l = 0; l < p.layerCount(); ++l)
        for (size_t o = 0; o < p.optionCount(); ++o)
            if (p.allowed(l, o) && choice[l] < 0) choice[l] = int(o);  // layers without a column
    QFile f(QString::fromStdString(sol));
    if (!f.open(QIODevice::ReadOnly)) return {NAN, ms};
    QTextStream in(&f);
    const QString status = in.readLine();
    if (!status.startsWith("Optimal")) return {NAN, ms};
    while (!in.atEnd()) {
        const QStringList parts = in.readLine().split(' ', Qt::SkipEmptyParts);
        if (parts.size() < 3 || !parts[1].startsWith('C')) continue;
        const int c = parts[1].mid(1).toInt();
        if (c >= 1 && size_t(c) <= columns.size() && parts[2].toDouble() > 0.5)
            choice[size_t(columns[size_t(c - 1)].first)] = columns[size_t(c - 1)].second;
    }
    AllocationResult r;
    sumChoice(p, choice, r);
    return {objective == 0 ? r.degradation : objective == 1 ? r.size : r.bops, ms};
}

bool sameOptimum(double a, double b) { return std::abs(a - b) <= 1e-9 * std::abs(b) + 1e-12; }

IpBenchRow benchInstance(const std::string& name, const AllocationProblem& p, const IpBenchRequest& req, bool limited) {
    // The slider's range: from a little below the smallest size to the largest.
    const double lo = minimumAchievable(p, "size") * 0.98;
    double hi = 0;
    for (size_t l = 0; l < p.layerCount(); ++l) hi += *std::max_element(p.size[l].begin(), p.size[l].end());
    IpBenchRow row;
    row.instance = name;
    row.layers = int(p.layerCount());
    row.options = int(p.optionCount());
    row.positions = req.positions;
    Allocator live(p);
    std::vector<double> liveMs, oneShotMs, cbcMs;
    // Plain lp_solve takes seconds to minutes on a table instance: at most 10 positions there.
    const int oneShot = limited ? std::min(req.oneShotPositions, 10) : req.oneShotPositions;
    const int every = std::max(1, req.positions / std::max(1, oneShot));
    AllocatorOptions plain{false, false, false};
    if (limited) plain.timeLimitMs = req.oneShotLimitS * 1000;
    for (int i = 0; i < req.positions; ++i) {
        AllocationBudget budget;
        budget.maxSize = lo + (hi - lo) * double(i) / double(std::max(1, req.positions - 1));
        auto t0 = std::chrono::steady_clock::now();
        const AllocationResult a = live.solve(budget);
        liveMs.push_back(elapsedMs(t0));
        if (!a.optimal()) ++row.infeasible;
        if (i % every != 0) continue;
        t0 = std::chrono::steady_clock::now();
        const AllocationResult b = solveAllocation(p, budget, plain);
        if (!b.proved) {
            ++row.oneShotTimeouts;
        } else {
            oneShotMs.push_back(elapsedMs(t0));
            const bool same = a.optimal() == b.optimal() && (!a.optimal() || sameOptimum(a.objective, b.objective));
            if (!same) ++row.mismatches;
        }
        if (!req.cbc.empty() && a.optimal()) {
            const auto [objective, ms] = solveWithCbc(req.cbc, p, budget, 0);
            ++row.cbcRuns;
            cbcMs.push_back(ms);
            if (!std::isfinite(objective)) ++row.cbcFailures;
            else if (!sameOptimum(a.objective, objective)) ++(objective < a.objective ? row.cbcBetter : row.cbcWorse);
        }
    }
    row.columnsPruned = live.columns();
    row.modelsBuilt = live.modelsBuilt();
    row.oneRowSolves = live.oneRowSolves();
    {
        Allocator full(p, {false, false, false});
        AllocationBudget budget;
        budget.maxSize = hi;
        full.solve(budget);
        row.columnsFull = full.columns();
    }
    row.oneShotPositions = int(oneShotMs.size()) + row.oneShotTimeouts;
    row.liveP50Ms = percentile(liveMs, 0.50);
    row.liveP99Ms = percentile(liveMs, 0.99);
    row.liveMaxMs = percentile(liveMs, 1.0);
    if (!oneShotMs.empty()) {
        row.oneShotP50Ms = percentile(oneShotMs, 0.50);
        row.oneShotP99Ms = percentile(oneShotMs, 0.99);
        row.oneShotMaxMs = percentile(oneShotMs, 1.0);
    }
    if (!cbcMs.empty()) {
        row.cbcP50Ms = percentile(cbcMs, 0.50);
        row.cbcMaxMs = percentile(cbcMs, 1.0);
    }
    return row;
}

}  // namespace

std::vector<std::string> defaultIpTables() {
    std::vector<std::string> out;
    const QDir dir(QStringLiteral(PTQ_BENCH_TABLE_DIR));
    for (const QString& name : dir.entryList({"*.json"}, QDir::Files, QDir::Name))
        out.push_back(dir.filePath(name).toStdString());
    return out;
}

IpBenchResult benchIp(const IpBenchRequest& req, const Progress* progress) {
    IpBenchResult out;
    const size_t steps = req.sizes.size() + req.tables.size() * req.copies.size() + 1;
    size_t step = 0;
    // Every table read first: a bad file stops the run before minutes of other instances.
    std::vector<SensitivityTable> tables;
    for (const std::string& path : req.tables) tables.push_back(readSensitivityTable(path));
    for (size_t s = 0; s < req.sizes.size(); ++s) {
        const auto [layers, options] = req.sizes[s];
        reportProgress(progress, double(step++) / double(steps), "IP " + std::to_string(layers) + "x" + std::to_string(options));
        const AllocationProblem p = syntheticProblem(layers, options, req.seed + uint64_t(s));
        out.rows.push_back(benchInstance("random", p, req, false));
    }
    for (size_t t = 0; t < tables.size(); ++t) {
        const SensitivityTable& table = tables[t];
        const std::string& path = req.tables[t];
        const std::string stem = QFileInfo(QString::fromStdString(path)).completeBaseName().toStdString();
        for (int copies : req.copies) {
            reportProgress(progress, double(step++) / double(steps), "IP " + stem + " x" + std::to_string(copies));
            const AllocationProblem p = jitteredTableProblem(table, copies, req.seed + uint64_t(copies));
            out.rows.push_back(benchInstance(stem + " x" + std::to_string(copies), p, req, true));
        }
    }
    reportProgress(progress, double(step) / double(steps), "Pareto frontier");
    const AllocationProblem p = syntheticProblem(req.paretoSize.first, req.paretoSize.second, req.seed + 100);
    out.paretoLayers = req.paretoSize.first;
    out.paretoOptions = req.paretoSize.second;
    auto t0 = std::chrono::steady_clock::now();
    out.paretoSizePoints = paretoFrontier(p, CostKind::Size).size();
    out.paretoSizeMs = elapsedMs(t0);
    t0 = std::chrono::steady_clock::now();
    out.paretoBopsPoints = paretoFrontier(p, CostKind::Bops).size();
    out.paretoBopsMs = elapsedMs(t0);
    return out;
}

}  // namespace ptq
