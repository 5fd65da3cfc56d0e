#include "core/session/allocation.h"

#include "core/alloc/pareto.h"
#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace ptq {

const char* costMetricName(CostMetric m) {
    return m == CostMetric::Size ? "size" : m == CostMetric::Bops ? "bops" : "target";
}
const char* costReferenceName(CostReference r) { return r == CostReference::Fp32 ? "fp32" : "int8"; }

struct BudgetProblem::Live {
    std::map<int, int> pins;
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

BudgetProblem::BudgetProblem(const SensitivityResult& table)
    : options_(table.options), base_(problemFromTable(asTable(table), DegradationMeasure::DeltaLoss)),
      layers_(table.layers) {
    for (const auto& cells : table.cells) {
        std::vector<double> top1;
        for (const SensitivityCell& c : cells) top1.push_back(c.deltaTop1);
        top1_.push_back(std::move(top1));
    }
    top1PerLoss_ = top1PerLoss(table);
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

AllocationProblem BudgetProblem::pinned(const std::map<int, int>& pins, const TargetCosts* target,
                                        CostMetric metric) const {
    AllocationProblem p = base_;
    if (target) {
        for (int o = 0; o < optionCount(); ++o) p.excluded[size_t(o)] = !target->allowed[size_t(o)];
        if (metric == CostMetric::Target) {
            p.bops = target->cost;
            p.referenceBops = target->reference;
        }
    }
    for (const auto& [layer, option] : pins) {
        if (layer < 0 || layer >= layerCount() || option < 0 || option >= optionCount())
            throw invalidInput("A pinned layer or option (" + std::to_string(layer) + ", " + std::to_string(option) +
                               ") is outside the sensitivity table.");
        // The target decides: a pin on an option it does not run waits until it is deselected.
        if (!target || target->allowed[size_t(option)]) p.pinned[size_t(layer)] = option;
    }
    return p;
}

BudgetAllocation BudgetProblem::solve(const BudgetRequest& request) const {
    const auto start = std::chrono::steady_clock::now();
    AllocationBudget budget;
    const double reference = referenceCost(request.metric, request.reference);
    const auto target = targetCosts();
    const bool targetRow = target && request.metric == CostMetric::Target;
    if (request.kind == BudgetKind::Cost) {
        // core/alloc counts size in bits.
        const double allowed = request.costRatio * reference * (request.metric == CostMetric::Size ? 8.0 : 1.0);
        if (request.metric == CostMetric::Size) budget.maxSize = allowed;
        else budget.maxBops = allowed;
    } else {
        budget.maxDegradation = request.maxDegradation;
        budget.minimise = kind(request.metric);
    }
    AllocationResult r;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!live_) live_ = std::make_unique<Live>();
        if (!live_->allocator) {
            live_->allocator = std::make_unique<Allocator>(pinned(request.pins, target.get(), request.metric));
        } else if (live_->pins != request.pins || live_->target != target || live_->targetCostRow != targetRow) {
            live_->allocator->setProblem(pinned(request.pins, target.get(), request.metric));
        }
        live_->pins = request.pins;
        live_->target = target;
        live_->targetCostRow = targetRow;
        r = live_->allocator->solve(budget);
    }
    BudgetAllocation out;
    if (r.optimal()) {
        out = evaluate(r.choice);
    } else if (request.kind == BudgetKind::Cost) {
        char text[200];
        const std::string metricName = targetRow ? target->unit : costMetricName(request.metric);
        std::snprintf(text, sizeof text, "No allocation fits %.1f %% of the %s %s; the smallest possible with these pins is %.1f %%.",
                      request.costRatio * 100,
                      targetRow ? ("widest " + target->target).c_str()
                                : request.reference == CostReference::Fp32 ? "FP32" : "INT8",
                      metricName.c_str(),
                      r.nearestFeasible / (reference * (request.metric == CostMetric::Size ? 8.0 : 1.0)) * 100);
        out.status = text;
    } else {
        char text[200];
        std::snprintf(text, sizeof text,
                      "No allocation keeps the predicted degradation within %.4g; the least possible with these pins is %.4g.",
                      request.maxDegradation, r.nearestFeasible);
        out.status = text;
    }
    out.solverMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

std::vector<BudgetPoint> BudgetProblem::pareto(const BudgetRequest& request) const {
    const double reference = referenceCost(request.metric, request.reference) * (request.metric == CostMetric::Size ? 8.0 : 1.0);
    std::vector<BudgetPoint> points;
    const auto target = targetCosts();
    for (ParetoPoint& p : paretoFrontier(pinned(request.pins, target.get(), request.metric), kind(request.metric)))
        points.push_back({p.cost / reference, p.degradation, std::move(p.choice)});
    return points;
}

SensitivityResult syntheticSensitivity(int layers, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    SensitivityResult r;
    r.metric = "cross_entropy";
    r.options = BitOption::defaults();
    r.options.push_back({4, 8, 2});
    r.options.push_back({2, 8, 2});
    r.options.push_back({2, 4, 2});
    int64_t channels = 16;
    for (int l = 0; l < layers; ++l) {
        if (l > 0 && l % (layers / 4 + 1) == 0) channels *= 2;
        const int64_t spatial = std::max<int64_t>(1, 3136 >> (2 * (l * 4 / std::max(1, layers))));
        SensitivityLayer layer;
        layer.name = "layer" + std::to_string(l) + ".conv";
        layer.kind = "conv2d";
        layer.params = channels * channels * 9;
        layer.macs = layer.params * spatial;
        r.layers.push_back(layer);
        const double scale = 0.002 + 0.02 * unit(rng) * unit(rng);
        std::vector<SensitivityCell> cells;
        for (const BitOption& o : r.options) {
            const double w = std::pow(2.0, -double(o.weightBitsTotal())) * 256.0;
            const double a = std::pow(2.0, -double(o.activationBits)) * 256.0;
            SensitivityCell c;
            c.deltaLoss = scale * (w + 0.5 * a) / 3.0 * (0.8 + 0.4 * unit(rng));
            if (o.weightBitsTotal() >= 8 && o.activationBits >= 8) c.deltaLoss = 0;
            c.deltaTop1 = -40.0 * c.deltaLoss;
            c.localMse = c.deltaLoss * 0.1;
            cells.push_back(c);
        }
        r.cells.push_back(std::move(cells));
    }
    return r;
}

}  // namespace ptq
