// The main window on the bundled demo model, offscreen: docks, the loaded content, selection
// between graph and table, the log dock fed from another thread, and a failed open that keeps
// the model shown. Also runs TestItemModels (one executable per unit).

#include "test_item_models.h"

#include "core/model/model_card.h"
#include "core/model/model_summary.h"
#include "core/util/log.h"
#include "core/util/runtime.h"
#include "ui/graph/layer_graph_scene.h"
#include "ui/graph/layer_graph_view.h"
#include "ui/graph/layer_node_item.h"
#include "ui/mainwindow/main_window.h"
#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/models/layer_table_model.h"
#include "ui/panels/graph_panel.h"
#include "ui/panels/layers_panel.h"
#include "ui/panels/log_panel.h"
#include "ui/panels/plots_panel.h"

#include <QtTest/QAbstractItemModelTester>
#include <QtCore/QSettings>
#include <QtCore/QSortFilterProxyModel>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QTableView>

#include <qcustomplot.h>

#include <memory>
#include <thread>

using namespace ptq::ui;

namespace {
constexpr int kLoadTimeoutMs = 120000;  // an import is ~1 s; a loaded CI machine is slower
}

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void docksExistAndAreVisible();
    void showsTheDemoModel();
    void filterNarrowsTheTable();
    void graphSelectionSelectsTableRow();
    void tableSelectionSelectsGraphBox();
    void plotClickSelectsLayer();
    void logDockReceivesLinesFromOtherThreads();
    void failedOpenShowsErrorAndKeepsModel_data();
    void failedOpenShowsErrorAndKeepsModel();
    void viewMenuTogglesDocks();
    void aboutNamesTheVersion();
    void logPanelKeepsTheLastLines();
    void dockLayoutPersists();
    void cleanupTestCase();

private:
    QMessageBox* waitForErrorDialog();

    std::unique_ptr<MainWindow> window_;
    std::unique_ptr<QAbstractItemModelTester> layerTester_, jobTester_;
    ptq::ModelSummary expected_;
    QString demoPath_;
};

