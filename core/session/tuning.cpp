#include "core/session/tuning.h"

#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/methods/pipeline.h"
#include "core/model/model_card.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <algorithm>
#include <chrono>

namespace ptq {

struct TunedModel::Impl {
    QuantizedRun run;
    TunedState state;
    Normalization normalization = Normalization::fashionMnist();
    std::vector<int64_t> inputShape;
    int64_t batchSize = 256;
};

TunedModel::TunedModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TunedModel::~TunedModel() = default;
TunedState TunedModel::state() const { return impl_->state; }

const char* tuningStepName(TuningStep step) {
    switch (step) {
    case TuningStep::AdaQuantParallel: return "adaquant-parallel";
    case TuningStep::AdaQuantSequential: return "adaquant-sequential";
    case TuningStep::BatchNorm: return "bn-tuning";
    case TuningStep::BiasCorrection: return "bias-correction";
    case TuningStep::BiasTuning: return "bias-tuning";
    }
    return "?";
}

namespace {
double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

std::unique_ptr<TunedModel> calibrateAllocation(const AllocationSpec& spec, const Progress* progress) {
    if (!spec.model || !spec.table)
        throw invalidInput("Open a model and measure its sensitivity before quantizing an allocation.");
    const SensitivityResult& table = *spec.table;
    if (spec.choice.size() != table.layers.size())
        throw invalidInput("The allocation has " + std::to_string(spec.choice.size()) + " layers but the table has " +
                           std::to_string(table.layers.size()) + ": solve the budget again.");
    QuantizeRequest req;
    const ModelSummary& summary = spec.model->summary();
    req.modelPath = summary.path;
    req.inputShape = summary.inputShape;
    req.calibSource = spec.calibrationSource;
    req.granularity = spec.settings.granularity;
    req.weightMethod = spec.settings.weightMethod;
    req.activationMethod = spec.settings.activationMethod;
    req.batchSize = spec.batchSize;
    req.weightBits = table.base.weightBits;
    req.activationBits = table.base.activationBits;
    for (size_t l = 0; l < spec.choice.size(); ++l) {
        const int option = spec.choice[l];
        if (option < 0 || option >= int(table.options.size()))
            throw invalidInput("The allocation gives layer " + table.layers[l].name + " option " +
                               std::to_string(option) + ", which the table does not have: solve the budget again.");
        const BitOption& o = table.options[size_t(option)];
        req.layerOverrides[table.layers[l].name] =
            LayerQuant{o.weightBits, o.activationBits, req.granularity, o.weightPoints};
    }
    auto impl = std::make_unique<TunedModel::Impl>();
    impl->run = quantizeModel(req, progress);
    impl->inputShape = summary.inputShape;
    impl->batchSize = spec.batchSize;
    if (summary.card) impl->normalization = Normalization::fromModelCard(*summary.card);
    impl->state.choice = spec.choice;
    impl->state.calibrationSource = spec.calibrationSource;
    impl->state.calibrationSamples = impl->run.calib->size();
    impl->state.steps = {"calibrate"};
    return std::unique_ptr<TunedModel>(new TunedModel(std::move(impl)));
}

std::string applyTuningStep(TunedModel& tuned, TuningStep step, const TuningOptions& options, AdaQuantStore* store,
                            const Progress* progress) {
    TunedModel::Impl& d = *tuned.impl_;
    QuantizedModel& model = *d.run.model;
    const Dataset& calib = *d.run.calib;
    TunedState next = d.state;
    const QuantizedModel::Snapshot before = model.snapshot();
    const auto t0 = std::chrono::steady_clock::now();
    std::string summary;
    try {
        switch (step) {
        case TuningStep::AdaQuantParallel:
        case TuningStep::AdaQuantSequential: {
            AdaQuantOptions o = options.adaquant;
            o.sequential = step == TuningStep::AdaQuantSequential;
            AdaQuantStore found;
            const AdaQuantReport report = adaQuant(model, calib, o, progress, o.sequential ? nullptr : &found);
            next.adaquantLayers = report.layers;
            int improved = 0;
            for (const AdaQuantLayerResult& l : report.layers) improved += l.applied ? 1 : 0;
            summary = "AdaQuant (" + std::string(o.sequential ? "sequential" : "parallel") + ") tuned " +
                      std::to_string(improved) + " of " + std::to_string(report.layers.size()) + " layers on " +
                      std::to_string(report.samples) + " samples";
            if (store)
                for (const auto& [key, result] : found.results()) store->put(result);
            break;
        }
        case TuningStep::BatchNorm:
            next.batchNormsTuned = tuneBatchNorms(model, calib, d.batchSize, progress, options.onBatchNorm);
            summary = "BN tuning re-estimated " + std::to_string(next.batchNormsTuned) + " batch norms";
            break;
        case TuningStep::BiasCorrection:
            next.biasesCorrected = correctBiases(model, calib, d.batchSize, progress);
            summary = "Bias correction corrected " + std::to_string(next.biasesCorrected) + " layers";
            break;
        case TuningStep::BiasTuning:
            next.biasTuning = tuneBiases(model, calib, options.biasTuning, progress);
            summary = "Bias tuning: KL " + std::to_string(next.biasTuning.klBefore) + " -> " +
                      std::to_string(next.biasTuning.klAfter) +
                      (next.biasTuning.applied ? "" : " (not lower: biases kept)");
            break;
        }
        // A cancel that arrived during the last step's final work still counts.
        if (progress) progress->throwIfCancelled();
    } catch (...) {
        model.restore(before);
        throw;
    }
    next.steps.push_back(tuningStepName(step));
    d.state = std::move(next);
    logger()->info("{} ({:.1f} s)", summary, secondsSince(t0));
    return summary;
}

MeasuredAllocation measureTuned(const TunedModel& tuned, const std::string& evaluationSource,
                                std::optional<Fp32Figures> fp32, const Progress* progress) {
    const TunedModel::Impl& d = *tuned.impl_;
    const auto t0 = std::chrono::steady_clock::now();
    const std::unique_ptr<Dataset> eval = openDataSource(evaluationSource, d.normalization, d.inputShape);
    if (!eval->hasLabels())
        throw invalidInput("The evaluation data " + evaluationSource +
                           " has no labels: give a labelled set such as fmnist:test.");
    const Executor executor(*d.run.graph);
    MeasuredAllocation m;
    m.choice = d.state.choice;
    m.evaluationSource = evaluationSource;
    if (fp32) {
        m.fp32Top1 = fp32->top1;
        m.fp32Loss = fp32->loss;
        const ScaledProgress p(progress, 0.0, 1.0, "Evaluating the quantized model");
        const EvalResult q = evaluate(executor, *eval, d.run.model->hooks(), d.batchSize, p.get());
        m.top1 = q.top1();
        m.loss = q.crossEntropy;
    } else {
        const ScaledProgress fp(progress, 0.0, 0.5, "Evaluating the FP32 model");
        const EvalResult f = evaluate(executor, *eval, {}, d.batchSize, fp.get());
        m.fp32Top1 = f.top1();
        m.fp32Loss = f.crossEntropy;
        const ScaledProgress qp(progress, 0.5, 1.0, "Evaluating the quantized model");
        const EvalResult q = evaluate(executor, *eval, d.run.model->hooks(), d.batchSize, qp.get());
        m.top1 = q.top1();
        m.loss = q.crossEntropy;
    }
    const std::vector<std::string>& steps = d.state.steps;
    auto ran = [&](const char* s) { return std::find(steps.begin(), steps.end(), s) != steps.end(); };
    const bool ada = ran("adaquant-parallel") || ran("adaquant-sequential");
    if (ada && ran("bn-tuning") && ran("bias-tuning")) m.pipeline = "advanced";
    else if (!ada && ran("bn-tuning") && ran("bias-correction")) m.pipeline = "light";
    else if (steps.size() == 1) m.pipeline = "none";
    else {
        m.pipeline.clear();
        for (size_t k = 1; k < steps.size(); ++k) m.pipeline += (k > 1 ? "+" : "") + steps[k];
    }
    m.seconds = secondsSince(t0);
    return m;
}

}  // namespace ptq
