// The lp_solve allocator against brute force on random small problems, live re-solves against
// fresh solves, and the infeasible explanations.
#include "core/alloc/brute_force.h"
#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "bench/harness/synthetic.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace ptq;

namespace {

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)) + 1e-9; }

/// A budget around a random allocation's figures (scaled by 0.6..1.4, so some are infeasible).
AllocationBudget randomBudget(std::mt19937_64& rng, const AllocationProblem& p, int mode) {
    std::uniform_real_distribution<double> uni(0.6, 1.4);
    std::vector<int> choice(p.layerCount());
    for (size_t l = 0; l < p.layerCount(); ++l) {
        std::vector<int> allowed;
        for (size_t o = 0; o < p.optionCount(); ++o)
            if (p.allowed(l, o)) allowed.push_back(int(o));
        choice[l] = allowed[rng() % allowed.size()];
    }
    AllocationResult r;
    sumChoice(p, choice, r);
    AllocationBudget b;
    const double deg = r.degradation >= 0 ? r.degradation * uni(rng) : r.degradation / uni(rng);
    switch (mode) {
    case 0:  // minimise a cost under a degradation budget
        b.maxDegradation = deg;
        b.minimise = rng() % 2 ? CostKind::Size : CostKind::Bops;
        break;
    case 1:  // minimise degradation under a size or a BOPs budget
        if (rng() % 2) b.maxSize = r.size * uni(rng);
        else b.maxBops = r.bops * uni(rng);
        break;
    default:  // several budgets at once
        b.maxSize = r.size * uni(rng);
        if (rng() % 2) b.maxBops = r.bops * uni(rng);
        if (rng() % 2) b.maxDegradation = deg;
        break;
    }
    return b;
}

QString describe(const AllocationProblem& p, const AllocationBudget& b) {
    QString s = QString("%1 layers x %2 options;").arg(p.layerCount()).arg(p.optionCount());
    if (b.maxDegradation) s += QString(" D<=%1").arg(*b.maxDegradation, 0, 'g', 17);
    if (b.maxSize) s += QString(" S<=%1").arg(*b.maxSize, 0, 'g', 17);
    if (b.maxBops) s += QString(" B<=%1").arg(*b.maxBops, 0, 'g', 17);
    return s;
}

}  // namespace

class TestSolver : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void optimumEqualsBruteForce_data();
    void optimumEqualsBruteForce();
    void liveResolveEqualsFreshSolves();
    void roundedWarmStartStaysExact();
    void oneRowIsExactOnRealTables();
    void timeLimitGivesTheBestSoFar();
    void keepsTheModelAcrossBudgets();
    void infeasibleSaysWhichBudget();
    void jointlyInfeasibleBudgets();
    void locksAndExclusions();
    void badProblems();
};

void TestSolver::optimumEqualsBruteForce_data() {
    QTest::addColumn<int>("mode");
    QTest::addColumn<bool>("prune");
    QTest::addColumn<bool>("warmStart");
    QTest::newRow("min cost under degradation") << 0 << true << true;
    QTest::newRow("min degradation under a cost") << 1 << true << true;
    QTest::newRow("several budgets") << 2 << true << true;
    QTest::newRow("kept lp without warm start") << 1 << true << false;
    QTest::newRow("one-shot, several budgets") << 2 << false << false;
}

void TestSolver::optimumEqualsBruteForce() {
    QFETCH(int, mode);
    QFETCH(bool, prune);
    QFETCH(bool, warmStart);
    std::mt19937_64 rng(1000 + uint64_t(mode) + (prune ? 0 : 7) + (warmStart ? 0 : 13));
    int feasible = 0, infeasible = 0;
    for (int i = 0; i < 1000; ++i) {
        const AllocationProblem p = randomSmallProblem(rng, 8, 4);
        // Three budgets on one allocator: the first builds the lp, the others re-solve it.
        Allocator allocator(p, {prune, prune, warmStart});
        for (int k = 0; k < 3; ++k) {
            const AllocationBudget b = randomBudget(rng, p, mode);
            const AllocationResult expected = bruteForceSolve(p, b);
            const AllocationResult got = allocator.solve(b);
            const QString where = describe(p, b) + QString(" instance %1, budget %2").arg(i).arg(k);
            QVERIFY2(got.optimal() == expected.optimal(), qPrintable(where));
            if (!got.optimal()) {
                ++infeasible;
                QVERIFY(!got.message.empty());
                continue;
            }
            ++feasible;
            QVERIFY2(close(got.objective, expected.objective),
                     qPrintable(where + QString(" objective %1 vs brute force %2")
                                            .arg(got.objective, 0, 'g', 17)
                                            .arg(expected.objective, 0, 'g', 17)));
            // The answer respects locks, exclusions and every budget.
            for (size_t l = 0; l < p.layerCount(); ++l) QVERIFY(p.allowed(l, size_t(got.choice[l])));
            if (b.maxSize) QVERIFY(got.size <= *b.maxSize + budgetTolerance(*b.maxSize));
            if (b.maxBops) QVERIFY(got.bops <= *b.maxBops + budgetTolerance(*b.maxBops));
            if (b.maxDegradation) QVERIFY(got.degradation <= *b.maxDegradation + budgetTolerance(*b.maxDegradation));
        }
    }
    qInfo("%d feasible, %d infeasible", feasible, infeasible);
    QVERIFY(feasible > 1000);
    QVERIFY(infeasible > 50);
}

