#include "ui/session/budget_controller.h"

#include "core/util/log.h"

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QFutureWatcher>

namespace ptq::ui {

BudgetController::BudgetController(ptq::Session* session, QObject* parent) : QObject(parent), session_(session) {
    solvePool_.setMaxThreadCount(1);
    solvePool_.setObjectName(QStringLiteral("BudgetSolves"));
    frontierPool_.setMaxThreadCount(1);
    frontierPool_.setObjectName(QStringLiteral("BudgetFrontiers"));
    proofPool_.setMaxThreadCount(1);
    proofPool_.setObjectName(QStringLiteral("BudgetProofs"));
}

BudgetController::~BudgetController() {
    cancelProof();
    proofPool_.waitForDone();
    solvePool_.waitForDone();
    frontierPool_.waitForDone();
}

void BudgetController::requestBudget(const ptq::BudgetRequest& request) {
    if (restoring_) return;  // the restored budget and allocation stand
    budget_ = request;
    budget_.pins = session_->pins;
    Q_EMIT budgetChanged(budget_);
    resolve();
}

void BudgetController::restore(const ptq::BudgetRequest& budget) {
    budget_ = budget;
    budget_.pins = session_->pins;
    Q_EMIT budgetChanged(budget_);
}

void BudgetController::resolve() {
    if (!session_->problem) return;
    budget_.pins = session_->pins;
    if (solveRunning_) {
        pendingSolve_ = budget_;  // coalesce: only the newest waits
        return;
    }
    startSolve(budget_);
}

void BudgetController::startSolve(const ptq::BudgetRequest& asked) {
    solveRunning_ = true;
    ++solvesStarted_;
    cancelProof();  // of an older budget: this one replaces it
    ptq::BudgetRequest request = asked;
    request.timeLimitMs = liveSolveMs_;
    const auto problem = session_->problem;
    auto* watcher = new QFutureWatcher<ptq::BudgetAllocation>(this);
    connect(watcher, &QFutureWatcher<ptq::BudgetAllocation>::finished, this, [=] {
        watcher->deleteLater();
        solveRunning_ = false;
        onSolved(problem, watcher->result(), request);
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

void BudgetController::onSolved(const std::shared_ptr<const ptq::BudgetProblem>& problem,
                                const ptq::BudgetAllocation& result, const ptq::BudgetRequest& request) {
    if (problem != session_->problem) return;  // a table that is gone
    // Unproved (the live time limit passed): a newer budget waiting makes its proof moot.
    if (!result.proved && !pendingSolve_) startProof(request);
    if (!result.feasible) {
        if (result.proved) Q_EMIT solveInfeasible(QString::fromStdString(result.status));
        return;
    }
    session_->allocation = result;
    Q_EMIT allocationChanged();
}

void BudgetController::cancelProof() {
    ++proofGeneration_;
    if (proofCancel_) proofCancel_->cancelRequested = true;
    proofCancel_.reset();
}

void BudgetController::startProof(const ptq::BudgetRequest& asked) {
    cancelProof();
    ptq::BudgetRequest request = asked;
    request.timeLimitMs = 0;
    const int generation = proofGeneration_;
    const auto problem = session_->problem;
    auto cancel = std::make_shared<ptq::Progress>();
    proofCancel_ = cancel;
    ++proofsInFlight_;
    auto* watcher = new QFutureWatcher<ptq::BudgetAllocation>(this);
    connect(watcher, &QFutureWatcher<ptq::BudgetAllocation>::finished, this, [=] {
        watcher->deleteLater();
        --proofsInFlight_;
        const ptq::BudgetAllocation result = watcher->result();
        if (generation == proofGeneration_ && problem == session_->problem) {
            if (result.feasible) {
                session_->allocation = result;
                Q_EMIT allocationChanged();
            } else if (result.proved) {
                Q_EMIT solveInfeasible(QString::fromStdString(result.status));
            }
            Q_EMIT proofFinished();
        }
        checkIdle();
    });
    watcher->setFuture(QtConcurrent::run(&proofPool_, [problem, request, cancel] {
        try {
            return problem->prove(request, cancel.get());
        } catch (const std::exception& e) {  // cancelled by a newer budget, or failed
            ptq::BudgetAllocation failed;
            failed.proved = false;
            failed.status = e.what();
            return failed;
        }
    }));
}

void BudgetController::setPin(int layer, int option) {
    std::map<int, int> pins = session_->pins;
    if (option < 0) pins.erase(layer);
    else pins[layer] = option;
    setPins(pins);
}

void BudgetController::setPins(const std::map<int, int>& pins) {
    if (pins == session_->pins) return;
    session_->pins = pins;
    Q_EMIT pinsChanged();
    resolve();
}

void BudgetController::adoptChoice(const std::vector<int>& choice) {
    if (!session_->problem || int(choice.size()) != session_->problem->layerCount()) return;
    session_->allocation = session_->problem->evaluate(choice);
    Q_EMIT allocationChanged();
}

void BudgetController::requestFrontier(const ptq::BudgetRequest& budget) {
    if (!session_->problem) return;
    ptq::BudgetRequest request = budget;
    request.pins = session_->pins;
    const int generation = ++frontierGeneration_;
    ++frontiersInFlight_;
    const auto problem = session_->problem;
    using Points = std::vector<ptq::BudgetPoint>;
    auto* watcher = new QFutureWatcher<Points>(this);
    connect(watcher, &QFutureWatcher<Points>::finished, this, [=] {
        watcher->deleteLater();
        --frontiersInFlight_;
        if (generation == frontierGeneration_ && problem == session_->problem)
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

void BudgetController::checkIdle() {
    if (!isBusy()) Q_EMIT becameIdle();
}

}  // namespace ptq::ui
