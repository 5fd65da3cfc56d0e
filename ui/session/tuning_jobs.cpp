// TuningJobs: the quantization jobs on the current allocation. Each job's work runs on
// the job thread over values captured when it was queued; what it made is installed by its
// apply step on the UI thread, only when the work ended well. A tuning step that runs on the
// session's tuned model in place is undone by the core when it fails or is cancelled.

#include "ui/session/tuning_jobs.h"

#include "ui/session/session_controller.h"

#include "core/methods/distill.h"
#include "core/workflow/prediction.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <QtCore/QDateTime>
#include <QtCore/QDir>

#include <algorithm>
#include <map>
#include <optional>

namespace ptq::ui {

TuningJobs::TuningJobs(ptq::Session* session, SessionController* owner) : QObject(owner), session_(session), owner_(owner) {
    // A cancel waits for the batch in flight: smaller model runs while AdaQuant caches layer
    // inputs keep it short, at a small cost in caching speed.
    tuningOptions_.adaquant.runBatchSize = 64;
}

void TuningJobs::forgetTuned() {
    tuned_.reset();
    tunedState_ = {};
    Q_EMIT tunedChanged();
}

void TuningJobs::forgetModel() {
    fp32_.clear();
    forgetTuned();
}

void TuningJobs::restored() {
    tuned_.reset();  // tuned models are not saved; AdaQuant results are (the session's adaquant)
    tunedState_ = {};
    fp32_.clear();
    Q_EMIT tunedChanged();
    Q_EMIT measuredChanged();
    Q_EMIT adaquantChanged();
}

int TuningJobs::refuse(const QString& title, const QString& message) {
    ptq::logger()->warn("{}: {}", title.toStdString(), message.toStdString());
    Q_EMIT jobRefused(title, message);
    return -1;
}

QString TuningJobs::allocationSpec(ptq::AllocationSpec& spec) const {
    if (!session_->model) return tr("Open a model first (File > Open model).");
    if (!session_->sensitivity) return tr("Wait for the sensitivity table, or measure it (Quantize > Measure sensitivity).");
    if (session_->allocation.choice.empty())
        return tr("There is no allocation yet: move a budget slider or click a Pareto point.");
    spec.model = session_->model;
    spec.table = session_->sensitivity;
    spec.quantizer = owner_->sensitivityRequest().quantizer;
    spec.choice = session_->allocation.choice;
    spec.calibrationSource = session_->calibrationSource;
    spec.equalizeRanges = equalizeRanges_;
    return {};
}

ptq::TuningOptions TuningJobs::liveTuningOptions() {
    ptq::TuningOptions options = tuningOptions_;
    LiveFeed* feed = &feed_;
    options.adaquant.onIteration = [feed](const ptq::AdaQuantTick& t) {
        feed->addAdaQuantStep(t.layerIndex, t.layerCount, t.layer, t.loss, t.block);
    };
    options.adaquant.onLayer = [feed](const ptq::AdaQuantLayerResult& r) {
        feed->addAdaQuantLayer(r.layer, r.mseBefore, r.mseAfter);
    };
    options.adaquant.onBlock = [feed](const ptq::AdaQuantBlockResult& b) {
        feed->addAdaQuantLayer(b.name, b.mseBefore, b.mseAfter);  // a block's bars, as a layer's
    };
    options.biasTuning.onIteration = [feed](int, int, double kl) { feed->addBiasStep(kl); };
    options.onBatchNorm = [feed](const ptq::BatchNormTuneTick& t) { feed->addBatchNorm(t.layer, t.meanShift, t.stdRatio); };
    return options;
}

bool TuningJobs::tunedMatchesAllocation() const {
    return tuned_ && tunedState_.choice == session_->allocation.choice && tunedState_.equalizedRanges == equalizeRanges_;
}

void TuningJobs::completeMeasurement(ptq::MeasuredAllocation& m) const {
    if (!session_->problem || int(m.choice.size()) != session_->problem->layerCount()) return;
    const ptq::BudgetAllocation predicted = session_->problem->evaluate(m.choice);
    m.predictedDeltaTop1 = predicted.deltaTop1;
    m.sizeBytes = predicted.sizeBytes;
    m.bops = predicted.bops;
}

int TuningJobs::calibrateRanges() {
    const QString title = tr("Calibrate ranges");
    {
        ptq::AllocationSpec probe;
        if (const QString why = allocationSpec(probe); !why.isEmpty()) return refuse(title, why);
    }
    return owner_->jobs()->submitPrepared(JobRunner::Kind::Calibrate, title, [=]() -> JobRunner::Work {
        ptq::AllocationSpec spec;
        if (const QString why = allocationSpec(spec); !why.isEmpty()) throw ptq::invalidInput(why.toStdString());
        const auto model = session_->model;
        return [this, spec, model](const ptq::Progress& progress) -> JobRunner::Apply {
            std::shared_ptr<ptq::TunedModel> tuned = ptq::calibrateAllocation(spec, &progress);
            return [this, tuned, model] {
                if (model != session_->model) return;
                tuned_ = tuned;
                tunedState_ = tuned->state();
                Q_EMIT tunedChanged();
            };
        };
    });
}

int TuningJobs::runTuningStep(ptq::TuningStep step) {
    static const std::map<ptq::TuningStep, const char*> titles{
        {ptq::TuningStep::AdaQuantParallel, "AdaQuant (parallel)"},
        {ptq::TuningStep::AdaQuantSequential, "AdaQuant (sequential)"},
        {ptq::TuningStep::AdaQuantBlocks, "Block reconstruction"},
        {ptq::TuningStep::BatchNorm, "BN tuning"},
        {ptq::TuningStep::BiasCorrection, "Bias correction"},
        {ptq::TuningStep::BiasTuning, "Bias tuning"}};
    const QString title = tr(titles.at(step));
    {
        ptq::AllocationSpec probe;
        if (const QString why = allocationSpec(probe); !why.isEmpty()) return refuse(title, why);
    }
    return owner_->jobs()->submitPrepared(JobRunner::Kind::Tuning, title, [=]() -> JobRunner::Work {
        ptq::AllocationSpec spec;
        if (const QString why = allocationSpec(spec); !why.isEmpty()) throw ptq::invalidInput(why.toStdString());
        // The session's tuned model when it is this allocation's, else a fresh one made in the job.
        const std::shared_ptr<ptq::TunedModel> existing = tunedMatchesAllocation() ? tuned_ : nullptr;
        const auto model = session_->model;
        const ptq::TuningOptions options = liveTuningOptions();
        LiveFeed* feed = &feed_;
        const bool parallel = step == ptq::TuningStep::AdaQuantParallel;
        const auto store = session_->adaquant;
        return [=](const ptq::Progress& progress) -> JobRunner::Apply {
            feed->begin(title);
            std::shared_ptr<ptq::TunedModel> tuned = existing;
            double from = 0.0;
            if (!tuned) {
                const ptq::ScaledProgress p(&progress, 0.0, 0.2, "Calibrating ranges");
                tuned = ptq::calibrateAllocation(spec, p.get());
                from = 0.2;
            }
            auto found = std::make_shared<ptq::AdaQuantStore>(store ? *store : ptq::AdaQuantStore{});
            const ptq::ScaledProgress p(&progress, from, 1.0);
            const std::string summary = ptq::applyTuningStep(*tuned, step, options, parallel ? found.get() : nullptr, p.get());
            const ptq::TunedState state = tuned->state();
            return [this, tuned, state, model, found, parallel] {
                if (model != session_->model) return;
                tuned_ = tuned;
                tunedState_ = state;
                Q_EMIT tunedChanged();
                if (parallel) {
                    session_->adaquant = found;
                    Q_EMIT adaquantChanged();
                }
            };
        };
    });
}

int TuningJobs::runPipeline(const QString& name) {
    const bool advanced = name == QLatin1String("advanced");
    if (!advanced && name != QLatin1String("light"))
        return refuse(tr("Pipeline"), tr("Unknown pipeline \"%1\": choose light or advanced.").arg(name));
    const ptq::PipelineKind kind = advanced ? ptq::PipelineKind::Advanced : ptq::PipelineKind::Light;
    const bool blocks = advanced && advancedBlocks_;
    const QString title = blocks ? tr("Advanced pipeline (blocks)") : advanced ? tr("Advanced pipeline") : tr("Light pipeline");
    {
        ptq::AllocationSpec probe;
        if (const QString why = allocationSpec(probe); !why.isEmpty()) return refuse(title, why);
    }
    return owner_->jobs()->submitPrepared(JobRunner::Kind::Pipeline, title, [=]() -> JobRunner::Work {
        ptq::AllocationSpec spec;
        if (const QString why = allocationSpec(spec); !why.isEmpty()) throw ptq::invalidInput(why.toStdString());
        const ptq::DataSourceSpec evalSource = session_->evaluationSource;
        if (!evalSource.given()) throw ptq::invalidInput(tr("Choose labelled evaluation data first (Quantize > Evaluation data).").toStdString());
        const auto model = session_->model;
        const ptq::TuningOptions options = liveTuningOptions();
        LiveFeed* feed = &feed_;
        const auto store = session_->adaquant;
        std::optional<ptq::Fp32Figures> fp32;
        if (auto it = fp32_.find(evalSource.text); it != fp32_.end()) fp32 = it->second;
        return [=](const ptq::Progress& progress) -> JobRunner::Apply {
            feed->begin(title);
            const std::vector<ptq::TuningStep> steps = blocks ? ptq::pipelineStepsWithBlocks(kind) : ptq::pipelineSteps(kind);
            // Rough shares of the time each part takes on the demo models.
            const double calibEnd = advanced ? 0.05 : 0.15, tuneEnd = advanced ? 0.85 : 0.5;
            std::shared_ptr<ptq::TunedModel> tuned;
            {
                const ptq::ScaledProgress p(&progress, 0.0, calibEnd, "Calibrating ranges");
                tuned = ptq::calibrateAllocation(spec, p.get());
            }
            auto found = std::make_shared<ptq::AdaQuantStore>(store ? *store : ptq::AdaQuantStore{});
            for (size_t k = 0; k < steps.size(); ++k) {
                const double a = calibEnd + (tuneEnd - calibEnd) * double(k) / double(steps.size());
                const double b = calibEnd + (tuneEnd - calibEnd) * double(k + 1) / double(steps.size());
                const ptq::ScaledProgress p(&progress, a, b);
                ptq::applyTuningStep(*tuned, steps[k], options, ptq::isAdaQuant(steps[k]) ? found.get() : nullptr, p.get());
            }
            const ptq::ScaledProgress p(&progress, tuneEnd, 1.0);
            ptq::MeasuredAllocation measured = ptq::measureTuned(*tuned, evalSource, fp32, p.get());
            const ptq::TunedState state = tuned->state();
            return [this, tuned, state, model, found, advanced, measured, evalSource]() mutable {
                if (model != session_->model) return;
                tuned_ = tuned;
                tunedState_ = state;
                fp32_[evalSource.text] = {measured.fp32Top1, measured.fp32Loss};
                completeMeasurement(measured);
                session_->measured.push_back(measured);
                if (advanced) session_->adaquant = found;
                ptq::logger()->info("{} pipeline: top-1 {:.2f} % (FP32 {:.2f} %) on {}", measured.pipeline, measured.top1,
                                    measured.fp32Top1, evalSource.text);
                Q_EMIT tunedChanged();
                Q_EMIT measuredChanged();
                if (advanced) Q_EMIT adaquantChanged();
            };
        };
    });
}

int TuningJobs::anchorPredictions(const QString& pipeline, int count) {
    const bool advanced = pipeline == QLatin1String("advanced");
    const QString title = tr("Anchor predictions (%1)").arg(pipeline);
    if (!advanced && pipeline != QLatin1String("light"))
        return refuse(title, tr("Unknown pipeline \"%1\": choose light or advanced.").arg(pipeline));
    {
        ptq::AllocationSpec probe;
        if (const QString why = allocationSpec(probe); !why.isEmpty()) return refuse(title, why);
        if (!session_->evaluationSource.given())
            return refuse(title, tr("Choose labelled evaluation data first (Quantize > Evaluation data)."));
    }
    return owner_->jobs()->submitPrepared(JobRunner::Kind::Pipeline, title, [=]() -> JobRunner::Work {
        ptq::AllocationSpec spec;
        if (const QString why = allocationSpec(spec); !why.isEmpty()) throw ptq::invalidInput(why.toStdString());
        const ptq::DataSourceSpec evalSource = session_->evaluationSource;
        const auto problem = session_->problem;
        const auto model = session_->model;
        const ptq::TuningOptions options = liveTuningOptions();
        const ptq::PipelineKind kind = advanced ? ptq::PipelineKind::Advanced : ptq::PipelineKind::Light;
        const std::vector<ptq::TuningStep> steps =
            advanced && advancedBlocks_ ? ptq::pipelineStepsWithBlocks(kind) : ptq::pipelineSteps(kind);
        const double lowest = problem->limits(ptq::CostMetric::Size, ptq::CostReference::Fp32).minRatio;
        const double from = std::max(0.08, lowest), to = std::max(0.25, from * 1.5);
        LiveFeed* feed = &feed_;
        return [=](const ptq::Progress& progress) -> JobRunner::Apply {
            feed->begin(title);
            const auto choices = ptq::frontierAnchorChoices(*problem, count, from, std::min(1.0, to));
            const std::vector<ptq::MeasuredAllocation> measured =
                ptq::measureAllocations(*problem, spec, choices, steps, options, evalSource, {}, &progress);
            return [this, measured, model, title] {
                if (model != session_->model) return;
                for (const ptq::MeasuredAllocation& m : measured) session_->measured.push_back(m);
                ptq::logger()->info("{}: {} allocations measured", title.toStdString(), measured.size());
                Q_EMIT measuredChanged();
            };
        };
    });
}

int TuningJobs::evaluateAllocation() {
    const QString title = tr("Evaluate allocation");
    {
        ptq::AllocationSpec probe;
        if (const QString why = allocationSpec(probe); !why.isEmpty()) return refuse(title, why);
    }
    return owner_->jobs()->submitPrepared(JobRunner::Kind::Evaluate, title, [=]() -> JobRunner::Work {
        ptq::AllocationSpec spec;
        if (const QString why = allocationSpec(spec); !why.isEmpty()) throw ptq::invalidInput(why.toStdString());
        const ptq::DataSourceSpec evalSource = session_->evaluationSource;
        if (!evalSource.given()) throw ptq::invalidInput(tr("Choose labelled evaluation data first (Quantize > Evaluation data).").toStdString());
        const std::shared_ptr<ptq::TunedModel> existing = tunedMatchesAllocation() ? tuned_ : nullptr;
        const auto model = session_->model;
        std::optional<ptq::Fp32Figures> fp32;
        if (auto it = fp32_.find(evalSource.text); it != fp32_.end()) fp32 = it->second;
        return [=](const ptq::Progress& progress) -> JobRunner::Apply {
            std::shared_ptr<ptq::TunedModel> tuned = existing;
            double from = 0.0;
            if (!tuned) {
                const ptq::ScaledProgress p(&progress, 0.0, 0.2, "Calibrating ranges");
                tuned = ptq::calibrateAllocation(spec, p.get());
                from = 0.2;
            }
            const ptq::ScaledProgress p(&progress, from, 1.0);
            ptq::MeasuredAllocation measured = ptq::measureTuned(*tuned, evalSource, fp32, p.get());
            const ptq::TunedState state = tuned->state();
            return [this, tuned, state, model, measured, evalSource, fresh = !existing]() mutable {
                if (model != session_->model) return;
                if (fresh) {
                    tuned_ = tuned;
                    tunedState_ = state;
                    Q_EMIT tunedChanged();
                }
                fp32_[evalSource.text] = {measured.fp32Top1, measured.fp32Loss};
                completeMeasurement(measured);
                session_->measured.push_back(measured);
                ptq::logger()->info("Measured allocation ({}): top-1 {:.2f} % (FP32 {:.2f} %, predicted {:+.2f} pt) on {}",
                                    measured.pipeline, measured.top1, measured.fp32Top1, measured.predictedDeltaTop1,
                                    evalSource.text);
                Q_EMIT measuredChanged();
            };
        };
    });
}

int TuningJobs::distillCalibration(int count) {
    const QString title = tr("Distil %1 images").arg(count);
    if (!session_->model) return refuse(title, tr("Open a model first (File > Open model)."));
    if (owner_->cacheDirectory().isEmpty() && QDir::tempPath().isEmpty())
        return refuse(title, tr("There is no folder to keep the distilled images in."));
    const auto model = session_->model;
    ptq::DistillOptions options = distillOptions_;
    options.count = count;
    LiveFeed* feed = &feed_;
    options.onIteration = [feed](int, int, double loss) { feed->addDistillStep(loss); };
    const QString folder = owner_->cacheDirectory().isEmpty() ? QDir::tempPath() : owner_->cacheDirectory();
    const QString file = QDir(folder).filePath(
        QStringLiteral("distilled-%1-%2.pt")
            .arg(QString::fromStdString(model->summary().name))
            .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    return owner_->jobs()->submit(JobRunner::Kind::Distill, title, [=](const ptq::Progress& progress) -> JobRunner::Apply {
        feed->begin(title);
        feed->setPhase(LiveFeed::Phase::Distill);
        QDir().mkpath(folder);
        const ptq::DistillResult result =
            ptq::distillData(model->graph(), model->summary().inputShape, options, &progress);
        ptq::saveDistilled(file.toStdString(), result, model->summary().path);
        return [this, model, file] {
            if (model != session_->model) return;
            owner_->setCalibrationSource(ptq::parseDataSource("distilled:" + file.toStdString()));
        };
    });
}

}  // namespace ptq::ui
