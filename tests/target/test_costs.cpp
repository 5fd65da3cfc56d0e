// A hardware target applied to a sensitivity table (core/target/target_costs.h) and to the
// integer program (core/workflow/budget.h): the target's options restrict what the program
// may choose, and shift-npu's latency is its lookup table's, checked against numbers computed
// by hand from plugins/shift_npu/shift_npu_latency.json.
#include "core/workflow/budget.h"
#include "core/target/target_costs.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include <algorithm>

namespace {

const ptq::TargetRegistry& registry() {
    static const ptq::TargetRegistry r({QStringLiteral(PTQ_BUILD_PLUGIN_DIR)});
    return r;
}

ptq::SensitivityLayer layer(const char* name, const char* kind, int64_t params, int64_t macs) {
    ptq::SensitivityLayer l;
    l.name = name;
    l.kind = kind;
    l.params = params;
    l.macs = macs;
    return l;
}

/// Four layers whose MACs fall in different segments of the table, over the four options the
/// NPU runs plus two it does not (w2a8, w4x2a8).
ptq::SensitivityResult npuTable() {
    ptq::SensitivityResult t;
    t.metric = "cross_entropy";
    t.options = {{4, 4, 1}, {4, 8, 1}, {8, 4, 1}, {8, 8, 1}, {2, 8, 1}, {4, 8, 2}};
    t.layers = {layer("conv1", "conv2d", 144, 112896), layer("layer1.conv", "conv2d", 2304, 1806336),
                layer("big.conv", "conv2d", 36864, 5000000), layer("fc", "linear", 640, 640)};
    for (size_t l = 0; l < t.layers.size(); ++l) {
        std::vector<ptq::SensitivityCell> cells;
        for (const ptq::BitOption& o : t.options) {
            ptq::SensitivityCell c;
            // Fewer bits degrade more; w2a8 is by far the cheapest way to lose little.
            c.deltaLoss = (o.weightBits == 2 ? 0.001 : 0.02) * (8.0 / o.weightBitsTotal()) * (8.0 / o.activationBits) *
                          (o == ptq::BitOption{8, 8, 1} ? 0.0 : 1.0) * double(l + 1);
            c.localMse = c.deltaLoss;
            cells.push_back(c);
        }
        t.cells.push_back(std::move(cells));
    }
    return t;
}

}  // namespace

class TestTargetCosts : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void shiftNpuLatencyIsTheTables() {
        const ptq::TargetInfo& info = ptq::requireTarget(registry(), "shift-npu");
        const ptq::TargetCosts costs =
            ptq::targetCosts(info, *registry().target(info.name), npuTable(), "shift");
        QVERIFY(costs.granularityWarning.empty());
        QCOMPARE(costs.unit, std::string("latency_us"));
        QCOMPARE(costs.allowed, (std::vector<bool>{true, true, true, true, false, false}));
        // conv1, 112896 MACs, in [16384, 131072]; w8a4 curve 3 -> 13 there; conv overhead 1.2:
        //   1.2 + 3 + (112896 - 16384) / (131072 - 16384) x 10 = 1.2 + 3 + 8.415178571...
        QVERIFY(qFuzzyCompare(costs.cost[0][2], 12.615178571428571));
        // layer1.conv, 1806336 MACs, in [1048576, 4194304]; w4a8 curve 72 -> 280:
        //   1.2 + 72 + 757760 / 3145728 x 208 = 1.2 + 72 + 50.104166666...
        QVERIFY(qFuzzyCompare(costs.cost[1][1], 123.30416666666667));
        // big.conv, 5000000 MACs, past the last sample: the last segment of w4a4 (40 -> 150) extended:
        //   1.2 + 40 + (5000000 - 1048576) / 3145728 x 110 = 1.2 + 40 + 138.1736246...
        QVERIFY(qFuzzyCompare(costs.cost[2][0], 179.37362467447917));
        // fc, 640 MACs, in [0, 16384]; w8a8 curve 0 -> 4; linear overhead 0.6: 0.6 + 640 / 16384 x 4
        QVERIFY(qFuzzyCompare(costs.cost[3][3], 0.75625));
        // Reference: every layer at w8a8.
        double widest = 0;
        for (size_t l = 0; l < 4; ++l) widest += costs.cost[l][3];
        QVERIFY(qFuzzyCompare(costs.reference, widest));