void TestMainWindow::initTestCase() {
    demoPath_ = QString::fromStdString(ptq::demoModelPath());
    QVERIFY2(!demoPath_.isEmpty(), "the demo model resources/models/resnet20_fmnist.pt is missing");
    // What the window should show, straight from the core.
    expected_ = ptq::summarizeModel(demoPath_.toStdString());
    QVERIFY(!expected_.layers.empty());

    MainWindow::Options options;
    options.persistLayout = false;
    window_ = std::make_unique<MainWindow>(options);
    // Watch the live models through the whole session, load included.
    layerTester_ = std::make_unique<QAbstractItemModelTester>(
        window_->layerModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    jobTester_ = std::make_unique<QAbstractItemModelTester>(
        window_->jobModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));

    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    window_->openModel(demoPath_);
    QVERIFY(window_->isLoading());
    // The UI thread stays free while the import runs.
    auto* status = window_->findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY(status);
    QVERIFY2(status->text().startsWith(QStringLiteral("Loading resnet20_fmnist")), qPrintable(status->text()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kLoadTimeoutMs);
    QVERIFY(!window_->isLoading());
}

void TestMainWindow::docksExistAndAreVisible() {
    const QStringList names{"graphDock", "layersDock", "budgetDock", "plotsDock", "jobsDock", "logDock"};
    for (const QString& name : names) {
        auto* dock = window_->findChild<QDockWidget*>(name);
        QVERIFY2(dock, qPrintable(name));
        QVERIFY2(dock->isVisible(), qPrintable(name));
        QVERIFY2(!dock->isFloating(), qPrintable(name));
        QVERIFY2(dock->widget()->width() > 50 && dock->widget()->height() > 50, qPrintable(name));
    }
    QCOMPARE(window_->docks().size(), names.size());
}

void TestMainWindow::showsTheDemoModel() {
    QCOMPARE(window_->modelName(), QStringLiteral("resnet20_fmnist"));
    QCOMPARE(window_->windowTitle(), QString::fromUtf8("resnet20_fmnist — PTQ Studio"));

    // One row per conv/linear layer of the summary, in its order.
    LayerTableModel* layers = window_->layerModel();
    QCOMPARE(layers->rowCount(), int(expected_.layers.size()));
    for (int row = 0; row < layers->rowCount(); ++row) {
        const auto& l = expected_.layers[size_t(row)];
        QCOMPARE(layers->layerName(row), QString::fromStdString(l.name));
        QCOMPARE(layers->index(row, LayerTableModel::MacsColumn).data(LayerTableModel::SortRole).toLongLong(),
                 qlonglong(l.macs));
        const QString kind = layers->index(row, LayerTableModel::KindColumn).data().toString();
        QVERIFY2(kind.contains(QStringLiteral("conv")) || kind == QStringLiteral("linear"), qPrintable(kind));
    }
    QCOMPARE(window_->layersPanel()->tableView()->model()->rowCount(), layers->rowCount());
    QCOMPARE(window_->graphPanel()->scene()->nodeCount(), layers->rowCount());
    QCOMPARE(window_->plotsPanel()->barCount(), layers->rowCount());

    BudgetModel* budget = window_->budgetModel();
    const int layersRow = budget->rowOfKey(QStringLiteral("layers"));
    QVERIFY(layersRow >= 0);
    QCOMPARE(budget->index(layersRow, BudgetModel::ValueColumn).data(BudgetModel::ValueRole).toLongLong(),
             qlonglong(expected_.layers.size()));
    const int fp32Row = budget->rowOfKey(QStringLiteral("size_fp32"));
    QCOMPARE(budget->index(fp32Row, BudgetModel::ValueColumn).data(BudgetModel::ValueRole).toDouble(),
             double(expected_.quantizableParams) * 4.0);

    auto* status = window_->findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY2(status->text().startsWith(QStringLiteral("%1 layers · ").arg(expected_.layers.size())),
             qPrintable(status->text()));
    QVERIFY(status->text().endsWith(QStringLiteral(" MACs")));

    // The import is listed as a finished job.
    JobListModel* jobs = window_->jobModel();
    QVERIFY(jobs->rowCount() >= 1);
    QCOMPARE(jobs->index(jobs->rowCount() - 1, JobListModel::StateColumn).data().toString(),
             QStringLiteral("finished"));
}

void TestMainWindow::filterNarrowsTheTable() {
    LayersPanel* panel = window_->layersPanel();
    int linear = 0;
    for (const auto& l : expected_.layers) linear += l.kind == "linear" ? 1 : 0;
    QVERIFY(linear >= 1);
    QTest::keyClicks(panel->filterEdit(), QStringLiteral("LINEAR"));
    QCOMPARE(panel->proxyModel()->rowCount(), linear);
    panel->filterEdit()->clear();
    QCOMPARE(panel->proxyModel()->rowCount(), int(expected_.layers.size()));
}

void TestMainWindow::graphSelectionSelectsTableRow() {
    GraphPanel* graph = window_->graphPanel();
    LayerGraphView* view = graph->view();
    const int row = int(expected_.layers.size()) / 2;
    LayerNodeItem* node = graph->scene()->nodeForRow(row);
    QVERIFY(node);
    view->ensureVisible(node);
    const QPoint click = view->mapFromScene(node->sceneBoundingRect().center());
    QVERIFY(view->viewport()->rect().contains(click));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, click);

    QVERIFY(node->isSelected());
    QCOMPARE(window_->layersPanel()->selectedRows(), QList<int>{row});
    QCOMPARE(window_->plotsPanel()->selectedRows(), QList<int>{row});
    // The table's current row is the one clicked, whatever the sorting.
    QTableView* table = window_->layersPanel()->tableView();
    const QModelIndex current = window_->layersPanel()->proxyModel()->mapToSource(table->currentIndex());
    QCOMPARE(current.row(), row);
}

