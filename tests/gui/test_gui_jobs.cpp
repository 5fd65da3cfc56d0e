// The GUI's quantization jobs on the bundled demo model, offscreen: evaluate the allocation
// (a measured point on the Pareto plot), AdaQuant with its live plots, BN tuning, a pipeline,
// jobs queued behind one another, a running job cancelled (and the session as it was, down to
// the tuned model's top-1), and a job that fails on calibration data of the wrong shape (an
// error dialog, nothing changed). Waits have generous timeouts only so that a hang fails; the
// one figure checked against a time is the worker's cancel latency, which the job runner
// measures itself (the requirement: a running job stops within 0.5 s of the cancel).

#include "core/model/model_card.h"
#include "ui/mainwindow/main_window.h"
#include "ui/models/budget_model.h"
#include "ui/models/job_list_model.h"
#include "ui/models/layer_table_model.h"
#include "ui/panels/plots_panel.h"
#include "ui/plots/pareto_plot.h"
#include "ui/plots/progress_plots.h"
#include "ui/session/session_controller.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>
#include <QtGui/QAction>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QMessageBox>

#include <memory>

using namespace ptq::ui;

namespace {
constexpr int kJobTimeoutMs = 600000;
const QString kCalibration = QStringLiteral("fmnist:train:64");
const QString kEvaluation = QStringLiteral("fmnist:test:300");

/// A float32 .npy file of @p shape filled with a ramp (Fashion-MNIST is 1x28x28; this is not).
bool writeNpy(const QString& path, const std::vector<int>& shape) {
    QString dims;
    size_t count = 1;
    for (int d : shape) {
        dims += QString::number(d) + QStringLiteral(", ");
        count *= size_t(d);
    }
    QByteArray header = QStringLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (%1), }").arg(dims.chopped(2)).toLatin1();
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return false;
    f.write("\x93NUMPY\x01\x00", 8);
    const quint16 len = quint16(header.size());
    f.write(reinterpret_cast<const char*>(&len), 2);
    f.write(header);
    std::vector<float> data(count);
    for (size_t k = 0; k < count; ++k) data[k] = float(k % 97) / 97.f;
    f.write(reinterpret_cast<const char*>(data.data()), qint64(count * sizeof(float)));
    return true;
}
}  // namespace

class TestJobs : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void evaluateAddsMeasuredPoint();
    void adaQuantTunesWithLivePlots();
    void cancelLeavesSessionUnchanged();
    void queuedJobsRunInOrderAndCancelWhileQueued();
    void failingJobShowsErrorAndChangesNothing();
    void lightPipelineMeasures();
    void blockReconstructionJob();
    void rangeEqualizationOption();
    void anchorsFitThePredictions();
    void tableStartsAsEstimateAndFillsIn();
    void cleanupTestCase();

private:
    /// Waits for job @p id to end; returns (ok, cancelled).
    std::pair<bool, bool> waitFor(int id);
    double evaluateTop1();
    SessionController* controller() const { return window_->controller(); }

    QTemporaryDir dir_;
    std::unique_ptr<MainWindow> window_;
    std::unique_ptr<QSignalSpy> finished_;
};

void TestJobs::initTestCase() {
    const QString demo = QString::fromStdString(ptq::demoModelPath());
    QVERIFY2(!demo.isEmpty(), "the demo model resources/models/resnet20_fmnist.pt is missing");
    QVERIFY(dir_.isValid());
    MainWindow::Options options;
    options.persistLayout = false;
    options.calibrationSource = kCalibration;
    options.cacheDirectory = dir_.path();
    window_ = std::make_unique<MainWindow>(options);
    finished_ = std::make_unique<QSignalSpy>(controller()->jobs(), &JobRunner::jobFinished);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QSignalSpy ready(window_.get(), &MainWindow::initialJobsFinished);
    window_->openModel(demo);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kJobTimeoutMs);
    controller()->tuning()->setEvaluationSource(ptq::parseDataSource(kEvaluation.toStdString()));
    ptq::TuningOptions tuning;
    tuning.adaquant.iterations = 30;
    tuning.adaquant.batchSize = 32;
    tuning.biasTuning.iterations = 20;
    controller()->tuning()->setTuningOptions(tuning);
}

std::pair<bool, bool> TestJobs::waitFor(int id) {
    auto done = [&] {
        for (const QList<QVariant>& args : *finished_)
            if (args.at(0).toInt() == id) return true;
        return false;
    };
    if (!QTest::qWaitFor(done, kJobTimeoutMs)) return {false, false};
    for (const QList<QVariant>& args : *finished_)
        if (args.at(0).toInt() == id) return {args.at(2).toBool(), args.at(3).toBool()};
    return {false, false};
}

