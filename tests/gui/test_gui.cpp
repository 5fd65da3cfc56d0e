// The main window on the bundled demo model, offscreen: docks, the loaded content (one graph
// item per IR node), the sensitivity table and first allocation, budget sliders that change the
// allocation and the summary, pins with undo, the Pareto plot, selection between graph, table
// and plots, the sensitivity cache, the log dock fed from another thread, and a failed open that
// keeps the model shown (the budget's tests are in test_gui_budget.cpp). Also runs TestItemModels (one executable per unit). No timed
// assertions: waits have generous timeouts only so that a hang fails instead of blocking.

#include "test_gui.h"
#include "test_item_models.h"

#include "core/model/model_card.h"
#include "core/model/model_summary.h"
#include "core/workflow/model.h"
#include "core/util/log.h"
#include "core/util/runtime.h"
#include "core/graph/graph.h"
#include "ui/graph/graph_node_item.h"
#include "ui/graph/graph_scene.h"
#include "ui/graph/graph_view.h"
#include "ui/mainwindow/main_window.h"
#include "ui/panels/budget_panel.h"
#include "ui/plots/pareto_plot.h"
#include "ui/session/session_controller.h"
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
#include <QtCore/QMimeData>
#include <QtGui/QDropEvent>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QSlider>
#include "ui/dialogs/calibration_dialog.h"
#include <QtWidgets/QTableView>
#include <QtGui/QUndoStack>

#include <qcustomplot.h>

#include <algorithm>
#include <memory>
#include <thread>

using namespace ptq::ui;
using namespace gui_test;

void TestMainWindow::initTestCase() {
    demoPath_ = QString::fromStdString(ptq::demoModelPath());
    QVERIFY2(!demoPath_.isEmpty(), "the demo model resources/models/resnet20_fmnist.pt is missing");
    // What the window should show, straight from the core.
    expected_ = ptq::summarizeModel({demoPath_.toStdString(), {}});
    QVERIFY(!expected_.layers.empty());

    QVERIFY(cacheDir_.isValid());
    MainWindow::Options options;
    options.persistLayout = false;
    options.calibrationSource = kCalibration;
    options.cacheDirectory = cacheDir_.path();
    window_ = std::make_unique<MainWindow>(options);
    // Watch the live models through the whole session, load included.
    layerTester_ = std::make_unique<QAbstractItemModelTester>(
        window_->layerModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    jobTester_ = std::make_unique<QAbstractItemModelTester>(
        window_->jobModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    budgetTester_ = std::make_unique<QAbstractItemModelTester>(
        window_->budgetModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));

    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    QSignalSpy ready(window_.get(), &MainWindow::initialJobsFinished);
    window_->openModel(demoPath_);
    QVERIFY(window_->isLoading());
    // The UI thread stays free while the import runs.
    auto* status = window_->findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY(status);
    QVERIFY2(status->text().startsWith(QStringLiteral("Import resnet20_fmnist")), qPrintable(status->text()));
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kLoadTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kLoadTimeoutMs);
    QVERIFY(!window_->isLoading());
    QVERIFY(window_->controller()->session().hasTable());
    QVERIFY(!window_->controller()->session().allocation.choice.empty());
}

