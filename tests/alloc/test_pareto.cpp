// The exact Pareto frontier against brute force, and against the lp_solve allocator.
#include "core/alloc/brute_force.h"
#include "core/alloc/pareto.h"
#include "core/alloc/solver.h"
#include "bench/harness/synthetic.h"

#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace ptq;

namespace {

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), std::abs(b)) + 1e-9; }

}  // namespace

class TestPareto : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void equalsBruteForce_data();
    void equalsBruteForce();
    void pointsAreTheSolverOptima();
    void choicesReproduceThePoints();
};

void TestPareto::equalsBruteForce_data() {
    QTest::addColumn<int>("cost");
    QTest::newRow("size") << int(CostKind::Size);
    QTest::newRow("bops") << int(CostKind::Bops);
}

void TestPareto::equalsBruteForce() {
    QFETCH(int, cost);
    const CostKind kind = CostKind(cost);
    std::mt19937_64 rng(77 + uint64_t(cost));
    size_t points = 0;
    for (int i = 0; i < 1000; ++i) {
        const AllocationProblem p = randomSmallProblem(rng, 8, 4);
        const std::vector<ParetoPoint> got = paretoFrontier(p, kind);
        const std::vector<ParetoPoint> expected = bruteForceFrontier(p, kind);
        QVERIFY2(got.size() == expected.size(),
                 qPrintable(QString("instance %1: %2 points, brute force %3").arg(i).arg(got.size()).arg(expected.size())));
        for (size_t k = 0; k < got.size(); ++k) {
            QVERIFY(close(got[k].cost, expected[k].cost));
            QVERIFY(close(got[k].degradation, expected[k].degradation));
            for (size_t l = 0; l < p.layerCount(); ++l) QVERIFY(p.allowed(l, size_t(got[k].choice[l])));
        }
        points += got.size();
    }
    QVERIFY(points > 3000);
}

void TestPareto::pointsAreTheSolverOptima() {
    // Each frontier point is the least degradation under its own cost, and the least cost under
    // its own degradation: what the allocator answers at those budgets.
    const AllocationProblem p = syntheticProblem(12, 6, 3);
    const std::vector<ParetoPoint> frontier = paretoFrontier(p, CostKind::Size);
    QVERIFY(frontier.size() > 20);
    Allocator byCost(p), byDegradation(p);
    for (size_t k = 0; k < frontier.size(); k += 3) {
        AllocationBudget c;
        c.maxSize = frontier[k].cost;
        const AllocationResult a = byCost.solve(c);
        QVERIFY(a.optimal());
        QVERIFY2(close(a.degradation, frontier[k].degradation), qPrintable(QString::number(k)));
        AllocationBudget d;
        d.maxDegradation = frontier[k].degradation;
        const AllocationResult b = byDegradation.solve(d);
        QVERIFY(b.optimal());
        QVERIFY(close(b.size, frontier[k].cost));
    }
}

void TestPareto::choicesReproduceThePoints() {
    AllocationProblem p = syntheticProblem(30, 9, 8);
    p.pin(p.layers[3], "w8a8");
    p.exclude("w2a4");
    const std::vector<ParetoPoint> frontier = paretoFrontier(p, CostKind::Bops);
    for (size_t k = 0; k < frontier.size(); ++k) {
        AllocationResult sums;
        sumChoice(p, frontier[k].choice, sums);
        QCOMPARE(sums.bops, frontier[k].cost);
        QCOMPARE(sums.degradation, frontier[k].degradation);
        QCOMPARE(p.options[size_t(frontier[k].choice[3])], std::string("w8a8"));
        if (k) {
            QVERIFY(frontier[k].cost > frontier[k - 1].cost);
            QVERIFY(frontier[k].degradation < frontier[k - 1].degradation);
        }
    }
}

QTEST_GUILESS_MAIN(TestPareto)
#include "test_pareto.moc"
