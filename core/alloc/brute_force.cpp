#include "core/alloc/brute_force.h"

#include "core/util/error.h"

#include <algorithm>
#include <functional>
#include <limits>

namespace ptq {

namespace {

std::vector<std::vector<int>> allowedOptions(const AllocationProblem& p) {
    std::vector<std::vector<int>> out(p.layerCount());
    for (size_t l = 0; l < p.layerCount(); ++l)
        for (size_t o = 0; o < p.optionCount(); ++o)
            if (p.allowed(l, o)) out[l].push_back(int(o));
    return out;
}

/// Calls @p visit with every allocation (sums accumulated in layer order, as the solvers do).
void enumerate(const AllocationProblem& p, const std::function<void(const std::vector<int>&)>& visit) {
    if (allocationCount(p) > 10'000'000)
        throw invalidInput("The problem has too many allocations to try them all; use the lp_solve allocator.");
    const auto allowed = allowedOptions(p);
    const size_t L = p.layerCount();
    std::vector<size_t> at(L, 0);
    std::vector<int> choice(L);
    while (true) {
        for (size_t l = 0; l < L; ++l) choice[l] = allowed[l][at[l]];
        visit(choice);
        size_t l = 0;
        while (l < L && ++at[l] == allowed[l].size()) at[l++] = 0;
        if (l == L) break;
    }
}

}  // namespace

uint64_t allocationCount(const AllocationProblem& p) {
    uint64_t n = 1;
    for (const auto& a : allowedOptions(p)) {
        if (a.empty()) return 0;
        if (n > std::numeric_limits<uint64_t>::max() / a.size()) return std::numeric_limits<uint64_t>::max();
        n *= a.size();
    }
    return n;
}

AllocationResult bruteForceSolve(const AllocationProblem& p, const AllocationBudget& budget) {
    p.validate();
    AllocationResult best;
    double bestObjective = std::numeric_limits<double>::infinity();
    auto fits = [](double v, const std::optional<double>& b) { return !b || v <= *b + budgetTolerance(*b); };
    enumerate(p, [&](const std::vector<int>& choice) {
        AllocationResult r;
        sumChoice(p, choice, r);
        if (!fits(r.degradation, budget.maxDegradation) || !fits(r.size, budget.maxSize) ||
            !fits(r.bops, budget.maxBops))
            return;
        const double objective = budget.minimisesDegradation() ? r.degradation
                                 : budget.minimise == CostKind::Size ? r.size : r.bops;
        if (objective < bestObjective) {
            bestObjective = objective;
            best = r;
            best.choice = choice;
            best.objective = objective;
            best.status = AllocationStatus::Optimal;
        }
    });
    return best;
}

std::vector<ParetoPoint> bruteForceFrontier(const AllocationProblem& p, CostKind kind) {
    p.validate();
    std::vector<ParetoPoint> all;
    enumerate(p, [&](const std::vector<int>& choice) {
        AllocationResult r;
        sumChoice(p, choice, r);
        all.push_back({kind == CostKind::Size ? r.size : r.bops, r.degradation, choice});
    });
    std::sort(all.begin(), all.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
        return a.cost != b.cost ? a.cost < b.cost : a.degradation < b.degradation;
    });
    std::vector<ParetoPoint> out;
    for (auto& pt : all)
        if (out.empty() || pt.degradation < out.back().degradation) out.push_back(std::move(pt));
    return out;
}

}  // namespace ptq