void TestMainWindow::docksExistAndAreVisible() {
    const QStringList names{"graphDock", "layersDock", "budgetDock", "plotsDock", "jobsDock", "logDock"};
    QVERIFY(window_->findChild<QDockWidget*>(QStringLiteral("progressDock")));  // tabbed behind the plots
    for (const QString& name : names) {
        auto* dock = window_->findChild<QDockWidget*>(name);
        QVERIFY2(dock, qPrintable(name));
        QVERIFY2(dock->isVisible(), qPrintable(name));
        QVERIFY2(!dock->isFloating(), qPrintable(name));
        QVERIFY2(dock->widget()->width() > 50 && dock->widget()->height() > 50, qPrintable(name));
    }
    QCOMPARE(window_->docks().size(), names.size() + 1);
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
        const QString kind = layers->index(row, LayerTableModel::OpColumn).data().toString();
        QVERIFY2(kind.contains(QStringLiteral("conv")) || kind == QStringLiteral("linear"), qPrintable(kind));
    }
    QCOMPARE(window_->layersPanel()->tableView()->model()->rowCount(), layers->rowCount());
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
    QVERIFY2(status->text().contains(QStringLiteral("sensitivity on %1").arg(kCalibration)), qPrintable(status->text()));

    // The import and the measurement are listed as finished jobs.
    JobListModel* jobs = window_->jobModel();
    QVERIFY(jobs->rowCount() >= 2);
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
    GraphView* view = graph->view();
    const int row = int(expected_.layers.size()) / 2;
    GraphNodeItem* node = graph->scene()->nodeForRow(row);
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
    table->sortByColumn(-1, Qt::AscendingOrder);
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
    // The measurement of the demo's table was logged too.
    QVERIFY(window_->logPanel()->text().contains(QStringLiteral("Sensitivity")));
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
    const int nodesBefore = window_->graphPanel()->scene()->nodeCount();
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
    QCOMPARE(window_->graphPanel()->scene()->nodeCount(), nodesBefore);
    QTRY_VERIFY(window_->logPanel()->text().contains(message.left(40)));
    JobListModel* jobs = window_->jobModel();
    QCOMPARE(jobs->index(jobs->rowCount() - 1, JobListModel::StateColumn).data().toString(),
             QStringLiteral("failed"));
}

void TestMainWindow::oneGraphItemPerIrNode() {
    const ptq::Graph& graph = window_->controller()->session().model->graph();
    GraphScene* scene = window_->graphPanel()->scene();
    int items = 0, layers = 0;
    for (QGraphicsItem* item : scene->items())
        if (auto* node = qgraphicsitem_cast<GraphNodeItem*>(item)) {
            ++items;
            layers += node->isLayer() ? 1 : 0;
        }
    // Every IR node, plus the graph's input.
    QCOMPARE(items, int(graph.nodes().size()) + 1);
    QCOMPARE(scene->nodeCount(), items);
    QCOMPARE(layers, window_->layerModel()->rowCount());
    QVERIFY(scene->edgeCount() >= items - 1);
    // dot ranks top to bottom: every edge's target sits below its source.
    const auto& drawing = window_->controller()->session().model->drawing();
    for (const auto& [from, to] : drawing.edges)
        QVERIFY(scene->nodeAt(to)->pos().y() > scene->nodeAt(from)->pos().y());
    // Layer boxes show the chosen bits and a colour.
    for (int row = 0; row < window_->layerModel()->rowCount(); ++row) {
        GraphNodeItem* node = scene->nodeForRow(row);
        QVERIFY(node);
        QCOMPARE(node->name(), window_->layerModel()->layerName(row));
        QVERIFY2(node->bitsLabel().startsWith(QStringLiteral("W")), qPrintable(node->bitsLabel()));
        QVERIFY(node->fill().isValid());
    }
}

void TestMainWindow::graphSearchFindsNode() {
    GraphPanel* graph = window_->graphPanel();
    const int row = window_->layerModel()->rowCount() - 1;
    const QString name = window_->layerModel()->layerName(row);
    graph->searchEdit()->setText(name);
    QSignalSpy selected(graph, &GraphPanel::selectedRowsChanged);
    graph->findNext();
    QCOMPARE(selected.count(), 1);
    QCOMPARE(graph->scene()->selectedRows(), QList<int>{row});
    QCOMPARE(window_->layersPanel()->selectedRows(), QList<int>{row});
    graph->searchEdit()->clear();
}

