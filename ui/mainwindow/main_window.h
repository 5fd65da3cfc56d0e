#pragma once
/// @file
/// The main window: menus, the docks (Graph, Layers, Budget, Plots, Jobs, Log), the status bar.
/// Each dock's content is its own panel class; a SessionController runs the core's work. This
/// class wires them: main_window.cpp builds, main_window_session.cpp reacts to the session,
/// main_window_files.cpp opens models and data. UI thread only.

#include "core/model/model_card.h"
#include "core/workflow/budget.h"
#include "ui/session/job_runner.h"

#include <QtCore/QSet>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtWidgets/QMainWindow>

#include <optional>

class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QToolButton;
class QUndoStack;

namespace ptq::ui {

class BudgetModel;
class BudgetPanel;
class GraphPanel;
class JobListModel;
class JobsPanel;
class LayerTableModel;
class LayersPanel;
class LogPanel;
class ModelCardDialog;
class PlotsPanel;
class ProgressPlots;
class ProjectManager;
class SessionController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    struct Options {
        /// Restore and save geometry, dock layout and recent files with QSettings. Off for
        /// screenshots and tests, which want the default layout.
        bool persistLayout = true;
        /// Calibration source of models opened without one.
        QString calibrationSource = QStringLiteral("fmnist:train:256");
        /// Where sensitivity tables are cached; empty: the default (AppDataLocation/cache).
        QString cacheDirectory;
        /// The compression budget (size as a fraction of FP32) the first allocation uses.
        std::optional<double> initialSizeRatio;
    };

    explicit MainWindow(const Options& options, QWidget* parent = nullptr);
    explicit MainWindow(QWidget* parent = nullptr) : MainWindow(Options{}, parent) {}
    ~MainWindow() override;

    /// Imports @p path off the UI thread, then measures its sensitivity (cached) on
    /// @p calibrationSource (the default when empty); the current model stays until then. A
    /// model without a sidecar is read first and the model card dialog asks what it needs.
    void openModel(const QString& path, const QString& calibrationSource = {});
    /// The model card dialog now open (modelNeedsCard or File > Model card), else null.
    ModelCardDialog* modelCardDialog() const { return cardDialog_; }
    bool isLoading() const;
    QString modelName() const { return modelName_; }
    QString modelPath() const { return modelPath_; }
    QStringList recentFiles() const { return recentFiles_; }

    SessionController* controller() const { return controller_; }
    /// Projects, autosave and File > Export… (ui/project).
    ProjectManager* projectManager() const { return projects_; }
    QUndoStack* undoStack() const { return undoStack_; }
    LayerTableModel* layerModel() const { return layerModel_; }
    BudgetModel* budgetModel() const { return budgetModel_; }
    JobListModel* jobModel() const { return jobModel_; }
    LayersPanel* layersPanel() const { return layersPanel_; }
    GraphPanel* graphPanel() const { return graphPanel_; }
    BudgetPanel* budgetPanel() const { return budgetPanel_; }
    PlotsPanel* plotsPanel() const { return plotsPanel_; }
    LogPanel* logPanel() const { return logPanel_; }
    ProgressPlots* progressPlots() const { return progressPlots_; }
    /// The quantization jobs (also the toolbar's and the Jobs dock's Run menu).
    QMenu* quantizeMenu() const { return quantizeMenu_; }
    QList<QDockWidget*> docks() const;

