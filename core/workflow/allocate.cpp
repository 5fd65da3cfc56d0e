#include "core/workflow/allocate.h"

#include "core/target/target_costs.h"
#include "core/target/target_registry.h"
#include "core/util/error.h"

namespace ptq {

namespace {
int optionIndex(const SensitivityTable& table, const std::string& name) {
    for (size_t o = 0; o < table.result.options.size(); ++o)
        if (table.result.options[o].name() == name) return int(o);
    std::string known;
    for (const BitOption& o : table.result.options) known += (known.empty() ? "" : ", ") + o.name();
    throw invalidInput("The table has no option '" + name + "'; its options are " + known + ".");
}

int layerIndex(const SensitivityTable& table, const std::string& name) {
    for (size_t l = 0; l < table.result.layers.size(); ++l)
        if (table.result.layers[l].name == name) return int(l);
    throw invalidInput("The table has no layer '" + name + "' to lock; its layers are those of " +
                       (table.provenance.modelPath.empty() ? std::string("its model") : table.provenance.modelPath) +
                       ".");
}

void requireRatio(const std::optional<double>& r, const char* what) {
    if (r && !(*r > 0))
        throw invalidInput(std::string("The ") + what + " budget is a ratio above 0 (for example 0.16), not " +
                           std::to_string(*r) + ".");
}
}  // namespace

BudgetRequest budgetRequestFor(const BudgetProblem& problem, const SensitivityTable& table,
                               const AllocationSettings& s, bool needBudget) {
    requireRatio(s.maxSizeRatio, "size");
    requireRatio(s.maxBopsRatio, "BOPs");
    requireRatio(s.maxTargetCostRatio, "target cost");
    const bool targetRow = s.maxTargetCostRatio || (!s.maxSizeRatio && !s.maxBopsRatio && s.minimise == CostMetric::Target);
    if (targetRow && !s.target)
        throw invalidInput("A target cost budget, or minimising the target's cost, needs a hardware target.");
    if (targetRow && (s.maxBopsRatio || s.minimise == CostMetric::Bops))
        throw invalidInput("Give either a BOPs budget or a target cost budget, not both (the target's cost replaces "
                           "BOPs in the program).");
    BudgetRequest r;
    r.reference = s.reference;
    for (const std::string& name : s.excluded) r.excluded.insert(optionIndex(table, name));
    const std::shared_ptr<const TargetCosts> costs = problem.targetCosts();
    for (const auto& [layer, option] : s.locks) {
        const int o = optionIndex(table, option);
        if (costs && !costs->allowed[size_t(o)])
            throw invalidInput("The lock " + layer + "=" + option + " asks for an option target " + costs->target +
                               " does not run; it supports " + describeSupport(*s.targetInfo) + ".");
        r.pins[layerIndex(table, layer)] = o;
    }
    // The first cost limit given is the kind's own; the others hold besides.
    if (s.maxSizeRatio || s.maxBopsRatio || s.maxTargetCostRatio) {
        r.kind = BudgetKind::Cost;
        if (s.maxSizeRatio) {
            r.metric = CostMetric::Size;
            r.costRatio = *s.maxSizeRatio;
            if (s.maxBopsRatio) r.alsoMaxBopsRatio = s.maxBopsRatio;
            if (s.maxTargetCostRatio) r.alsoMaxBopsRatio = s.maxTargetCostRatio;  // the target's cost is the BOPs row
        } else if (s.maxBopsRatio) {
            r.metric = CostMetric::Bops;
            r.costRatio = *s.maxBopsRatio;
        } else {
            r.metric = CostMetric::Target;
            r.costRatio = *s.maxTargetCostRatio;
        }
        if (s.maxSizeRatio && s.maxTargetCostRatio) {
            // Both rows budgeted: the target's cost is the row the solver counts, size beside it.
            r.metric = CostMetric::Target;
            r.costRatio = *s.maxTargetCostRatio;
            r.alsoMaxBopsRatio.reset();
            r.alsoMaxSizeRatio = s.maxSizeRatio;
        }
        r.alsoMaxDegradation = s.maxDegradation;
    } else if (s.maxDegradation) {
        r.kind = BudgetKind::Degradation;
        r.maxDegradation = *s.maxDegradation;
        r.metric = s.minimise;
        r.minimise = s.minimise;
    } else if (needBudget) {
        throw invalidInput("An allocation needs a budget: a largest degradation, or a size, BOPs or target cost ratio.");
    }
    return r;
}

AllocationFile allocationFileFor(const SensitivityTable& table, const std::string& tablePath,
                                 const BudgetProblem& problem, const BudgetRequest& request,
                                 const BudgetAllocation& allocation) {
    AllocationFile a;
    a.model = table.provenance.modelPath;
    a.modelSha256 = table.provenance.modelSha256;
    a.tablePath = tablePath;
    a.table = table.provenance;
    a.metric = table.result.metric;
    a.measure = degradationMeasureName(problem.measure());
    a.reference = costReferenceName(request.reference);
    a.fp32Top1 = table.result.fp32Top1;
    a.baseTop1 = table.result.baseTop1;
    a.top1PerLoss = problem.top1PerLoss();
    a.fp32Loss = table.result.fp32Loss;
    a.baseLoss = table.result.baseLoss;
    a.fp32SizeBits = problem.referenceCost(CostMetric::Size, CostReference::Fp32) * 8.0;
    a.fp32Bops = problem.referenceCost(CostMetric::Bops, CostReference::Fp32);
    a.solveMs = allocation.solverMs;
    for (const auto& [layer, option] : request.pins)
        a.locks.emplace_back(table.result.layers[size_t(layer)].name, table.result.options[size_t(option)].name());
    for (int o : request.excluded) a.excluded.push_back(table.result.options[size_t(o)].name());
    const std::shared_ptr<const TargetCosts> costs = problem.targetCosts();
    for (size_t l = 0; l < allocation.choice.size(); ++l) {
        const int o = allocation.choice[l];
        AllocatedLayer layer;
        layer.name = table.result.layers[l].name;
        layer.option = table.result.options[size_t(o)];
        layer.degradation = problem.degradation(int(l), o);
        layer.deltaTop1 = table.result.cells[l][size_t(o)].deltaTop1;
        layer.sizeBits = problem.layerCost(CostMetric::Size, int(l), o) * 8.0;
        layer.bops = problem.layerCost(CostMetric::Bops, int(l), o);
        if (costs) layer.targetCost = costs->cost[l][size_t(o)];
        a.degradation += layer.degradation;
        a.sizeBits += layer.sizeBits;
        a.bops += layer.bops;
        a.deltaTop1 += layer.deltaTop1;
        a.targetCost += layer.targetCost;
        a.layers.push_back(layer);
    }
    if (costs) {
        a.target = costs->target;
        a.targetUnit = costs->unit;
        a.targetReference = costs->reference;
    }
    return a;
}

std::unique_ptr<BudgetProblem> problemFor(const SensitivityTable& table, const AllocationSettings& settings) {
    auto problem = std::make_unique<BudgetProblem>(table.result, settings.measure);
    if (settings.target && settings.targetInfo) {
        const std::string warning = problem->setTarget(settings.targetInfo, settings.target, table.provenance.granularity);
        if (!warning.empty()) throw invalidInput(warning);
    }
    return problem;
}

AllocationOutcome allocateTable(const SensitivityTable& table, const std::string& tablePath,
                                const AllocationSettings& settings) {
    const std::unique_ptr<BudgetProblem> owned = problemFor(table, settings);
    const BudgetProblem& problem = *owned;
    const BudgetRequest request = budgetRequestFor(problem, table, settings);
    AllocationOutcome out;
    out.allocation = problem.solve(request);
    if (!out.allocation.feasible) throw invalidInput(out.allocation.status);
    out.file = allocationFileFor(table, tablePath, problem, request, out.allocation);
    out.file.maxDegradation = settings.maxDegradation;
    out.file.maxSizeRatio = settings.maxSizeRatio;
    out.file.maxBopsRatio = settings.maxBopsRatio;
    out.file.maxCostRatio = settings.maxTargetCostRatio;
    return out;
}

}  // namespace ptq