double TestJobs::evaluateTop1() {
    const size_t before = controller()->session().measured.size();
    const int id = controller()->tuning()->evaluateAllocation();
    if (id <= 0 || !waitFor(id).first || controller()->session().measured.size() != before + 1) return -1;
    return controller()->session().measured.back().top1;
}

void TestJobs::tableStartsAsEstimateAndFillsIn() {
    // Another calibration source: no table in the cache, so an estimate first, then measured cells.
    QSignalSpy ready(controller(), &SessionController::sensitivityReady);
    QSignalSpy updated(controller(), &SessionController::sensitivityUpdated);
    controller()->setCalibrationSource(ptq::parseDataSource("fmnist:train:40"));
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, kJobTimeoutMs);
    const auto estimate = controller()->session().sensitivity;
    QVERIFY(estimate);
    const size_t cells = estimate->layers.size() * estimate->options.size();
    QCOMPARE(estimate->estimatedCells(), cells);
    QCOMPARE(controller()->session().calibrationSource.text, std::string("fmnist:train:40"));
    QTRY_VERIFY_WITH_TIMEOUT(!controller()->session().allocation.choice.empty(), kJobTimeoutMs);
    // A pin made while the cells come in stays through them and the end of the measurement.
    controller()->budgetState()->setPin(3, 0);
    QTRY_VERIFY_WITH_TIMEOUT(!updated.isEmpty() && updated.last().at(0).toBool(), kJobTimeoutMs);
    QCOMPARE(ready.count(), 1);  // filled in, not replaced
    QVERIFY(updated.count() >= 2);
    const auto measured = controller()->session().sensitivity;
    QCOMPARE(measured->estimatedCells(), size_t(0));
    QCOMPARE(measured->samples, int64_t(40));
    QCOMPARE(controller()->session().pins.count(3), size_t(1));
    QCOMPARE(controller()->session().pins.at(3), 0);
    QTRY_VERIFY_WITH_TIMEOUT(controller()->isIdle(), kJobTimeoutMs);
    QCOMPARE(controller()->session().allocation.choice.at(3), 0);
    // The layer table shows measured cells without the estimate's mark.
    const QAbstractItemModel* layers = window_->layerModel();
    const QString shown = layers->data(layers->index(0, layers->columnCount() - 1)).toString();
    QVERIFY2(!shown.startsWith(QStringLiteral("≈")), qPrintable(shown));
}

void TestJobs::evaluateAddsMeasuredPoint() {
    ParetoPlot* pareto = window_->plotsPanel()->paretoPlot();
    QCOMPARE(pareto->measuredCount(), 0);
    QSignalSpy measured(controller()->tuning(), &TuningJobs::measuredChanged);
    const double top1 = evaluateTop1();
    QVERIFY2(top1 > 50.0, qPrintable(QString::number(top1)));
    QVERIFY(measured.count() >= 1);
    const ptq::MeasuredAllocation& m = controller()->session().measured.back();
    QCOMPARE(m.evaluationSource, kEvaluation.toStdString());
    QCOMPARE(m.choice, controller()->session().allocation.choice);
    QCOMPARE(m.pipeline, std::string("none"));
    QVERIFY(m.fp32Top1 > 80.0);
    QVERIFY(m.sizeBytes > 0 && m.bops > 0);
    // Beside the predicted frontier, in its own style.
    QCOMPARE(pareto->measuredCount(), 1);
    // Evaluating created the allocation's tuned model (ranges only).
    QVERIFY(controller()->tuning()->tunedState());
    QVERIFY(controller()->tuning()->tunedState()->steps.empty());  // calibrated, no step yet
}

