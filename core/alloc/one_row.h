#pragma once
/// @file
/// The exact answer of the one-hot allocation program when it has one budget row (a size or a
/// BOPs budget, or a degradation budget with size or BOPs minimised): a multiple-choice
/// knapsack. Internal to the solver (core/alloc/solver.cpp), plain C++, any thread.
///
/// Dynamic programming over the layers on lists of undominated partial sums (row usage,
/// objective): a partial allocation that uses more of the budget and is no better than another
/// is dropped, and so is one whose lower bound (what it has plus the Lagrangian bound of the
/// layers still to come, at the best of a few dozen prices) cannot beat the incumbent. Values are
/// real, not rounded to cells, so the answer is the optimum in floating point, ties broken
/// towards less budget; no tolerance but the rounding of sums (about 1e-14 of the largest
/// coefficient a layer). Branch and bound (lp_solve) is slow on exactly the tables this handles
/// well: many near-equal columns (clamped zeros with tie-breaks, repeated layers), where the LP
/// bound prunes almost nothing.

#include "core/alloc/lagrangian.h"

#include <chrono>
#include <cstddef>
#include <vector>

namespace ptq {

struct OneRowResult {
    enum class Status {
        Optimal,     ///< choice holds the optimum (the incumbent when nothing beats it)
        Infeasible,  ///< no allocation over the open columns fits the row
        GaveUp       ///< the partial sums grew past maxStates, or the deadline passed: nothing proved
    };
    Status status = Status::GaveUp;
    /// Per layer (as numbered in the columns), the chosen column index; -1 for layers without
    /// columns. Empty unless an allocation better than the incumbent was found.
    std::vector<int> choice;
    double objective = 0;      ///< of choice (scaled units), when set
    size_t peakStates = 0;     ///< the largest list of partial sums
    size_t statesVisited = 0;  ///< partial sums made over all layers
};

/// Minimises the objective over the columns not switched @p off, one a layer (every layer with
/// an open column takes one), subject to row @p row of them summing to at most @p capacity.
/// @p incumbent is the value of a known allocation (infinity when none): only strictly better
/// ones are searched for. @p lambda is the Lagrangian price of the row at its optimum (a hint:
/// the bound tries it among others). Gives up when a list of partial sums passes @p maxStates
/// or when @p deadline has passed.
OneRowResult solveOneRow(const std::vector<OneHotColumn>& columns, const std::vector<char>& off, int row,
                         double capacity, double incumbent, double lambda, size_t maxStates,
                         std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace ptq
