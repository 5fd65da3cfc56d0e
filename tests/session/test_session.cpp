// core/session: what the GUI's session is made of, tested without a display.

#include "bench/harness/synthetic.h"
#include "core/workflow/allocate.h"
#include "core/alloc/allocation.h"
#include "core/alloc/sensitivity_table.h"
#include "core/graph/graph.h"
#include "core/model/model_card.h"
#include "core/workflow/budget.h"
#include "core/io/sensitivity_cache.h"
#include "core/session/session.h"
#include "core/util/runtime.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <limits>

class TestSession : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void drawableGraphHasEveryNode();
    void cacheRoundTrip();
    void cacheIgnoresOtherMeasurementsAndDamage();
    void budgetRespectsCostAndPins_data();
    void budgetRespectsCostAndPins();
    void degradationBudgetMinimisesCost();
    void top1ThroughLossAsTheAllocationFile();
};

void TestSession::drawableGraphHasEveryNode() {
    const auto model = ptq::openModel({ptq::demoModelPath(), {}});
    const ptq::Graph& graph = model->graph();
    const ptq::DrawableGraph& d = model->drawing();
    QCOMPARE(d.nodes.size(), graph.nodes().size() + 1);
    QCOMPARE(d.nodes[0].name, std::string("input"));
    int layers = 0;
    for (const auto& n : d.nodes)
        if (n.layer >= 0) {
            QCOMPARE(n.name, model->summary().layers[size_t(n.layer)].name);
            QCOMPARE(n.macs, model->summary().layers[size_t(n.layer)].macs);
            ++layers;
        }
    QCOMPARE(layers, int(model->summary().layers.size()));
    for (const auto& [from, to] : d.edges) {
        QVERIFY(from >= 0 && from < to && to < int(d.nodes.size()));  // topological order
    }
    // Every node but the input has an incoming edge; residual adds have two.
    std::vector<int> in(d.nodes.size(), 0);
    for (const auto& e : d.edges) ++in[size_t(e.second)];
    for (size_t i = 1; i < d.nodes.size(); ++i) QVERIFY2(in[i] >= 1, d.nodes[i].name.c_str());
    int adds = 0;
    for (size_t i = 0; i < d.nodes.size(); ++i)
        if (d.nodes[i].op == "add") {
            QCOMPARE(in[i], 2);
            ++adds;
        }
    QVERIFY(adds >= 9);
}

void TestSession::cacheRoundTrip() {
    QTemporaryDir dir;
    const ptq::SensitivityCache cache(dir.path().toStdString());
    const ptq::SensitivityResult table = ptq::syntheticSensitivity(6, 3);
    ptq::SensitivityRequest request;
    request.options = table.options;
    const ptq::TableProvenance p = ptq::provenanceFor(ptq::demoModelPath(), "fmnist:train:64", request, 0);
    QVERIFY(!cache.load(p));
    QVERIFY(cache.store(p, table));
    const auto back = cache.load(p);
    QVERIFY(back);
    QCOMPARE(back->layers.size(), table.layers.size());
    QCOMPARE(back->options.size(), table.options.size());
    for (size_t l = 0; l < table.layers.size(); ++l) {
        QCOMPARE(back->layers[l].name, table.layers[l].name);
        for (size_t o = 0; o < table.options.size(); ++o) QCOMPARE(back->cells[l][o].deltaLoss, table.cells[l][o].deltaLoss);
    }
}

void TestSession::cacheIgnoresOtherMeasurementsAndDamage() {
    QTemporaryDir dir;
    const ptq::SensitivityCache cache(dir.path().toStdString());
    const ptq::SensitivityResult table = ptq::syntheticSensitivity(3, 1);
    ptq::SensitivityRequest request;
    request.options = table.options;
    const ptq::TableProvenance p = ptq::provenanceFor(ptq::demoModelPath(), "fmnist:train:64", request, 0);
    QVERIFY(cache.store(p, table));
    ptq::TableProvenance other = p;
    other.data = "fmnist:train:128";
    QVERIFY(!cache.load(other));
    other = p;
    other.batch = 32;
    QVERIFY(!cache.load(other));
    // A damaged entry reads as absent, never as an error.
    const QStringList files = QDir(dir.path()).entryList({QStringLiteral("*.json")});
    QCOMPARE(files.size(), 1);
    QFile file(QDir(dir.path()).filePath(files[0]));
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("{ not json");
    file.close();
    QVERIFY(!cache.load(p));
}

void TestSession::budgetRespectsCostAndPins_data() {
    QTest::addColumn<int>("metric");
    QTest::addColumn<double>("ratio");
    QTest::addColumn<bool>("pin");
    for (int m : {0, 1})
        for (double r : {0.08, 0.12, 0.2})
            for (bool pin : {false, true})
                QTest::addRow("%s %.2f%s", m == 0 ? "size" : "bops", r, pin ? " pinned" : "") << m << r << pin;
}

