#pragma once
/// @file
/// The GUI's session: owns the ptq::Session and the JobRunner its long work queues on, and
/// handles the model: opening it (the workflow's openModel), its calibration source and
/// sensitivity table (sensitivityFor, with the cache folder), restoring a project's session.
/// The budget is its BudgetController's (budgetState()), the quantization jobs its
/// TuningJobs' (tuning()). Lives on the UI thread; the UI thread never waits on a job: results
/// come back as signals, and a job changes the session only when it ends well.

#include "core/session/session.h"
#include "ui/session/budget_controller.h"
#include "ui/session/job_runner.h"
#include "ui/session/tuning_jobs.h"

#include <QtCore/QObject>
#include <QtCore/QString>

#include <functional>
#include <memory>
#include <string>

namespace ptq::ui {

class SessionController : public QObject {
    Q_OBJECT
public:
    explicit SessionController(QObject* parent = nullptr);
    /// Cancels a running job and waits for it, then for the budget's solves.
    ~SessionController() override;

    const ptq::Session& session() const { return session_; }
    /// The budget and its solves.
    BudgetController* budgetState() const { return budget_; }
    /// The quantization jobs and the tuned model.
    TuningJobs* tuning() const { return tuning_; }
    JobRunner* jobs() const { return jobs_; }

    /// Where sensitivity tables are cached; empty disables the cache.
    void setCacheDirectory(const QString& directory) { cacheDirectory_ = directory; }
    QString cacheDirectory() const { return cacheDirectory_; }
    /// The options and quantizer settings tables are measured with.
    const ptq::SensitivityRequest& sensitivityRequest() const { return sensitivityRequest_; }

    /// Imports the model @p request names (its file and what the user said of it over the
    /// sidecar), then measures (or reads from the cache) its sensitivity on
    /// @p calibrationSource. The current model stays until the new one is in.
    void openModel(const ptq::ModelRequest& request, const ptq::DataSourceSpec& calibrationSource);
    /// Reads @p path that has no model card: checks that it loads as TorchScript and guesses its
    /// input shape, then emits modelNeedsCard. A file that does not load ends in modelLoadFailed.
    void probeModel(const QString& path);
    /// Measures the open model's table again on another calibration source, which becomes the
    /// session's when the table is in (a source that fails changes nothing).
    void setCalibrationSource(const ptq::DataSourceSpec& source);
    /// Measures the sensitivity table again on the calibration source; -1 after jobRefused.
    int measureSensitivity();
    /// Installs @p table without a model or a measurement (benchmarks, tests, a table from
    /// `ptq sensitivity --json`): as if a sensitivity job had just finished.
    void installTable(std::shared_ptr<const ptq::SensitivityResult> table);
    /// Installs @p session (a project just read) with the request and budget that made it, as
    /// if its model had loaded and its table had been measured: emits modelLoaded,
    /// sensitivityReady(true), and the budget's pinsChanged and allocationChanged. The
    /// session's allocation is kept as it is: budget requests that views make meanwhile are
    /// ignored. A running job's result is dropped as stale.
    void restoreSession(ptq::Session session, const ptq::SensitivityRequest& request,
                        const ptq::BudgetRequest& budget);
    /// Runs @p work on the job pool as a job named @p title, with jobStarted/jobProgress/
    /// jobFinished like the others; then @p done on the UI thread.
    void runJob(JobRunner::Kind kind, const QString& title, std::function<void(const ptq::Progress&)> work,
                std::function<void(bool ok, const QString& message)> done);
    /// Asks the running job to stop; it ends with jobFinished(ok = false).
    void cancelJob();
    bool isJobRunning() const { return jobs_->isBusy(); }
    /// No job, no solve, nothing pending.
    bool isIdle() const { return !jobs_->isBusy() && !budget_->isBusy(); }

Q_SIGNALS:
    void jobStarted(const QString& title);
    /// Rate-limited to about 20 a second.
    void jobProgress(double fraction, const QString& stage);
    /// @p message is empty when it went well, else the sentence to show.
    void jobFinished(const QString& title, bool ok, const QString& message, bool invalidInput);
    void modelLoaded();
    /// The import of @p path failed; the previous model stays.
    void modelLoadFailed(const QString& path, const QString& message, bool invalidInput);
    /// probeModel's answer: @p path loads but no card says its input shape and normalization.
    void modelNeedsCard(const QString& path, const std::vector<int64_t>& suggestedShape);
    void sensitivityReady(bool fromCache);
    /// Cells of the table shown were measured (it began as an estimate); @p complete: all are.
    void sensitivityUpdated(bool complete);
    /// A job of the model's could not start: @p message says why and what to do.
    void jobRefused(const QString& title, const QString& message);
    /// Nothing runs and nothing is pending any more.
    void becameIdle();

private:
    int startSensitivity(const ptq::DataSourceSpec& source);
    /// Reports job @p id's failure as @p path's modelLoadFailed (the previous model stays).
    void reportLoadFailure(int id, const QString& path);
    /// Forwards the runner's signals as the id-less jobStarted/jobProgress/jobFinished.
    void connectRunner();
    void checkIdle();

    ptq::Session session_;
    ptq::SensitivityRequest sensitivityRequest_;
    /// Counts the sensitivity jobs started: a job's estimate and cells reach the session only
    /// while it is the newest.
    int tableGeneration_ = 0;
    QString cacheDirectory_;
    JobRunner* jobs_;
    BudgetController* budget_;
    TuningJobs* tuning_;
};

}  // namespace ptq::ui
