#pragma once
/// @file
/// Runs the core's long calls for the GUI and owns the ptq::Session they change. Lives on the
/// UI thread; model import and sensitivity measurement run on a one-thread job pool (one
/// LibTorch job at a time), budget solves on a second one-thread pool. The UI thread never
/// waits on either: results come back as signals. Solves are coalesced: while one runs, only
/// the newest requested budget is kept, never a queue.

#include "core/session/session.h"

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QThreadPool>

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

    /// Imports @p path, then measures (or reads from the cache) its sensitivity on
    /// @p calibrationSource. The current model stays until the new one is in.
    void openModel(const QString& path, const QString& calibrationSource);
    /// Measures the open model's table again on another calibration source.
    void setCalibrationSource(const QString& source);
    /// Installs @p table without a model or a measurement (benchmarks, tests, a table from
    /// `ptq sensitivity --json`): as if a sensitivity job had just finished.
    void installTable(std::shared_ptr<const ptq::SensitivityResult> table);
    /// Asks the running job to stop; it ends with jobFinished(ok = false).
    void cancelJob();
    bool isJobRunning() const { return jobsInFlight_ > 0; }
    bool isSolving() const { return solveRunning_; }
    /// No job, no solve, nothing pending.
    bool isIdle() const { return jobsInFlight_ == 0 && !solveRunning_ && !pendingSolve_ && frontiersInFlight_ == 0; }

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

private:
    /// @p fallbackSource: the calibration source to go back to when this one turns out bad.
    void startSensitivity(const std::string& fallbackSource = {});
    void startSolve(const ptq::BudgetRequest& request);
    void onSolved(const std::shared_ptr<const ptq::BudgetProblem>& problem, const ptq::BudgetAllocation& result);
    void resolveNow();
    void checkIdle();
    std::shared_ptr<ptq::Progress> beginJob(const QString& title);

    ptq::Session session_;
    ptq::SensitivityRequest sensitivityRequest_;
    ptq::BudgetRequest budget_;
    QString cacheDirectory_;
    QThreadPool jobPool_, solvePool_, frontierPool_;
    std::shared_ptr<ptq::Progress> jobProgress_;
    int jobsInFlight_ = 0;
    bool solveRunning_ = false;
    std::optional<ptq::BudgetRequest> pendingSolve_;
    int jobGeneration_ = 0;
    int solvesStarted_ = 0;
    int frontierGeneration_ = 0;
    int frontiersInFlight_ = 0;
};

}  // namespace ptq::ui
