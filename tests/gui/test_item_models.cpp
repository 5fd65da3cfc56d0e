#include "test_item_models.h"

#include "core/model/model_summary.h"
#include "ui/format.h"
#include "ui/graph/graph_layout.h"
#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/models/layer_table_model.h"

#include <QtTest/QAbstractItemModelTester>
#include <QtCore/QSortFilterProxyModel>
#include <QtTest/QtTest>

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
}  // namespace

void TestItemModels::layerTableModel() {
    LayerTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(LayerTableModel::ColumnCount));

    model.setLayers(someLayers());
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.index(1, LayerTableModel::NameColumn).data().toString(), QStringLiteral("layer1.0.conv1"));
    QCOMPARE(model.index(1, LayerTableModel::ParamsColumn).data().toString(), QStringLiteral("2,304"));
    QCOMPARE(model.index(1, LayerTableModel::MacsColumn).data(LayerTableModel::SortRole).toLongLong(), 1806336LL);
    QCOMPARE(model.index(1, LayerTableModel::WeightShapeColumn).data().toString(), QString::fromUtf8("16×16×3×3"));
    QCOMPARE(model.index(3, LayerTableModel::OutputShapeColumn).data().toString(), QStringLiteral("10"));
    QCOMPARE(model.index(3, 0).data(LayerTableModel::KindRole).toString(), QStringLiteral("linear"));
    QCOMPARE(model.index(0, LayerTableModel::ParamsColumn).data(Qt::TextAlignmentRole).toInt() & Qt::AlignRight,
             int(Qt::AlignRight));
    QVERIFY(model.index(0, 0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("stride")));
    QCOMPARE(model.rowOfLayer(QStringLiteral("fc")), 3);
    QCOMPARE(model.rowOfLayer(QStringLiteral("nope")), -1);
    QCOMPARE(model.headerData(LayerTableModel::MacsColumn, Qt::Horizontal).toString(), QStringLiteral("MACs"));

    model.setLayers({layer("only", "conv2d", 1, 1)});
    QCOMPARE(model.rowCount(), 1);
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
    model.clear();
    QCOMPARE(model.rowCount(), 0);
}

void TestItemModels::chainLayout_data() {
    QTest::addColumn<int>("count");
    QTest::addColumn<double>("aspect");
    QTest::addColumn<int>("expectedColumns");
    QTest::newRow("one node") << 1 << 1.0 << 1;
    QTest::newRow("tall view keeps one column") << 5 << 0.2 << 1;
    QTest::newRow("resnet20 in a tall dock") << 22 << 0.6 << 2;
    QTest::newRow("resnet20 in a wide dock") << 22 << 3.0 << 5;
    QTest::newRow("wide view, few nodes") << 3 << 10.0 << 3;
    QTest::newRow("empty") << 0 << 1.0 << 1;
}

void TestItemModels::chainLayout() {
    QFETCH(int, count);
    QFETCH(double, aspect);
    QFETCH(int, expectedColumns);
    GraphLayoutInput in;
    in.nodeCount = count;
    in.edges = chainEdges(count);
    in.targetAspect = aspect;
    QCOMPARE(chooseColumnCount(in), expectedColumns);

    const GraphLayout out = layoutChainInColumns(in);
    QCOMPARE(int(out.nodes.size()), count);
    QCOMPARE(out.edges.size(), in.edges.size());
    for (size_t i = 0; i < out.nodes.size(); ++i) {
        QVERIFY(out.bounds.contains(out.nodes[i]));
        for (size_t j = i + 1; j < out.nodes.size(); ++j) QVERIFY(!out.nodes[i].intersects(out.nodes[j]));
    }
    for (size_t e = 0; e < out.edges.size(); ++e) {
        const auto& [from, to] = in.edges[e];
        const auto& points = out.edges[e];
        QVERIFY(points.size() >= 2);
        QCOMPARE(points.front(), QPointF(out.nodes[size_t(from)].center().x(), out.nodes[size_t(from)].bottom()));
        QCOMPARE(points.back(), QPointF(out.nodes[size_t(to)].center().x(), out.nodes[size_t(to)].top()));
        // Orthogonal routing: every segment is horizontal or vertical.
        for (size_t p = 1; p < points.size(); ++p)
            QVERIFY(qFuzzyCompare(points[p].x(), points[p - 1].x()) || qFuzzyCompare(points[p].y(), points[p - 1].y()));
    }
    // Execution order reads top to bottom within a column.
    for (int i = 1; i < count; ++i)
        if (qFuzzyCompare(out.nodes[size_t(i)].left(), out.nodes[size_t(i - 1)].left()))
            QVERIFY(out.nodes[size_t(i)].top() > out.nodes[size_t(i - 1)].bottom());
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
