#pragma once
/// @file
/// Runs the core's long calls one at a time on a worker thread, in the order they were
/// submitted, each with its own progress/cancel object. A job is a function that does the work
/// on the worker and returns what to do with its result on the UI thread ("apply"); apply runs
/// only when the work finished without error or cancel, so a cancelled or failed job changes
/// nothing. The UI thread never waits on a job. UI thread only (the work runs on the pool).

#include "core/util/progress.h"

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QThreadPool>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>

namespace ptq::ui {

class JobRunner : public QObject {
    Q_OBJECT
public:
    /// Applied on the UI thread when the work went well; may be empty.
    using Apply = std::function<void()>;
    /// Runs on the worker thread; throws ptq::Error, ptq::Cancelled or std::exception.
    using Work = std::function<Apply(const ptq::Progress& progress)>;

    /// What a job does. The window reports by kind, not by title: an import's failure is
    /// the model's, shown by the open-model path.
    enum class Kind { Import, Sensitivity, Calibrate, Tuning, Pipeline, Evaluate, Distill, Export, Project };
    Q_ENUM(Kind)

    explicit JobRunner(QObject* parent = nullptr);
    /// Cancels everything and waits for the running job (a cancelled core call stops soon).
    ~JobRunner() override;

    /// Makes the work on the UI thread when the job starts, so it sees the session as the jobs
    /// before it left it; throws ptq::Error when the session cannot run it any more.
    using Prepare = std::function<Work()>;

    /// Queues @p work under @p title and returns its id; it starts when the jobs before it end.
    int submit(Kind kind, const QString& title, Work work);
    /// Queues a job whose work @p prepare makes when it starts.
    int submitPrepared(Kind kind, const QString& title, Prepare prepare);
    /// Cancels job @p id: a queued one ends at once, a running one is asked to stop.
    void cancel(int id);
    /// Cancels every queued and the running job.
    void cancelAll();

    bool isBusy() const { return running_ != nullptr || !queue_.empty(); }
    int runningId() const;
    int queuedCount() const { return int(queue_.size()); }
    /// Worker-side time from the running job's cancel request to its work returning, for the
    /// newest cancelled job (ms; -1 when none yet). What "cancels within 0.5 s" is about.
    double lastCancelLatencyMs() const { return lastCancelLatencyMs_; }

Q_SIGNALS:
    void jobQueued(int id, const QString& title, ptq::ui::JobRunner::Kind kind);
    void jobStarted(int id, const QString& title, ptq::ui::JobRunner::Kind kind);
    /// At most about 20 a second per job.
    void jobProgress(int id, double fraction, const QString& stage);
    /// @p message is empty when it went well, else the sentence to show ("Cancelled." when
    /// cancelled). Emitted after apply ran.
    void jobFinished(int id, const QString& title, bool ok, bool cancelled, const QString& message,
                     bool invalidInput, ptq::ui::JobRunner::Kind kind);
    void idle();

private:
    struct Job {
        int id = 0;
        Kind kind = Kind::Import;
        QString title;
        Prepare prepare;
        std::shared_ptr<ptq::Progress> progress;
        /// steady_clock nanoseconds when cancel was asked for; 0 before.
        std::shared_ptr<std::atomic<int64_t>> cancelAt = std::make_shared<std::atomic<int64_t>>(0);
    };
    void startNext();

    QThreadPool pool_;
    std::deque<std::shared_ptr<Job>> queue_;
    std::shared_ptr<Job> running_;
    int nextId_ = 1;
    double lastCancelLatencyMs_ = -1;
};

}  // namespace ptq::ui
