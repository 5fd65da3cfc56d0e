#include "ui/session/job_runner.h"

#include "core/util/cpu_block_cache.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPointer>

#include <chrono>
#include <mutex>

namespace ptq::ui {

namespace {
int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Outcome {
    JobRunner::Apply apply;
    bool ok = false, cancelled = false, invalidInput = false;
    QString error;
    double cancelLatencyMs = -1;
};
}  // namespace

JobRunner::JobRunner(QObject* parent) : QObject(parent) {
    pool_.setMaxThreadCount(1);  // one LibTorch job at a time
    pool_.setObjectName(QStringLiteral("Jobs"));
}

JobRunner::~JobRunner() {
    queue_.clear();
    if (running_) {
        running_->cancelAt->store(nowNs());
        running_->progress->cancelRequested = true;
    }
    pool_.waitForDone();
}

int JobRunner::submit(Kind kind, const QString& title, Work work) {
    return submitPrepared(kind, title, [work = std::move(work)] { return work; });
}

int JobRunner::submitPrepared(Kind kind, const QString& title, Prepare prepare) {
    auto job = std::make_shared<Job>();
    job->id = nextId_++;
    job->kind = kind;
    job->title = title;
    job->prepare = std::move(prepare);
    job->progress = std::make_shared<ptq::Progress>();
    queue_.push_back(job);
    Q_EMIT jobQueued(job->id, title, kind);
    if (!running_) startNext();
    return job->id;
}

int JobRunner::runningId() const { return running_ ? running_->id : -1; }

void JobRunner::cancel(int id) {
    if (running_ && running_->id == id) {
        if (!running_->progress->cancelRequested) {
            running_->cancelAt->store(nowNs());
            running_->progress->cancelRequested = true;
        }
        return;
    }
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        if ((*it)->id != id) continue;
        const std::shared_ptr<Job> job = *it;
        queue_.erase(it);
        Q_EMIT jobFinished(job->id, job->title, false, true, tr("Cancelled."), false, job->kind);
        if (!isBusy()) Q_EMIT idle();
        return;
    }
}

void JobRunner::cancelAll() {
    while (!queue_.empty()) cancel(queue_.back()->id);
    if (running_) cancel(running_->id);
}

void JobRunner::startNext() {
    if (queue_.empty()) {
        Q_EMIT idle();
        return;
    }
    const std::shared_ptr<Job> job = queue_.front();
    queue_.pop_front();
    Work work;
    try {
        work = job->prepare();
    } catch (const std::exception& e) {
        const auto* error = dynamic_cast<const ptq::Error*>(&e);
        const bool invalid = error && error->kind() == ptq::Error::Kind::InvalidInput;
        const std::string message = ptq::userMessage(e);
        ptq::logger()->error("{}: {}", job->title.toStdString(), message);
        Q_EMIT jobStarted(job->id, job->title, job->kind);
        Q_EMIT jobFinished(job->id, job->title, false, false, QString::fromStdString(message), invalid, job->kind);
        startNext();
        return;
    }
    running_ = job;

    // Reports arrive on the worker; post them to the UI thread at most every 50 ms.
    QPointer<JobRunner> self(this);
    auto clock = std::make_shared<QElapsedTimer>();
    auto lock = std::make_shared<std::mutex>();
    clock->start();
    const int id = job->id;
    job->progress->onProgress = [self, clock, lock, id](double fraction, const std::string& stage) {
        {
            std::lock_guard<std::mutex> guard(*lock);
            if (clock->elapsed() < 50 && fraction < 1.0) return;
            clock->restart();
        }
        const QString text = QString::fromStdString(stage);
        QMetaObject::invokeMethod(
            self.data(), [self, id, fraction, text] { if (self) Q_EMIT self->jobProgress(id, fraction, text); },
            Qt::QueuedConnection);
    };
    Q_EMIT jobStarted(job->id, job->title, job->kind);

    auto* watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, job] {
        watcher->deleteLater();
        const Outcome out = watcher->result();
        running_.reset();
        if (out.cancelLatencyMs >= 0) lastCancelLatencyMs_ = out.cancelLatencyMs;
        bool ok = out.ok;
        QString error = out.error;
        bool invalid = out.invalidInput;
        if (ok && out.apply) {
            try {
                out.apply();
            } catch (const std::exception& e) {  // a result that no longer fits (e.g. a new model)
                ok = false;
                error = QString::fromStdString(ptq::userMessage(e));
                invalid = false;
            }
        }
        if (!ok && !out.cancelled) ptq::logger()->error("{}: {}", job->title.toStdString(), error.toStdString());
        Q_EMIT jobFinished(job->id, job->title, ok, out.cancelled, ok ? QString() : error, invalid, job->kind);
        startNext();
        // Idle: the memory the job's tensors left for reuse goes back to the system.
        if (!running_) ptq::releaseCpuBlockCache();
    });
    watcher->setFuture(QtConcurrent::run(&pool_, [job, work = std::move(work)] {
        Outcome out;
        try {
            // A cancel that came while the job was queued behind another must not run it.
            job->progress->throwIfCancelled();
            // Once the work returned, its result stands: the work may have changed state it
            // shares with the session, which only a thrown Cancelled promises to undo.
            out.apply = work(*job->progress);
            out.ok = true;
        } catch (const ptq::Cancelled&) {
            out.cancelled = true;
            out.error = QObject::tr("Cancelled.");
        } catch (const ptq::Error& e) {
            out.error = QString::fromStdString(e.what());
            out.invalidInput = e.kind() == ptq::Error::Kind::InvalidInput;
        } catch (const std::exception& e) {
            out.error = QString::fromStdString(ptq::userMessage(e));
        }
        if (!out.ok) out.apply = nullptr;
        const int64_t asked = job->cancelAt->load();
        if (asked > 0) out.cancelLatencyMs = double(nowNs() - asked) / 1e6;
        return out;
    }));
}

}  // namespace ptq::ui
