#pragma once
/// @file
/// Runs the core's long calls for the GUI and owns the ptq::Session they change. Lives on the
/// UI thread; model import, sensitivity measurement and the quantization jobs (calibrate,
/// AdaQuant, BN tuning, bias tuning, distil, evaluate, pipelines) queue on a JobRunner (one
/// LibTorch job at a time), budget solves run on a one-thread pool. The UI thread never
/// waits on either: results come back as signals. Solves are coalesced: while one runs, only
/// the newest requested budget is kept, never a queue. A job changes the session only when it
/// ends well (session_jobs.cpp).

#include "core/session/session.h"
#include "core/methods/distill.h"
#include "core/workflow/tuned_model.h"
#include "ui/session/job_runner.h"
#include "ui/session/live_feed.h"

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QThreadPool>

#include <functional>
#include <memory>
#include <optional>

namespace ptq::ui {

class SessionController : public QObject {
    Q_OBJECT
public:
    explicit SessionController(QObject* parent = nullptr);
    /// Cancels a running job and waits for both pools (a cancelled core call stops soon).
    ~SessionController() override;

    const ptq::Session& session() const { return session_; }
    /// Where sensitivity tables are cached; empty disables the cache.
    void setCacheDirectory(const QString& directory) { cacheDirectory_ = directory; }
    QString cacheDirectory() const { return cacheDirectory_; }
    void setSensitivityRequest(const ptq::SensitivityRequest& request) { sensitivityRequest_ = request; }
    const ptq::SensitivityRequest& sensitivityRequest() const { return sensitivityRequest_; }

    /// Imports @p path, then measures (or reads from the cache) its sensitivity on
    /// @p calibrationSource. The current model stays until the new one is in.
    void openModel(const QString& path, const QString& calibrationSource);
    /// Measures the open model's table again on another calibration source, which becomes the
    /// session's when the table is in (a source that fails changes nothing).
    void setCalibrationSource(const QString& source);
    /// Installs @p table without a model or a measurement (benchmarks, tests, a table from
    /// `ptq sensitivity --json`): as if a sensitivity job had just finished.
    void installTable(std::shared_ptr<const ptq::SensitivityResult> table);
    /// Installs @p session (a project just read) with the request and budget that made it, as
    /// if its model had loaded and its table had been measured: emits modelLoaded,
    /// sensitivityReady(true), pinsChanged and allocationChanged. The session's allocation is
    /// kept as it is: budget requests that views make while these signals run are ignored.
    /// A running job's result is dropped as stale.
    void restoreSession(ptq::Session session, const ptq::SensitivityRequest& request,
                        const ptq::BudgetRequest& budget);
    /// Runs @p work on the job pool (one LibTorch job at a time) as a job named @p title, with
    /// jobStarted/jobProgress/jobFinished like the others; then @p done on the UI thread.
    void runJob(const QString& title, std::function<void(const ptq::Progress&)> work,
                std::function<void(bool ok, const QString& message)> done);
    /// Asks the running job to stop; it ends with jobFinished(ok = false).
    void cancelJob();
    bool isJobRunning() const { return jobs_->isBusy(); }
    bool isSolving() const { return solveRunning_; }
    /// No job, no solve, nothing pending.
    bool isIdle() const { return !jobs_->isBusy() && !solveRunning_ && !pendingSolve_ && frontiersInFlight_ == 0; }
    JobRunner* jobs() const { return jobs_; }
    /// Live figures of the running job, for the progress plots.
    LiveFeed* liveFeed() { return &feed_; }

    // Quantization jobs on the current allocation (session_jobs.cpp). Each queues behind the
    // running job and returns its id, or -1 after jobRefused when the session cannot run it
    // (no model, no table, no allocation). None changes the session unless it ends well.
    /// Measures the sensitivity table again on the calibration source.
    int measureSensitivity();
    /// Quantizes the current allocation with ranges from the calibration data (a new tuned model).
    int calibrateRanges();
    /// Runs @p step on the tuned model of the current allocation (calibrating it first when
    /// there is none for this allocation). Parallel AdaQuant also adds to session().adaquant.
    int runTuningStep(ptq::TuningStep step);
    /// "light" (ranges, BN tuning, bias correction) or "advanced" (ranges, parallel AdaQuant,
    /// BN tuning, bias tuning) from fresh ranges, then measures the result.
    int runPipeline(const QString& name);
    /// Measures the real top-1 of the current allocation (its tuned model when there is one) on
    /// the evaluation source and adds it to session().measured.
    int evaluateAllocation();
    /// Distils @p count images from the model's BatchNorm statistics into the cache directory and
    /// makes them the calibration source (the table is measured again on them).
    int distillCalibration(int count = 32);
    void setEvaluationSource(const QString& source) { session_.evaluationSource = source.toStdString(); }
    QString evaluationSource() const { return QString::fromStdString(session_.evaluationSource); }
    /// Iterations, learning rates and seeds of the tuning steps (callbacks are the controller's).
    void setTuningOptions(const ptq::TuningOptions& options) { tuningOptions_ = options; }
    const ptq::TuningOptions& tuningOptions() const { return tuningOptions_; }
    void setDistillOptions(const ptq::DistillOptions& options) { distillOptions_ = options; }
    /// The current tuned model (calibrated, with the steps that ran), for exporting what was
    /// measured; null before the first quantization job. Use it on the job pool only.
    std::shared_ptr<const ptq::TunedModel> tunedModel() const { return tuned_; }
    /// What was done to the current tuned model; nullptr before the first quantization job.
    const ptq::TunedState* tunedState() const { return tuned_ ? &tunedState_ : nullptr; }
    /// True when the tuned model quantizes the allocation shown now.
    bool tunedMatchesAllocation() const;

