#include "test_item_models.h"

#include "bench/harness/synthetic.h"
#include "core/model/model_summary.h"
#include "ui/format.h"
#include "core/workflow/budget.h"
#include "ui/graph/graph_layout.h"
#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/models/layer_table_model.h"

#include <QtTest/QAbstractItemModelTester>
#include <QtCore/QSortFilterProxyModel>
#include <QtTest/QtTest>

#include <limits>

using namespace ptq::ui;

namespace {
ptq::LayerSummary layer(const std::string& name, const std::string& kind, int64_t params, int64_t macs) {
    ptq::LayerSummary l;
    l.name = name;
    l.kind = kind;
    l.weightShape = kind == "linear" ? std::vector<int64_t>{10, 64} : std::vector<int64_t>{16, 16, 3, 3};
    l.inputShape = {16, 28, 28};
    l.outputShape = kind == "linear" ? std::vector<int64_t>{10} : std::vector<int64_t>{16, 28, 28};
    l.params = params;
    l.macs = macs;
    if (kind != "linear") l.stride = {1, 1}, l.padding = {1, 1}, l.dilation = {1, 1};
    return l;
}

std::vector<ptq::LayerSummary> someLayers() {
    return {layer("conv1", "conv2d", 9, 900), layer("layer1.0.conv1", "conv2d", 2304, 1806336),
            layer("layer1.0.conv2", "conv2d", 10, 7840), layer("fc", "linear", 650, 640)};
}

/// A table over someLayers(): options w2a8, w4a8, w8a8; ΔL falls with bits.
ptq::SensitivityResult someTable() {
    ptq::SensitivityResult t;
    t.metric = "cross_entropy";
    t.options = {{2, 8}, {4, 8}, {8, 8}};
    for (const auto& l : someLayers()) {
        t.layers.push_back({l.name, l.kind, l.params, l.macs});
        const double scale = double(l.params % 7 + 1) / 100.0;
        t.cells.push_back({{scale, -scale * 40, scale / 10}, {scale / 8, -scale * 5, scale / 80}, {0, 0, 0}});
    }
    return t;
}
}  // namespace