void TestSolver::liveResolveEqualsFreshSolves() {
    for (uint64_t seed : {1, 2, 3}) {
        const AllocationProblem p = syntheticProblem(30, 6, seed);
        Allocator live(p);
        const double lo = minimumAchievable(p, "size");
        double hi = 0;
        for (size_t l = 0; l < p.layerCount(); ++l) hi += *std::max_element(p.size[l].begin(), p.size[l].end());
        // A slider dragged up, then back down past the smallest size.
        for (int i = 0; i <= 80; ++i) {
            const double t = i <= 40 ? i / 40.0 : (80 - i) / 40.0 - 0.05;
            AllocationBudget b;
            b.maxSize = lo + (hi - lo) * t;
            const AllocationResult a = live.solve(b);
            const AllocationResult fresh = solveAllocation(p, b, {false, false, false});
            QCOMPARE(a.optimal(), fresh.optimal());
            if (a.optimal()) QVERIFY2(close(a.objective, fresh.objective), qPrintable(QString::number(i)));
        }
        // Degradation budgets on the same allocator (a new structure, then back).
        for (double d : {0.5, 0.1, 0.02, 1.0}) {
            AllocationBudget b;
            b.maxDegradation = d;
            const AllocationResult a = live.solve(b), fresh = solveAllocation(p, b, {false, false, false});
            QCOMPARE(a.optimal(), fresh.optimal());
            if (a.optimal()) QVERIFY(close(a.objective, fresh.objective));
        }
    }
}

// Problems big enough that the warm start's rounded dynamic programme runs (more than 64 open
// columns): whatever incumbent it gives, the answer is the plain lp's optimum. Size, BOPs and
// degradation budgets (one row each); some layers locked, one option excluded, and sizes on a
// coarse grid in one problem so that ties occur.
void TestSolver::roundedWarmStartStaysExact() {
    int rounded = 0, compared = 0;
    for (uint64_t seed : {11, 12, 13}) {
        AllocationProblem p = syntheticProblem(120, 9, seed);
        if (seed == 12) {
            p.pinned[3] = 0;
            p.pinned[50] = 8;
            p.excluded[4] = true;
        }
        if (seed == 13)
            for (auto& row : p.size)
                for (double& v : row) v = std::round(v / 4000.0) * 4000.0 + 4000.0;
        Allocator live(p);
        auto same = [&](const AllocationBudget& b) {
            const AllocationResult a = live.solve(b), fresh = solveAllocation(p, b, {false, false, false});
            QCOMPARE(a.optimal(), fresh.optimal());
            if (a.optimal()) QVERIFY2(close(a.objective, fresh.objective), qPrintable(describe(p, b)));
            ++compared;
        };
        const double lo = minimumAchievable(p, "size");
        double hi = 0;
        for (size_t l = 0; l < p.layerCount(); ++l) hi += *std::max_element(p.size[l].begin(), p.size[l].end());
        for (int i = 0; i <= 30; ++i) {
            AllocationBudget b;
            b.maxSize = lo + (hi - lo) * (i / 30.0) * (i / 30.0);
            same(b);
        }
        for (double ratio : {0.3, 0.5, 0.7}) {
            AllocationBudget b;
            b.maxBops = ratio * p.referenceBops / 4;
            same(b);
        }
        for (double d : {0.2, 1.0, 5.0}) {
            AllocationBudget b;
            b.maxDegradation = d;
            b.minimise = CostKind::Size;
            same(b);
        }
        rounded += live.roundedIncumbents();
    }
    qInfo("%d budgets compared; %d warm starts from the rounded dynamic programme", compared, rounded);
    QVERIFY(rounded > 20);  // the path under test ran
}

