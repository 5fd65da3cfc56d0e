#include "ui/mainwindow/main_window.h"

#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/models/layer_table_model.h"
#include "ui/panels/budget_panel.h"
#include "ui/panels/graph_panel.h"
#include "ui/panels/jobs_panel.h"
#include "ui/plots/progress_plots.h"
#include "ui/panels/layers_panel.h"
#include "ui/panels/log_panel.h"
#include "ui/panels/plots_panel.h"
#include "ui/plots/pareto_plot.h"
#include "ui/project/project_manager.h"
#include "ui/session/session_controller.h"

#include "core/model/model_card.h"
#include "core/util/error.h"

#include <QtCore/QFileInfo>
#include <QtCore/QSettings>
#include <QtGui/QCloseEvent>
#include <QtGui/QUndoStack>
#include <QtWidgets/QApplication>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QToolButton>

namespace ptq::ui {

namespace {
/// Bump when the docks change, so an old saved layout is not restored over new docks.
constexpr int kLayoutVersion = 3;
const char* kGeometryKey = "mainWindow/geometry";
const char* kStateKey = "mainWindow/state";
const char* kRecentKey = "files/recent";

QDockWidget* makeDock(const QString& title, const QString& objectName, QWidget* content, QMainWindow* window) {
    auto* dock = new QDockWidget(title, window);
    dock->setObjectName(objectName);  // saveState()/restoreState() key on it
    dock->setWidget(content);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    return dock;
}
}  // namespace

MainWindow::MainWindow(const Options& options, QWidget* parent)
    : QMainWindow(parent), options_(options), controller_(new SessionController(this)),
      undoStack_(new QUndoStack(this)) {
    setObjectName(QStringLiteral("mainWindow"));
    setDockNestingEnabled(true);
    setAcceptDrops(true);
    if (!options_.cacheDirectory.isEmpty()) controller_->setCacheDirectory(options_.cacheDirectory);
    createModelsAndPanels();
    createDocks();
    createMenus();
    connectSelection();
    connectSession();

    statusLabel_ = new QLabel(tr("No model open"), this);
    statusLabel_->setObjectName(QStringLiteral("statusLabel"));
    progressBar_ = new QProgressBar(this);
    progressBar_->setObjectName(QStringLiteral("jobProgress"));
    progressBar_->setRange(0, 1000);
    progressBar_->setMaximumWidth(220);
    progressBar_->setMaximumHeight(16);
    progressBar_->hide();
    cancelButton_ = new QToolButton(this);
    cancelButton_->setText(tr("Cancel"));
    cancelButton_->setAutoRaise(true);
    cancelButton_->hide();
    connect(cancelButton_, &QToolButton::clicked, controller_, &SessionController::cancelJob);
    statusBar()->addWidget(statusLabel_, 1);
    statusBar()->addPermanentWidget(progressBar_);
    statusBar()->addPermanentWidget(cancelButton_);

    resize(defaultSize());
    resetLayout();
    if (options_.persistLayout) {
        QSettings settings;
        restoreGeometry(settings.value(kGeometryKey).toByteArray());
        restoreState(settings.value(kStateKey).toByteArray(), kLayoutVersion);
        recentFiles_ = settings.value(kRecentKey).toStringList();
    }
    rebuildRecentMenu();
    updateTitle();
}

MainWindow::~MainWindow() = default;

void MainWindow::createModelsAndPanels() {
    layerModel_ = new LayerTableModel(this);
    budgetModel_ = new BudgetModel(this);
    jobModel_ = new JobListModel(this);

    graphPanel_ = new GraphPanel(this);
    graphPanel_->setLayerModel(layerModel_);
    layersPanel_ = new LayersPanel(this);
    layersPanel_->setModel(layerModel_);
    budgetPanel_ = new BudgetPanel(this);
    budgetPanel_->setModel(budgetModel_);
    plotsPanel_ = new PlotsPanel(this);
    plotsPanel_->setModel(layerModel_);
    jobsPanel_ = new JobsPanel(this);
    jobsPanel_->setModel(jobModel_);
    logPanel_ = new LogPanel(this);
    progressPlots_ = new ProgressPlots(this);
}

void MainWindow::createDocks() {
    graphDock_ = makeDock(tr("Graph"), QStringLiteral("graphDock"), graphPanel_, this);
    layersDock_ = makeDock(tr("Layers"), QStringLiteral("layersDock"), layersPanel_, this);
    budgetDock_ = makeDock(tr("Budget"), QStringLiteral("budgetDock"), budgetPanel_, this);
    plotsDock_ = makeDock(tr("Plots"), QStringLiteral("plotsDock"), plotsPanel_, this);
    jobsDock_ = makeDock(tr("Jobs"), QStringLiteral("jobsDock"), jobsPanel_, this);
    logDock_ = makeDock(tr("Log"), QStringLiteral("logDock"), logPanel_, this);
    progressDock_ = makeDock(tr("Live progress"), QStringLiteral("progressDock"), progressPlots_, this);
}

QList<QDockWidget*> MainWindow::docks() const {
    return {graphDock_, layersDock_, budgetDock_, plotsDock_, progressDock_, jobsDock_, logDock_};
}

void MainWindow::resetLayout() {
    // Graph down the left; on the right the budget beside the plots, then the layer table,
    // then jobs beside the log.
    for (QDockWidget* dock : docks()) {
        dock->setFloating(false);
        removeDockWidget(dock);
    }
    addDockWidget(Qt::LeftDockWidgetArea, graphDock_);
    addDockWidget(Qt::RightDockWidgetArea, budgetDock_);
    addDockWidget(Qt::RightDockWidgetArea, layersDock_, Qt::Vertical);
    addDockWidget(Qt::RightDockWidgetArea, jobsDock_, Qt::Vertical);
    splitDockWidget(budgetDock_, plotsDock_, Qt::Horizontal);
    splitDockWidget(jobsDock_, logDock_, Qt::Horizontal);
    tabifyDockWidget(plotsDock_, progressDock_);  // raised when a job with live figures starts
    for (QDockWidget* dock : docks()) dock->show();
    plotsDock_->raise();

    const int w = width(), h = height();
    resizeDocks({graphDock_, layersDock_}, {w * 27 / 100, w * 73 / 100}, Qt::Horizontal);
    resizeDocks({budgetDock_, plotsDock_}, {w * 31 / 100, w * 42 / 100}, Qt::Horizontal);
    resizeDocks({jobsDock_, logDock_}, {w * 30 / 100, w * 43 / 100}, Qt::Horizontal);
    resizeDocks({budgetDock_, layersDock_, jobsDock_}, {h * 40 / 100, h * 44 / 100, h * 16 / 100}, Qt::Vertical);
}

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open model…"), this, &MainWindow::openModelDialog);
    open->setShortcut(QKeySequence::Open);
    recentMenu_ = file->addMenu(tr("Open &recent"));
    QMenu* demos = file->addMenu(tr("Open &demo model"));
    demos->setObjectName(QStringLiteral("menuDemoModels"));
    for (const std::string& path : ptq::demoModelPaths()) {
        const QString file = QString::fromStdString(path);
        QString label = QFileInfo(file).completeBaseName();
        try {
            if (const auto card = ptq::loadModelCard(path); card && card->fp32Top1 >= 0)
                label += tr(" (FP32 top-1 %1 %)").arg(card->fp32Top1, 0, 'f', 2);
        } catch (const ptq::Error&) {  // a broken sidecar: the model opens and says so then
        }
        demos->addAction(label, this, [this, file] { openModel(file); });
    }
    demos->setEnabled(!demos->isEmpty());
    file->addAction(tr("&Calibration data…"), this, &MainWindow::chooseCalibrationData);
    file->addAction(tr("&Model card…"), this, &MainWindow::editModelCard)->setObjectName(QStringLiteral("actionModelCard"));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    projects_ = new ProjectManager(this, controller_, options_.persistLayout);  // ui/project
    projects_->addMenuActions(file);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = undoStack_->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = undoStack_->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("Unpin &all layers"), this, &MainWindow::unpinAll);

    createJobActions();

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* dock : docks()) view->addAction(dock->toggleViewAction());
    view->addSeparator();
    QAction* fit = view->addAction(tr("&Fit graph to view"), graphPanel_, &GraphPanel::fitToView);
    fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    view->addAction(tr("&Reset layout"), this, &MainWindow::resetLayout);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = help->addAction(tr("&About PTQ Studio"), this, &MainWindow::showAbout);
    about->setMenuRole(QAction::AboutRole);
}

