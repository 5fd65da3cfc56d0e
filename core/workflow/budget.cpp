#include "core/workflow/budget.h"

#include "core/alloc/pareto.h"
#include "core/alloc/solver.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace ptq {

const char* costMetricName(CostMetric m) {
    return m == CostMetric::Size ? "size" : m == CostMetric::Bops ? "bops" : "target";
}
const char* costReferenceName(CostReference r) { return r == CostReference::Fp32 ? "fp32" : "int8"; }

struct BudgetProblem::Live {
    std::map<int, int> pins;
    std::set<int> excluded;
    std::shared_ptr<const TargetCosts> target;
    bool targetCostRow = false;  ///< the BOPs row holds the target's cost
    std::unique_ptr<Allocator> allocator;
};

namespace {
SensitivityTable asTable(const SensitivityResult& result) {
    SensitivityTable t;
    t.result = result;
    return t;
}
}  // namespace

BudgetProblem::BudgetProblem(const SensitivityResult& table, DegradationMeasure measure)
    : options_(table.options), measure_(measure), base_(problemFromTable(asTable(table), measure)),
      layers_(table.layers) {
    for (const auto& cells : table.cells) {
        std::vector<double> top1;
        for (const SensitivityCell& c : cells) top1.push_back(c.deltaTop1);
        top1_.push_back(std::move(top1));
    }
    // Through the loss only when the program counts the loss.
    top1PerLoss_ = measure == DegradationMeasure::DeltaLoss ? ptq::top1PerLoss(table) : 0.0;
    baseLossOverFp32_ = table.baseLoss - table.fp32Loss;
    base_.validate();
}

BudgetProblem::~BudgetProblem() = default;

std::string BudgetProblem::setTarget(const TargetInfo* info, const HardwareTarget* target,
                                     const std::string& granularity) const {
    std::shared_ptr<const TargetCosts> costs;
    if (info && target) {
        SensitivityResult shape;  // what targetCosts reads: options and layers
        shape.options = options_;
        shape.layers = layers_;
        costs = std::make_shared<const TargetCosts>(ptq::targetCosts(*info, *target, shape, granularity));
    }
    std::lock_guard<std::mutex> lock(targetMutex_);
    target_ = costs;
    return costs ? costs->granularityWarning : std::string();
}

std::shared_ptr<const TargetCosts> BudgetProblem::targetCosts() const {
    std::lock_guard<std::mutex> lock(targetMutex_);
    return target_;
}

double BudgetProblem::layerCost(CostMetric m, int layer, int option) const {
    if (m == CostMetric::Target) {
        const auto target = targetCosts();
        if (!target) throw invalidInput("No hardware target is selected, so there is no target cost to count.");
        return target->cost.at(size_t(layer)).at(size_t(option));
    }
    const double c = base_.cost(kind(m), size_t(layer), size_t(option));
    return m == CostMetric::Size ? c / 8.0 : c;  // size in bytes
}

double BudgetProblem::referenceCost(CostMetric m, CostReference r) const {
    if (m == CostMetric::Target) {
        const auto target = targetCosts();
        if (!target) throw invalidInput("No hardware target is selected, so there is no target cost to count.");
        return target->reference;  // a target has no FP32: both references are its widest option
    }
    double ref = base_.reference(kind(m));  // FP32: 32 bits a weight, 32 x 32 a MAC
    if (m == CostMetric::Size) ref /= 8.0;
    if (r == CostReference::Int8) ref /= m == CostMetric::Size ? 4.0 : 16.0;
    return ref;
}

double BudgetProblem::costOf(CostMetric m, const std::vector<int>& choice) const {
    double total = 0;
    for (size_t l = 0; l < choice.size(); ++l) total += layerCost(m, int(l), choice[l]);
    return total;
}

double BudgetProblem::deltaLossOf(const std::vector<int>& choice) const {
    double total = 0;
    for (size_t l = 0; l < choice.size(); ++l) total += base_.degradation.at(l).at(size_t(choice[l]));
    return total;
}

BudgetAllocation BudgetProblem::evaluate(const std::vector<int>& choice) const {
    BudgetAllocation a;
    a.choice = choice;
    a.feasible = true;
    a.status = "optimal";
    a.deltaLoss = deltaLossOf(choice);
    for (size_t l = 0; l < choice.size(); ++l) a.deltaTop1 += top1_.at(l).at(size_t(choice[l]));
    if (top1PerLoss_ != 0) a.deltaTop1FromLoss = top1PerLoss_ * (baseLossOverFp32_ + a.deltaLoss);
    a.sizeBytes = costOf(CostMetric::Size, choice);
    a.bops = costOf(CostMetric::Bops, choice);
    if (const auto target = targetCosts()) {
        a.targetCost = target->costOf(choice);
        a.targetUnit = target->unit;
    }
    return a;
}

