#include "ui/session/session_controller.h"

#include "core/workflow/sensitivity.h"

#include "core/workflow/budget.h"

#include "core/io/sensitivity_cache.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <QtCore/QFileInfo>

#include <algorithm>
#include <optional>
#include <utility>

namespace ptq::ui {

SessionController::SessionController(QObject* parent)
    : QObject(parent), jobs_(new JobRunner(this)), budget_(new BudgetController(&session_, this)),
      tuning_(new TuningJobs(&session_, this)) {
    cacheDirectory_ = QString::fromStdString(ptq::SensitivityCache::defaultDirectory());
    session_.evaluationSource = ptq::parseDataSource("fmnist:test");
    connectRunner();
    connect(budget_, &BudgetController::becameIdle, this, &SessionController::checkIdle);
}

SessionController::~SessionController() {
    delete jobs_;  // cancels and waits for the running job before the session goes
    jobs_ = nullptr;
    delete budget_;  // waits for its solves
    budget_ = nullptr;
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

void SessionController::openModel(const ptq::ModelRequest& request, const ptq::DataSourceSpec& calibrationSource) {
    jobs_->cancelAll();  // the newest model wins; jobs for the old one would change nothing
    const QString path = QString::fromStdString(request.path);
    const QString title = tr("Import %1").arg(QFileInfo(path).completeBaseName());
    const int id = jobs_->submit(JobRunner::Kind::Import, title, [this, request, calibrationSource](const ptq::Progress& progress) -> JobRunner::Apply {
        std::shared_ptr<const ptq::LoadedModel> model = ptq::openModel(request, &progress);
        return [this, model, calibrationSource] {
            const auto& summary = model->summary();
            ptq::logger()->info("Loaded {}: {} nodes, {} quantizable layers, {} params, {} MACs", summary.name,
                                summary.nodeCount, summary.layers.size(), summary.totalParams, summary.totalMacs);
            session_.model = model;
            session_.calibrationSource = {};  // set when its table is in
            session_.setSensitivity(nullptr);
            session_.measured.clear();
            session_.adaquant.reset();
            tuning_->forgetModel();
            Q_EMIT modelLoaded();
            Q_EMIT budget_->allocationChanged();
            Q_EMIT tuning_->measuredChanged();
            startSensitivity(calibrationSource);
        };
    });
    reportLoadFailure(id, path);
}

void SessionController::probeModel(const QString& path) {
    const std::string file = path.toStdString();
    const int id = jobs_->submit(JobRunner::Kind::Import, tr("Read %1").arg(QFileInfo(path).completeBaseName()),
                                 [this, path, file](const ptq::Progress&) -> JobRunner::Apply {
                                     const std::vector<int64_t> shape = ptq::suggestInputShape(file);
                                     return [this, path, shape] { Q_EMIT modelNeedsCard(path, shape); };
                                 });
    reportLoadFailure(id, path);
}

void SessionController::reportLoadFailure(int id, const QString& path) {
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

void SessionController::setCalibrationSource(const ptq::DataSourceSpec& source) {
    if (!session_.model) return;
    startSensitivity(source);
}

int SessionController::measureSensitivity() {
    if (!session_.model) {
        const QString title = tr("Sensitivity"), why = tr("Open a model first (File > Open model).");
        ptq::logger()->warn("{}: {}", title.toStdString(), why.toStdString());
        Q_EMIT jobRefused(title, why);
        return -1;
    }
    return startSensitivity(session_.calibrationSource);
}

namespace {

/// The cells that decide @p choice: per layer its chosen option and the next cheaper and the
/// next costlier one (by stored weight bits, then activation bits), measured first.
std::vector<std::vector<char>> decidingCells(const ptq::SensitivityResult& table, const std::vector<int>& choice) {
    std::vector<std::vector<char>> first(table.layers.size(), std::vector<char>(table.options.size(), 0));
    if (choice.size() != table.layers.size()) return {};
    std::vector<size_t> order(table.options.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const ptq::BitOption &x = table.options[a], &y = table.options[b];
        return std::make_pair(x.weightBitsTotal(), x.activationBits) < std::make_pair(y.weightBitsTotal(), y.activationBits);
    });
    for (size_t l = 0; l < choice.size(); ++l) {
        const auto at = std::find(order.begin(), order.end(), size_t(choice[l]));
        if (at == order.end()) continue;
        first[l][*at] = 1;
        if (at != order.begin()) first[l][*(at - 1)] = 1;
        if (at + 1 != order.end()) first[l][*(at + 1)] = 1;
    }
    return first;
}

}  // namespace

int SessionController::startSensitivity(const ptq::DataSourceSpec& source) {
    const QString title = tr("Sensitivity on %1").arg(QString::fromStdString(source.text));
    const auto model = session_.model;
    const ptq::SensitivityRequest request = sensitivityRequest_;
    const std::string cacheDir = cacheDirectory_.toStdString();
    const ptq::BudgetRequest budget = budget_->budget();
    const int generation = ++tableGeneration_;
    return jobs_->submit(JobRunner::Kind::Sensitivity, title, [=](const ptq::Progress& progress) -> JobRunner::Apply {
        std::optional<ptq::SensitivityCache> cache;
        if (!cacheDir.empty()) cache.emplace(cacheDir);
        ptq::SensitivityJob job;
        job.calibrationSource = source;
        job.request = request;
        ptq::SensitivityReuse reuse;
        reuse.cache = cache ? &*cache : nullptr;
        ptq::SensitivityOutcome outcome = ptq::reusableSensitivity(model->path(), job, reuse);
        if (!outcome.reused) {
            // An estimate first (seconds), shown and allocated at once; then the measurement,
            // cell by cell into the table shown, the cells that decide the current budget first.
            job.estimate = true;
            const ptq::ScaledProgress estimateProgress(&progress, 0.0, 0.15, "Estimating sensitivity");
            const ptq::SensitivityTable estimate = ptq::measureSensitivityTable(*model, job, {}, estimateProgress.get());
            auto shown = std::make_shared<const ptq::SensitivityResult>(estimate.result);
            QMetaObject::invokeMethod(this, [this, model, shown, source, generation] {
                if (model != session_.model || generation != tableGeneration_) return;
                session_.calibrationSource = source;
                session_.setSensitivity(shown);
                tuning_->forgetTuned();
                Q_EMIT tuning_->measuredChanged();
                Q_EMIT sensitivityReady(false);
                Q_EMIT budget_->pinsChanged();
                budget_->resolve();
            }, Qt::QueuedConnection);
            job.estimate = false;
            // The budget as the user left it, without pins (they name the old table's layers); a
            // budget this table cannot answer (a target's costs not yet applied) measures in one pass.
            ptq::BudgetRequest asked = budget;
            asked.pins.clear();
            try {
                job.request.first = decidingCells(estimate.result, ptq::BudgetProblem(estimate.result).solve(asked).choice);
            } catch (const ptq::Error& e) {
                ptq::logger()->info("Sensitivity: measuring in one pass ({})", e.what());
            }
            job.request.onCell = [this, model, generation](size_t layer, size_t option, const ptq::SensitivityCell& cell) {
                QMetaObject::invokeMethod(this, [this, model, generation, layer, option, cell] {
                    if (model != session_.model || generation != tableGeneration_ || !session_.sensitivity) return;
                    const ptq::SensitivityResult& now = *session_.sensitivity;
                    if (layer >= now.cells.size() || option >= now.cells[layer].size()) return;
                    auto next = std::make_shared<ptq::SensitivityResult>(now);
                    next->cells[layer][option] = cell;
                    session_.updateSensitivity(std::move(next));
                    Q_EMIT sensitivityUpdated(false);
                    budget_->resolve();
                }, Qt::QueuedConnection);
            };
            const ptq::ScaledProgress measureProgress(&progress, 0.15, 1.0, "Sensitivity");
            outcome.table = ptq::measureSensitivityTable(*model, job, reuse, measureProgress.get());
        }
        const bool fromCache = outcome.reused;
        auto table = std::make_shared<const ptq::SensitivityResult>(std::move(outcome.table.result));
        return [this, model, table, fromCache, source, generation] {
            if (model != session_.model) return;  // a newer model came in meanwhile
            if (!fromCache && generation == tableGeneration_ && session_.sensitivity &&
                session_.calibrationSource.text == source.text) {
                // The estimate shown since: every cell measured now, the user's pins kept.
                session_.updateSensitivity(table);
                Q_EMIT sensitivityUpdated(true);
                budget_->resolve();
                return;
            }
            // The source becomes the session's only with its table: a bad one changes nothing.
            session_.calibrationSource = source;
            session_.setSensitivity(table);
            tuning_->forgetTuned();  // its choice indexes the old table
            Q_EMIT tuning_->measuredChanged();
            Q_EMIT sensitivityReady(fromCache);
            Q_EMIT budget_->pinsChanged();
            budget_->resolve();
        };
    });
}

void SessionController::installTable(std::shared_ptr<const ptq::SensitivityResult> table) {
    ++tableGeneration_;  // a measurement still running no longer writes into the table shown
    session_.setSensitivity(std::move(table));
    tuning_->forgetTuned();
    Q_EMIT sensitivityReady(false);
    Q_EMIT budget_->pinsChanged();
    budget_->resolve();
}

void SessionController::restoreSession(ptq::Session session, const ptq::SensitivityRequest& request,
                                       const ptq::BudgetRequest& budget) {
    jobs_->cancelAll();  // a running import or measurement would be stale
    ++tableGeneration_;
    session_ = std::move(session);
    sensitivityRequest_ = request;
    budget_->setRestoring(true);
    budget_->restore(budget);
    if (session_.model) Q_EMIT modelLoaded();
    if (session_.sensitivity) {
        Q_EMIT sensitivityReady(true);
        Q_EMIT budget_->pinsChanged();
    }
    budget_->setRestoring(false);
    Q_EMIT budget_->allocationChanged();
    tuning_->restored();
    checkIdle();
}

void SessionController::runJob(JobRunner::Kind kind, const QString& title, std::function<void(const ptq::Progress&)> work,
                               std::function<void(bool ok, const QString& message)> done) {
    const int id = jobs_->submit(kind, title, [work, done](const ptq::Progress& progress) -> JobRunner::Apply {
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

void SessionController::checkIdle() {
    if (isIdle()) Q_EMIT becameIdle();
}

}  // namespace ptq::ui