void TestMainWindow::tableSelectionSelectsGraphBox() {
    QTableView* table = window_->layersPanel()->tableView();
    // Sort by MACs, descending, so proxy rows and layer rows differ.
    table->sortByColumn(LayerTableModel::MacsColumn, Qt::DescendingOrder);
    const QModelIndex proxyIndex = table->model()->index(2, LayerTableModel::NameColumn);
    const int sourceRow = window_->layersPanel()->proxyModel()->mapToSource(proxyIndex).row();
    table->scrollTo(proxyIndex);
    const QRect cell = table->visualRect(proxyIndex);
    QVERIFY(cell.isValid());
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());

    QCOMPARE(window_->graphPanel()->scene()->selectedRows(), QList<int>{sourceRow});
    QVERIFY(window_->graphPanel()->scene()->nodeForRow(sourceRow)->isSelected());
    table->sortByColumn(LayerTableModel::IndexColumn, Qt::AscendingOrder);
}

void TestMainWindow::plotClickSelectsLayer() {
    PlotsPanel* plots = window_->plotsPanel();
    const int row = 1;
    QCustomPlot* plot = plots->plot();
    const QPoint click(int(plot->xAxis->coordToPixel(row)), plot->axisRect()->center().y());
    QTest::mouseClick(plot, Qt::LeftButton, {}, click);
    QCOMPARE(window_->layersPanel()->selectedRows(), QList<int>{row});
    QCOMPARE(window_->graphPanel()->scene()->selectedRows(), QList<int>{row});
    QCOMPARE(plots->selectedRows(), QList<int>{row});
}

void TestMainWindow::logDockReceivesLinesFromOtherThreads() {
    const QString marker = QStringLiteral("hello from a worker thread %1").arg(QRandomGenerator::global()->generate());
    std::thread worker([m = marker.toStdString()] { ptq::logger()->info("{}", m); });
    worker.join();
    QTRY_VERIFY_WITH_TIMEOUT(window_->logPanel()->text().contains(marker), 5000);
    // The load of the demo was logged too.
    QVERIFY(window_->logPanel()->text().contains(QStringLiteral("Loaded resnet20_fmnist")));
}

void TestMainWindow::failedOpenShowsErrorAndKeepsModel_data() {
    QTest::addColumn<QString>("fileName");
    QTest::addColumn<QByteArray>("contents");  // empty: the file does not exist
    QTest::newRow("missing file") << QStringLiteral("no_such_model.pt") << QByteArray();
    QTest::newRow("not a model") << QStringLiteral("garbage.pt") << QByteArray("this is not TorchScript\n");
}

void TestMainWindow::failedOpenShowsErrorAndKeepsModel() {
    QFETCH(QString, fileName);
    QFETCH(QByteArray, contents);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(fileName);
    if (!contents.isEmpty()) {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(contents);
    }
    const int rowsBefore = window_->layerModel()->rowCount();
    const QString titleBefore = window_->windowTitle();

    QSignalSpy failed(window_.get(), &MainWindow::modelLoadFailed);
    window_->openModel(path);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kLoadTimeoutMs);
    const QString message = failed.at(0).at(0).toString();
    QVERIFY(!message.isEmpty());
    QVERIFY2(failed.at(0).at(1).toBool(), "a bad model file is bad input");

    QMessageBox* box = waitForErrorDialog();
    QVERIFY(box);
    QCOMPARE(box->text(), message);
    box->close();  // deletes itself
    QTRY_VERIFY(!window_->findChild<QMessageBox*>(QStringLiteral("errorDialog")));

    // Nothing was lost: the demo model is still shown.
    QCOMPARE(window_->modelName(), QStringLiteral("resnet20_fmnist"));
    QCOMPARE(window_->windowTitle(), titleBefore);
    QCOMPARE(window_->layerModel()->rowCount(), rowsBefore);
    QCOMPARE(window_->graphPanel()->scene()->nodeCount(), rowsBefore);
    QTRY_VERIFY(window_->logPanel()->text().contains(message.left(40)));
    JobListModel* jobs = window_->jobModel();
    QCOMPARE(jobs->index(jobs->rowCount() - 1, JobListModel::StateColumn).data().toString(),
             QStringLiteral("failed"));
}