BudgetProblem::Limits BudgetProblem::limits(CostMetric metric, CostReference reference) const {
    Limits out;
    const auto target = targetCosts();
    int first = 0;  // an option the target runs (targetCosts guarantees one)
    while (first + 1 < optionCount() && !allowedByTarget(target.get(), first)) ++first;
    double least = 0, most = 0;
    for (int l = 0; l < layerCount(); ++l) {
        int cheapest = first;
        double highest = 0;
        for (int o = 0; o < optionCount(); ++o) {
            if (!allowedByTarget(target.get(), o)) continue;
            const double c = layerCost(metric, l, o), best = layerCost(metric, l, cheapest);
            if (c < best || (c == best && base_.degradation[size_t(l)][size_t(o)] < base_.degradation[size_t(l)][size_t(cheapest)]))
                cheapest = o;
            highest = std::max(highest, c);
        }
        least += layerCost(metric, l, cheapest);
        most += highest;
        out.maxDegradation += base_.degradation[size_t(l)][size_t(cheapest)];
    }
    const double ref = referenceCost(metric, reference);
    out.minRatio = ref > 0 ? least / ref : 0;
    out.maxRatio = ref > 0 ? most / ref : 1;
    return out;
}

AllocationProblem BudgetProblem::pinned(const BudgetRequest& request, const TargetCosts* target,
                                        bool targetRow) const {
    AllocationProblem p = base_;
    for (int o : request.excluded) {
        if (o < 0 || o >= optionCount())
            throw invalidInput("An excluded option (" + std::to_string(o) + ") is outside the sensitivity table.");
        p.excluded[size_t(o)] = true;
    }
    if (target) {
        for (int o = 0; o < optionCount(); ++o)
            if (!target->allowed[size_t(o)]) p.excluded[size_t(o)] = true;
        if (targetRow) {
            p.bops = target->cost;
            p.referenceBops = target->reference;
        }
    }
    for (const auto& [layer, option] : request.pins) {
        if (layer < 0 || layer >= layerCount() || option < 0 || option >= optionCount())
            throw invalidInput("A pinned layer or option (" + std::to_string(layer) + ", " + std::to_string(option) +
                               ") is outside the sensitivity table.");
        // The target decides: a pin on an option it does not run waits until it is deselected.
        if (!target || target->allowed[size_t(option)]) p.pinned[size_t(layer)] = option;
    }
    p.validate();
    return p;
}

std::string BudgetProblem::infeasibleMessage(const BudgetRequest& request, const AllocationResult& r,
                                             const TargetCosts* target, bool targetRow) const {
    char text[320];
    if (r.tightBudget == "degradation") {
        std::snprintf(text, sizeof text,
                      "The degradation budget of %.4g is too tight: the least predicted degradation the allowed options "
                      "and pins reach %s is %.4g; raise the budget to at least that, or unpin layers.",
                      request.kind == BudgetKind::Degradation ? request.maxDegradation : *request.alsoMaxDegradation,
                      request.alsoMaxSizeRatio || request.alsoMaxBopsRatio || request.kind == BudgetKind::Cost
                          ? "under the cost budgets"
                          : "",
                      r.nearestFeasible);
        return text;
    }
    // A cost row: size (bits in core/alloc), BOPs, or the target's cost in the BOPs row.
    const bool size = r.tightBudget == "size";
    const CostMetric metric = size ? CostMetric::Size : targetRow ? CostMetric::Target : CostMetric::Bops;
    const double reference = referenceCost(metric, request.reference) * (size ? 8.0 : 1.0);
    double asked = request.costRatio;
    if (request.kind != BudgetKind::Cost || request.metric != metric)
        asked = size ? request.alsoMaxSizeRatio.value_or(asked) : request.alsoMaxBopsRatio.value_or(asked);
    const std::string what = metric == CostMetric::Target ? target->target + " " + target->unit
                             : size                       ? std::string("weight size")
                                                          : std::string("BOPs");
    const std::string of = metric == CostMetric::Target ? "of every layer at the widest option"
                           : request.reference == CostReference::Fp32 ? "of FP32"
                                                                      : "of INT8";
    std::snprintf(text, sizeof text,
                  "The %s budget of %.2f %% %s is too tight: the smallest the allowed options and pins reach is "
                  "%.2f %%; raise the budget to at least that, or unpin layers and allow smaller options.",
                  what.c_str(), asked * 100, of.c_str(), r.nearestFeasible / reference * 100);
    return text;
}

