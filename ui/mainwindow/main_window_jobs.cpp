// MainWindow: the quantization jobs — the Quantize menu and toolbar, the Jobs dock's list,
// buttons and Run menu, the status bar's progress, the Live progress dock, and measured
// allocations on the Pareto plot.

#include "ui/mainwindow/main_window.h"

#include "ui/dialogs/calibration_dialog.h"

#include "core/data/data_source.h"
#include "core/util/error.h"
#include "core/workflow/prediction.h"
#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/panels/budget_panel.h"
#include "ui/panels/jobs_panel.h"
#include "ui/panels/plots_panel.h"
#include "ui/plots/pareto_plot.h"
#include "ui/plots/progress_plots.h"
#include "ui/session/session_controller.h"

#include <QtWidgets/QDockWidget>

#include <algorithm>
#include <QtWidgets/QInputDialog>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QToolBar>
#include <QtWidgets/QToolButton>

namespace ptq::ui {

void MainWindow::createJobActions() {
    quantizeMenu_ = menuBar()->addMenu(tr("&Quantize"));
    quantizeMenu_->setObjectName(QStringLiteral("quantizeMenu"));
    // Jobs whose figures the Live progress dock plots bring it to the front when they start.
    auto live = [this](int id) {
        if (id <= 0) return;
        liveJobs_.insert(id);
        if (controller_->jobs()->runningId() == id) {  // it started at once: nothing was before it
            progressDock_->show();
            progressDock_->raise();
        }
    };
    auto add = [this](const QString& text, const QString& name, auto slot) {
        QAction* a = quantizeMenu_->addAction(text, this, slot);
        a->setObjectName(name);
        return a;
    };
    add(tr("&Calibrate ranges"), QStringLiteral("actionCalibrate"), [this] { controller_->tuning()->calibrateRanges(); });
    add(tr("Measure &sensitivity"), QStringLiteral("actionSensitivity"), [this] { controller_->measureSensitivity(); });
    quantizeMenu_->addSeparator();
    QAction* adaquant = add(tr("&AdaQuant (parallel)"), QStringLiteral("actionAdaQuantParallel"),
                            [this, live] { live(controller_->tuning()->runTuningStep(ptq::TuningStep::AdaQuantParallel)); });
    add(tr("AdaQuant (se&quential)"), QStringLiteral("actionAdaQuantSequential"),
        [this, live] { live(controller_->tuning()->runTuningStep(ptq::TuningStep::AdaQuantSequential)); });
    add(tr("Block &reconstruction"), QStringLiteral("actionAdaQuantBlocks"),
        [this, live] { live(controller_->tuning()->runTuningStep(ptq::TuningStep::AdaQuantBlocks)); });
    add(tr("&BN tuning"), QStringLiteral("actionBnTuning"),
        [this, live] { live(controller_->tuning()->runTuningStep(ptq::TuningStep::BatchNorm)); });
    add(tr("Bias c&orrection"), QStringLiteral("actionBiasCorrection"),
        [this] { controller_->tuning()->runTuningStep(ptq::TuningStep::BiasCorrection); });
    add(tr("Bias &tuning"), QStringLiteral("actionBiasTuning"),
        [this, live] { live(controller_->tuning()->runTuningStep(ptq::TuningStep::BiasTuning)); });
    quantizeMenu_->addSeparator();
    add(tr("&Distil calibration data…"), QStringLiteral("actionDistill"), [this, live] {
        bool ok = false;
        const int count = QInputDialog::getInt(this, tr("Distil calibration data"),
                                               tr("Images to distil from the model's BatchNorm statistics:"), 32, 1,
                                               1024, 1, &ok);
        if (ok) live(controller_->tuning()->distillCalibration(count));
    });
    QAction* evaluate = add(tr("&Evaluate allocation"), QStringLiteral("actionEvaluate"),
                            [this] { controller_->tuning()->evaluateAllocation(); });
    evaluate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    quantizeMenu_->addSeparator();
    QAction* light = add(tr("&Light pipeline"), QStringLiteral("actionLightPipeline"),
                         [this, live] { live(controller_->tuning()->runPipeline(QStringLiteral("light"))); });
    QAction* advanced = add(tr("Ad&vanced pipeline"), QStringLiteral("actionAdvancedPipeline"),
                            [this, live] { live(controller_->tuning()->runPipeline(QStringLiteral("advanced"))); });
    QAction* blocks = add(tr("Advanced pipeline reconstructs &blocks"), QStringLiteral("actionAdvancedBlocks"),
                          [this](bool on) { controller_->tuning()->setAdvancedBlocks(on); });
    blocks->setCheckable(true);
    QAction* equalize = add(tr("Equalize depthwise input ran&ges"), QStringLiteral("actionEqualizeRanges"),
                            [this](bool on) { controller_->tuning()->setEqualizeRanges(on); });
    equalize->setCheckable(true);
    equalize->setToolTip(tr("Before calibrating, rescale each conv that feeds a depthwise layer (through ReLU or "
                            "ReLU6) and that layer's filters so that every channel of the depthwise input spans the "
                            "same range: the same FP32 model, free for per-channel weights, and finer 4-bit "
                            "activations on MobileNet-style models. AIMET encodings cannot describe the rescaled "
                            "model."));
    quantizeMenu_->addSeparator();
    add(tr("Anchor predictions (&light)"), QStringLiteral("actionAnchorLight"),
        [this] { controller_->tuning()->anchorPredictions(QStringLiteral("light")); });
    add(tr("Anchor predictions (adva&nced)"), QStringLiteral("actionAnchorAdvanced"),
        [this] { controller_->tuning()->anchorPredictions(QStringLiteral("advanced")); });
    blocks->setToolTip(tr("The advanced pipeline tunes each residual block (or any single-input single-output "
                          "stretch) as a whole against its FP output, instead of layer by layer, then tunes the biases "
                          "(no BN tuning: the blocks were fitted with their BatchNorms folded in)."));
    quantizeMenu_->addSeparator();
    add(tr("E&valuation data…"), QStringLiteral("actionEvaluationData"), [this] { chooseEvaluationData(); });

    QToolBar* bar = addToolBar(tr("Quantize"));
    bar->setObjectName(QStringLiteral("quantizeToolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    bar->addAction(evaluate);
    bar->addAction(adaquant);
    bar->addAction(light);
    bar->addAction(advanced);
    jobsPanel_->setRunMenu(quantizeMenu_);
}

void MainWindow::chooseEvaluationData() {
    auto* dialog = new CalibrationDialog(controller_->session().evaluationSource, this,
                                         CalibrationDialog::Purpose::Evaluation);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    // The dialog parsed the name before it accepted: the previous source stays on a bad one.
    connect(dialog, &QDialog::accepted, this,
            [this, dialog] { controller_->tuning()->setEvaluationSource(dialog->spec()); });
    dialog->open();
}

void MainWindow::connectJobs() {
    JobRunner* jobs = controller_->jobs();
    connect(jobs, &JobRunner::jobQueued, this, &MainWindow::onJobQueued);
    connect(jobs, &JobRunner::jobStarted, this, &MainWindow::onJobStarted);
    connect(jobs, &JobRunner::jobProgress, this, &MainWindow::onJobProgress);
    connect(jobs, &JobRunner::jobFinished, this,
            [this](int id, const QString& title, bool ok, bool cancelled, const QString& message, bool,
                   JobRunner::Kind kind) { onJobFinished(id, title, ok, cancelled, message, kind); });
    connect(jobsPanel_, &JobsPanel::cancelRequested, jobs, &JobRunner::cancel);
    connect(jobsPanel_, &JobsPanel::cancelAllRequested, jobs, &JobRunner::cancelAll);
    const auto refused = [this](const QString& title, const QString& message) {
        reportError(tr("Cannot run %1").arg(title), message);
    };
    connect(controller_, &SessionController::jobRefused, this, refused);
    connect(controller_->tuning(), &TuningJobs::jobRefused, this, refused);
    connect(controller_->tuning(), &TuningJobs::measuredChanged, this, &MainWindow::refreshMeasured);
    progressPlots_->setFeed(controller_->tuning()->liveFeed());
}

void MainWindow::onJobQueued(int id, const QString& title) {
    jobModel_->addJob(title, id);
}

void MainWindow::onJobStarted(int id, const QString& title) {
    jobModel_->setState(id, JobListModel::State::Running);
    statusLabel_->setText(title + QStringLiteral("…"));
    progressBar_->setValue(0);
    progressBar_->setFormat(QStringLiteral("%p%"));
    progressBar_->show();
    cancelButton_->show();
    if (liveJobs_.contains(id)) {
        progressDock_->show();
        progressDock_->raise();
    }
}

void MainWindow::onJobProgress(int id, double fraction, const QString& stage) {
    progressBar_->setValue(int(fraction * 1000));
    progressBar_->setToolTip(stage);  // the bar is narrow: the stage goes in the status text
    statusLabel_->setText(stage.isEmpty() ? statusLabel_->text() : stage + QStringLiteral("…"));
    jobModel_->setProgress(id, fraction);
}

void MainWindow::onJobFinished(int id, const QString& title, bool ok, bool cancelled, const QString& message,
                               JobRunner::Kind kind) {
    jobModel_->setState(id, ok ? JobListModel::State::Finished
                               : cancelled ? JobListModel::State::Cancelled : JobListModel::State::Failed);
    liveJobs_.remove(id);
    if (!controller_->jobs()->isBusy()) {
        progressBar_->hide();
        cancelButton_->hide();
    }
    if (ok) {
        statusBar()->showMessage(tr("%1: done").arg(title), 4000);  // over the label, which the result set
    } else if (cancelled) {
        statusLabel_->setText(tr("%1: cancelled; nothing changed").arg(title));
    } else if (kind != JobRunner::Kind::Import) {  // a failed import reports through modelLoadFailed
        statusLabel_->setText(tr("%1 failed; nothing changed").arg(title));
        reportError(tr("%1 failed").arg(title), message);
    }
}

void MainWindow::refreshMeasured() {
    const ptq::Session& s = controller_->session();
    std::vector<QPointF> points;
    if (s.problem) {
        const ptq::BudgetRequest r = budgetPanel_->request();
        const double reference = s.problem->referenceCost(r.metric, r.reference);
        for (const ptq::MeasuredAllocation& m : s.measured)
            if (int(m.choice.size()) == s.problem->layerCount() && reference > 0)
                points.emplace_back(s.problem->costOf(r.metric, m.choice) / reference, m.loss - m.fp32Loss);
    }
    plotsPanel_->paretoPlot()->setMeasured(points);
    showMeasuredFits();
}

void MainWindow::showMeasuredFits() {
    const ptq::Session& s = controller_->session();
    std::vector<std::pair<std::string, ptq::CorrectedPrediction>> fits;
    double lo = 0, hi = 0;
    if (s.problem && s.sensitivity && !s.allocation.choice.empty()) {
        std::vector<std::string> pipelines;
        for (const ptq::MeasuredAllocation& m : s.measured)
            if (m.evaluationSource == s.evaluationSource.text &&
                std::find(pipelines.begin(), pipelines.end(), m.pipeline) == pipelines.end())
                pipelines.push_back(m.pipeline);
        const double load = s.problem->deltaLossOf(s.allocation.choice);
        for (const std::string& pipeline : pipelines) {
            const ptq::DropModel model = ptq::dropModelFor(*s.problem, s.measured, pipeline, s.evaluationSource.text);
            const ptq::CorrectedPrediction p = model.predict(load);
            if (!p.valid) continue;
            fits.emplace_back(pipeline, p);
            // The band: the cost ratios of the best-anchored fit's measured allocations.
            if (fits.size() == 1 || p.anchors > fits.front().second.anchors) {
                lo = 1e300;
                hi = -1e300;
                for (const ptq::PredictionAnchor& a : model.anchors()) {
                    lo = std::min(lo, a.costRatio);
                    hi = std::max(hi, a.costRatio);
                }
            }
        }
    }
    budgetModel_->setMeasuredFits(fits, s.sensitivity ? s.sensitivity->fp32Top1 : 0.0);
    plotsPanel_->paretoPlot()->setAnchoredRange(lo, hi);
}

}  // namespace ptq::ui
