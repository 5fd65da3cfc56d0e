#include "bench/harness/bench_ip.h"

#include "core/util/percentile.h"

#include "core/alloc/pareto.h"
#include "core/alloc/solver.h"
#include "bench/harness/synthetic.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace ptq {

namespace {

double elapsedMs(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

IpBenchResult benchIp(const IpBenchRequest& req, const Progress* progress) {
    IpBenchResult out;
    for (size_t s = 0; s < req.sizes.size(); ++s) {
        const auto [layers, options] = req.sizes[s];
        reportProgress(progress, double(s) / double(req.sizes.size() + 1),
                       "IP " + std::to_string(layers) + "x" + std::to_string(options));
        const AllocationProblem p = syntheticProblem(layers, options, req.seed + uint64_t(s));
        // The slider's range: from a little below the smallest size to the largest.
        const double lo = minimumAchievable(p, "size") * 0.98;
        double hi = 0;
        for (size_t l = 0; l < p.layerCount(); ++l) hi += *std::max_element(p.size[l].begin(), p.size[l].end());
        IpBenchRow row;
        row.layers = layers;
        row.options = options;
        row.positions = req.positions;
        Allocator live(p);
        std::vector<double> liveMs, oneShotMs;
        const int every = std::max(1, req.positions / std::max(1, req.oneShotPositions));
        for (int i = 0; i < req.positions; ++i) {
            AllocationBudget budget;
            budget.maxSize = lo + (hi - lo) * double(i) / double(std::max(1, req.positions - 1));
            auto t0 = std::chrono::steady_clock::now();
            const AllocationResult a = live.solve(budget);
            liveMs.push_back(elapsedMs(t0));
            if (!a.optimal()) ++row.infeasible;
            if (i % every != 0) continue;
            t0 = std::chrono::steady_clock::now();
            const AllocationResult b = solveAllocation(p, budget, {false, false, false});
            oneShotMs.push_back(elapsedMs(t0));
            const bool same = a.optimal() == b.optimal() &&
                              (!a.optimal() || std::abs(a.objective - b.objective) <= 1e-9 * std::abs(b.objective) + 1e-12);
            if (!same) ++row.mismatches;
        }
        row.columnsPruned = live.columns();
        row.modelsBuilt = live.modelsBuilt();
        {
            Allocator full(p, {false, false, false});
            AllocationBudget budget;
            budget.maxSize = hi;
            full.solve(budget);
            row.columnsFull = full.columns();
        }
        row.oneShotPositions = int(oneShotMs.size());
        row.liveP50Ms = percentile(liveMs, 0.50);
        row.liveP99Ms = percentile(liveMs, 0.99);
        row.liveMaxMs = percentile(liveMs, 1.0);
        row.oneShotP50Ms = percentile(oneShotMs, 0.50);
        row.oneShotP99Ms = percentile(oneShotMs, 0.99);
        row.oneShotMaxMs = percentile(oneShotMs, 1.0);
        out.rows.push_back(row);
    }
    reportProgress(progress, double(req.sizes.size()) / double(req.sizes.size() + 1), "Pareto frontier");
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