BudgetAllocation BudgetProblem::solve(const BudgetRequest& request) const { return solveOn(request, false, nullptr); }

BudgetAllocation BudgetProblem::prove(const BudgetRequest& request, const Progress* progress) const {
    return solveOn(request, true, progress);
}

BudgetAllocation BudgetProblem::solveOn(const BudgetRequest& request, bool fresh, const Progress* progress) const {
    const auto start = std::chrono::steady_clock::now();
    const auto target = targetCosts();
    const CostMetric minimised = request.minimise.value_or(request.metric);
    const bool targetRow = target && (request.kind == BudgetKind::Cost ? request.metric : minimised) == CostMetric::Target;
    if (request.kind == BudgetKind::Cost && request.metric == CostMetric::Target && !target)
        throw invalidInput("No hardware target is selected, so there is no target cost to budget.");
    if (targetRow && (request.alsoMaxBopsRatio || (request.kind == BudgetKind::Cost && request.metric == CostMetric::Bops)))
        throw invalidInput("A target cost budget replaces the BOPs in the program: budget one of them, not both.");
    // core/alloc counts size in bits; the target's cost sits in the BOPs row.
    auto allowed = [&](CostMetric m, double ratio) {
        return ratio * referenceCost(m, request.reference) * (m == CostMetric::Size ? 8.0 : 1.0);
    };
    AllocationBudget budget;
    if (request.kind == BudgetKind::Cost) {
        if (request.metric == CostMetric::Size) budget.maxSize = allowed(CostMetric::Size, request.costRatio);
        else budget.maxBops = allowed(request.metric, request.costRatio);
    } else {
        budget.maxDegradation = request.maxDegradation;
        budget.minimise = kind(minimised);
    }
    if (request.alsoMaxSizeRatio) budget.maxSize = allowed(CostMetric::Size, *request.alsoMaxSizeRatio);
    if (request.alsoMaxBopsRatio) budget.maxBops = allowed(CostMetric::Bops, *request.alsoMaxBopsRatio);
    if (request.alsoMaxDegradation) budget.maxDegradation = *request.alsoMaxDegradation;
    AllocationResult r;
    int columns = 0;
    if (fresh) {
        AllocatorOptions options;
        options.progress = progress;
        Allocator allocator(pinned(request, target.get(), targetRow), options);
        r = allocator.solve(budget);
        columns = allocator.columns();
    } else {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!live_) live_ = std::make_unique<Live>();
        if (!live_->allocator) {
            live_->allocator = std::make_unique<Allocator>(pinned(request, target.get(), targetRow));
        } else if (live_->pins != request.pins || live_->excluded != request.excluded || live_->target != target ||
                   live_->targetCostRow != targetRow) {
            live_->allocator->setProblem(pinned(request, target.get(), targetRow));
        }
        live_->pins = request.pins;
        live_->excluded = request.excluded;
        live_->target = target;
        live_->targetCostRow = targetRow;
        live_->allocator->setTimeLimitMs(request.timeLimitMs);
        r = live_->allocator->solve(budget);
        columns = live_->allocator->columns();
    }
    BudgetAllocation out;
    if (r.optimal()) {
        out = evaluate(r.choice);
        out.proved = r.proved;
        if (!r.proved) {
            char text[160];
            std::snprintf(text, sizeof text, "best found in %.0f ms, not yet proved optimal", request.timeLimitMs);
            out.status = text;
        }
    } else if (!r.proved) {
        out.proved = false;
        out.status = r.message;
    } else {
        out.status = infeasibleMessage(request, r, target.get(), targetRow);
    }
    out.columns = columns;
    out.solverMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

std::vector<BudgetPoint> BudgetProblem::pareto(const BudgetRequest& request) const {
    const double reference = referenceCost(request.metric, request.reference) * (request.metric == CostMetric::Size ? 8.0 : 1.0);
    std::vector<BudgetPoint> points;
    const auto target = targetCosts();
    const bool targetRow = target && request.metric == CostMetric::Target;
    for (ParetoPoint& p : paretoFrontier(pinned(request, target.get(), targetRow), kind(request.metric)))
        points.push_back({p.cost / reference, p.degradation, std::move(p.choice)});
    return points;
}

}  // namespace ptq
