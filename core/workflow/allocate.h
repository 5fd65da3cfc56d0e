#pragma once
/// @file
/// From a sensitivity table to an allocation file: what `ptq allocate` asks for, posed as a
/// BudgetProblem (core/workflow/budget.h), the same problem the GUI's budget sliders solve, so
/// the INT8 reference, the target's exclusions and cost row, and the predictions are counted in
/// one place. Plain C++; any thread.

#include "core/alloc/allocation.h"
#include "core/workflow/budget.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

struct TargetInfo;
class HardwareTarget;

/// A budget as a file or a script states it: by names, with every limit it sets.
struct AllocationSettings {
    DegradationMeasure measure = DegradationMeasure::DeltaLoss;
    CostReference reference = CostReference::Fp32;
    /// Limits; at least one. Ratios are of @ref reference (a target's cost: of every layer at
    /// its widest option).
    std::optional<double> maxDegradation, maxSizeRatio, maxBopsRatio, maxTargetCostRatio;
    /// With only maxDegradation: what is minimised.
    CostMetric minimise = CostMetric::Size;
    std::vector<std::pair<std::string, std::string>> locks;  ///< layer name, option name
    std::vector<std::string> excluded;                        ///< option names
    /// The hardware target allocated for, or none; with it only its options are chosen.
    const TargetInfo* targetInfo = nullptr;
    const HardwareTarget* target = nullptr;
};

/// The allocation and how it was reached.
struct AllocationOutcome {
    AllocationFile file;
    BudgetAllocation allocation;
};

/// The request @p settings pose on @p problem (locks and exclusions resolved by name). Throws
/// ptq::Error (InvalidInput) naming an unknown layer or option, a lock on an option the target
/// does not run, or a missing (when @p needBudget) or contradictory budget.
BudgetRequest budgetRequestFor(const BudgetProblem& problem, const SensitivityTable& table,
                               const AllocationSettings& settings, bool needBudget = true);

/// A BudgetProblem over @p table with @p settings' measure and target selected. Throws
/// ptq::Error (InvalidInput) when the table was measured at a granularity the target does not run.
std::unique_ptr<BudgetProblem> problemFor(const SensitivityTable& table, const AllocationSettings& settings);

/// Solves @p settings over @p table (read from @p tablePath, which the file records). Throws
/// ptq::Error (InvalidInput) as budgetRequestFor does, for a table measured at a granularity the
/// target does not run, and with the solver's sentence when no allocation meets the budget.
AllocationOutcome allocateTable(const SensitivityTable& table, const std::string& tablePath,
                                const AllocationSettings& settings);

/// The allocation file of @p choice under @p problem (target costs when one is selected).
AllocationFile allocationFileFor(const SensitivityTable& table, const std::string& tablePath,
                                 const BudgetProblem& problem, const BudgetRequest& request,
                                 const BudgetAllocation& allocation);

}  // namespace ptq