void TestMainWindow::secondOpenReadsTheCache() {
    MainWindow::Options options;
    options.persistLayout = false;
    options.calibrationSource = kCalibration;
    options.cacheDirectory = cacheDir_.path();
    MainWindow second(options);
    QSignalSpy ready(second.controller(), &SessionController::sensitivityReady);
    second.openModel(demoPath_);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kLoadTimeoutMs);
    QVERIFY2(ready.at(0).at(0).toBool(), "the table should come from the cache the first window filled");
    const auto& a = *second.controller()->session().sensitivity;
    const auto& b = *window_->controller()->session().sensitivity;
    QCOMPARE(a.layers.size(), b.layers.size());
    QCOMPARE(a.cells[0][0].deltaLoss, b.cells[0][0].deltaLoss);
    QTRY_VERIFY_WITH_TIMEOUT(second.controller()->isIdle(), kLoadTimeoutMs);
}

void TestMainWindow::droppedModelOpensAndIsRecent() {
    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    QSignalSpy ready(window_->controller(), &SessionController::sensitivityReady);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(QStringLiteral("/tmp/notes.txt")), QUrl::fromLocalFile(demoPath_)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window_.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(window_.get(), &drop);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kLoadTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kLoadTimeoutMs);
    QVERIFY(ready.at(0).at(0).toBool());  // same model and data: from the cache
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle(), kLoadTimeoutMs);
    QCOMPARE(window_->recentFiles().value(0), QFileInfo(demoPath_).absoluteFilePath());

    // Anything but a .pt file is not taken.
    QMimeData text;
    text.setUrls({QUrl::fromLocalFile(QStringLiteral("/tmp/notes.txt"))});
    QDragEnterEvent refused(QPoint(10, 10), Qt::CopyAction, &text, Qt::LeftButton, Qt::NoModifier);
    refused.setAccepted(false);
    QApplication::sendEvent(window_.get(), &refused);
    QVERIFY(!refused.isAccepted());
}

void TestMainWindow::calibrationDialogRefusesBadSources() {
    CalibrationDialog dialog(ptq::parseDataSource(kCalibration.toStdString()));
    QCOMPARE(dialog.source(), kCalibration);
    auto* combo = dialog.findChild<QComboBox*>(QStringLiteral("calibrationSource"));
    QVERIFY(combo);
    combo->setCurrentText(QStringLiteral("fmnist:valid"));
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Rejected));  // still open, with the core's sentence
    combo->setCurrentText(QStringLiteral("fmnist:test:500"));
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QCOMPARE(dialog.source(), QStringLiteral("fmnist:test:500"));
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

// File > Open demo model lists every bundled demo; the ViT opens from it and its attention
// matmuls are rows of the table and the allocation like the layers with weights.
void TestMainWindow::demoMenuOpensTheViT() {
    auto* menu = window_->findChild<QMenu*>(QStringLiteral("menuDemoModels"));
    QVERIFY(menu);
    QAction* vit = nullptr;
    QStringList labels;
    for (QAction* a : menu->actions()) {
        labels << a->text();
        if (a->text().startsWith(QLatin1String("vit_fmnist"))) vit = a;
    }
    QVERIFY2(labels.size() >= 3, qPrintable(labels.join(", ")));
    QVERIFY2(vit, qPrintable(labels.join(", ")));
    QVERIFY(vit->text().contains(QLatin1String("FP32 top-1")));
    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    QSignalSpy ready(window_->controller(), &SessionController::sensitivityReady);
    vit->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kLoadTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kLoadTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle(), kLoadTimeoutMs);
    const auto& session = window_->controller()->session();
    QVERIFY(session.sensitivity);
    int matmuls = 0;
    for (const auto& l : session.sensitivity->layers) matmuls += l.kind == "matmul";
    QCOMPARE(matmuls, 12);  // six encoder blocks: Q·Kᵀ and P·V each
    QTRY_COMPARE_WITH_TIMEOUT(session.allocation.choice.size(), session.sensitivity->layers.size(), kLoadTimeoutMs);
}

void TestMainWindow::cleanupTestCase() {
    layerTester_.reset();
    jobTester_.reset();
    budgetTester_.reset();
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