// The demo models' measured tables, repeated with jitter as a large model's would look (clamped
// zeros with tie-breaks, near-equal columns): the exact one-row programme answers the one-budget
// solves, and plain lp_solve from scratch agrees with every answer.
void TestSolver::oneRowIsExactOnRealTables() {
    int compared = 0, oneRow = 0;
    for (const char* name : {"resnet20_fmnist.json", "mobilenetv2_fmnist.json"}) {
        const SensitivityTable table = readSensitivityTable(std::string(PTQ_BENCH_TABLE_DIR "/") + name);
        for (int copies : {1, 2}) {
            const AllocationProblem p = jitteredTableProblem(table, copies, 7);
            Allocator live(p);
            const double lo = minimumAchievable(p, "size");
            double hi = 0;
            for (size_t l = 0; l < p.layerCount(); ++l) hi += *std::max_element(p.size[l].begin(), p.size[l].end());
            std::vector<AllocationBudget> budgets;
            for (int i = 0; i <= 12; ++i) {
                AllocationBudget b;
                b.maxSize = lo + (hi - lo) * (i / 12.0) * (i / 12.0);
                budgets.push_back(b);
            }
            for (double ratio : {0.03, 0.06, 0.12}) {
                AllocationBudget b;
                b.maxBops = ratio * p.referenceBops;
                budgets.push_back(b);
            }
            for (double d : {0.01, 0.05, 0.2}) {
                AllocationBudget b;
                b.maxDegradation = d;
                b.minimise = CostKind::Bops;
                budgets.push_back(b);
            }
            for (const AllocationBudget& b : budgets) {
                const AllocationResult a = live.solve(b), fresh = solveAllocation(p, b, {false, false, false});
                QVERIFY(a.proved && fresh.proved);
                QCOMPARE(a.optimal(), fresh.optimal());
                if (a.optimal()) QVERIFY2(close(a.objective, fresh.objective), qPrintable(describe(p, b)));
                ++compared;
            }
            oneRow += live.oneRowSolves();
        }
    }
    qInfo("%d budgets compared; %d answered by the one-row programme", compared, oneRow);
    QVERIFY(oneRow > compared / 2);  // the path under test ran
}

// Past the time limit a solve returns the best allocation it has, within every budget, marked
// unproved; the same budget without a limit proves an optimum at least as good.
void TestSolver::timeLimitGivesTheBestSoFar() {
    const SensitivityTable table = readSensitivityTable(PTQ_BENCH_TABLE_DIR "/resnet20_fmnist.json");
    const AllocationProblem p = jitteredTableProblem(table, 1, 3);
    AllocationBudget b;  // two budget rows: branch and bound, not the one-row programme
    b.maxSize = 0.15 * p.referenceSize;
    b.maxBops = 0.045 * p.referenceBops;
    AllocatorOptions limited;
    limited.timeLimitMs = 0.001;
    const AllocationResult quick = solveAllocation(p, b, limited);
    QVERIFY(!quick.proved);
    QVERIFY(quick.optimal());  // an allocation, though not proved
    QVERIFY(quick.size <= *b.maxSize * (1 + 1e-9) && quick.bops <= *b.maxBops * (1 + 1e-9));
    const AllocationResult full = solveAllocation(p, b);
    QVERIFY(full.proved && full.optimal());
    QVERIFY(full.objective <= quick.objective + 1e-12);
    // A cancel stops a solve without a limit.
    Progress cancelled;
    cancelled.cancelRequested = true;
    AllocatorOptions withCancel;
    withCancel.progress = &cancelled;
    b.maxBops = 0.04 * p.referenceBops;
    bool threw = false;
    try {
        Allocator a(p, withCancel);
        const AllocationResult r = a.solve(b);
        // warm start and fixing can settle it before branch and bound polls the cancel
        QVERIFY(r.proved);
    } catch (const Cancelled&) {
        threw = true;
    }
    qInfo("cancelled solve %s", threw ? "stopped" : "finished before branch and bound");
}