void TestSession::budgetRespectsCostAndPins() {
    QFETCH(int, metric);
    QFETCH(double, ratio);
    QFETCH(bool, pin);
    const ptq::BudgetProblem problem(ptq::syntheticSensitivity(12, 5));
    ptq::BudgetRequest request;
    request.metric = ptq::CostMetric(metric);
    request.costRatio = ratio;
    if (pin) request.pins = {{0, 2}, {5, 0}};
    const ptq::BudgetAllocation a = problem.solve(request);
    const auto limits = problem.limits(request.metric, request.reference);
    if (!a.feasible) {
        QVERIFY(!a.status.empty());
        QVERIFY(pin || ratio < limits.minRatio);
        return;
    }
    const double cost = problem.costOf(request.metric, a.choice);
    QVERIFY(cost <= ratio * problem.referenceCost(request.metric, request.reference) * (1 + 1e-9));
    for (const auto& [layer, option] : request.pins) QCOMPARE(a.choice[size_t(layer)], option);
    // No frontier point within the budget is better: the solve is optimal.
    for (const ptq::BudgetPoint& p : problem.pareto(request))
        if (p.costRatio <= ratio * (1 - 1e-9)) QVERIFY(a.deltaLoss <= p.deltaLoss + 1e-9);
}

void TestSession::degradationBudgetMinimisesCost() {
    const ptq::BudgetProblem problem(ptq::syntheticSensitivity(12, 5));
    ptq::BudgetRequest request;
    request.kind = ptq::BudgetKind::Degradation;
    const auto frontier = problem.pareto(request);
    QVERIFY(frontier.size() > 3);
    const ptq::BudgetPoint& mid = frontier[frontier.size() / 2];
    request.maxDegradation = mid.deltaLoss;
    const ptq::BudgetAllocation a = problem.solve(request);
    QVERIFY(a.feasible);
    QVERIFY(a.deltaLoss <= mid.deltaLoss + 1e-9);
    QVERIFY(problem.costOf(ptq::CostMetric::Size, a.choice) <=
            mid.costRatio * problem.referenceCost(ptq::CostMetric::Size, ptq::CostReference::Fp32) * (1 + 1e-9));
    request.maxDegradation = -1;
    QVERIFY(!problem.solve(request).feasible);
}

void TestSession::top1ThroughLossAsTheAllocationFile() {
    // The budget panel's top-1 change through the loss is the figure ptq allocate writes for the
    // same choice (AllocationFile::predictedTop1FromLoss, less FP32's), so GUI and command line agree.
    ptq::SensitivityResult table = ptq::syntheticSensitivity(12, 5);
    table.fp32Top1 = 93.7;
    table.fp32Loss = 0.20;
    table.baseLoss = 0.23;
    table.cells[3][4].deltaTop1 += 0.5;  // off the line, so the fit is not the generator's -40
    const ptq::BudgetProblem problem(table);
    ptq::SensitivityTable file;
    file.result = table;
    double previous = std::numeric_limits<double>::infinity();
    for (double ratio : {0.25, 0.12, 0.08}) {
        ptq::BudgetRequest request;
        request.costRatio = ratio;
        const ptq::BudgetAllocation a = problem.solve(request);
        QVERIFY(a.feasible);
        const double expected = ptq::allocationFileFor(file, {}, problem, request, a).predictedTop1FromLoss() - 93.7;
        QVERIFY(std::isfinite(expected));
        QVERIFY2(std::abs(a.deltaTop1FromLoss - expected) < 1e-9,
                 qPrintable(QStringLiteral("%1 vs %2").arg(a.deltaTop1FromLoss, 0, 'g', 12).arg(expected, 0, 'g', 12)));
        QVERIFY(a.deltaTop1FromLoss < 0);     // the base model's loss is already above FP32's
        QVERIFY(a.deltaTop1FromLoss <= previous);  // a tighter budget predicts no better
        previous = a.deltaTop1FromLoss;
    }
    // A KL table (unlabelled data) predicts agreement with the FP model the same way, as the
    // allocation file does; a table where no cell moved the loss has no fit.
    table.metric = "kl";
    table.fp32Loss = 0;
    file.result = table;
    const ptq::BudgetProblem kl(table);
    const ptq::BudgetAllocation solved = kl.solve(ptq::BudgetRequest{});
    QVERIFY(std::abs(solved.deltaTop1FromLoss -
                     (ptq::allocationFileFor(file, {}, kl, ptq::BudgetRequest{}, solved).predictedTop1FromLoss() - 93.7)) <
            1e-9);
    for (auto& row : table.cells)
        for (ptq::SensitivityCell& c : row) c.deltaLoss = 0;
    QVERIFY(std::isnan(ptq::BudgetProblem(table).solve(ptq::BudgetRequest{}).deltaTop1FromLoss));
}

int main(int argc, char** argv) {
    ptq::initRuntime();
    QCoreApplication app(argc, argv);
    TestSession t;
    return QTest::qExec(&t, argc, argv);
}

#include "test_session.moc"
