#include "core/workflow/tuned_model.h"

#include "core/analysis/evaluate.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <chrono>

namespace ptq {

struct TunedModel::Impl {
    QuantizedRun run;
    TunedState state;
    int64_t batchSize = 256;
};

TunedModel::TunedModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TunedModel::~TunedModel() = default;
TunedState TunedModel::state() const { return impl_->state; }
const QuantizedRun& TunedModel::run() const { return impl_->run; }

std::unique_ptr<TunedModel> calibrateAllocation(const AllocationSpec& spec, const Progress* progress) {
    if (!spec.model || !spec.table)
        throw invalidInput("Open a model and measure its sensitivity before quantizing an allocation.");
    const SensitivityResult& table = *spec.table;
    if (spec.choice.size() != table.layers.size())
        throw invalidInput("The allocation has " + std::to_string(spec.choice.size()) + " layers but the table has " +
                           std::to_string(table.layers.size()) + ": solve the budget again.");
    QuantizeRequest req;
    req.opened = spec.model;
    req.model.path = spec.model->path();
    req.calibSource = spec.calibrationSource;
    req.quantizer = spec.quantizer;
    req.equalizeRanges = spec.equalizeRanges;
    req.equalization.denseReaders = spec.equalizeDense;
    req.weightBits = table.base.weightBits;
    req.activationBits = table.base.activationBits;
    for (size_t l = 0; l < spec.choice.size(); ++l) {
        const int option = spec.choice[l];
        if (option < 0 || option >= int(table.options.size()))
            throw invalidInput("The allocation gives layer " + table.layers[l].name + " option " +
                               std::to_string(option) + ", which the table does not have: solve the budget again.");
        const BitOption& o = table.options[size_t(option)];
        req.layerOverrides[table.layers[l].name] =
            LayerQuant{o.weightBits, o.activationBits, req.quantizer.granularity, o.weightPoints};
    }
    auto impl = std::make_unique<TunedModel::Impl>();
    impl->run = quantizeModel(req, progress);
    impl->batchSize = spec.quantizer.batchSize;
    impl->state.choice = spec.choice;
    impl->state.calibrationSource = spec.calibrationSource.text;
    impl->state.calibrationSamples = impl->run.calib->size();
    impl->state.equalizedRanges = spec.equalizeRanges;
    impl->state.equalizedDense = spec.equalizeRanges && spec.equalizeDense;
    if (spec.equalizeRanges) impl->state.equalization = impl->run.result.equalization.summary();
    return std::unique_ptr<TunedModel>(new TunedModel(std::move(impl)));
}

std::string applyTuningStep(TunedModel& tuned, TuningStep step, const TuningOptions& options, AdaQuantStore* store,
                            const Progress* progress) {
    TunedModel::Impl& d = *tuned.impl_;
    const StepReport report = runTuningStep(*d.run.model, *d.run.calib, step, options, d.batchSize, store, progress);
    TunedState& state = d.state;
    switch (step) {
    case TuningStep::AdaQuantParallel:
    case TuningStep::AdaQuantSequential:
    case TuningStep::AdaQuantBlocks: state.adaquantLayers = report.adaquant.layers; break;
    case TuningStep::BatchNorm: state.batchNormsTuned = report.batchNormsTuned; break;
    case TuningStep::BiasCorrection: state.biasesCorrected = report.biasesCorrected; break;
    case TuningStep::BiasTuning: state.biasTuning = report.biasTuning; break;
    }
    state.steps.push_back(step);
    logger()->info("{} ({:.1f} s)", report.summary, report.seconds);
    return report.summary;
}

MeasuredAllocation measureTuned(const TunedModel& tuned, const DataSourceSpec& evaluationSource,
                                std::optional<Fp32Figures> fp32, const Progress* progress) {
    const TunedModel::Impl& d = *tuned.impl_;
    const auto t0 = std::chrono::steady_clock::now();
    const std::unique_ptr<Dataset> eval = d.run.source->openData(evaluationSource);
    if (!eval->hasLabels())
        throw invalidInput("The evaluation data " + evaluationSource.text +
                           " has no labels: give a labelled set such as fmnist:test.");
    const Executor executor(d.run.graph());
    MeasuredAllocation m;
    m.choice = d.state.choice;
    m.evaluationSource = evaluationSource.text;
    m.evaluationSamples = eval->size();
    if (fp32) {
        m.fp32Top1 = fp32->top1;
        m.fp32Loss = fp32->loss;
        const ScaledProgress p(progress, 0.0, 1.0, "Evaluating quantized");
        const EvalResult q = evaluate(executor, *eval, d.run.model->integerHooks(), d.batchSize, p.get());
        m.top1 = q.top1();
        m.loss = q.crossEntropy;
    } else {
        const ScaledProgress fp(progress, 0.0, 0.5, "Evaluating FP32");
        const EvalResult f = evaluate(Executor(d.run.source->graph()), *eval, {}, d.batchSize, fp.get());
        m.fp32Top1 = f.top1();
        m.fp32Loss = f.crossEntropy;
        const ScaledProgress qp(progress, 0.5, 1.0, "Evaluating quantized");
        const EvalResult q = evaluate(executor, *eval, d.run.model->integerHooks(), d.batchSize, qp.get());
        m.top1 = q.top1();
        m.loss = q.crossEntropy;
    }
    m.pipeline = pipelineName(d.state.steps, d.state.equalizedRanges, d.state.equalizedDense);
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return m;
}

}  // namespace ptq
