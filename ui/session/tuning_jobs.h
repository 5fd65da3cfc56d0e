#pragma once
/// @file
/// The quantization jobs on the current allocation: calibrate ranges, the tuning steps
/// (AdaQuant, BN tuning, bias correction, bias tuning), the light and advanced pipelines (the
/// workflow's pipelineSteps), evaluating an allocation, distilling calibration data; and the
/// tuned model they build up, with the live figures they report. Each job queues on the
/// session's JobRunner (one LibTorch job at a time) and changes the session only when it ends
/// well. UI thread only.

#include "core/methods/distill.h"
#include "core/session/session.h"
#include "core/workflow/tuned_model.h"
#include "ui/session/live_feed.h"

#include <QtCore/QObject>
#include <QtCore/QString>

#include <map>
#include <memory>
#include <string>

namespace ptq::ui {

class SessionController;

class TuningJobs : public QObject {
    Q_OBJECT
public:
    /// Works on @p session; jobs run on @p owner's runner. Owned by @p owner.
    TuningJobs(ptq::Session* session, SessionController* owner);

    // Each job queues behind the running job and returns its id, or -1 after jobRefused when the
    // session cannot run it (no model, no table, no allocation).
    /// Quantizes the current allocation with ranges from the calibration data (a new tuned model).
    int calibrateRanges();
    /// Runs @p step on the tuned model of the current allocation (calibrating it first when
    /// there is none for this allocation). Parallel AdaQuant also adds to session().adaquant.
    int runTuningStep(ptq::TuningStep step);
    /// "light" or "advanced" (pipelineSteps) from fresh ranges, then measures the result. The
    /// advanced pipeline runs block reconstruction instead of per-layer AdaQuant when
    /// setAdvancedBlocks(true).
    int runPipeline(const QString& name);
    /// Measures @p count allocations along the frontier (0.08 to 0.25 of the FP32 weight size,
    /// within what the table allows) with pipeline @p pipeline ("light" or "advanced") on the
    /// evaluation data and adds them to session().measured: the anchors the budget summary's
    /// "Predicted from measured" rests on.
    int anchorPredictions(const QString& pipeline, int count = 5);
    /// Whether the advanced pipeline reconstructs blocks (TuningStep::AdaQuantBlocks).
    void setAdvancedBlocks(bool on) { advancedBlocks_ = on; }
    bool advancedBlocks() const { return advancedBlocks_; }
    /// Whether every job rescales the model first (range equalization of depthwise inputs,
    /// QuantizeRequest::equalizeRanges); a tuned model made the other way no longer matches.
    void setEqualizeRanges(bool on) {
        equalizeRanges_ = on;
        Q_EMIT tunedChanged();
    }
    bool equalizeRanges() const { return equalizeRanges_; }
    /// Measures the real top-1 of the current allocation (its tuned model when there is one) on
    /// the evaluation source and adds it to session().measured.
    int evaluateAllocation();
    /// Distils @p count images from the model's BatchNorm statistics into the cache directory and
    /// makes them the calibration source (the table is measured again on them).
    int distillCalibration(int count = 32);

    void setEvaluationSource(const ptq::DataSourceSpec& source) { session_->evaluationSource = source; }
    QString evaluationSource() const { return QString::fromStdString(session_->evaluationSource.text); }
    /// Iterations, learning rates and seeds of the tuning steps (callbacks are this object's).
    void setTuningOptions(const ptq::TuningOptions& options) { tuningOptions_ = options; }
    const ptq::TuningOptions& tuningOptions() const { return tuningOptions_; }
    /// What was done to the current tuned model; nullptr before the first quantization job.
    const ptq::TunedState* tunedState() const { return tuned_ ? &tunedState_ : nullptr; }
    /// The current tuned model, for exporting what was measured; null before the first
    /// quantization job. Use it on the job pool only.
    std::shared_ptr<const ptq::TunedModel> tunedModel() const { return tuned_; }
    /// True when the tuned model quantizes the allocation shown now.
    bool tunedMatchesAllocation() const;
    /// Live figures of the running job, for the progress plots.
    LiveFeed* liveFeed() { return &feed_; }

    /// The table changed: the tuned model's choice indexes the old one.
    void forgetTuned();
    /// Another model: also the FP32 figures measured on it.
    void forgetModel();
    /// A project was restored: nothing tuned, nothing measured on this process's runs.
    void restored();

Q_SIGNALS:
    /// A job could not start: @p message says why and what to do.
    void jobRefused(const QString& title, const QString& message);
    /// The tuned model was replaced or a step ran on it (tunedState()).
    void tunedChanged();
    /// session().measured gained a point.
    void measuredChanged();
    /// session().adaquant gained results.
    void adaquantChanged();

private:
    /// What calibrateAllocation needs for the current allocation; empty message when ready.
    QString allocationSpec(ptq::AllocationSpec& spec) const;
    /// Fills @p m's predicted figures and costs from the current problem.
    void completeMeasurement(ptq::MeasuredAllocation& m) const;
    int refuse(const QString& title, const QString& message);
    /// tuningOptions_ with callbacks that feed the live plots.
    ptq::TuningOptions liveTuningOptions();

    ptq::Session* session_;
    SessionController* owner_;
    LiveFeed feed_;
    ptq::TuningOptions tuningOptions_;
    bool advancedBlocks_ = false;
    bool equalizeRanges_ = false;
    ptq::DistillOptions distillOptions_;
    /// Used by one job at a time on the job thread; the UI reads tunedState_.
    std::shared_ptr<ptq::TunedModel> tuned_;
    ptq::TunedState tunedState_;
    /// The FP model on each evaluation source, for the current model.
    std::map<std::string, ptq::Fp32Figures> fp32_;
};

}  // namespace ptq::ui
