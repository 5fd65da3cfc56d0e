#pragma once
/// @file
/// The budget: the one place the GUI keeps it. Holds the BudgetRequest the user set (kind,
/// metric, reference, ratio, degradation bound; pins are the session's), solves it off the UI
/// thread on a one-thread pool, coalesced (while one solve runs only the newest request waits,
/// never a queue), and computes Pareto frontiers on another one-thread pool. The budget panel is
/// a view of it: it writes requests here and redraws from its signals; the project manager saves
/// and restores it from here. UI thread only; results come back as signals.

#include "core/session/session.h"

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QThreadPool>

#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace ptq::ui {

class BudgetController : public QObject {
    Q_OBJECT
public:
    /// Works on @p session's problem, allocation and pins; @p session outlives this.
    explicit BudgetController(ptq::Session* session, QObject* parent = nullptr);
    /// Cancels a running proof and waits for it, a running solve and frontier (each takes at
    /// most a second or so).
    ~BudgetController() override;

    /// The budget last asked for, with the session's pins.
    ptq::BudgetRequest budget() const { return budget_; }
    /// Makes @p request the budget and re-solves, coalesced to the newest request. Ignored
    /// while a project's budget is being restored (its allocation stands).
    void requestBudget(const ptq::BudgetRequest& request);
    /// Solves the current budget again (a new table, new pins).
    void resolve();
    /// Pins @p layer to @p option (-1 unpins) and re-solves.
    void setPin(int layer, int option);
    /// Replaces every pin (undo/redo) and re-solves.
    void setPins(const std::map<int, int>& pins);
    /// Makes @p choice the allocation as it is (a Pareto point the user clicked).
    void adoptChoice(const std::vector<int>& choice);
    /// Computes the Pareto frontier for @p request's metric, reference and the session's pins off
    /// the UI thread; emits frontierReady. Only the newest request's answer is delivered.
    void requestFrontier(const ptq::BudgetRequest& request);
    /// Frontiers are thinned to at most this many points for plotting and clicking.
    static constexpr int kMaxFrontierPoints = 600;

    /// A project's budget, installed as it was saved: its allocation is the session's already.
    /// While @p restoring is true, requests that views make are ignored.
    void restore(const ptq::BudgetRequest& budget);
    void setRestoring(bool restoring) { restoring_ = restoring; }

    /// Solves started since construction (a coalesced request that never ran is not one).
    int solvesStarted() const { return solvesStarted_; }
    /// A solve or a frontier is running or waiting.
    bool isBusy() const { return solveRunning_ || pendingSolve_ || frontiersInFlight_ > 0 || proofsInFlight_ > 0; }

Q_SIGNALS:
    /// The budget changed (a request, a restore): views show it.
    void budgetChanged(const ptq::BudgetRequest& budget);
    /// session().allocation changed (a solve finished, a point was adopted).
    void allocationChanged();
    /// The newest solve found no allocation; the previous one stays. @p status says why.
    void solveInfeasible(const QString& status);
    void pinsChanged();
    /// The frontier asked for by the newest requestFrontier, cheapest first.
    void frontierReady(const std::vector<ptq::BudgetPoint>& points, ptq::CostMetric metric,
                       ptq::CostReference reference);
    /// Nothing is solving or waiting any more.
    void becameIdle();

public:
    /// A slider's solve may take this long (ms) before it shows its best allocation so far,
    /// marked unproved; the proof then runs on a pool of its own (proofFinished).
    static constexpr double kLiveSolveMs = 50;
    /// Replaces kLiveSolveMs (tests force the unproved path with a tiny limit).
    void setLiveSolveMs(double ms) { liveSolveMs_ = ms; }

Q_SIGNALS:
    /// A background proof of an unproved allocation finished for the current budget: the
    /// allocation (proved optimal now) is session().allocation.
    void proofFinished();

private:
    void startSolve(const ptq::BudgetRequest& request);
    void onSolved(const std::shared_ptr<const ptq::BudgetProblem>& problem, const ptq::BudgetAllocation& result,
                  const ptq::BudgetRequest& request);
    /// Proves @p request's optimum without a time limit off the slider's pool; a newer solve
    /// cancels it.
    void startProof(const ptq::BudgetRequest& request);
    void cancelProof();
    void checkIdle();

    ptq::Session* session_;
    ptq::BudgetRequest budget_;
    QThreadPool solvePool_, frontierPool_, proofPool_;
    double liveSolveMs_ = kLiveSolveMs;
    int proofGeneration_ = 0;
    int proofsInFlight_ = 0;
    std::shared_ptr<ptq::Progress> proofCancel_;  ///< the running proof's, to cancel it
    bool solveRunning_ = false;
    std::optional<ptq::BudgetRequest> pendingSolve_;
    int solvesStarted_ = 0;
    int frontierGeneration_ = 0;
    int frontiersInFlight_ = 0;
    bool restoring_ = false;
};

}  // namespace ptq::ui
