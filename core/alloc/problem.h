#pragma once
/// @file
/// The bit-allocation problem of the AdaQuant paper's integer program: every layer takes exactly
/// one option; each (layer, option) has a predicted degradation and costs (weight size in bits,
/// BOPs). Plain C++ value types: the GUI includes this header. Any thread; an object is not
/// shared between threads while one of them modifies it.

#include <optional>
#include <string>
#include <vector>

namespace ptq {

/// Which cost a budget or an objective counts.
enum class CostKind {
    Size,  ///< stored weight bits: params x weight bits x points
    Bops   ///< bit operations per sample: MACs x weight bits x points x activation bits
};
const char* costKindName(CostKind kind);
/// "size" or "bops"; throws ptq::Error (InvalidInput) otherwise.
CostKind costKindFromString(const std::string& text);

struct AllocationProblem {
    std::vector<std::string> layers;   ///< layer names, execution order
    std::vector<std::string> options;  ///< option names, e.g. "w4a8"
    /// [layer][option]. Any finite value; tables give max(0, delta loss) (see sensitivity_table.h).
    std::vector<std::vector<double>> degradation;
    std::vector<std::vector<double>> size;  ///< [layer][option] weight bits
    std::vector<std::vector<double>> bops;  ///< [layer][option] bit operations per sample
    /// Per layer: the option it is locked to, or -1. A lock overrides an exclusion.
    std::vector<int> pinned;
    /// Per option: true when no unlocked layer may take it.
    std::vector<bool> excluded;
    double referenceSize = 0;  ///< the FP32 model's weight bits (what size ratios are of)
    double referenceBops = 0;  ///< the FP32 model's BOPs (32 x 32 bits a MAC)

    size_t layerCount() const { return layers.size(); }
    size_t optionCount() const { return options.size(); }
    double cost(CostKind kind, size_t layer, size_t option) const {
        return kind == CostKind::Size ? size[layer][option] : bops[layer][option];
    }
    double reference(CostKind kind) const { return kind == CostKind::Size ? referenceSize : referenceBops; }
    bool allowed(size_t layer, size_t option) const {
        return pinned[layer] >= 0 ? int(option) == pinned[layer] : !excluded[option];
    }
    /// Index of a layer or option by name, -1 when absent.
    int layerIndex(const std::string& name) const;
    int optionIndex(const std::string& name) const;
    /// Locks @p layer to @p option ("LAYER=OPTION" on the command line). Throws ptq::Error
    /// (InvalidInput) naming what is unknown.
    void pin(const std::string& layer, const std::string& option);
    /// Forbids @p option for every unlocked layer; throws ptq::Error (InvalidInput) when unknown.
    void exclude(const std::string& option);
    /// Throws ptq::Error (InvalidInput) when the matrices do not match the names, a value is not
    /// finite, or some layer has no allowed option (saying which layer).
    void validate() const;
    /// An empty problem of @p layers x @p options with no locks or exclusions (values zero).
    static AllocationProblem sized(size_t layers, size_t options);
};

/// What to solve. With a size or BOPs budget the solver minimises the summed degradation
/// (subject to every budget given); with only a degradation budget it minimises @ref minimise.
struct AllocationBudget {
    std::optional<double> maxDegradation;
    std::optional<double> maxSize;  ///< weight bits
    std::optional<double> maxBops;
    CostKind minimise = CostKind::Size;  ///< the objective when only maxDegradation is set

    bool minimisesDegradation() const { return maxSize.has_value() || maxBops.has_value(); }
    bool any() const { return maxDegradation || maxSize || maxBops; }
};

enum class AllocationStatus { Optimal, Infeasible };

struct AllocationResult {
    AllocationStatus status = AllocationStatus::Infeasible;
    std::vector<int> choice;  ///< per layer, the option index (empty when infeasible)
    double degradation = 0;   ///< sums over layers of the chosen options
    double size = 0;
    double bops = 0;
    double objective = 0;     ///< the minimised sum
    double solveMs = 0;       ///< wall time of the call
    /// False when the solve stopped at AllocatorOptions::timeLimitMs: choice is the best
    /// allocation found (within the budgets), not proved optimal; empty when none was found in
    /// time (status Infeasible then says nothing about the budget).
    bool proved = true;
    /// Infeasible: which budget is too tight ("degradation", "size" or "bops"), the nearest
    /// value of that budget that is feasible with the others kept, and a sentence saying so.
    std::string tightBudget;
    double nearestFeasible = 0;
    std::string message;
    bool optimal() const { return status == AllocationStatus::Optimal; }
};

/// Sums of @p choice (one option index per layer) into @p r's degradation, size and bops.
void sumChoice(const AllocationProblem& problem, const std::vector<int>& choice, AllocationResult& r);

/// Relative slack allowed on a budget (floating sums of the same numbers in another order).
inline double budgetTolerance(double budget) { return 1e-9 * (budget < 0 ? -budget : budget) + 1e-12; }

}  // namespace ptq
