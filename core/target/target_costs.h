#pragma once
/// @file
/// A hardware target applied to a sensitivity table: which of the table's options the target
/// runs, and each layer's cost at each option from the target's cost model. What the integer
/// program needs to allocate for that target (core/workflow/budget.h, `ptq allocate
/// --target`). Plain C++ over core types; any thread.

#include "core/analysis/sensitivity.h"
#include "core/target/target_registry.h"

#include <string>
#include <vector>

namespace ptq {

struct TargetCosts {
    std::string target;        ///< the target's name
    std::string unit;          ///< its cost unit, e.g. "latency_us"
    std::string granularity;   ///< the granularity the costs were computed at
    /// Empty when the table was measured at a granularity the target runs; otherwise a sentence
    /// saying the table's predictions were measured at another granularity than the target's.
    std::string granularityWarning;
    std::vector<bool> allowed;               ///< per table option: the target runs it
    /// [layer][option]; 0 for the options the target does not run (never to be counted: they
    /// are excluded, and locks on them refused or ignored).
    std::vector<std::vector<double>> cost;
    /// Every layer at the target's widest weight and activation bits (one point): what cost
    /// ratios are of.
    double reference = 0;

    /// Σ cost of @p choice (an option index per layer).
    double costOf(const std::vector<int>& choice) const;
};

/// The target's costs for @p table measured at @p tableGranularity. When the target does not
/// run that granularity the costs use the target's first granularity and granularityWarning
/// says so. Throws ptq::Error (InvalidInput) when the target allows none of the table's options
/// (naming what it supports), or (Failed) when its cost model returns a negative or
/// non-finite number.
TargetCosts targetCosts(const TargetInfo& info, const HardwareTarget& target, const SensitivityResult& table,
                        const std::string& tableGranularity);

/// The options a target runs, W x A over its bit-widths (one point), e.g. for measuring a table.
std::vector<BitOption> targetOptions(const TargetInfo& info);

/// "weights 4, 8 bits; activations 4, 8 bits; shift, per-tensor": what a message quotes.
std::string describeSupport(const TargetInfo& info);

/// The target named @p name in @p registry, or ptq::Error (InvalidInput) listing the known
/// targets (and how many plugin files were broken).
const TargetInfo& requireTarget(const TargetRegistry& registry, const std::string& name);

}  // namespace ptq