void TestItemModels::layerTableModel() {
    LayerTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(LayerTableModel::FirstOptionColumn));

    model.setLayers(someLayers());
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.index(1, LayerTableModel::NameColumn).data().toString(), QStringLiteral("layer1.0.conv1"));
    QCOMPARE(model.index(1, LayerTableModel::ParamsColumn).data().toString(), QStringLiteral("2,304"));
    QCOMPARE(model.index(1, LayerTableModel::MacsColumn).data(LayerTableModel::SortRole).toLongLong(), 1806336LL);
    QCOMPARE(model.index(1, LayerTableModel::OpColumn).data().toString(), QStringLiteral("conv2d"));
    QCOMPARE(model.index(3, 0).data(LayerTableModel::OutputShapeRole).toString(), QStringLiteral("10"));
    QCOMPARE(model.index(3, 0).data(LayerTableModel::KindRole).toString(), QStringLiteral("linear"));
    QCOMPARE(model.index(0, LayerTableModel::ParamsColumn).data(Qt::TextAlignmentRole).toInt() & Qt::AlignRight,
             int(Qt::AlignRight));
    QVERIFY(model.index(1, 0).data(Qt::ToolTipRole).toString().contains(QString::fromUtf8("16×16×3×3")));
    QCOMPARE(model.rowOfLayer(QStringLiteral("fc")), 3);
    QCOMPARE(model.rowOfLayer(QStringLiteral("nope")), -1);
    QCOMPARE(model.headerData(LayerTableModel::MacsColumn, Qt::Horizontal).toString(), QStringLiteral("MACs"));

    // A table adds one column per option; an allocation fills Chosen and the degradation roles.
    model.setTable(someTable());
    QCOMPARE(model.optionCount(), 3);
    QCOMPARE(model.columnCount(), LayerTableModel::FirstOptionColumn + 3);
    QCOMPARE(model.headerData(LayerTableModel::FirstOptionColumn + 1, Qt::Horizontal).toString(),
             QString::fromUtf8("Δ W4/A8"));
    QVERIFY(!model.index(0, 0).data(LayerTableModel::DegradationRole).isValid());
    QVERIFY(!(model.flags(model.index(0, LayerTableModel::ChosenColumn)) & Qt::ItemIsEditable));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setAllocation({0, 1, 2, 1}, {{2, 2}});
    QCOMPARE(changed.count(), 4);
    QCOMPARE(model.index(1, LayerTableModel::ChosenColumn).data().toString(), QStringLiteral("w4a8"));
    QCOMPARE(model.index(1, 0).data(LayerTableModel::BitsLabelRole).toString(), QStringLiteral("W4/A8"));
    QCOMPARE(model.index(0, 0).data(LayerTableModel::DegradationRole).toDouble(), someTable().cells[0][0].deltaLoss);
    QVERIFY(model.isPinned(2));
    QCOMPARE(model.index(2, LayerTableModel::PinnedColumn).data(Qt::CheckStateRole).toInt(), int(Qt::Checked));
    QVERIFY(model.index(1, 0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("W2/A8")));
    changed.clear();
    model.setAllocation({0, 1, 2, 1}, {{2, 2}});
    QCOMPARE(changed.count(), 0);  // nothing changed, nothing signalled

    // Editing asks for a pin; the model itself waits for the session's answer.
    QSignalSpy chosen(&model, &LayerTableModel::optionChosen);
    QSignalSpy unpin(&model, &LayerTableModel::unpinRequested);
    QVERIFY(model.setData(model.index(0, LayerTableModel::ChosenColumn), QStringLiteral("w8a8")));
    QCOMPARE(chosen.count(), 1);
    QCOMPARE(chosen.at(0).at(0).toInt(), 0);
    QCOMPARE(chosen.at(0).at(1).toInt(), 2);
    QCOMPARE(model.chosenOption(0), 0);
    QVERIFY(!model.setData(model.index(0, LayerTableModel::ChosenColumn), QStringLiteral("w3a3")));
    QVERIFY(model.setData(model.index(2, LayerTableModel::PinnedColumn), int(Qt::Unchecked), Qt::CheckStateRole));
    QCOMPARE(unpin.count(), 1);

    model.setLayers({layer("only", "conv2d", 1, 1)});
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.columnCount(), int(LayerTableModel::FirstOptionColumn));
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestItemModels::layerTableSortsNumerically() {
    LayerTableModel model;
    model.setLayers(someLayers());
    QSortFilterProxyModel proxy;
    QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.setSourceModel(&model);
    proxy.setSortRole(LayerTableModel::SortRole);
    proxy.sort(LayerTableModel::ParamsColumn, Qt::AscendingOrder);
    // As text "10" < "2,304" < "650" < "9"; as numbers 9 < 10 < 650 < 2304.
    QStringList order;
    for (int row = 0; row < proxy.rowCount(); ++row)
        order << proxy.index(row, LayerTableModel::NameColumn).data().toString();
    QCOMPARE(order, (QStringList{"conv1", "layer1.0.conv2", "fc", "layer1.0.conv1"}));

    proxy.setFilterKeyColumn(-1);
    proxy.setFilterFixedString(QStringLiteral("linear"));
    QCOMPARE(proxy.rowCount(), 1);
}

void TestItemModels::jobListModel() {
    JobListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.headerData(JobListModel::ProgressColumn, Qt::Horizontal).toString(), QStringLiteral("Progress"));

    const int a = model.addJob(QStringLiteral("Import a"));
    const int b = model.addJob(QStringLiteral("Sensitivity b"));
    QVERIFY(a != b);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0, JobListModel::StateColumn).data().toString(), QStringLiteral("queued"));
    model.setState(a, JobListModel::State::Running);
    model.setProgress(a, 0.426);
    QCOMPARE(model.index(0, JobListModel::ProgressColumn).data().toString(), QStringLiteral("43 %"));
    model.setProgress(a, 7.0);
    QCOMPARE(model.index(0, JobListModel::ProgressColumn).data(JobListModel::SortRole).toDouble(), 1.0);
    model.setState(a, JobListModel::State::Finished);
    QCOMPARE(model.index(0, JobListModel::StateColumn).data().toString(), QStringLiteral("finished"));
    QVERIFY(model.index(0, JobListModel::ElapsedColumn).data().toString().endsWith(QStringLiteral(" s")));
    model.setState(12345, JobListModel::State::Failed);  // unknown ids are ignored

    model.clearFinished();
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, JobListModel::NameColumn).data(JobListModel::JobIdRole).toInt(), b);
    model.setState(b, JobListModel::State::Cancelled);
    model.clearFinished();
    QCOMPARE(model.rowCount(), 0);
}