void TestJobs::adaQuantTunesWithLivePlots() {
    ProgressPlots* plots = window_->progressPlots();
    const int redrawsBefore = plots->redraws();
    QSignalSpy adaquant(controller()->tuning(), &TuningJobs::adaquantChanged);
    const int id = controller()->tuning()->runTuningStep(ptq::TuningStep::AdaQuantParallel);
    QVERIFY(id > 0);
    QCOMPARE(waitFor(id), std::make_pair(true, false));
    QCOMPARE(adaquant.count(), 1);
    const ptq::TunedState* state = controller()->tuning()->tunedState();
    QVERIFY(state);
    QCOMPARE(state->steps, (std::vector<ptq::TuningStep>{ptq::TuningStep::AdaQuantParallel}));
    const size_t layers = controller()->session().sensitivity->layers.size();
    QCOMPARE(state->adaquantLayers.size(), layers);
    QVERIFY(controller()->session().adaquant);
    QCOMPARE(controller()->session().adaquant->size(), layers);
    for (const ptq::AdaQuantLayerResult& l : state->adaquantLayers) QVERIFY(l.mseAfter <= l.mseBefore);
    // The plots drew from the feed, at their own pace: every finished layer is a bar pair.
    plots->refresh();
    QVERIFY(plots->redraws() > redrawsBefore);
    QCOMPARE(plots->barCount(), int(layers));
    QVERIFY(plots->curvePoints() > 0);
    QVERIFY2(plots->caption().contains(QStringLiteral("AdaQuant")), qPrintable(plots->caption()));
}

void TestJobs::cancelLeavesSessionUnchanged() {
    const double top1Before = evaluateTop1();
    QVERIFY(top1Before > 0);
    const ptq::Session& s = controller()->session();
    const auto adaquantBefore = s.adaquant;
    const auto tableBefore = s.sensitivity;
    const std::vector<int> choiceBefore = s.allocation.choice;
    const size_t measuredBefore = s.measured.size();
    const std::vector<ptq::TuningStep> stepsBefore = controller()->tuning()->tunedState()->steps;

    // Long enough that it is surely still running when the cancel comes.
    ptq::TuningOptions slow = controller()->tuning()->tuningOptions();
    slow.adaquant.iterations = 100000;
    controller()->tuning()->setTuningOptions(slow);
    const int id = controller()->tuning()->runTuningStep(ptq::TuningStep::AdaQuantSequential);
    QVERIFY(id > 0);
    // Cancel once it is training (the feed has loss figures), not while it starts.
    QVERIFY(QTest::qWaitFor([&] { return !controller()->tuning()->liveFeed()->figures().adaquantLoss.empty(); }, kJobTimeoutMs));
    QCOMPARE(controller()->jobs()->runningId(), id);
    QVERIFY(window_->jobModel()->rowCount() > 0);
    controller()->jobs()->cancel(id);
    QCOMPARE(waitFor(id), std::make_pair(false, true));
    const double latency = controller()->jobs()->lastCancelLatencyMs();
    qInfo("cancel latency on the worker: %.1f ms", latency);
    QVERIFY2(latency >= 0 && latency <= 500.0, qPrintable(QString::number(latency)));

    ptq::TuningOptions fast = slow;
    fast.adaquant.iterations = 30;
    controller()->tuning()->setTuningOptions(fast);
    QCOMPARE(s.adaquant, adaquantBefore);
    QCOMPARE(s.sensitivity, tableBefore);
    QCOMPARE(s.allocation.choice, choiceBefore);
    QCOMPARE(s.measured.size(), measuredBefore);
    QCOMPARE(controller()->tuning()->tunedState()->steps, stepsBefore);
    // The tuned model itself is as it was: the same top-1 on the same images.
    QCOMPARE(evaluateTop1(), top1Before);
    // The job list says so.
    JobListModel* jobs = window_->jobModel();
    bool listed = false;
    for (int row = 0; row < jobs->rowCount(); ++row)
        if (jobs->index(row, 0).data(JobListModel::JobIdRole).toInt() == id)
            listed = jobs->index(row, JobListModel::StateColumn).data().toString() == QStringLiteral("cancelled");
    QVERIFY(listed);
}

void TestJobs::queuedJobsRunInOrderAndCancelWhileQueued() {
    QSignalSpy started(controller()->jobs(), &JobRunner::jobStarted);
    const int first = controller()->tuning()->runTuningStep(ptq::TuningStep::BatchNorm);
    const int second = controller()->tuning()->evaluateAllocation();
    const int third = controller()->tuning()->runTuningStep(ptq::TuningStep::BiasTuning);
    QVERIFY(first > 0 && second > first && third > second);
    QCOMPARE(controller()->jobs()->queuedCount() + (controller()->jobs()->runningId() >= 0 ? 1 : 0), 3);
    controller()->jobs()->cancel(third);  // still queued: it never starts
    QCOMPARE(waitFor(first).first, true);
    QCOMPARE(waitFor(second).first, true);
    QCOMPARE(waitFor(third), std::make_pair(false, true));
    QTRY_VERIFY_WITH_TIMEOUT(!controller()->jobs()->isBusy(), kJobTimeoutMs);
    QList<int> order;
    QHash<int, JobRunner::Kind> kinds;
    for (const QList<QVariant>& args : started) {
        order << args.at(0).toInt();
        kinds.insert(args.at(0).toInt(), args.at(2).value<JobRunner::Kind>());
    }
    QCOMPARE(kinds.value(first), JobRunner::Kind::Tuning);  // the window reports by kind, not title
    QCOMPARE(kinds.value(second), JobRunner::Kind::Evaluate);
    QVERIFY(order.indexOf(first) >= 0 && order.indexOf(first) < order.indexOf(second));
    QVERIFY(!order.contains(third));
    // The evaluation measured the model BN tuning left (it ran first).
    QCOMPARE(controller()->tuning()->tunedState()->steps.back(), ptq::TuningStep::BatchNorm);
    // (the cancelled sequential AdaQuant left no trace in the steps)
    QCOMPARE(controller()->session().measured.back().pipeline, std::string("adaquant-parallel+bn-tuning"));
}

