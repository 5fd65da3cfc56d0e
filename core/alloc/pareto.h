#pragma once
/// @file
/// The exact Pareto frontier of (cost, summed degradation) over every allocation of a problem:
/// the allocations no other allocation beats on both. Computed layer by layer, merging each
/// layer's options into the frontier so far and dropping dominated points, which is exact
/// because a dominated partial sum can only lead to dominated totals. Plain C++; any thread.

#include "core/alloc/problem.h"
#include "core/util/progress.h"

#include <vector>

namespace ptq {

struct ParetoPoint {
    double cost = 0;
    double degradation = 0;
    std::vector<int> choice;  ///< per layer, the option index
};

/// The frontier by increasing cost (and strictly decreasing degradation), respecting locks and
/// exclusions. Equal points appear once. Throws ptq::Error (InvalidInput) when @p problem does
/// not validate; ptq::Cancelled through @p progress.
std::vector<ParetoPoint> paretoFrontier(const AllocationProblem& problem, CostKind cost,
                                        const Progress* progress = nullptr);

}  // namespace ptq