void TestItemModels::budgetModel_data() {
    QTest::addColumn<double>("top1");
    QTest::addColumn<QString>("expectedTop1");
    QTest::newRow("card with accuracy") << 91.234 << QStringLiteral("91.23 %");
    QTest::newRow("card without accuracy") << -1.0 << QStringLiteral("unknown");
    QTest::newRow("no card") << -2.0 << QStringLiteral("unknown");
}

void TestItemModels::budgetModel() {
    QFETCH(double, top1);
    QFETCH(QString, expectedTop1);
    ptq::ModelSummary s;
    s.name = "m";
    s.layers = someLayers();
    s.quantizableParams = 9 + 2304 + 10 + 650;
    s.totalParams = s.quantizableParams + 64;
    s.totalMacs = 900 + 1806336 + 7840 + 640;
    if (top1 > -2.0) {
        s.card = ptq::ModelCard{};
        s.card->fp32Top1 = top1;
        s.card->testImages = 10000;
    }

    BudgetModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSummary(s);
    const auto value = [&](const char* key, int role) {
        const int row = model.rowOfKey(QLatin1String(key));
        return row < 0 ? QVariant() : model.index(row, BudgetModel::ValueColumn).data(role);
    };
    QCOMPARE(value("size_fp32", BudgetModel::ValueRole).toDouble(), s.quantizableParams * 4.0);
    QCOMPARE(value("size_int8", BudgetModel::ValueRole).toDouble(), s.quantizableParams * 1.0);
    QCOMPARE(value("size_int4", BudgetModel::ValueRole).toDouble(), s.quantizableParams * 0.5);
    QCOMPARE(value("macs", BudgetModel::ValueRole).toLongLong(), qlonglong(s.totalMacs));
    QCOMPARE(value("layers", Qt::DisplayRole).toString(), QStringLiteral("4"));
    QCOMPARE(value("fp32_top1", Qt::DisplayRole).toString(), expectedTop1);
    QCOMPARE(model.index(model.rowOfKey(QStringLiteral("size_int4")), BudgetModel::DetailColumn).data().toString(),
             QString::fromUtf8("8× smaller than FP32"));

    // The allocation rows change in place (dataChanged, no reset) as the sliders move.
    ptq::SensitivityResult table = someTable();
    table.fp32Top1 = 90.0;
    table.baseTop1 = 89.5;
    const ptq::BudgetProblem problem(table);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    model.setAllocation(problem.evaluate({1, 1, 1, 1}), problem, table);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(value("size", BudgetModel::ValueRole).toDouble(), (9 + 2304 + 10 + 650) * 4 / 8.0);  // every layer at 4 bits
    QCOMPARE(value("status", Qt::DisplayRole).toString(), QStringLiteral("optimal"));
    model.setStatus(QStringLiteral("No allocation fits."), false);
    QCOMPARE(value("status", Qt::DisplayRole).toString(), QStringLiteral("infeasible"));
    QVERIFY(value("size", BudgetModel::ValueRole).isValid());  // the previous figures stay

    // The summary leads with the top-1 predicted through the loss, then the prediction from
    // measured allocations; the per-layer sum follows.
    QCOMPARE(model.rowOfKey(QStringLiteral("top1_from_loss")), 0);
    QCOMPARE(model.rowOfKey(QStringLiteral("measured_fit")), 1);
    QCOMPARE(model.rowOfKey(QStringLiteral("delta_top1")), 2);
    QCOMPARE(model.index(0, BudgetModel::FigureColumn).data().toString(), QStringLiteral("Predicted vs FP32"));
    QVERIFY(model.index(2, BudgetModel::FigureColumn).data().toString().contains(QStringLiteral("summed")));
    model.setMeasuredFits({}, 93.0);
    QCOMPARE(value("measured_fit", Qt::DisplayRole).toString(), QStringLiteral("—"));
    ptq::CorrectedPrediction light, advanced;
    light.valid = advanced.valid = true;
    light.drop = 1.25;
    light.uncertainty = 0.2;
    light.anchors = 5;
    light.interpolated = true;
    advanced.drop = 0.5;
    advanced.uncertainty = 0.1;
    advanced.anchors = 2;
    model.setMeasuredFits({{"advanced", advanced}, {"light", light}}, 93.0);
    // The fit with more measurements leads; the other follows in the detail.
    QCOMPARE(value("measured_fit", Qt::DisplayRole).toString(), QStringLiteral("-1.25 ± 0.20 pt"));
    QCOMPARE(value("measured_fit", BudgetModel::ValueRole).toDouble(), -1.25);
    const QString detail = model.index(1, BudgetModel::DetailColumn).data().toString();
    QVERIFY2(detail.startsWith(QStringLiteral("light · 91.75 % · 5 measured, between them")), qPrintable(detail));
    QVERIFY2(detail.contains(QStringLiteral("advanced: -0.50 ± 0.10 pt")), qPrintable(detail));
    ptq::BudgetAllocation a = problem.evaluate({1, 1, 1, 1});
    a.deltaTop1FromLoss = -1.25;
    a.deltaTop1 = -2.0;
    model.setAllocation(a, problem, table);
    QCOMPARE(value("top1_from_loss", Qt::DisplayRole).toString(), QStringLiteral("-1.25 pt"));
    QCOMPARE(value("top1_from_loss", BudgetModel::ValueRole).toDouble(), -1.25);
    QCOMPARE(value("delta_top1", Qt::DisplayRole).toString(), QStringLiteral("-2.00 pt"));
    // A fit above FP32 is no predicted gain: shown as no drop.
    a.deltaTop1FromLoss = 0.4;
    model.setAllocation(a, problem, table);
    QCOMPARE(value("top1_from_loss", Qt::DisplayRole).toString(), QStringLiteral("0.00 pt"));
    QCOMPARE(value("top1_from_loss", BudgetModel::ValueRole).toDouble(), 0.0);
    QVERIFY(!value("top1_from_loss", Qt::DisplayRole).toString().contains(QLatin1Char('+')));
    // Without a fit (no cell moved the loss) it says it is not available.
    a.deltaTop1FromLoss = std::numeric_limits<double>::quiet_NaN();
    model.setAllocation(a, problem, table);
    QCOMPARE(value("top1_from_loss", Qt::DisplayRole).toString(), QStringLiteral("not available"));
    QVERIFY(!value("top1_from_loss", BudgetModel::ValueRole).isValid());
    // A per-layer sum above FP32 is said in words, never shown as a number to read as a prediction.
    a.deltaTop1 = 0.8;  // 89.5 + 0.8 > 90
    model.setAllocation(a, problem, table);
    QCOMPARE(value("delta_top1", Qt::DisplayRole).toString(), QStringLiteral("above FP32"));
    QCOMPARE(value("delta_top1", BudgetModel::ValueRole).toDouble(), 0.8);
    a.deltaTop1 = 0.2;  // above the base, under FP32
    model.setAllocation(a, problem, table);
    QCOMPARE(value("delta_top1", Qt::DisplayRole).toString(), QStringLiteral("above the base"));
    model.clear();
    QCOMPARE(model.rowCount(), model.rowOfKey(QStringLiteral("solver_ms")) + 1);
}

