#include "ui/session/session_controller.h"

#include "core/workflow/sensitivity.h"

#include "core/io/sensitivity_cache.h"
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

SessionController::SessionController(QObject* parent) : QObject(parent), jobs_(new JobRunner(this)) {
    solvePool_.setMaxThreadCount(1);
    solvePool_.setObjectName(QStringLiteral("SessionSolves"));
    frontierPool_.setMaxThreadCount(1);
    frontierPool_.setObjectName(QStringLiteral("SessionFrontiers"));
    cacheDirectory_ = QString::fromStdString(ptq::SensitivityCache::defaultDirectory());
    session_.evaluationSource = "fmnist:test";
    // A cancel waits for the batch in flight: smaller model runs while AdaQuant caches layer
    // inputs keep it short, at a small cost in caching speed.
    tuningOptions_.adaquant.runBatchSize = 64;
    connectRunner();
}

SessionController::~SessionController() {
    delete jobs_;  // cancels and waits for the running job before the session goes
    jobs_ = nullptr;
    solvePool_.waitForDone();
    frontierPool_.waitForDone();
}

void SessionController::connectRunner() {
    connect(jobs_, &JobRunner::jobStarted, this, [this](int, const QString& title) { Q_EMIT jobStarted(title); });
    connect(jobs_, &JobRunner::jobProgress, this,
            [this](int, double fraction, const QString& stage) { Q_EMIT jobProgress(fraction, stage); });
    connect(jobs_, &JobRunner::jobFinished, this,
            [this](int, const QString& title, bool ok, bool, const QString& message, bool invalidInput) {
                Q_EMIT jobFinished(title, ok, message, invalidInput);
            });
    connect(jobs_, &JobRunner::idle, this, &SessionController::checkIdle);
}

void SessionController::openModel(const QString& path, const QString& calibrationSource) {
    jobs_->cancelAll();  // the newest model wins; jobs for the old one would change nothing
    const QString title = tr("Import %1").arg(QFileInfo(path).completeBaseName());
    const std::string file = path.toStdString();
    const int id = jobs_->submit(title, [this, path, calibrationSource, file](const ptq::Progress& progress) -> JobRunner::Apply {
        std::shared_ptr<const ptq::LoadedModel> model = ptq::openModel({file, {}}, &progress);
        return [this, model, calibrationSource] {
            const auto& summary = model->summary();
            ptq::logger()->info("Loaded {}: {} nodes, {} quantizable layers, {} params, {} MACs", summary.name,
                                summary.nodeCount, summary.layers.size(), summary.totalParams, summary.totalMacs);
            session_.model = model;
            session_.calibrationSource.clear();  // set when its table is in
            session_.setSensitivity(nullptr);
            session_.measured.clear();
            session_.adaquant.reset();
            tuned_.reset();
            tunedState_ = {};
            fp32_.clear();
            Q_EMIT modelLoaded();
            Q_EMIT allocationChanged();
            Q_EMIT tunedChanged();
            Q_EMIT measuredChanged();
            startSensitivity(calibrationSource.toStdString());
        };
    });
    // The import's failure is the model's: report it as such (the previous model stays).
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(jobs_, &JobRunner::jobFinished, this,
                          [this, id, path, connection](int done, const QString&, bool ok, bool cancelled,
                                                       const QString& message, bool invalidInput) {
                              if (done != id) return;
                              disconnect(*connection);
                              if (!ok && !cancelled) Q_EMIT modelLoadFailed(path, message, invalidInput);
                          });
}

void SessionController::setCalibrationSource(const QString& source) {
    if (!session_.model) return;
    startSensitivity(source.toStdString());
}

int SessionController::startSensitivity(const std::string& source) {
    const QString title = tr("Sensitivity on %1").arg(QString::fromStdString(source));
    const auto model = session_.model;
    const ptq::SensitivityRequest request = sensitivityRequest_;
    const std::string cacheDir = cacheDirectory_.toStdString();
    return jobs_->submit(title, [=](const ptq::Progress& progress) -> JobRunner::Apply {
        std::optional<ptq::SensitivityCache> cache;
        if (!cacheDir.empty()) cache.emplace(cacheDir);
        ptq::SensitivityJob job;
        job.calibrationSource = source;
        job.request = request;
        ptq::SensitivityReuse reuse;
        reuse.cache = cache ? &*cache : nullptr;
        ptq::SensitivityOutcome outcome = ptq::sensitivityFor(*model, job, reuse, &progress);
        const bool fromCache = outcome.reused;
        auto table = std::make_shared<const ptq::SensitivityResult>(std::move(outcome.table.result));
        return [this, model, table, fromCache, source] {
            if (model != session_.model) return;  // a newer model came in meanwhile
            // The source becomes the session's only with its table: a bad one changes nothing.
            session_.calibrationSource = source;
            session_.setSensitivity(table);
            tuned_.reset();  // its choice indexes the old table
            tunedState_ = {};
            Q_EMIT tunedChanged();
            Q_EMIT measuredChanged();
            Q_EMIT sensitivityReady(fromCache);
            Q_EMIT pinsChanged();
            resolveNow();
        };
    });
}

void SessionController::installTable(std::shared_ptr<const ptq::SensitivityResult> table) {
    session_.setSensitivity(std::move(table));
    tuned_.reset();
    tunedState_ = {};
    Q_EMIT sensitivityReady(false);
    Q_EMIT pinsChanged();
    resolveNow();
}

void SessionController::restoreSession(ptq::Session session, const ptq::SensitivityRequest& request,
                                       const ptq::BudgetRequest& budget) {
    jobs_->cancelAll();  // a running import or measurement would be stale
    session_ = std::move(session);
    tuned_.reset();  // tuned models are not saved; AdaQuant results are (session_.adaquant)
    tunedState_ = {};
    fp32_.clear();
    sensitivityRequest_ = request;
    budget_ = budget;
    budget_.pins = session_.pins;
    restoring_ = true;
    if (session_.model) Q_EMIT modelLoaded();
    if (session_.sensitivity) {
        Q_EMIT sensitivityReady(true);
        Q_EMIT pinsChanged();
    }
    restoring_ = false;
    Q_EMIT allocationChanged();
    Q_EMIT tunedChanged();
    Q_EMIT measuredChanged();
    Q_EMIT adaquantChanged();
    checkIdle();
}

void SessionController::runJob(const QString& title, std::function<void(const ptq::Progress&)> work,
                               std::function<void(bool ok, const QString& message)> done) {
    const int id = jobs_->submit(title, [work, done](const ptq::Progress& progress) -> JobRunner::Apply {
        work(progress);
        return [done] {
            if (done) done(true, {});
        };
    });
    if (!done) return;
    // Success reports through the apply step above; failure and cancel through the runner.
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(jobs_, &JobRunner::jobFinished, this,
                          [id, done, connection](int finished, const QString&, bool ok, bool, const QString& message) {
                              if (finished != id) return;
                              disconnect(*connection);
                              if (!ok) done(false, message);
                          });
}

void SessionController::cancelJob() {
    if (jobs_->runningId() >= 0) jobs_->cancel(jobs_->runningId());
}

void SessionController::requestBudget(const ptq::BudgetRequest& request) {
    if (restoring_) return;  // the restored budget and allocation stand
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
