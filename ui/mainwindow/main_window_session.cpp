// MainWindow: following the session — jobs and their progress, a new model, a new table, new
// allocations, pins with undo, and the Pareto frontier.

#include "ui/mainwindow/main_window.h"

#include "ui/format.h"
#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/models/layer_table_model.h"
#include "ui/panels/budget_panel.h"
#include "ui/panels/graph_panel.h"
#include "ui/panels/plots_panel.h"
#include "ui/plots/pareto_plot.h"
#include "ui/session/session_controller.h"
#include "ui/undo/pin_command.h"

#include <QtCore/QFileInfo>
#include <QtGui/QUndoStack>
#include <QtWidgets/QLabel>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QToolButton>

namespace ptq::ui {

void MainWindow::connectSession() {
    connectJobs();
    connect(controller_, &SessionController::modelLoaded, this, &MainWindow::onModelLoaded);
    connect(controller_, &SessionController::modelLoadFailed, this,
            [this](const QString& path, const QString& message, bool invalidInput) {
                statusLabel_->setText(modelName_.isEmpty()
                                          ? tr("Could not open %1").arg(QFileInfo(path).fileName())
                                          : tr("Could not open %1; still showing %2")
                                                .arg(QFileInfo(path).fileName(), modelName_));
                reportError(tr("Cannot open model"), message);
                Q_EMIT modelLoadFailed(message, invalidInput);
            });
    connect(controller_, &SessionController::modelNeedsCard, this,
            [this](const QString& path, const std::vector<int64_t>& suggestedShape) {
                if (path != pendingPath_) return;  // another model was asked for meanwhile
                statusLabel_->setText(tr("%1 has no model card: say what it needs").arg(QFileInfo(path).fileName()));
                askModelCard(path, ptq::ModelCard{}, suggestedShape, pendingCalibration_);
            });
    connect(controller_, &SessionController::sensitivityReady, this, &MainWindow::onSensitivityReady);
    connect(controller_, &SessionController::sensitivityUpdated, this, &MainWindow::onSensitivityUpdated);
    connect(controller_->budgetState(), &BudgetController::allocationChanged, this, &MainWindow::onAllocationChanged);
    connect(controller_->budgetState(), &BudgetController::solveInfeasible, this, &MainWindow::onSolveInfeasible);
    connect(controller_->budgetState(), &BudgetController::pinsChanged, this, [this] {
        layerModel_->setAllocation(controller_->session().allocation.choice, controller_->session().pins);
        refreshFrontier();
    });
    connect(controller_, &SessionController::becameIdle, this, [this] {
        if (!initialDone_ && !controller_->session().allocation.choice.empty()) {
            initialDone_ = true;
            Q_EMIT initialJobsFinished();
        }
    });
    connect(budgetPanel_, &BudgetPanel::budgetChanged, controller_->budgetState(), &BudgetController::requestBudget);
    // The panel is a view of the budget: a budget set elsewhere (a project, a script) shows there.
    connect(controller_->budgetState(), &BudgetController::budgetChanged, budgetPanel_, &BudgetPanel::showBudget);
    connect(budgetPanel_, &BudgetPanel::costMetricChanged, this, [this] {
        refreshFrontier();
        controller_->budgetState()->requestBudget(budgetPanel_->request());
    });
    connect(budgetPanel_, &BudgetPanel::targetChanged, this, [this] {
        applyTarget();
        refreshFrontier();
        controller_->budgetState()->requestBudget(budgetPanel_->request());
    });
    connect(layerModel_, &LayerTableModel::optionChosen, this, &MainWindow::pinLayer);
    connect(layerModel_, &LayerTableModel::unpinRequested, this, &MainWindow::unpinLayer);
    connect(plotsPanel_->paretoPlot(), &ParetoPlot::pointClicked, this, &MainWindow::onParetoPointClicked);
    connect(controller_->budgetState(), &BudgetController::frontierReady, this,
            [this](const std::vector<ptq::BudgetPoint>& points, ptq::CostMetric metric, ptq::CostReference reference) {
                frontier_ = points;
                plotsPanel_->paretoPlot()->setFrontier(frontier_, metric, reference);
                refreshMeasured();
                onAllocationChanged();
            });
}

void MainWindow::onModelLoaded() {
    const ptq::Session& s = controller_->session();
    const ptq::ModelSummary& summary = s.model->summary();
    modelName_ = QString::fromStdString(summary.name);
    modelPath_ = QString::fromStdString(summary.path);
    initialDone_ = false;
    undoStack_->clear();
    layerModel_->setLayers(summary.layers);
    budgetModel_->setSummary(summary);
    graphPanel_->setGraph(s.model->drawing());
    frontier_.clear();
    plotsPanel_->paretoPlot()->setFrontier({}, ptq::CostMetric::Size, ptq::CostReference::Fp32);
    plotsPanel_->paretoPlot()->setCurrent(-1, 0);
    budgetPanel_->setMessage({});
    statusLabel_->setText(tr("%1 layers · %2 params · %3 MACs")
                              .arg(summary.layers.size())
                              .arg(formatMillions(summary.totalParams), formatMillions(summary.totalMacs)));
    statusLabel_->setToolTip(modelPath_);
    addRecentFile(modelPath_);
    updateTitle();
    Q_EMIT modelLoaded(modelName_);
}

void MainWindow::onSensitivityReady(bool fromCache) {
    const ptq::Session& s = controller_->session();
    if (!s.model) {
        // A table without a model (installTable): rows and a chain drawing from the table.
        std::vector<ptq::LayerSummary> layers;
        ptq::DrawableGraph drawing;
        drawing.nodes.push_back({"input", "input", {}, {}, 0, 0, -1});
        for (size_t i = 0; i < s.sensitivity->layers.size(); ++i) {
            const auto& l = s.sensitivity->layers[i];
            ptq::LayerSummary summary;
            summary.name = l.name;
            summary.kind = l.kind;
            summary.params = l.params;
            summary.macs = l.macs;
            layers.push_back(summary);
            drawing.nodes.push_back({l.name, l.kind, {}, {}, l.params, l.macs, int(i)});
            drawing.edges.emplace_back(int(drawing.nodes.size()) - 2, int(drawing.nodes.size()) - 1);
            drawing.nodes.push_back({l.name + ".relu", "relu", {}, {}, 0, 0, -1});
            drawing.edges.emplace_back(int(drawing.nodes.size()) - 2, int(drawing.nodes.size()) - 1);
        }
        layerModel_->setLayers(layers);
        graphPanel_->setGraph(drawing);
        modelName_ = tr("synthetic table");
        updateTitle();
    }
    layerModel_->setTable(*s.sensitivity);
    budgetModel_->clearAllocation();
    undoStack_->clear();
    applyTarget();  // a new table: the selected target's costs are of its layers
    refreshFrontier();
    if (s.model) statusLabel_->setText(sensitivityStatus(fromCache));
    if (options_.initialSizeRatio && !initialDone_) {
        budgetPanel_->setCostRatio(*options_.initialSizeRatio);
    } else {
        controller_->budgetState()->requestBudget(budgetPanel_->request());
    }
}

QString MainWindow::sensitivityStatus(bool fromCache) const {
    const ptq::Session& s = controller_->session();
    const size_t cells = s.sensitivity->layers.size() * s.sensitivity->options.size();
    const size_t estimated = s.sensitivity->estimatedCells();
    QString how = fromCache ? tr("from the cache") : tr("measured in %1 s").arg(s.sensitivity->seconds, 0, 'f', 1);
    if (estimated == cells)
        how = tr("estimated in %1 s, measuring").arg(s.sensitivity->seconds, 0, 'f', 1);
    else if (estimated > 0)
        how = tr("%1 of %2 cells measured, ≈ the rest estimated").arg(cells - estimated).arg(cells);
    return tr("%1 · sensitivity on %2 (%3 samples, %4)")
               .arg(modelName_, QString::fromStdString(s.calibrationSource.text))
               .arg(s.sensitivity->samples)
               .arg(how) +
           (s.sensitivity->skippedSamples > 0
                ? tr(" · %n unreadable image(s) left out", nullptr, int(s.sensitivity->skippedSamples))
                : QString());
}

void MainWindow::onSensitivityUpdated(bool complete) {
    const ptq::Session& s = controller_->session();
    if (!s.sensitivity) return;
    layerModel_->updateCells(*s.sensitivity);
    if (s.model) statusLabel_->setText(sensitivityStatus(false));
    // The frontier follows every few cells and at the end: it is a sweep of solves.
    if (complete || ++cellsSinceFrontier_ >= 8) {
        cellsSinceFrontier_ = 0;
        refreshFrontier();
    }
}

void MainWindow::refreshFrontier() {
    const ptq::Session& s = controller_->session();
    if (!s.problem) return;
    ptq::BudgetRequest request = budgetPanel_->request();
    request.pins = s.pins;
    // The sliders span what the model allows without pins, so a budget that pins make
    // impossible is shown as such instead of vanishing from the range.
    const auto limits = s.problem->limits(request.metric, request.reference);
    budgetPanel_->setLimits(limits.maxDegradation, limits.minRatio, limits.maxRatio);
    controller_->budgetState()->requestFrontier(request);  // off the UI thread; frontierReady plots it
}

void MainWindow::onAllocationChanged() {
    const ptq::Session& s = controller_->session();
    layerModel_->setAllocation(s.allocation.choice, s.pins);
    if (!s.problem || s.allocation.choice.empty()) {
        plotsPanel_->paretoPlot()->setCurrent(-1, 0);
        return;
    }
    budgetModel_->setAllocation(s.allocation, *s.problem, *s.sensitivity);
    showMeasuredFits();
    budgetPanel_->setMessage({});
    const ptq::BudgetRequest request = budgetPanel_->request();
    const double ratio = s.problem->costOf(request.metric, s.allocation.choice) /
                         s.problem->referenceCost(request.metric, request.reference);
    plotsPanel_->paretoPlot()->setCurrent(ratio, s.allocation.deltaLoss);
    Q_EMIT allocationShown();
}

void MainWindow::onSolveInfeasible(const QString& status) {
    budgetPanel_->setMessage(status + tr(" The previous allocation stays."));
    budgetModel_->setStatus(status, false);
}

void MainWindow::onParetoPointClicked(int index) {
    if (index < 0 || index >= int(frontier_.size())) return;
    controller_->budgetState()->adoptChoice(frontier_[size_t(index)].choice);
}

void MainWindow::pinLayer(int layer, int option) {
    const std::map<int, int> before = controller_->session().pins;
    std::map<int, int> after = before;
    after[layer] = option;
    if (after == before) return;
    undoStack_->push(new PinCommand(controller_, before, after,
                                    tr("Pin %1 to %2").arg(layerModel_->layerName(layer),
                                                           layerModel_->optionNames().value(option))));
}

void MainWindow::unpinLayer(int layer) {
    const std::map<int, int> before = controller_->session().pins;
    std::map<int, int> after = before;
    if (after.erase(layer) == 0) return;
    undoStack_->push(new PinCommand(controller_, before, after, tr("Unpin %1").arg(layerModel_->layerName(layer))));
}

void MainWindow::unpinAll() {
    const std::map<int, int> before = controller_->session().pins;
    if (before.empty()) return;
    undoStack_->push(new PinCommand(controller_, before, {}, tr("Unpin all layers")));
}

}  // namespace ptq::ui