void TestItemModels::dotLayout() {
    // A diamond with a skip edge, as in a residual block: 0 -> 1 -> 2 -> 3, 0 -> 3.
    GraphLayoutInput in;
    in.nodeSizes = {{80, 24}, {178, 50}, {178, 50}, {80, 24}};
    in.edges = {{0, 1}, {1, 2}, {2, 3}, {0, 3}};
    const GraphLayout out = layoutWithDot(in);
    QCOMPARE(out.nodes.size(), size_t(4));
    QCOMPARE(out.edges.size(), in.edges.size());
    for (size_t i = 0; i < out.nodes.size(); ++i) {
        QCOMPARE(out.nodes[i].size(), in.nodeSizes[i]);
        QVERIFY(out.bounds.contains(out.nodes[i]));
        for (size_t j = i + 1; j < out.nodes.size(); ++j) QVERIFY(!out.nodes[i].intersects(out.nodes[j]));
    }
    for (size_t e = 0; e < in.edges.size(); ++e) {
        const auto [from, to] = in.edges[e];
        QVERIFY(out.nodes[size_t(to)].top() > out.nodes[size_t(from)].bottom());  // top to bottom
        QVERIFY(out.edges[e].spline.size() >= 4);
        QCOMPARE(out.edges[e].spline.size() % 3, size_t(1));  // cubic Bézier pieces
    }
    QVERIFY(layoutWithDot({}).nodes.empty());
}