void MainWindow::connectSelection() {
    // Graph, table and plots agree on the selection through the layer model's rows. Each
    // panel's selectRows() is silent, so a change does not echo back to where it came from.
    connect(layersPanel_, &LayersPanel::selectedRowsChanged, this, [this](const QList<int>& rows) {
        graphPanel_->selectRows(rows);
        plotsPanel_->selectRows(rows);
    });
    connect(graphPanel_, &GraphPanel::selectedRowsChanged, this, [this](const QList<int>& rows) {
        layersPanel_->selectRows(rows);
        plotsPanel_->selectRows(rows);
    });
    connect(plotsPanel_, &PlotsPanel::layerClicked, this, [this](int row) {
        layersPanel_->selectRows({row});
        graphPanel_->selectRows({row});
        plotsPanel_->selectRows({row});
    });
}

void MainWindow::showAbout() {
    auto* box = new QMessageBox(QMessageBox::Information, tr("About PTQ Studio"),
                                tr("<h3>PTQ Studio %1</h3>"
                                   "<p>Interactive post-training quantization of neural networks.</p>"
                                   "<p>Built with Qt %2.</p>")
                                    .arg(QStringLiteral(PTQ_VERSION), QString::fromLatin1(qVersion())),
                                QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("aboutDialog"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::reportError(const QString& title, const QString& sentence) {
    auto* box = new QMessageBox(QMessageBox::Warning, title, sentence, QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("errorDialog"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::updateTitle() {
    setWindowTitle(modelName_.isEmpty() ? QStringLiteral("PTQ Studio")
                                        : QStringLiteral("%1 — PTQ Studio").arg(modelName_));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (options_.persistLayout) {
        QSettings settings;
        settings.setValue(kGeometryKey, saveGeometry());
        settings.setValue(kStateKey, saveState(kLayoutVersion));
    }
    projects_->aboutToClose();
    controller_->cancelJob();
    QMainWindow::closeEvent(event);
}

}  // namespace ptq::ui
