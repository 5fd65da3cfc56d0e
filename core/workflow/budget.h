#pragma once
/// @file
/// The bit-allocation problem as the GUI's budget sliders and `ptq allocate` pose it, over a
/// sensitivity table (the only path from a table to an allocation):
/// one option per layer, minimise the predicted degradation (Σ max(0, ΔL), as core/alloc
/// counts it) under a cost budget (size or BOPs as a fraction of the FP32 or INT8 model), or
/// minimise the cost under a degradation budget; layers pinned by hand keep their option. Plus
/// the Pareto frontier of cost against predicted degradation. A thin adapter over core/alloc:
/// the lp_solve Allocator (kept alive between solves, so a slider drag changes only the
/// budget's right-hand side) and the exact paretoFrontier. Plain C++; any thread may call
/// (the Allocator is used under a mutex).

#include "core/alloc/problem.h"
#include "core/alloc/sensitivity_table.h"
#include "core/analysis/sensitivity.h"
#include "core/target/target_costs.h"
#include "core/util/progress.h"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ptq {

/// Target: the selected hardware target's cost (its unit, e.g. latency_us), see setTarget().
enum class CostMetric { Size, Bops, Target };
enum class CostReference { Fp32, Int8 };
enum class BudgetKind {
    Cost,         ///< minimise Σ ΔL s.t. cost ≤ costRatio × reference cost
    Degradation,  ///< minimise cost s.t. Σ ΔL ≤ maxDegradation
};

const char* costMetricName(CostMetric m);        ///< "size", "bops", "target"
const char* costReferenceName(CostReference r);  ///< "fp32", "int8"

struct BudgetRequest {
    BudgetKind kind = BudgetKind::Cost;
    CostMetric metric = CostMetric::Size;
    CostReference reference = CostReference::Fp32;
    double costRatio = 0.25;       ///< Cost: allowed cost / reference cost
    double maxDegradation = 0.05;  ///< Degradation: allowed Σ ΔL (the table's metric)
    std::map<int, int> pins;       ///< layer -> option index, kept as given
    std::set<int> excluded;        ///< options no unpinned layer may take
    /// Limits that hold besides the kind's own (ptq allocate's combined budgets): cost ratios
    /// of @ref reference, and a bound on the degradation.
    std::optional<double> alsoMaxSizeRatio, alsoMaxBopsRatio, alsoMaxDegradation;
    /// Degradation kind: what is minimised (CostMetric::Target: the target's cost).
    /// Unset: @ref metric.
    std::optional<CostMetric> minimise;
    /// Wall time the solve's branch and bound may take, in ms (0: none). A live slider solve sets
    /// it: past it the best allocation found comes back with proved false, and prove() then
    /// finishes the proof off the slider's path.
    double timeLimitMs = 0;
};

struct BudgetAllocation {
    std::vector<int> choice;       ///< option index per layer; empty when never solved
    bool feasible = false;
    std::string status;            ///< "optimal", or a sentence saying why not
    /// False: the best allocation found within the request's time limit, not yet proved
    /// optimal (status says so); prove() answers the same request without a limit.
    bool proved = true;
    double deltaLoss = 0;          ///< predicted: Σ max(0, ΔL) of the chosen options
    double deltaTop1 = 0;          ///< predicted: Σ Δtop-1 (points; negative = worse)
    /// predicted top-1 change from FP32 (points) through the loss: k · ((base loss − FP32 loss)
    /// + Σ ΔL), k the table's least-squares Δtop-1 per ΔL (top1PerLoss); what `ptq allocate`
    /// prints as top1_from_loss minus FP32's (for a KL table: agreement with the FP model's top-1,
    /// as deltaTop1 is). NaN when k = 0 (no cell of the table moved the loss)
    double deltaTop1FromLoss = std::numeric_limits<double>::quiet_NaN();
    double sizeBytes = 0;          ///< quantizable weights at the chosen bits
    double bops = 0;               ///< per sample: Σ MACs × weight bits × activation bits
    double targetCost = 0;         ///< the selected target's cost (0 without a target)
    std::string targetUnit;        ///< its unit; empty without a target
    double solverMs = 0;
    int columns = 0;               ///< the lp's columns after pruning (0: not solved)
};

struct BudgetPoint {
    double costRatio = 0;          ///< cost / reference cost
    double deltaLoss = 0;
    std::vector<int> choice;
};

class BudgetProblem {
public:
    /// Takes the layers, options and ΔL / Δtop-1 of @p table (copied). @p measure is what the
    /// program counts as a layer's degradation (ΔL clamped at 0, or the top-1 drop); the top-1
    /// prediction through the loss exists only for ΔL.
    explicit BudgetProblem(const SensitivityResult& table, DegradationMeasure measure = DegradationMeasure::DeltaLoss);
    ~BudgetProblem();