void TestItemModels::budgetProblemMatchesBruteForce_data() {
    QTest::addColumn<double>("ratio");
    for (double r : {0.07, 0.1, 0.15, 0.2, 0.25}) QTest::newRow(qPrintable(QString::number(r))) << r;
}

void TestItemModels::budgetProblemMatchesBruteForce() {
    QFETCH(double, ratio);
    const ptq::SensitivityResult table = ptq::syntheticSensitivity(5, 7);
    const ptq::BudgetProblem problem(table);
    ptq::BudgetRequest request;
    request.costRatio = ratio;
    const ptq::BudgetAllocation a = problem.solve(request);
    // Every allocation of 5 layers x 9 options.
    const double budget = ratio * problem.referenceCost(ptq::CostMetric::Size, ptq::CostReference::Fp32);
    double best = 1e300;
    std::vector<int> choice(5, 0);
    for (int code = 0; code < 9 * 9 * 9 * 9 * 9; ++code) {
        for (int l = 0, c = code; l < 5; ++l, c /= 9) choice[size_t(l)] = c % 9;
        if (problem.costOf(ptq::CostMetric::Size, choice) <= budget) best = std::min(best, problem.deltaLossOf(choice));
    }
    if (best == 1e300) {
        QVERIFY(!a.feasible);
        return;
    }
    QVERIFY(a.feasible);
    QVERIFY(a.sizeBytes <= budget + 1e-9);
    // The cost grid rounds up: allow what one grid cell per layer can cost.
    QVERIFY2(a.deltaLoss <= best + 1e-9 || a.deltaLoss - best < 0.02 * best + 1e-6,
             qPrintable(QStringLiteral("%1 vs brute force %2").arg(a.deltaLoss).arg(best)));
    // The frontier is increasing in cost and decreasing in degradation.
    const auto frontier = problem.pareto(request);
    QVERIFY(frontier.size() > 2);
    for (size_t i = 1; i < frontier.size(); ++i) {
        QVERIFY(frontier[i].costRatio > frontier[i - 1].costRatio);
        QVERIFY(frontier[i].deltaLoss < frontier[i - 1].deltaLoss);
    }
}

void TestItemModels::formatting() {
    QCOMPARE(formatCount(272474), QStringLiteral("272,474"));
    QCOMPARE(formatMillions(272474), QStringLiteral("0.27 M"));
    QCOMPARE(formatMillions(40812544), QStringLiteral("40.8 M"));
    QCOMPARE(formatMillions(950), QStringLiteral("950"));
    QCOMPARE(formatBytes(1089896.0), QStringLiteral("1.04 MiB"));
    QCOMPARE(formatBytes(136237.0), QStringLiteral("133 KiB"));
    QCOMPARE(formatShape({}), QString::fromUtf8("—"));
    QCOMPARE(formatShape({64, 3, 3, 3}), QString::fromUtf8("64×3×3×3"));
}