        // The latency of an allocation is the sum of those lookups.
        ptq::BudgetProblem problem(npuTable());
        QVERIFY(problem.setTarget(&info, registry().target(info.name), "shift").empty());
        const ptq::BudgetAllocation a = problem.evaluate({2, 1, 0, 3});
        QCOMPARE(a.targetUnit, std::string("latency_us"));
        QVERIFY(qFuzzyCompare(a.targetCost, 12.615178571428571 + 123.30416666666667 + 179.37362467447917 + 0.75625));
        QVERIFY(qFuzzyCompare(problem.costOf(ptq::CostMetric::Target, {2, 1, 0, 3}), a.targetCost));
    }

    void targetOptionsRestrictTheProgram() {
        ptq::BudgetProblem problem(npuTable());
        ptq::BudgetRequest request;
        request.kind = ptq::BudgetKind::Cost;
        request.metric = ptq::CostMetric::Size;
        request.costRatio = 0.2;  // of FP32: room for 4-bit weights everywhere, or 2-bit on some
        const ptq::BudgetAllocation free = problem.solve(request);
        QVERIFY(free.feasible);
        auto usesUnsupported = [](const std::vector<int>& choice) {
            return std::any_of(choice.begin(), choice.end(), [](int o) { return o >= 4; });
        };
        QVERIFY2(usesUnsupported(free.choice), "without a target the cheap w2a8 should be chosen");

        const ptq::TargetInfo& info = ptq::requireTarget(registry(), "shift-npu");
        problem.setTarget(&info, registry().target(info.name), "shift");
        const ptq::BudgetAllocation npu = problem.solve(request);
        QVERIFY(npu.feasible);
        QVERIFY(!usesUnsupported(npu.choice));
        QVERIFY(npu.deltaLoss >= free.deltaLoss);
        for (const ptq::BudgetPoint& p : problem.pareto(request)) QVERIFY(!usesUnsupported(p.choice));

        // The target's cost as the budget: latency at most 60 % of every layer at w8a8.
        request.metric = ptq::CostMetric::Target;
        request.costRatio = 0.6;
        const ptq::BudgetAllocation fast = problem.solve(request);
        QVERIFY(fast.feasible);
        QVERIFY(!usesUnsupported(fast.choice));
        QVERIFY(fast.targetCost <= 0.6 * problem.referenceCost(ptq::CostMetric::Target, ptq::CostReference::Fp32) + 1e-9);
        // And the least latency is what the limits say: every layer at w4a4.
        const auto limits = problem.limits(ptq::CostMetric::Target, ptq::CostReference::Fp32);
        const double w4a4 = problem.costOf(ptq::CostMetric::Target, {0, 0, 0, 0});
        QVERIFY(qFuzzyCompare(limits.minRatio, w4a4 / problem.referenceCost(ptq::CostMetric::Target, ptq::CostReference::Fp32)));
        request.costRatio = limits.minRatio * 0.99;
        QVERIFY(!problem.solve(request).feasible);

        // No target: back to every option.
        problem.setTarget(nullptr, nullptr, {});
        request.metric = ptq::CostMetric::Size;
        request.costRatio = 0.2;
        QVERIFY(usesUnsupported(problem.solve(request).choice));
    }

    void granularityAndUnknownOptions() {
        const ptq::TargetInfo& info = ptq::requireTarget(registry(), "shift-npu");
        // A per-channel table: costs at the target's granularity, with a warning.
        const ptq::TargetCosts costs = ptq::targetCosts(info, *registry().target(info.name), npuTable(), "per-channel");
        QCOMPARE(costs.granularity, std::string("shift"));
        QVERIFY(costs.granularityWarning.find("per-channel") != std::string::npos);
        // A table of options the NPU does not run at all.
        ptq::SensitivityResult t = npuTable();
        t.options = {{2, 8, 1}, {2, 4, 1}, {4, 8, 2}, {8, 8, 2}, {2, 8, 2}, {2, 4, 2}};
        QVERIFY_THROWS_EXCEPTION(ptq::Error, ptq::targetCosts(info, *registry().target(info.name), t, "shift"));
        try {
            ptq::requireTarget(registry(), "tpu");
            QFAIL("an unknown target was accepted");
        } catch (const ptq::Error& e) {
            QVERIFY2(std::string(e.what()).find("known targets: generic-int, shift-npu") != std::string::npos, e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestTargetCosts)
#include "test_costs.moc"