    int layerCount() const { return int(base_.layerCount()); }
    int optionCount() const { return int(options_.size()); }
    const std::vector<BitOption>& options() const { return options_; }

    /// Selects a hardware target (nullptr: none): from then on solve(), pareto() and limits()
    /// only choose options the target runs (a pin on another option is ignored while the target
    /// is selected: the hardware cannot run it), and CostMetric::Target counts its
    /// cost (of every layer at the target's widest option, for either reference). @p granularity
    /// is the table's. Returns the costs' granularity warning (empty when the table's
    /// granularity is the target's). Throws ptq::Error (InvalidInput) when the target runs none
    /// of the table's options; the previous target then stays. Any thread.
    std::string setTarget(const TargetInfo* info, const HardwareTarget* target, const std::string& granularity) const;
    /// The selected target's costs, or nullptr.
    std::shared_ptr<const TargetCosts> targetCosts() const;

    /// Cost of one layer at one option, and of the whole model at the reference precision.
    /// CostMetric::Target without a target selected throws ptq::Error (InvalidInput).
    double layerCost(CostMetric m, int layer, int option) const;
    double referenceCost(CostMetric m, CostReference r) const;
    double costOf(CostMetric m, const std::vector<int>& choice) const;
    double deltaLossOf(const std::vector<int>& choice) const;
    /// The degradation the program counts for @p layer at @p option (the measure's).
    double degradation(int layer, int option) const { return base_.degradation.at(size_t(layer)).at(size_t(option)); }
    /// The table's least-squares top-1 change per unit of loss; 0 when not known.
    double top1PerLoss() const { return top1PerLoss_; }
    DegradationMeasure measure() const { return measure_; }

    /// What the budget sliders span for @p metric and @p reference, pins ignored: the cost
    /// ratios of the cheapest and of the costliest allocation, and the predicted degradation of
    /// the cheapest (least degraded among equally cheap options).
    struct Limits {
        double minRatio = 0, maxRatio = 1, maxDegradation = 0;
    };
    Limits limits(CostMetric metric, CostReference reference) const;

    /// Solves @p request. Never throws for an infeasible budget: feasible = false and a
    /// status sentence. Throws ptq::Error (InvalidInput) for a pin outside the table.
    BudgetAllocation solve(const BudgetRequest& request) const;
    /// solve() without a time limit on a fresh lp of its own, beside the live one (a slider's
    /// solves go on meanwhile): the proof of an allocation solve() returned unproved. A cancel
    /// of @p progress throws ptq::Cancelled. Any thread.
    BudgetAllocation prove(const BudgetRequest& request, const Progress* progress = nullptr) const;
    /// The figures (ΔL, Δtop-1, size, BOPs) of a given choice, as solve() reports them.
    BudgetAllocation evaluate(const std::vector<int>& choice) const;
    /// Cost-vs-degradation frontier under @p request's metric, reference and pins, cheapest
    /// first; every point is a choice that no other choice beats on both.
    std::vector<BudgetPoint> pareto(const BudgetRequest& request) const;

private:
    /// solve() and prove(): on the live Allocator, or (@p fresh) on one of its own without a limit.
    BudgetAllocation solveOn(const BudgetRequest& request, bool fresh, const Progress* progress) const;
    /// The problem with @p request's pins locked (core/alloc's form), its exclusions and
    /// @p target's; with @p targetRow the target's cost takes the place of the BOPs row, which
    /// is the cost row the solver then budgets or minimises (the BOPs figures come back from
    /// evaluate()).
    AllocationProblem pinned(const BudgetRequest& request, const TargetCosts* target, bool targetRow) const;
    /// The sentence for an infeasible @p request: which limit is too tight and how far.
    std::string infeasibleMessage(const BudgetRequest& request, const AllocationResult& r, const TargetCosts* target,
                                  bool targetRow) const;
    CostKind kind(CostMetric m) const { return m == CostMetric::Size ? CostKind::Size : CostKind::Bops; }
    bool allowedByTarget(const TargetCosts* target, int option) const {
        return !target || target->allowed[size_t(option)];
    }

    std::vector<BitOption> options_;
    DegradationMeasure measure_ = DegradationMeasure::DeltaLoss;
    AllocationProblem base_;                 ///< degradation = max(0, ΔL); size in bits
    std::vector<std::vector<double>> top1_;  ///< [layer][option] Δtop-1 as measured
    double top1PerLoss_ = 0;                 ///< the table's fit; 0: no top-1 through the loss
    double baseLossOverFp32_ = 0;            ///< the base model's loss − FP32's
    std::vector<SensitivityLayer> layers_;   ///< what a target's cost model reads
    mutable std::mutex targetMutex_;         ///< guards target_ (a view setting, not the table)
    mutable std::shared_ptr<const TargetCosts> target_;
    struct Live;                             ///< the Allocator and the pins it was built with
    mutable std::mutex mutex_;
    mutable std::unique_ptr<Live> live_;
};

}  // namespace ptq
