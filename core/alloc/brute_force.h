#pragma once
/// @file
/// Every allocation of a small problem, tried one by one: the reference the tests hold the
/// lp_solve solver and the Pareto sweep to. Exponential (options ^ layers); any thread.

#include "core/alloc/pareto.h"
#include "core/alloc/problem.h"

#include <cstdint>
#include <vector>

namespace ptq {

/// How many allocations a brute force would try (saturates at UINT64_MAX).
uint64_t allocationCount(const AllocationProblem& problem);

/// The best allocation under @p budget by enumeration (same objective rule and budget
/// tolerance as Allocator); status Infeasible when none fits (no explanation filled).
/// Throws ptq::Error (InvalidInput) past 10 million allocations.
AllocationResult bruteForceSolve(const AllocationProblem& problem, const AllocationBudget& budget);

/// The exact frontier of (cost, summed degradation) by enumeration, sorted by cost.
std::vector<ParetoPoint> bruteForceFrontier(const AllocationProblem& problem, CostKind cost);

}  // namespace ptq