    /// Solves started since construction (a coalesced request that never ran is not one).
    int solvesStarted() const { return solvesStarted_; }
    /// The budget last asked for (its pins are the session's).
    ptq::BudgetRequest budget() const { return budget_; }
    /// Re-solves for @p request off the UI thread, coalesced to the newest request.
    void requestBudget(const ptq::BudgetRequest& request);
    /// Pins @p layer to @p option (-1 unpins) and re-solves.
    void setPin(int layer, int option);
    /// Replaces every pin (undo/redo) and re-solves.
    void setPins(const std::map<int, int>& pins);
    /// Makes @p choice the allocation as it is (a Pareto point the user clicked).
    void adoptChoice(const std::vector<int>& choice);
    /// Computes the Pareto frontier for @p request's metric, reference and the session's pins
    /// off the UI thread (the exact frontier of a 54-layer BOPs problem takes ~0.5 s); emits
    /// frontierReady. Only the newest request's answer is delivered.
    void requestFrontier(const ptq::BudgetRequest& request);
    /// Frontiers are thinned to at most this many points for plotting and clicking.
    static constexpr int kMaxFrontierPoints = 600;

Q_SIGNALS:
    void jobStarted(const QString& title);
    /// Rate-limited to about 20 a second.
    void jobProgress(double fraction, const QString& stage);
    /// @p message is empty when it went well, else the sentence to show.
    void jobFinished(const QString& title, bool ok, const QString& message, bool invalidInput);
    void modelLoaded();
    /// The import of @p path failed; the previous model stays.
    void modelLoadFailed(const QString& path, const QString& message, bool invalidInput);
    void sensitivityReady(bool fromCache);
    /// session().allocation changed (a solve finished, a point was adopted).
    void allocationChanged();
    /// The newest solve found no allocation; the previous one stays. @p status says why.
    void solveInfeasible(const QString& status);
    void pinsChanged();
    /// The frontier asked for by the newest requestFrontier, cheapest first.
    void frontierReady(const std::vector<ptq::BudgetPoint>& points, ptq::CostMetric metric,
                       ptq::CostReference reference);
    /// Nothing runs and nothing is pending any more.
    void becameIdle();
    /// A job could not start: @p message says why and what to do.
    void jobRefused(const QString& title, const QString& message);
    /// The tuned model was replaced or a step ran on it (tunedState()).
    void tunedChanged();
    /// session().measured gained a point.
    void measuredChanged();
    /// session().adaquant gained results.
    void adaquantChanged();

private:
    int startSensitivity(const std::string& source);
    /// Forwards the runner's signals as the id-less jobStarted/jobProgress/jobFinished.
    void connectRunner();
    /// What calibrateAllocation needs for the current allocation; empty message when ready.
    QString allocationSpec(ptq::AllocationSpec& spec) const;
    /// Fills @p m's predicted figures and costs from the current problem.
    void completeMeasurement(ptq::MeasuredAllocation& m) const;
    int refuse(const QString& title, const QString& message);
    /// tuningOptions_ with callbacks that feed the live plots.
    ptq::TuningOptions liveTuningOptions();
    void startSolve(const ptq::BudgetRequest& request);
    void onSolved(const std::shared_ptr<const ptq::BudgetProblem>& problem, const ptq::BudgetAllocation& result);
    void resolveNow();
    void checkIdle();

    ptq::Session session_;
    ptq::SensitivityRequest sensitivityRequest_;
    ptq::BudgetRequest budget_;
    QString cacheDirectory_;
    QThreadPool solvePool_, frontierPool_;
    JobRunner* jobs_;
    LiveFeed feed_;
    ptq::TuningOptions tuningOptions_;
    ptq::DistillOptions distillOptions_;
    /// Used by one job at a time on the job thread; the UI reads tunedState_.
    std::shared_ptr<ptq::TunedModel> tuned_;
    ptq::TunedState tunedState_;
    /// The FP model on each evaluation source, for the current model.
    std::map<std::string, ptq::Fp32Figures> fp32_;
    bool solveRunning_ = false;
    std::optional<ptq::BudgetRequest> pendingSolve_;
    int solvesStarted_ = 0;
    int frontierGeneration_ = 0;
    int frontiersInFlight_ = 0;
    bool restoring_ = false;
};

}  // namespace ptq::ui