    static QSize defaultSize() { return {1500, 940}; }

public Q_SLOTS:
    void openModelDialog();
    void chooseCalibrationData();
    /// File > Model card…: the open model's card, to change and reopen it with.
    void editModelCard();
    /// Asks for the labelled data that Evaluate and the pipelines measure top-1 on.
    void chooseEvaluationData();
    void showAbout();
    void resetLayout();
    /// Shows @p sentence in a window-modal message box named "errorDialog" (open(), no nested
    /// event loop; deleted when closed).
    void reportError(const QString& title, const QString& sentence);
    /// Pins @p layer to @p option as an undoable step.
    void pinLayer(int layer, int option);
    void unpinLayer(int layer);
    void unpinAll();

Q_SIGNALS:
    void modelLoaded(const QString& name);
    void modelLoadFailed(const QString& message, bool invalidInput);
    /// The table is in and the first allocation shown: nothing runs any more.
    void initialJobsFinished();
    /// The graph, table, plots and figures show session().allocation.
    void allocationShown();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createModelsAndPanels();
    void createDocks();
    void createMenus();
    void connectSelection();
    void connectSession();
    void updateTitle();
    void rebuildRecentMenu();
    void addRecentFile(const QString& path);

    // main_window_jobs.cpp
    void createJobActions();
    void connectJobs();
    void onJobQueued(int id, const QString& title);
    void onJobStarted(int id, const QString& title);
    void onJobProgress(int id, double fraction, const QString& stage);
    void onJobFinished(int id, const QString& title, bool ok, bool cancelled, const QString& message,
                       JobRunner::Kind kind);
    /// Measured allocations onto the Pareto plot, under its current metric.
    void refreshMeasured();
    /// The budget summary's "Predicted from measured" and the Pareto plot's band, for the current allocation.
    void showMeasuredFits();

    // main_window_session.cpp
    void onModelLoaded();
    void onSensitivityReady(bool fromCache);
    void onSensitivityUpdated(bool complete);
    /// The status line for the session's table: where it came from, how many cells are estimates.
    QString sensitivityStatus(bool fromCache) const;
    void onAllocationChanged();
    void onSolveInfeasible(const QString& status);
    void refreshFrontier();
    /// Applies the budget dock's hardware target to the session's problem (main_window_target.cpp).
    void applyTarget();
    void onParetoPointClicked(int index);

    Options options_;
    SessionController* controller_ = nullptr;
    ProjectManager* projects_ = nullptr;
    QUndoStack* undoStack_ = nullptr;
    LayerTableModel* layerModel_ = nullptr;
    BudgetModel* budgetModel_ = nullptr;
    JobListModel* jobModel_ = nullptr;
    GraphPanel* graphPanel_ = nullptr;
    LayersPanel* layersPanel_ = nullptr;
    BudgetPanel* budgetPanel_ = nullptr;
    PlotsPanel* plotsPanel_ = nullptr;
    JobsPanel* jobsPanel_ = nullptr;
    LogPanel* logPanel_ = nullptr;
    QDockWidget* graphDock_ = nullptr;
    QDockWidget* layersDock_ = nullptr;
    QDockWidget* budgetDock_ = nullptr;
    QDockWidget* plotsDock_ = nullptr;
    QDockWidget* jobsDock_ = nullptr;
    QDockWidget* logDock_ = nullptr;
    QDockWidget* progressDock_ = nullptr;
    ProgressPlots* progressPlots_ = nullptr;
    QMenu* quantizeMenu_ = nullptr;
    QSet<int> liveJobs_;   ///< jobs started from the menu whose figures the Live progress dock plots
    QMenu* recentMenu_ = nullptr;
    QLabel* statusLabel_ = nullptr;
    QProgressBar* progressBar_ = nullptr;
    QToolButton* cancelButton_ = nullptr;
    QString modelName_, modelPath_, pendingPath_;
    QString pendingCalibration_;             ///< for the model whose card is being asked for
    ModelCardDialog* cardDialog_ = nullptr;
    /// Shows the model card dialog for @p path; on Open, opens it with what the dialog says.
    void askModelCard(const QString& path, const ptq::ModelCard& card, const std::vector<int64_t>& suggestedShape,
                      const QString& calibration);
    QStringList recentFiles_;
    int cellsSinceFrontier_ = 0;  ///< measured cells since the frontier was last redrawn
    bool initialDone_ = false;
    std::vector<ptq::BudgetPoint> frontier_;
};

}  // namespace ptq::ui