void TestSolver::keepsTheModelAcrossBudgets() {
    const AllocationProblem p = syntheticProblem(20, 6, 9);
    Allocator live(p);
    const double lo = minimumAchievable(p, "size");
    for (int i = 1; i <= 10; ++i) {
        AllocationBudget b;
        b.maxSize = lo * (1 + 0.1 * i);
        QVERIFY(live.solve(b).optimal());
    }
    QCOMPARE(live.modelsBuilt(), 1);
    QVERIFY(live.columns() > 0);
    QVERIFY(live.columns() < 20 * 6);  // pruned: same size, worse degradation options go
    AllocationBudget d;
    d.maxDegradation = 0.5;
    live.solve(d);
    QCOMPARE(live.modelsBuilt(), 2);
}

void TestSolver::infeasibleSaysWhichBudget() {
    const AllocationProblem p = syntheticProblem(10, 6, 4);
    const double minSize = minimumAchievable(p, "size");
    AllocationBudget b;
    b.maxSize = minSize * 0.9;
    AllocationResult r = solveAllocation(p, b);
    QVERIFY(!r.optimal());
    QCOMPARE(r.tightBudget, std::string("size"));
    QVERIFY(close(r.nearestFeasible, minSize));
    QVERIFY2(r.message.find("too tight") != std::string::npos, r.message.c_str());
    QVERIFY2(r.message.find("of FP32") != std::string::npos, r.message.c_str());
    // At exactly the smallest size it is feasible.
    b.maxSize = minSize;
    QVERIFY(solveAllocation(p, b).optimal());

    AllocationBudget d;
    d.maxDegradation = -1;
    r = solveAllocation(p, d);
    QVERIFY(!r.optimal());
    QCOMPARE(r.tightBudget, std::string("degradation"));
    QVERIFY(close(r.nearestFeasible, minimumAchievable(p, "degradation")));
}

void TestSolver::jointlyInfeasibleBudgets() {
    // Each budget alone is reachable; together they are not.
    AllocationProblem p = AllocationProblem::sized(2, 2);
    p.degradation = {{0, 1}, {0, 1}};
    p.size = {{8, 4}, {8, 4}};
    p.bops = {{64, 16}, {64, 16}};
    p.referenceSize = 64;
    p.referenceBops = 2048;
    AllocationBudget b;
    b.maxSize = 12;         // one layer at 4 bits at least: degradation >= 1
    b.maxDegradation = 0.5;
    AllocationResult r = solveAllocation(p, b);
    QVERIFY(!r.optimal());
    QCOMPARE(r.tightBudget, std::string("degradation"));
    QCOMPARE(r.nearestFeasible, 1.0);
    b.maxDegradation = 1.0;
    r = solveAllocation(p, b);
    QVERIFY(r.optimal());
    QCOMPARE(r.degradation, 1.0);
    QCOMPARE(r.size, 12.0);
}

void TestSolver::locksAndExclusions() {
    AllocationProblem p = syntheticProblem(8, 6, 5);
    p.pin(p.layers[0], "w8a8");
    p.exclude("w2a4");
    p.exclude("w2a8");
    AllocationBudget b;
    b.maxSize = minimumAchievable(p, "size") * 1.05;
    const AllocationResult r = solveAllocation(p, b);
    QVERIFY(r.optimal());
    QCOMPARE(p.options[size_t(r.choice[0])], std::string("w8a8"));
    for (size_t l = 1; l < p.layerCount(); ++l) QVERIFY(p.options[size_t(r.choice[l])].rfind("w2", 0) != 0);
    QVERIFY(close(r.objective, bruteForceSolve(p, b).objective));
}

void TestSolver::badProblems() {
    AllocationProblem p = syntheticProblem(3, 6, 1);
    QVERIFY_THROWS_EXCEPTION(Error, p.pin("nope", "w4a8"));
    QVERIFY_THROWS_EXCEPTION(Error, p.pin(p.layers[0], "w9a8"));
    QVERIFY_THROWS_EXCEPTION(Error, p.exclude("w3a3"));
    for (const auto& o : p.options) p.exclude(o);
    try {
        Allocator a(p);
        QFAIL("an all-excluded problem was accepted");
    } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find("has none left") != std::string::npos, e.what());
    }
    AllocationProblem q = syntheticProblem(3, 6, 1);
    q.degradation[1][2] = NAN;
    QVERIFY_THROWS_EXCEPTION(Error, Allocator{q});
    Allocator a(syntheticProblem(3, 6, 1));
    QVERIFY_THROWS_EXCEPTION(Error, a.solve(AllocationBudget{}));
}

QTEST_GUILESS_MAIN(TestSolver)
#include "test_solver.moc"
