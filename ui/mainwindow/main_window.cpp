#include "ui/mainwindow/main_window.h"

#include "core/model/model_summary.h"
#include "core/util/log.h"
#include "ui/format.h"
#include "ui/mainwindow/model_loader.h"
#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/models/layer_table_model.h"
#include "ui/panels/budget_panel.h"
#include "ui/panels/graph_panel.h"
#include "ui/panels/jobs_panel.h"
#include "ui/panels/layers_panel.h"
#include "ui/panels/log_panel.h"
#include "ui/panels/plots_panel.h"

#include <QtCore/QFileInfo>
#include <QtCore/QSettings>
#include <QtGui/QCloseEvent>
#include <QtWidgets/QApplication>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QStatusBar>

namespace ptq::ui {

namespace {
/// Bump when the docks change, so an old saved layout is not restored over new docks.
constexpr int kLayoutVersion = 1;
const char* kGeometryKey = "mainWindow/geometry";
const char* kStateKey = "mainWindow/state";
const char* kLastDirKey = "files/lastModelDir";

QDockWidget* makeDock(const QString& title, const QString& objectName, QWidget* content,
                      QMainWindow* window) {
    auto* dock = new QDockWidget(title, window);
    dock->setObjectName(objectName);  // saveState()/restoreState() key on it
    dock->setWidget(content);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    return dock;
}
}  // namespace

MainWindow::MainWindow(const Options& options, QWidget* parent)
    : QMainWindow(parent), options_(options), loader_(new ModelLoader(this)) {
    setObjectName(QStringLiteral("mainWindow"));
    setDockNestingEnabled(true);
    createModelsAndPanels();
    createDocks();
    createMenus();
    connectSelection();

    statusLabel_ = new QLabel(tr("No model open"), this);
    statusLabel_->setObjectName(QStringLiteral("statusLabel"));
    busyBar_ = new QProgressBar(this);
    busyBar_->setRange(0, 0);  // busy indicator: the import reports no fraction
    busyBar_->setMaximumWidth(140);
    busyBar_->setMaximumHeight(14);
    busyBar_->hide();
    statusBar()->addWidget(statusLabel_, 1);
    statusBar()->addPermanentWidget(busyBar_);

    connect(loader_, &ModelLoader::started, this, &MainWindow::onLoadStarted);
    connect(loader_, &ModelLoader::loaded, this, &MainWindow::onLoaded);
    connect(loader_, &ModelLoader::failed, this, &MainWindow::onLoadFailed);

    resize(defaultSize());
    resetLayout();
    if (options_.persistLayout) {
        QSettings settings;
        restoreGeometry(settings.value(kGeometryKey).toByteArray());
        restoreState(settings.value(kStateKey).toByteArray(), kLayoutVersion);
    }
    updateTitle();
}

MainWindow::~MainWindow() = default;

void MainWindow::createModelsAndPanels() {
    layerModel_ = new LayerTableModel(this);
    budgetModel_ = new BudgetModel(this);
    jobModel_ = new JobListModel(this);

    graphPanel_ = new GraphPanel(this);
    graphPanel_->setModel(layerModel_, LayerTableModel::NameColumn);
    layersPanel_ = new LayersPanel(this);
    layersPanel_->setModel(layerModel_);
    budgetPanel_ = new BudgetPanel(this);
    budgetPanel_->setModel(budgetModel_);
    plotsPanel_ = new PlotsPanel(this);
    plotsPanel_->setModel(layerModel_);
    jobsPanel_ = new JobsPanel(this);
    jobsPanel_->setModel(jobModel_);
    logPanel_ = new LogPanel(this);
}

void MainWindow::createDocks() {
    graphDock_ = makeDock(tr("Graph"), QStringLiteral("graphDock"), graphPanel_, this);
    layersDock_ = makeDock(tr("Layers"), QStringLiteral("layersDock"), layersPanel_, this);
    budgetDock_ = makeDock(tr("Budget"), QStringLiteral("budgetDock"), budgetPanel_, this);
    plotsDock_ = makeDock(tr("Plots"), QStringLiteral("plotsDock"), plotsPanel_, this);
    jobsDock_ = makeDock(tr("Jobs"), QStringLiteral("jobsDock"), jobsPanel_, this);
    logDock_ = makeDock(tr("Log"), QStringLiteral("logDock"), logPanel_, this);
}

QList<QDockWidget*> MainWindow::docks() const {
    return {graphDock_, layersDock_, budgetDock_, plotsDock_, jobsDock_, logDock_};
}

void MainWindow::resetLayout() {
    // Graph down the left; on the right the layer table, then plots beside the budget figures,
    // then jobs beside the log.
    for (QDockWidget* dock : docks()) {
        dock->setFloating(false);
        removeDockWidget(dock);
    }
    addDockWidget(Qt::LeftDockWidgetArea, graphDock_);
    addDockWidget(Qt::RightDockWidgetArea, layersDock_);
    addDockWidget(Qt::RightDockWidgetArea, plotsDock_, Qt::Vertical);
    addDockWidget(Qt::RightDockWidgetArea, jobsDock_, Qt::Vertical);
    splitDockWidget(plotsDock_, budgetDock_, Qt::Horizontal);
    splitDockWidget(jobsDock_, logDock_, Qt::Horizontal);
    for (QDockWidget* dock : docks()) dock->show();

    const int w = width(), h = height();
    resizeDocks({graphDock_, layersDock_}, {w * 29 / 100, w * 71 / 100}, Qt::Horizontal);
    resizeDocks({plotsDock_, budgetDock_}, {w * 44 / 100, w * 27 / 100}, Qt::Horizontal);
    resizeDocks({jobsDock_, logDock_}, {w * 28 / 100, w * 43 / 100}, Qt::Horizontal);
    resizeDocks({layersDock_, plotsDock_, jobsDock_}, {h * 35 / 100, h * 41 / 100, h * 24 / 100},
                Qt::Vertical);
}

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open model…"), this, &MainWindow::openModelDialog);
    open->setShortcut(QKeySequence::Open);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

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

void MainWindow::openModel(const QString& path) { loader_->load(QFileInfo(path).absoluteFilePath()); }

bool MainWindow::isLoading() const { return loader_->isBusy(); }

void MainWindow::openModelDialog() {
    QSettings settings;
    const QString dir = settings.value(kLastDirKey, QFileInfo(modelPath_).absolutePath()).toString();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open model"), dir,
                                                      tr("TorchScript models (*.pt);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
    openModel(path);
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

void MainWindow::onLoadStarted(const QString& path) {
    // The newest request wins: an import still running for an older one is dropped.
    if (loadJobId_ >= 0) jobModel_->setState(loadJobId_, JobListModel::State::Cancelled);
    const QString name = QFileInfo(path).completeBaseName();
    loadJobId_ = jobModel_->addJob(tr("Import %1").arg(name));
    jobModel_->setState(loadJobId_, JobListModel::State::Running);
    statusLabel_->setText(tr("Loading %1…").arg(name));
    busyBar_->show();
}

void MainWindow::onLoaded(const ptq::ModelSummary& summary, qint64 elapsedMs) {
    jobModel_->setState(loadJobId_, JobListModel::State::Finished);
    loadJobId_ = -1;
    busyBar_->hide();
    modelName_ = QString::fromStdString(summary.name);
    modelPath_ = QString::fromStdString(summary.path);
    layerModel_->setLayers(summary.layers);
    budgetModel_->setSummary(summary);
    statusLabel_->setText(tr("%1 layers · %2 params · %3 MACs")
                              .arg(summary.layers.size())
                              .arg(formatMillions(summary.totalParams), formatMillions(summary.totalMacs)));
    statusLabel_->setToolTip(tr("%1\nloaded in %2 s").arg(modelPath_).arg(double(elapsedMs) / 1000.0, 0, 'f', 2));
    updateTitle();
    Q_EMIT modelLoaded(modelName_);
}

void MainWindow::onLoadFailed(const QString& path, const QString& message, bool invalidInput) {
    jobModel_->setState(loadJobId_, JobListModel::State::Failed);
    loadJobId_ = -1;
    busyBar_->hide();
    // What was shown before stays: a failed open loses nothing.
    statusLabel_->setText(modelName_.isEmpty()
                              ? tr("Could not open %1").arg(QFileInfo(path).fileName())
                              : tr("Could not open %1; still showing %2")
                                    .arg(QFileInfo(path).fileName(), modelName_));
    reportError(tr("Cannot open model"), message);
    Q_EMIT modelLoadFailed(message, invalidInput);
}

void MainWindow::reportError(const QString& title, const QString& sentence) {
    // open(), not exec(): no nested event loop, and tests can find and close it.
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
    QMainWindow::closeEvent(event);
}

}  // namespace ptq::ui
