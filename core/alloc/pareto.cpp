#include "core/alloc/pareto.h"

#include <algorithm>

namespace ptq {

namespace {

struct Partial {
    double cost, degradation;
    int parent;  ///< index into the previous layer's frontier
    int option;
};

/// Keeps the points no other point beats on both figures; sorted by cost.
void keepFrontier(std::vector<Partial>& points) {
    std::sort(points.begin(), points.end(), [](const Partial& a, const Partial& b) {
        return a.cost != b.cost ? a.cost < b.cost : a.degradation < b.degradation;
    });
    size_t kept = 0;
    for (size_t i = 0; i < points.size(); ++i)
        if (kept == 0 || points[i].degradation < points[kept - 1].degradation) points[kept++] = points[i];
    points.resize(kept);
}

}  // namespace

std::vector<ParetoPoint> paretoFrontier(const AllocationProblem& problem, CostKind kind, const Progress* progress) {
    problem.validate();
    const size_t L = problem.layerCount(), O = problem.optionCount();
    // frontiers[l]: the frontier of layers 0..l, each point remembering how it was reached.
    std::vector<std::vector<Partial>> frontiers(L);
    std::vector<Partial> previous{{0.0, 0.0, -1, -1}};
    for (size_t l = 0; l < L; ++l) {
        reportProgress(progress, double(l) / double(L), "Pareto frontier");
        // The layer's own frontier first: a dominated option never reaches the total frontier.
        std::vector<Partial> own;
        for (size_t o = 0; o < O; ++o)
            if (problem.allowed(l, o)) own.push_back({problem.cost(kind, l, o), problem.degradation[l][o], -1, int(o)});
        keepFrontier(own);
        std::vector<Partial> next;
        next.reserve(previous.size() * own.size());
        for (size_t p = 0; p < previous.size(); ++p)
            for (const Partial& o : own)
                next.push_back({previous[p].cost + o.cost, previous[p].degradation + o.degradation, int(p), o.option});
        keepFrontier(next);
        frontiers[l] = next;
        previous = std::move(next);
    }
    std::vector<ParetoPoint> out(previous.size());
    for (size_t i = 0; i < previous.size(); ++i) {
        out[i].cost = previous[i].cost;
        out[i].degradation = previous[i].degradation;
        out[i].choice.assign(L, -1);
        int at = int(i);
        for (size_t l = L; l-- > 0;) {
            const Partial& p = frontiers[l][size_t(at)];
            out[i].choice[l] = p.option;
            at = p.parent;
        }
    }
    return out;
}

}  // namespace ptq