void TestJobs::failingJobShowsErrorAndChangesNothing() {
    const QString bad = dir_.filePath(QStringLiteral("wrong-shape.npy"));
    QVERIFY(writeNpy(bad, {8, 3, 32, 32}));
    const ptq::Session& s = controller()->session();
    const std::string sourceBefore = s.calibrationSource.text;
    const auto tableBefore = s.sensitivity;
    const std::vector<int> choiceBefore = s.allocation.choice;
    const auto adaquantBefore = s.adaquant;
    const size_t measuredBefore = s.measured.size();
    const std::vector<ptq::TuningStep> stepsBefore = controller()->tuning()->tunedState()->steps;

    const int before = finished_->count();
    controller()->setCalibrationSource(ptq::parseDataSource("npy:" + bad.toStdString()));
    QTRY_VERIFY_WITH_TIMEOUT(finished_->count() > before, kJobTimeoutMs);
    const QList<QVariant> args = finished_->last();
    QCOMPARE(args.at(2).toBool(), false);  // not ok
    QCOMPARE(args.at(3).toBool(), false);  // not cancelled: failed
    const QString message = args.at(4).toString();
    QVERIFY2(message.contains(QStringLiteral("wrong-shape.npy")) || message.contains(QStringLiteral("shape")),
             qPrintable(message));
    // A dialog says it, with the same sentence.
    QMessageBox* box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = window_->findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr, 5000);
    QCOMPARE(box->text(), message);
    box->close();
    // Nothing changed.
    QCOMPARE(s.calibrationSource.text, sourceBefore);
    QCOMPARE(s.sensitivity, tableBefore);
    QCOMPARE(s.allocation.choice, choiceBefore);
    QCOMPARE(s.adaquant, adaquantBefore);
    QCOMPARE(s.measured.size(), measuredBefore);
    QCOMPARE(controller()->tuning()->tunedState()->steps, stepsBefore);
}

void TestJobs::lightPipelineMeasures() {
    const size_t before = controller()->session().measured.size();
    const int id = controller()->tuning()->runPipeline(QStringLiteral("light"));
    QVERIFY(id > 0);
    QCOMPARE(waitFor(id), std::make_pair(true, false));
    QCOMPARE(controller()->session().measured.size(), before + 1);
    const ptq::MeasuredAllocation& m = controller()->session().measured.back();
    QCOMPARE(m.pipeline, std::string("light"));
    QVERIFY(m.top1 > 50.0);
    QCOMPARE(controller()->tuning()->tunedState()->steps,
             ptq::pipelineSteps(ptq::PipelineKind::Light));
    QCOMPARE(window_->plotsPanel()->paretoPlot()->measuredCount(), int(before + 1));
    QVERIFY(controller()->tuning()->runPipeline(QStringLiteral("heavy")) < 0);  // refused with a sentence
}

void TestJobs::blockReconstructionJob() {
    ptq::TuningOptions tuning = controller()->tuning()->tuningOptions();
    tuning.adaquant.blockIterations = 4;
    controller()->tuning()->setTuningOptions(tuning);
    const int id = controller()->tuning()->runTuningStep(ptq::TuningStep::AdaQuantBlocks);
    QVERIFY(id > 0);
    QCOMPARE(waitFor(id), std::make_pair(true, false));
    QCOMPARE(controller()->tuning()->tunedState()->steps.back(), ptq::TuningStep::AdaQuantBlocks);
    QCOMPARE(int(controller()->tuning()->tunedState()->adaquantLayers.size()), 22);
    // The advanced pipeline with its block option on runs block reconstruction in AdaQuant's place.
    QAction* option = window_->findChild<QAction*>(QStringLiteral("actionAdvancedBlocks"));
    QVERIFY(option && option->isCheckable());
    option->trigger();
    QVERIFY(controller()->tuning()->advancedBlocks());
    const size_t before = controller()->session().measured.size();
    const int pipeline = controller()->tuning()->runPipeline(QStringLiteral("advanced"));
    QCOMPARE(waitFor(pipeline), std::make_pair(true, false));
    QCOMPARE(controller()->session().measured.size(), before + 1);
    QCOMPARE(controller()->session().measured.back().pipeline, std::string("advanced-blocks"));
    option->trigger();
    QVERIFY(!controller()->tuning()->advancedBlocks());
}

