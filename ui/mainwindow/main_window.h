#pragma once
/// @file
/// The main window: menus, the docks (Graph, Layers, Budget, Plots, Jobs, Log), the status bar,
/// and the model it shows. Each dock's content is its own panel class; this class wires them to
/// the item models and to each other. UI thread only.

#include <QtCore/QString>
#include <QtWidgets/QMainWindow>



class QDockWidget;
class QLabel;
class QMessageBox;
class QProgressBar;

namespace ptq {
struct ModelSummary;
}

namespace ptq::ui {

class BudgetModel;
class BudgetPanel;
class GraphPanel;
class JobListModel;
class JobsPanel;
class LayerTableModel;
class LayersPanel;
class LogPanel;
class ModelLoader;
class PlotsPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    struct Options {
        /// Restore and save geometry and dock layout with QSettings. Off for screenshots and
        /// tests, which want the default layout.
        bool persistLayout = true;
    };

    explicit MainWindow(const Options& options, QWidget* parent = nullptr);
    explicit MainWindow(QWidget* parent = nullptr) : MainWindow(Options{}, parent) {}
    ~MainWindow() override;

    /// Imports @p path off the UI thread; the current model stays until the new one is in.
    void openModel(const QString& path);
    bool isLoading() const;
    /// The file stem of the model shown ("resnet20_fmnist"), empty before the first load.
    QString modelName() const { return modelName_; }
    QString modelPath() const { return modelPath_; }

    LayerTableModel* layerModel() const { return layerModel_; }
    BudgetModel* budgetModel() const { return budgetModel_; }
    JobListModel* jobModel() const { return jobModel_; }
    LayersPanel* layersPanel() const { return layersPanel_; }
    GraphPanel* graphPanel() const { return graphPanel_; }
    PlotsPanel* plotsPanel() const { return plotsPanel_; }
    LogPanel* logPanel() const { return logPanel_; }
    QList<QDockWidget*> docks() const;

    /// The window's default size, also used for screenshots.
    static QSize defaultSize() { return {1400, 900}; }

public Q_SLOTS:
    void openModelDialog();
    void showAbout();
    /// Restores the docks to where a new installation puts them.
    void resetLayout();
    /// Shows @p sentence in a message box named "errorDialog" without blocking: window-modal,
    /// opened with open() (no nested event loop), deleted when closed.
    void reportError(const QString& title, const QString& sentence);

Q_SIGNALS:
    void modelLoaded(const QString& name);
    /// After the error dialog opened; @p invalidInput as ptq::Error::Kind::InvalidInput.
    void modelLoadFailed(const QString& message, bool invalidInput);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createModelsAndPanels();
    void createDocks();
    void createMenus();
    void connectSelection();
    void onLoadStarted(const QString& path);
    void onLoaded(const ptq::ModelSummary& summary, qint64 elapsedMs);
    void onLoadFailed(const QString& path, const QString& message, bool invalidInput);
    void updateTitle();

    Options options_;
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
    QLabel* statusLabel_ = nullptr;
    QProgressBar* busyBar_ = nullptr;
    ModelLoader* loader_ = nullptr;
    QString modelName_, modelPath_;
    int loadJobId_ = -1;
};

}  // namespace ptq::ui
