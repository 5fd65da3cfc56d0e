#pragma once
// Private to core/alloc/solver*.cpp: the Allocator's state and the helpers its files share.
// Plain C++: lp_solve's header (and its macros) stays inside solver.cpp.

#include "core/alloc/lagrangian.h"
#include "core/alloc/solver.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

struct _lprec;

namespace ptq {
namespace alloc_detail {

enum Quantity { Deg = 0, Size = 1, Bops = 2 };
constexpr int kQuantities = 3;
inline const char* quantityName(int q) { return q == Deg ? "degradation" : q == Size ? "size" : "bops"; }

inline double valueOf(const AllocationProblem& p, int q, size_t l, size_t o) {
    return q == Deg ? p.degradation[l][o] : q == Size ? p.size[l][o] : p.bops[l][o];
}

inline double sumOf(const AllocationResult& r, int q) {
    return q == Deg ? r.degradation : q == Size ? r.size : r.bops;
}

/// Which rows the lp has and what it minimises; budgets of the same structure share one lp.
struct Structure {
    bool constrained[kQuantities] = {false, false, false};
    int objective = Deg;
    bool operator==(const Structure& o) const {
        return std::equal(constrained, constrained + kQuantities, o.constrained) && objective == o.objective;
    }
};

/// Budget values by quantity (NaN: not constrained).
struct Budgets {
    double value[kQuantities] = {NAN, NAN, NAN};
    bool has(int q) const { return !std::isnan(value[q]); }
};

}  // namespace alloc_detail

/// The Allocator's state (pimpl): the kept lp, its columns and the last answer.
struct Allocator::Impl {
    AllocationProblem problem;
    AllocatorOptions options;
    _lprec* lp = nullptr;
    bool built = false;
    alloc_detail::Structure structure;
    std::vector<int> fixedChoice;               ///< per layer: the one kept option, or -1
    std::vector<std::vector<int>> keptOptions;  ///< per layer: the options the lp may choose
    std::vector<std::vector<int>> columnOf;     ///< per layer, per kept option: 1-based column
    double offset[alloc_detail::kQuantities] = {0, 0, 0};
    double scale[alloc_detail::kQuantities] = {1, 1, 1};
    int budgetRow[alloc_detail::kQuantities] = {0, 0, 0};
    int columns = 0;
    std::vector<OneHotColumn> columnData;  ///< column c+1 in scaled units (Lagrangian fixing)
    int openColumns = 0;                   ///< columns left after the last fixing
    std::vector<int> previous;  ///< the last optimal choice (warm start)
    int modelsBuilt = 0, lpSolves = 0;
    int roundedIncumbents = 0;  ///< solves whose incumbent came from roundedKnapsack
    /// The running solve's time limit (AllocatorOptions::timeLimitMs), and whether branch and
    /// bound of the residual lp stopped at it.
    std::chrono::steady_clock::time_point deadline;
    bool timedOut = false;
    int oneRowSolves = 0;       ///< solves answered by the exact one-row programme (one_row.h)
    /// Partial sums a layer above which the one-row programme gives up for branch and bound.
    static constexpr size_t kOneRowStates = 400000;
    /// Open columns above which a solve tries roundedKnapsack for its incumbent.
    static constexpr int kRoundedKnapsackFrom = 64;

    ~Impl() { release(); }
    void release();  ///< frees the lp (solver.cpp)

    void build(const alloc_detail::Structure& s);
    std::vector<int> repair(std::vector<int> choice, const alloc_detail::Budgets& budgets, int objective) const;
    std::vector<int> improve(std::vector<int> choice, const alloc_detail::Budgets& budgets, int objective) const;
    std::vector<int> improvePairs(std::vector<int> choice, const alloc_detail::Budgets& budgets, int objective,
                                  const std::vector<char>& off) const;
    /// An allocation near the optimum over the columns not in @p off (solver_warm_start.cpp).
    std::vector<int> roundedKnapsack(const std::vector<char>& off, const double rhs[]) const;
    std::vector<int> incumbentFor(const LagrangianPrices& prices, const alloc_detail::Budgets& budgets, int objective) const;
    AllocationResult solve(const alloc_detail::Budgets& budgets, int objective, bool explain);
    void explainInfeasible(const alloc_detail::Budgets& budgets, AllocationResult& r);
    int solveResidual(const std::vector<char>& off, const double rhs[], double incumbent, std::vector<int>& choice);
};

}  // namespace ptq