void TestMainWindow::viewMenuTogglesDocks() {
    QMenu* view = nullptr;
    for (QAction* menu : window_->menuBar()->actions())
        if (menu->text().remove(QLatin1Char('&')) == QStringLiteral("View")) view = menu->menu();
    QVERIFY(view);
    for (QDockWidget* dock : window_->docks()) {
        QAction* toggle = nullptr;
        for (QAction* a : view->actions())
            if (a == dock->toggleViewAction()) toggle = a;
        QVERIFY2(toggle, qPrintable(dock->objectName()));
        toggle->trigger();
        QVERIFY(!dock->isVisible());
        toggle->trigger();
        QVERIFY(dock->isVisible());
    }
}

void TestMainWindow::aboutNamesTheVersion() {
    window_->showAbout();
    QMessageBox* box = nullptr;
    QVERIFY(QTest::qWaitFor([&] {
        box = window_->findChild<QMessageBox*>(QStringLiteral("aboutDialog"));
        return box && box->isVisible();
    }, 5000));
    QVERIFY(box->text().contains(QStringLiteral(PTQ_VERSION)));
    box->close();
    QTRY_VERIFY(!window_->findChild<QMessageBox*>(QStringLiteral("aboutDialog")));
}

void TestMainWindow::logPanelKeepsTheLastLines() {
    LogPanel panel;
    const int total = LogPanel::kMaxLines + 250;
    for (int i = 0; i < total; ++i) panel.appendLine(QStringLiteral("line %1").arg(i), 2);
    const QStringList lines = panel.text().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), LogPanel::kMaxLines);
    QCOMPARE(lines.last(), QStringLiteral("line %1").arg(total - 1));
}

void TestMainWindow::dockLayoutPersists() {
    QSettings().clear();
    MainWindow::Options options;
    options.persistLayout = true;
    {
        MainWindow first(options);
        first.show();
        QVERIFY(QTest::qWaitForWindowExposed(&first));
        first.findChild<QDockWidget*>(QStringLiteral("budgetDock"))->close();
        first.close();  // saves geometry and dock state
    }
    {
        MainWindow second(options);
        second.show();
        QVERIFY(QTest::qWaitForWindowExposed(&second));
        QVERIFY(!second.findChild<QDockWidget*>(QStringLiteral("budgetDock"))->isVisible());
        QVERIFY(second.findChild<QDockWidget*>(QStringLiteral("graphDock"))->isVisible());
        second.resetLayout();
        QVERIFY(second.findChild<QDockWidget*>(QStringLiteral("budgetDock"))->isVisible());
    }
    QSettings().clear();
}

QMessageBox* TestMainWindow::waitForErrorDialog() {
    QMessageBox* box = nullptr;
    const bool shown = QTest::qWaitFor([&] {
        box = window_->findChild<QMessageBox*>(QStringLiteral("errorDialog"));
        return box && box->isVisible();
    }, 5000);
    return shown ? box : nullptr;
}

void TestMainWindow::cleanupTestCase() {
    layerTester_.reset();
    jobTester_.reset();
    window_.reset();
}

int main(int argc, char** argv) {
    ptq::initRuntime();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("PTQ Studio Tests"));
    QApplication::setApplicationName(QStringLiteral("test_gui"));
    QStandardPaths::setTestModeEnabled(true);
    QTEST_SET_MAIN_SOURCE_PATH
    int status = 0;
    {
        TestItemModels t;
        status |= QTest::qExec(&t, argc, argv);
    }
    {
        TestMainWindow t;
        status |= QTest::qExec(&t, argc, argv);
    }
    return status;
}

#include "test_gui.moc"