void TestJobs::rangeEqualizationOption() {
    QAction* option = window_->findChild<QAction*>(QStringLiteral("actionEqualizeRanges"));
    QVERIFY(option && option->isCheckable() && !option->isChecked());
    QVERIFY(!option->toolTip().isEmpty());
    option->trigger();
    QVERIFY(controller()->tuning()->equalizeRanges());
    // The tuned model was made without it, so it no longer matches; the next job rescales first.
    QVERIFY(!controller()->tuning()->tunedMatchesAllocation());
    const size_t before = controller()->session().measured.size();
    const int id = controller()->tuning()->runPipeline(QStringLiteral("light"));
    QCOMPARE(waitFor(id), std::make_pair(true, false));
    QCOMPARE(controller()->session().measured.size(), before + 1);
    QCOMPARE(controller()->session().measured.back().pipeline, std::string("range equalization + light"));
    const ptq::TunedState* state = controller()->tuning()->tunedState();
    QVERIFY(state && state->equalizedRanges);
    // The demo ResNet-20 has no depthwise layer, and the GUI leaves dense readers alone: the
    // summary says nothing was changed.
    QVERIFY2(QString::fromStdString(state->equalization).contains(QStringLiteral("nothing changed")),
             state->equalization.c_str());
    QVERIFY(controller()->tuning()->tunedMatchesAllocation());
    option->trigger();
    QVERIFY(!controller()->tuning()->equalizeRanges());
    QVERIFY(!controller()->tuning()->tunedMatchesAllocation());
}

void TestJobs::anchorsFitThePredictions() {
    const size_t before = controller()->session().measured.size();
    const int id = controller()->tuning()->anchorPredictions(QStringLiteral("light"), 3);
    QVERIFY(id > 0);
    QCOMPARE(waitFor(id), std::make_pair(true, false));
    const auto& measured = controller()->session().measured;
    QVERIFY(measured.size() >= before + 2 && measured.size() <= before + 3);
    for (size_t i = before; i < measured.size(); ++i) {
        QCOMPARE(measured[i].pipeline, std::string("light"));
        QCOMPARE(measured[i].evaluationSamples, int64_t(300));
    }
    // The budget summary shows the fit's prediction with its uncertainty; the plot its band.
    const BudgetModel* budget = window_->budgetModel();
    const int row = budget->rowOfKey(QStringLiteral("measured_fit"));
    QVERIFY(row >= 0);
    const QString value = budget->data(budget->index(row, BudgetModel::ValueColumn)).toString();
    const QString detail = budget->data(budget->index(row, BudgetModel::DetailColumn)).toString();
    QVERIFY2(value.contains(QStringLiteral("±")) && value.endsWith(QStringLiteral("pt")), qPrintable(value));
    QVERIFY2(detail.startsWith(QStringLiteral("light")) && detail.contains(QStringLiteral("measured")),
             qPrintable(detail));
    const QPointF band = window_->plotsPanel()->paretoPlot()->anchoredRange();
    QVERIFY2(band.x() < band.y() && band.x() >= 0.07 && band.y() <= 0.26,
             qPrintable(QStringLiteral("%1..%2").arg(band.x()).arg(band.y())));
    // Without evaluation data there is nothing to measure on: refused, not queued.
    const ptq::DataSourceSpec eval = controller()->session().evaluationSource;
    controller()->tuning()->setEvaluationSource({});
    QVERIFY(controller()->tuning()->anchorPredictions(QStringLiteral("light")) < 0);
    controller()->tuning()->setEvaluationSource(eval);
    QVERIFY(controller()->tuning()->anchorPredictions(QStringLiteral("heavy")) < 0);
}

void TestJobs::cleanupTestCase() {
    finished_.reset();
    window_.reset();
}

QTEST_MAIN(TestJobs)
#include "test_gui_jobs.moc"
