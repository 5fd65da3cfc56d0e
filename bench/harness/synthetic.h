#pragma once
/// @file
/// Random allocation problems: realistic ones for the benchmark (layer sizes, MACs and
/// sensitivities spread over orders of magnitude, degradation falling with bits) and small
/// arbitrary ones for the brute-force tests. Deterministic for a seed; any thread.

#include "core/analysis/sensitivity.h"
#include "core/alloc/problem.h"
#include "core/alloc/sensitivity_table.h"

#include <cstdint>
#include <random>

namespace ptq {

/// @p layers x @p options with (weight, activation) bit options: 6 options are W{2,4,8} x
/// A{4,8}, 9 are W{2,4,8} x A{4,6,8}, other counts take the first of W{2..8} x A{4,6,8}.
AllocationProblem syntheticProblem(int layers, int options, uint64_t seed);

/// A problem shaped like a real model's: @p table's layers repeated @p copies times, every cell's
/// measured degradation (delta loss and delta top-1) of every copy scaled by its own factor drawn
/// from [0.5, 1.5], then made a problem as problemFromTable makes one (negatives clamped to 0,
/// the local-MSE tie-break). Layer names get "#copy". Deterministic in @p seed.
AllocationProblem jitteredTableProblem(const SensitivityTable& table, int copies, uint64_t seed,
                                       DegradationMeasure measure = DegradationMeasure::DeltaLoss);
/// The table behind jitteredTableProblem (same layers, cells and seed).
SensitivityTable jitteredTable(const SensitivityTable& table, int copies, uint64_t seed);

/// Up to @p maxLayers x @p maxOptions with arbitrary values (some negative, some ties), and
/// random locks and exclusions that leave every layer an option.
AllocationProblem randomSmallProblem(std::mt19937_64& rng, int maxLayers, int maxOptions);

/// A synthetic table of @p layers layers over BitOption::defaults() plus the multipoint
/// options, deterministic in @p seed: for benchmarks and tests of the budget UI.
SensitivityResult syntheticSensitivity(int layers, unsigned seed = 1);

}  // namespace ptq
