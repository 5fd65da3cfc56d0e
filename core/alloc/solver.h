#pragma once
/// @file
/// The integer program behind bit allocation, solved with lp_solve: one binary a (layer, option),
/// one "exactly one option" row a layer, one row a budget; every answer is optimal (MIP gaps 0;
/// tests/alloc holds it to brute force).
///
/// What makes re-solving while a slider moves fast, all exact:
/// - options that another option of the same layer beats on every counted figure are pruned
///   before the lp is built (for a size budget, w4a4 loses to w4a8 when it degrades more);
/// - the lp is kept between budgets of the same kind: a new budget changes its right-hand side
///   only (set_rh), and the same lp answers when no warm start is found;
/// - warm start: the previous answer, repaired to fit the new budget and improved greedily (or
///   the Lagrangian relaxation's answer, whichever is better), is an incumbent. Columns whose
///   Lagrangian bound cannot beat it are dropped and branch and bound runs, bounded by it, on a
///   small lp of the layers that still have a choice (core/alloc/lagrangian.h); with one budget
///   row and many columns still open, a dynamic programme over the budget cut into 4096 cells
///   gives a better incumbent first, which switches off most of the rest.
/// lp_solve 5.5 needs set_solutionlimit raised to stay optimal on these problems (solver.cpp).

#include "core/alloc/problem.h"
#include "core/util/progress.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

struct AllocatorOptions {
    bool prune = true;      ///< drop dominated options of each layer before building the lp
    bool keepModel = true;  ///< reuse the lp between budgets of the same kind (set_rh only)
    bool warmStart = true;  ///< incumbent from the previous answer, Lagrangian column fixing
    /// Wall time a solve's branch and bound may take, in ms (0: no limit). Past it the solve
    /// returns the best allocation it has with AllocationResult::proved false (a live slider
    /// shows it at once and proves it in the background with a solve without limit).
    double timeLimitMs = 0;
    /// Polled during branch and bound: a cancel stops the solve with ptq::Cancelled (a
    /// background proof the user no longer needs). Owned by the caller; may be null.
    const Progress* progress = nullptr;
};

/// Solves allocation budgets over one problem. Not thread-safe: one thread at a time (the GUI
/// keeps it on its solver thread); distinct Allocators are independent.
class Allocator {
public:
    /// Throws ptq::Error (InvalidInput) when @p problem does not validate.
    explicit Allocator(AllocationProblem problem, AllocatorOptions options = {});
    ~Allocator();
    Allocator(const Allocator&) = delete;
    Allocator& operator=(const Allocator&) = delete;

    /// The optimal allocation under @p budget, or status Infeasible with the budget that is too
    /// tight and its nearest feasible value. Throws ptq::Error (InvalidInput) when @p budget
    /// sets nothing, ptq::Error (Failed) when lp_solve fails.
    AllocationResult solve(const AllocationBudget& budget);

    const AllocationProblem& problem() const;
    /// Sets AllocatorOptions::timeLimitMs for the next solves (0: no limit).
    void setTimeLimitMs(double ms);
    /// Replaces the problem (say, after a lock changed); the next solve rebuilds the lp.
    void setProblem(AllocationProblem problem);
    /// How many lp models were built and how many lp_solve calls ran (for benchmarks and tests).
    int modelsBuilt() const;
    int lpSolves() const;
    /// Solves whose warm start took the rounded dynamic programme's allocation (more than 64
    /// columns open after the first fixing, one budget row).
    int roundedIncumbents() const;
    /// Solves answered by the exact one-row programme (core/alloc/one_row.h) rather than by
    /// lp_solve's branch and bound.
    int oneRowSolves() const;
    /// Binary columns of the current lp (after pruning); 0 before the first solve.
    int columns() const;

    struct Impl;  ///< opaque: solver_impl.h (core/alloc only)

private:
    std::unique_ptr<Impl> d;
};

/// One solve with a fresh Allocator and the given options (the plain one-shot formulation
/// with AllocatorOptions{false, false, false}). Any thread.
AllocationResult solveAllocation(const AllocationProblem& problem, const AllocationBudget& budget,
                                 AllocatorOptions options = {});

/// Writes the plain one-shot formulation of @p budget over @p problem (nothing pruned, rows
/// scaled as the solver scales them, 17 digits) to @p path as free MPS, for other solvers (`ptq bench
/// ip`'s comparison with CBC). Returns, per 1-based column named C1, C2, ..., its (layer,
/// option); layers with a single allowed option have no column. Throws ptq::Error (Failed) when
/// the file cannot be written.
std::vector<std::pair<int, int>> writeAllocationMps(const AllocationProblem& problem, const AllocationBudget& budget,
                                                    const std::string& path);

/// The smallest achievable sum of degradation ("degradation"), size or BOPs over the allowed
/// options, each layer on its own (what an infeasible message quotes). Any thread.
double minimumAchievable(const AllocationProblem& problem, const std::string& quantity);

}  // namespace ptq
