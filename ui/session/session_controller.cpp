#include "ui/session/session_controller.h"

#include "core/session/sensitivity_cache.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFileInfo>
#include <QtCore/QFutureWatcher>
#include <QtCore/QPointer>

#include <atomic>
#include <mutex>

namespace ptq::ui {

namespace {
struct JobOutcome {
    std::shared_ptr<const ptq::LoadedModel> model;
    std::shared_ptr<const ptq::SensitivityResult> table;
    bool fromCache = false;
    bool ok = false;
    bool cancelled = false;
    bool invalidInput = false;
    QString error;
};

/// Runs @p work on the calling (pool) thread and turns every exception into a sentence:
/// QtConcurrent would make a non-QException an unhelpful QUnhandledException.
template <typename Work>
JobOutcome guarded(Work&& work) {
    JobOutcome out;
    try {
        work(out);
        out.ok = true;
    } catch (const ptq::Cancelled&) {
        out.cancelled = true;
        out.error = QStringLiteral("Cancelled.");
    } catch (const ptq::Error& e) {
        out.error = QString::fromStdString(e.what());
        out.invalidInput = e.kind() == ptq::Error::Kind::InvalidInput;
    } catch (const std::exception& e) {
        out.error = QString::fromStdString(e.what());
    }
    return out;
}
}  // namespace

SessionController::SessionController(QObject* parent) : QObject(parent) {
    jobPool_.setMaxThreadCount(1);
    jobPool_.setObjectName(QStringLiteral("SessionJobs"));
    solvePool_.setMaxThreadCount(1);
    solvePool_.setObjectName(QStringLiteral("SessionSolves"));
    frontierPool_.setMaxThreadCount(1);
    frontierPool_.setObjectName(QStringLiteral("SessionFrontiers"));
    cacheDirectory_ = QString::fromStdString(ptq::SensitivityCache::defaultDirectory());
}

SessionController::~SessionController() {
    if (jobProgress_) jobProgress_->cancelRequested = true;
    jobPool_.waitForDone();
    solvePool_.waitForDone();
    frontierPool_.waitForDone();
}

std::shared_ptr<ptq::Progress> SessionController::beginJob(const QString& title) {
    ++jobsInFlight_;
    auto progress = std::make_shared<ptq::Progress>();
    // Reports arrive on the worker; post them to the UI thread at most every 50 ms.
    QPointer<SessionController> self(this);
    auto clock = std::make_shared<QElapsedTimer>();
    auto lock = std::make_shared<std::mutex>();
    clock->start();
    progress->onProgress = [self, clock, lock](double fraction, const std::string& stage) {
        {
            std::lock_guard<std::mutex> guard(*lock);
            if (clock->elapsed() < 50 && fraction < 1.0) return;
            clock->restart();
        }
        const QString text = QString::fromStdString(stage);
        QMetaObject::invokeMethod(
            self.data(), [self, fraction, text] { if (self) Q_EMIT self->jobProgress(fraction, text); },
            Qt::QueuedConnection);
    };
    jobProgress_ = progress;
    Q_EMIT jobStarted(title);
    return progress;
}

void SessionController::openModel(const QString& path, const QString& calibrationSource) {
    cancelJob();  // the newest request wins
    const int generation = ++jobGeneration_;
    const QString title = tr("Import %1").arg(QFileInfo(path).completeBaseName());
    beginJob(title);
    auto* watcher = new QFutureWatcher<JobOutcome>(this);
    connect(watcher, &QFutureWatcher<JobOutcome>::finished, this, [=] {
        watcher->deleteLater();
        --jobsInFlight_;
        const JobOutcome out = watcher->result();
        if (generation != jobGeneration_) {
            Q_EMIT jobFinished(title, false, tr("Superseded by a newer request."), false);
            checkIdle();
            return;
        }
        Q_EMIT jobFinished(title, out.ok, out.error, out.invalidInput);
        if (out.ok) {
            const auto& summary = out.model->summary();
            ptq::logger()->info("Loaded {}: {} nodes, {} quantizable layers, {} params, {} MACs", summary.name,
                                summary.nodeCount, summary.layers.size(), summary.totalParams, summary.totalMacs);
            session_.model = out.model;
            session_.calibrationSource = calibrationSource.toStdString();
            session_.setSensitivity(nullptr);
            Q_EMIT modelLoaded();
            Q_EMIT allocationChanged();
            startSensitivity();
        } else if (!out.ok) {
            ptq::logger()->error("{}", out.error.toStdString());
            Q_EMIT modelLoadFailed(path, out.error, out.invalidInput);
        }
        checkIdle();
    });
    const std::string file = path.toStdString();
    watcher->setFuture(QtConcurrent::run(&jobPool_, [file] {
        return guarded([&](JobOutcome& out) { out.model = ptq::loadModel(file); });
    }));
}

void SessionController::setCalibrationSource(const QString& source) {
    if (!session_.model) return;
    cancelJob();
    const std::string previous = session_.calibrationSource;
    session_.calibrationSource = source.toStdString();
    startSensitivity(previous);
}

void SessionController::startSensitivity(const std::string& fallbackSource) {
    const int generation = ++jobGeneration_;
    const QString title = tr("Sensitivity on %1").arg(QString::fromStdString(session_.calibrationSource));
    auto progress = beginJob(title);
    auto* watcher = new QFutureWatcher<JobOutcome>(this);
    connect(watcher, &QFutureWatcher<JobOutcome>::finished, this, [=] {
        watcher->deleteLater();
        --jobsInFlight_;
        const JobOutcome out = watcher->result();
        const bool current = generation == jobGeneration_;
        Q_EMIT jobFinished(title, out.ok && current, current ? out.error : tr("Superseded by a newer request."),
                           out.invalidInput);
        if (!out.ok && current) {
            if (!out.cancelled) ptq::logger()->error("{}: {}", title.toStdString(), out.error.toStdString());
            // The table shown was measured on the previous source: keep using that one.
            if (!fallbackSource.empty()) session_.calibrationSource = fallbackSource;
        }
        if (out.ok && current) {
            session_.setSensitivity(out.table);
            Q_EMIT sensitivityReady(out.fromCache);
            Q_EMIT pinsChanged();
            resolveNow();
        }
        checkIdle();
    });
    const auto model = session_.model;
    const std::string source = session_.calibrationSource;
    const ptq::SensitivityRequest request = sensitivityRequest_;
    const std::string cacheDir = cacheDirectory_.toStdString();
    watcher->setFuture(QtConcurrent::run(&jobPool_, [=] {
        return guarded([&](JobOutcome& out) {
            std::optional<ptq::SensitivityCache> cache;
            if (!cacheDir.empty()) cache.emplace(cacheDir);
            out.table = std::make_shared<const ptq::SensitivityResult>(ptq::computeSensitivity(
                *model, source, request, cache ? &*cache : nullptr, progress.get(), &out.fromCache));
        });
    }));
}

void SessionController::installTable(std::shared_ptr<const ptq::SensitivityResult> table) {
    ++jobGeneration_;  // a running measurement's result would be stale
    session_.setSensitivity(std::move(table));
    Q_EMIT sensitivityReady(false);
    Q_EMIT pinsChanged();
    resolveNow();
}

void SessionController::cancelJob() {
    if (jobProgress_) jobProgress_->cancelRequested = true;
}

void SessionController::requestBudget(const ptq::BudgetRequest& request) {
    budget_ = request;
    budget_.pins = session_.pins;
    resolveNow();
}

void SessionController::resolveNow() {
    if (!session_.problem) return;
    budget_.pins = session_.pins;
    if (solveRunning_) {
        pendingSolve_ = budget_;  // coalesce: only the newest waits
        return;
    }
    startSolve(budget_);
}

void SessionController::startSolve(const ptq::BudgetRequest& request) {
    solveRunning_ = true;
    ++solvesStarted_;
    const auto problem = session_.problem;
    auto* watcher = new QFutureWatcher<ptq::BudgetAllocation>(this);
    connect(watcher, &QFutureWatcher<ptq::BudgetAllocation>::finished, this, [=] {
        watcher->deleteLater();
        solveRunning_ = false;
        onSolved(problem, watcher->result());
        if (pendingSolve_) {
            const ptq::BudgetRequest next = *pendingSolve_;
            pendingSolve_.reset();
            startSolve(next);
        }
        checkIdle();
    });
    watcher->setFuture(QtConcurrent::run(&solvePool_, [problem, request] {
        try {
            return problem->solve(request);
        } catch (const std::exception& e) {
            ptq::BudgetAllocation failed;
            failed.status = e.what();
            return failed;
        }
    }));
}

void SessionController::onSolved(const std::shared_ptr<const ptq::BudgetProblem>& problem,
                                 const ptq::BudgetAllocation& result) {
    if (problem != session_.problem) return;  // a table that is gone
    if (!result.feasible) {
        Q_EMIT solveInfeasible(QString::fromStdString(result.status));
        return;
    }
    session_.allocation = result;
    Q_EMIT allocationChanged();
}

void SessionController::setPin(int layer, int option) {
    std::map<int, int> pins = session_.pins;
    if (option < 0) pins.erase(layer);
    else pins[layer] = option;
    setPins(pins);
}

void SessionController::setPins(const std::map<int, int>& pins) {
    if (pins == session_.pins) return;
    session_.pins = pins;
    Q_EMIT pinsChanged();
    resolveNow();
}

void SessionController::adoptChoice(const std::vector<int>& choice) {
    if (!session_.problem || int(choice.size()) != session_.problem->layerCount()) return;
    session_.allocation = session_.problem->evaluate(choice);
    Q_EMIT allocationChanged();
}

void SessionController::requestFrontier(const ptq::BudgetRequest& budget) {
    if (!session_.problem) return;
    ptq::BudgetRequest request = budget;
    request.pins = session_.pins;
    const int generation = ++frontierGeneration_;
    ++frontiersInFlight_;
    const auto problem = session_.problem;
    using Points = std::vector<ptq::BudgetPoint>;
    auto* watcher = new QFutureWatcher<Points>(this);
    connect(watcher, &QFutureWatcher<Points>::finished, this, [=] {
        watcher->deleteLater();
        --frontiersInFlight_;
        if (generation == frontierGeneration_ && problem == session_.problem)
            Q_EMIT frontierReady(watcher->result(), request.metric, request.reference);
        checkIdle();
    });
    watcher->setFuture(QtConcurrent::run(&frontierPool_, [problem, request] {
        Points all;
        try {
            all = problem->pareto(request);
        } catch (const std::exception& e) {
            ptq::logger()->error("Pareto frontier: {}", e.what());
            return all;
        }
        if (int(all.size()) <= kMaxFrontierPoints) return all;
        // Evenly by index, both ends kept: a plot and a click target, not a table.
        Points thinned;
        for (int k = 0; k < kMaxFrontierPoints; ++k)
            thinned.push_back(std::move(all[size_t(double(k) * double(all.size() - 1) / (kMaxFrontierPoints - 1) + 0.5)]));
        return thinned;
    }));
}

void SessionController::checkIdle() {
    if (isIdle()) Q_EMIT becameIdle();
}

}  // namespace ptq::ui
