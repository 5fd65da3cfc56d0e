#include "core/workflow/quantize.h"

#include "core/alloc/sensitivity_table.h"
#include "core/workflow/budget.h"
#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/methods/adaquant.h"
#include "core/methods/bias_tuning.h"
#include "core/methods/bn_tuning.h"
#include "core/quant/multipoint.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <algorithm>
#include <chrono>

namespace ptq {


void QuantizeRequest::setPipeline(PipelineKind kind) { steps = pipelineSteps(kind, tuning.adaquant.sequential); }

bool QuantizeRequest::runs(TuningStep step) const { return std::find(steps.begin(), steps.end(), step) != steps.end(); }

void TuningOptions::validateFor(const std::vector<TuningStep>& steps) const {
    for (TuningStep s : steps) {
        if (isAdaQuant(s)) adaquant.validate();
        if (s == TuningStep::BiasTuning) biasTuning.validate();
    }
}

namespace {
double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// What evalEachStep calls each step (the names older scripts read).
const char* stepTop1Name(TuningStep step) { return isAdaQuant(step) ? "adaquant" : tuningStepName(step); }

// Rough costs of the steps, in FP32 forward passes of one sample, measured with the demo
// ResNet-20 on 2 cores (one such pass took 0.31 ms). They only share out the progress: with
// shares close to the steps' real times, an ETA drawn from the progress holds from one step to
// the next (AdaQuant and bias tuning take most of an advanced run, the evaluations most of a
// plain one).
constexpr double kCalibrationInMemoryBytes = 1024.0 * 1024 * 1024;  // a streamed calibration set held in memory up to this
constexpr double kCalibrateCost = 2.6;       // per calibration sample (the range observers)
constexpr double kDistillCost = 5.3;         // per image and step (forward and backward)
constexpr double kSensitivityCost = 0.6;     // per option, layer and sample (the model's tail)
constexpr double kAdaQuantCost = 0.32;       // per layer, step and mini-batch sample
constexpr double kBlockReconstructionCost = 1.5; // per block, step and mini-batch sample (autograd over the block)
constexpr double kLayerCacheCost = 2.0;      // per calibration sample (AdaQuant's cache fill)
constexpr double kBatchNormTuningCost = 5.0; // per calibration sample (and bias correction)
constexpr double kBiasTuningCost = 5.5;      // per step and mini-batch sample (whole model, backward)
constexpr double kFp32EvalCost = 1.0;        // per evaluation sample
constexpr double kQuantEvalCost = 1.4;       // per evaluation sample (fake quantization)

/// The planned cost of @p step on @p samples calibration samples of a model with @p layers layers.
double stepCost(TuningStep step, const TuningOptions& o, double samples, double layers) {
    switch (step) {
    case TuningStep::AdaQuantBlocks:
        return kBlockReconstructionCost * layers * o.adaquant.blockIterations / o.adaquant.blockMaxLayers *
                   double(std::min<int64_t>(o.adaquant.batchSize, int64_t(samples))) +
               kLayerCacheCost * samples;
    case TuningStep::AdaQuantParallel:
    case TuningStep::AdaQuantSequential:
        return kAdaQuantCost * layers * o.adaquant.iterations *
                   double(std::min<int64_t>(o.adaquant.batchSize, int64_t(samples))) +
               kLayerCacheCost * samples;
    case TuningStep::BatchNorm:
    case TuningStep::BiasCorrection: return kBatchNormTuningCost * samples;
    case TuningStep::BiasTuning:
        return kBiasTuningCost * o.biasTuning.iterations *
                   double(std::min<int64_t>(o.biasTuning.batchSize, int64_t(samples))) +
               (kFp32EvalCost + 2 * kQuantEvalCost) * samples;
    }
    return samples;
}

/// quantizeModel; with @p evaluation, the plan also covers the evaluations the caller runs next.
QuantizedRun quantizeAndPlan(const QuantizeRequest& req, const Progress* progress, EvaluationShares* evaluation);

/// Hands out consecutive shares of [0, 1] in proportion to the planned costs.
class ProgressShares {
public:
    explicit ProgressShares(double total) : scale_(total > 0 ? 1.0 / total : 0.0) {}
    /// The next step's [from, to].
    std::pair<double, double> next(double cost) {
        const double from = at_;
        at_ += cost * scale_;
        return {from, at_};
    }

private:
    double scale_, at_ = 0.0;
};
}  // namespace

namespace {
/// Why BN tuning found nothing to tune, in a sentence.
std::string noBatchNormNote(const Graph& g) {
    for (const Node& n : g.nodes())
        if (n.op == OpKind::BatchNorm)
            return "BN tuning was skipped: no BatchNorm of this model follows a conv or linear layer it could be "
                   "folded into, so there are no statistics to re-estimate.";
    return "BN tuning was skipped: this model has no BatchNorm layer (transformers normalize with LayerNorm, "
           "which has no running statistics to re-estimate).";
}
}  // namespace

StepReport runTuningStep(QuantizedModel& model, const Dataset& calib, TuningStep step, const TuningOptions& options,
                         int64_t batchSize, AdaQuantStore* store, const Progress* progress) {
    StepReport r;
    r.step = step;
    const QuantizedModel::Snapshot before = model.snapshot();
    const auto t0 = std::chrono::steady_clock::now();
    try {
        switch (step) {
        case TuningStep::AdaQuantParallel:
        case TuningStep::AdaQuantSequential: {
            AdaQuantOptions o = options.adaquant;
            o.sequential = step == TuningStep::AdaQuantSequential;
            AdaQuantStore found;
            r.adaquant = adaQuant(model, calib, o, progress, o.sequential ? nullptr : &found);
            int improved = 0;
            for (const AdaQuantLayerResult& l : r.adaquant.layers) improved += l.applied ? 1 : 0;
            r.summary = "AdaQuant (" + std::string(o.sequential ? "sequential" : "parallel") + ") tuned " +
                        std::to_string(improved) + " of " + std::to_string(r.adaquant.layers.size()) + " layers on " +
                        std::to_string(r.adaquant.samples) + " samples";
            if (progress) progress->throwIfCancelled();
            if (store)
                for (const auto& [key, result] : found.results()) store->put(result);
            break;
        }
        case TuningStep::AdaQuantBlocks: {
            r.adaquant = adaQuantBlocks(model, calib, options.adaquant, progress);
            int improved = 0;
            for (const AdaQuantBlockResult& b : r.adaquant.blocks) improved += b.applied ? 1 : 0;
            r.summary = "Block reconstruction tuned " + std::to_string(improved) + " of " +
                        std::to_string(r.adaquant.blocks.size()) + " blocks (" +
                        std::to_string(r.adaquant.layers.size()) + " layers) on " +
                        std::to_string(r.adaquant.samples) + " samples";
            break;
        }
        case TuningStep::BatchNorm:
            r.batchNormsTuned = tuneBatchNorms(model, calib, batchSize, progress, options.onBatchNorm);
            r.summary = "BN tuning re-estimated " + std::to_string(r.batchNormsTuned) + " batch norms";
            if (r.batchNormsTuned == 0) r.summary = r.note = noBatchNormNote(model.graph());
            break;
        case TuningStep::BiasCorrection:
            r.biasesCorrected = correctBiases(model, calib, batchSize, progress);
            r.summary = "Bias correction corrected " + std::to_string(r.biasesCorrected) + " layers";
            break;
        case TuningStep::BiasTuning:
            r.biasTuning = tuneBiases(model, calib, options.biasTuning, progress);
            r.summary = "Bias tuning: KL " + std::to_string(r.biasTuning.klBefore) + " -> " +
                        std::to_string(r.biasTuning.klAfter) +
                        (r.biasTuning.applied ? "" : " (not lower: biases kept)");
            break;
        }
        // A cancel that arrived during the step's final work still counts.
        if (progress) progress->throwIfCancelled();
    } catch (...) {
        model.restore(before);
        throw;
    }
    r.seconds = secondsSince(t0);
    return r;
}

QuantizedRun quantizeModel(const QuantizeRequest& req, const Progress* progress) {
    return quantizeAndPlan(req, progress, nullptr);
}

QuantizedRun quantizeModel(const QuantizeRequest& req, const Progress* progress, EvaluationShares& evaluation) {
    return quantizeAndPlan(req, progress, &evaluation);
}

namespace {
QuantizedRun quantizeAndPlan(const QuantizeRequest& req, const Progress* progress, EvaluationShares* evaluation) {
    // Settings first: a typo should not cost an import and a data load.
    const QuantSpec w = QuantSpec::weights(req.weightBits, req.quantizer.granularity);
    const QuantSpec a = QuantSpec::activations(req.activationBits);
    validateQuantSpec(w);
    validateQuantSpec(a);
    req.quantizer.validate();
    if (req.weightPoints < 1 || req.weightPoints > kMaxWeightPoints)
        throw invalidInput("The number of weight points must be 1 to " + std::to_string(kMaxWeightPoints) + ", not " +
                           std::to_string(req.weightPoints) + ".");
    req.tuning.validateFor(req.steps);
    if (req.dataFree && req.calibSource.given())
        throw invalidInput("Data-free quantization makes its own calibration data: calibrate on " + req.calibSource.text +
                           " or data-free, not both.");
    if (req.dataFree) req.distillOptions.validate();
    if (req.equalizeRanges) {
        req.equalization.validate();
        if (req.quantizer.granularity != Granularity::PerChannel)
            throw invalidInput(std::string("Range equalization rescales weight channels, which is free only with weights "
                                           "quantized per channel, not ") +
                               granularityName(req.quantizer.granularity) + ": quantize per channel or leave it out.");
    }
    if (!req.evalSource.given() && req.evalEachStep)
        throw invalidInput("Measuring top-1 after each step needs labelled evaluation data.");
    const int64_t batch = req.quantizer.batchSize;
    QuantizedRun run;
    run.source = req.opened ? req.opened : openModel(req.model);
    const LoadedModel& source = *run.source;
    const Graph& opened = source.graph();
    const std::string& modelPath = source.path();
    std::unique_ptr<Dataset>& calib = run.calib;
    QuantizeResult& r = run.result;
    // The data before anything long: a bad evaluation source should not wait for a distillation.
    if (!req.dataFree) {
        if (!req.calibSource.given()) throw invalidInput("Quantization needs calibration data, or data-free calibration.");
        calib = source.openData(req.calibSource);
        run.result.calibSkipped = calib->skippedSamples();
        // Calibration and the tuning steps read the calibration set many times (and AdaQuant's
        // and bias tuning's caches at random): a streamed source is decoded once into memory
        // when it fits the bound, else streamed on every pass.
        const double bytes = double(calib->size()) * double(calib->sampleElements()) * sizeof(float);
        if (!calib->contiguousImages() && bytes <= kCalibrationInMemoryBytes) {
            const ScaledProgress reading(progress, 0.0, 0.0, "Reading calibration data");
            calib = std::make_unique<InMemoryDataset>(inMemoryCopy(*calib, batch, reading.get()));
        }
    }
    if (req.evalSource.given()) run.eval = source.openData(req.evalSource);
    const std::unique_ptr<Dataset>& eval = run.eval;
    if (eval && !eval->hasLabels())
        throw invalidInput("The evaluation data " + req.evalSource.text + " has no labels: give a labelled set such as "
                           "fmnist:test.");

    // The progress of every step that will run, planned before the first one.
    const double samples = double(req.dataFree ? req.distillOptions.count : calib->size());
    const double layers = double(opened.quantizableNodes().size());
    const double evalSamples = eval ? double(eval->size()) : 0.0;
    const double distillCost =
        req.dataFree ? kDistillCost * double(req.distillOptions.count) * req.distillOptions.iterations : 0.0;
    const double sensitivityCost =
        req.maxSizeRatio ? kSensitivityCost * double(req.mixedOptions.size()) * layers * samples : 0.0;
    std::vector<double> stepCosts;
    for (TuningStep step : req.steps) stepCosts.push_back(stepCost(step, req.tuning, samples, layers));
    const double stepEvalCost = req.evalEachStep ? kQuantEvalCost * evalSamples : 0.0;
    const double layerErrorsCost = req.layerErrors ? 2.0 * kQuantEvalCost * samples : 0.0;
    const double fp32EvalCost = evaluation && req.evaluateFp32 ? kFp32EvalCost * evalSamples : 0.0;
    const double quantEvalCost = evaluation ? kQuantEvalCost * evalSamples : 0.0;
    const double equalizeCost =
        req.equalizeRanges ? kFp32EvalCost * double(std::min<int64_t>(int64_t(samples), req.equalization.maxSamples)) : 0.0;
    double total = distillCost + equalizeCost + sensitivityCost + kCalibrateCost * samples + layerErrorsCost +
                   double(req.steps.size() + 1) * stepEvalCost + fp32EvalCost + quantEvalCost;
    for (double c : stepCosts) total += c;
    ProgressShares shares(total);
    if (evaluation) {
        const double tuned = total - fp32EvalCost - quantEvalCost;
        evaluation->fp32From = total > 0 ? tuned / total : 1.0;
        evaluation->quantFrom = total > 0 ? (tuned + fp32EvalCost) / total : 1.0;
    }

    if (req.dataFree) {
        const auto [from, to] = shares.next(distillCost);
        ScaledProgress p(progress, from, to, "Distilling data");
        const Graph unfolded = source.unfoldedGraph();
        const DistillResult d = distillData(unfolded, source.inputShape(), req.distillOptions, p.get());
        r.distillSeconds = d.seconds;
        r.distillLoss = d.finalLoss();
        const std::vector<int64_t> sample(d.shape.begin() + 1, d.shape.end());
        calib = std::make_unique<InMemoryDataset>(sample, d.images, std::vector<int64_t>{},
                                                  std::vector<std::string>{}, "distilled data");
    }
    if (req.equalizeRanges) {
        const auto [from, to] = shares.next(equalizeCost);
        ScaledProgress p(progress, from, to, "Equalizing ranges");
        auto equalized = std::make_shared<Graph>(opened.clone());
        RangeEqualizationOptions o = req.equalization;
        o.batchSize = batch;
        r.equalization = equalizeActivationRanges(*equalized, *calib, o, p.get());
        if (r.equalization.groups.empty())
            r.notes.push_back(
                std::string(o.denseReaders ? "Range equalization found no depthwise input or residual stream it can rescale in "
                                           : "Range equalization found no depthwise input it can rescale for free in ") +
                modelPath + ", so the model is quantized as it is." +
                (o.denseReaders ? "" : " With dense readers allowed (--equalize-dense) it also rescales residual streams."));
        else
            run.equalized = std::move(equalized);
    }
    const Graph& graph = run.graph();

    r.config = QuantConfig::uniform(graph, req.weightBits, req.activationBits, req.quantizer.granularity,
                                    req.keepFirstLast8bit);
    for (auto& [name, layer] : r.config.layers)
        if (layer.weightBits == req.weightBits) layer.weightPoints = req.weightPoints;
    if (req.maxSizeRatio) {
        if (!req.layerOverrides.empty())
            throw invalidInput("A size budget allocates every layer's bits: drop the allocation or the budget.");
        const auto ts = std::chrono::steady_clock::now();
        SensitivityRequest sreq;
        sreq.options = req.mixedOptions;
        sreq.quantizer = req.quantizer;
        const auto [from, to] = shares.next(sensitivityCost);
        ScaledProgress p(progress, from, to, "Sensitivity");
        SensitivityTable table;
        table.result = measureSensitivity(graph, *calib, sreq, p.get());
        r.sensitivitySeconds = secondsSince(ts);
        BudgetProblem problem(table.result);
        BudgetRequest budget;
        budget.kind = BudgetKind::Cost;
        budget.metric = CostMetric::Size;
        budget.costRatio = *req.maxSizeRatio;
        const BudgetAllocation allocation = problem.solve(budget);
        if (!allocation.feasible) throw invalidInput(allocation.status);
        r.allocateMs = allocation.solverMs;
        r.allocatedSizeRatio = allocation.sizeBytes / problem.referenceCost(CostMetric::Size, CostReference::Fp32);
        r.predictedDegradation = allocation.deltaLoss;
        for (size_t l = 0; l < table.result.layers.size(); ++l) {
            const BitOption& o = table.result.options[size_t(allocation.choice[l])];
            r.config.layers[table.result.layers[l].name] =
                LayerQuant{o.weightBits, o.activationBits, req.quantizer.granularity, o.weightPoints};
        }
    }
    for (const auto& [name, setting] : req.layerOverrides) {
        auto it = r.config.layers.find(name);
        if (it == r.config.layers.end())
            throw invalidInput("The allocation " + (req.layerOverridesFile.empty() ? "" : req.layerOverridesFile + " ") +
                               "names layer '" + name + "', which " + modelPath +
                               " does not have: it was made for another model.");
        validateQuantSpec(QuantSpec::weights(setting.weightBits, setting.granularity));
        validateQuantSpec(QuantSpec::activations(setting.activationBits));
        it->second = setting;
    }
    if (!req.layerOverridesFile.empty())
        for (const auto& entry : r.config.layers)
            if (!req.layerOverrides.count(entry.first))
                throw invalidInput("The allocation " + req.layerOverridesFile + " has no option for layer '" +
                                   entry.first + "' of " + modelPath + ": it is incomplete, so allocate again with "
                                   "ptq allocate.");
    r.config.weightMethod = req.quantizer.weightRange;
    r.config.activationMethod = req.quantizer.activationRange;
    r.layers = int(r.config.layers.size());
    r.calibSamples = calib->size();
    r.evalSamples = eval ? eval->size() : 0;
    r.evalSkipped = eval ? eval->skippedSamples() : 0;

    run.model = std::make_unique<QuantizedModel>(graph, r.config);
    QuantizedModel& model = *run.model;
    const auto [calibFrom, calibTo] = shares.next(kCalibrateCost * samples + stepEvalCost);
    ScaledProgress calibProgress(progress, calibFrom, calibTo, "Calibrating ranges");
    auto t0 = std::chrono::steady_clock::now();
    model.calibrate(*calib, batch, calibProgress.get());
    r.calibrateSeconds = secondsSince(t0);
    t0 = std::chrono::steady_clock::now();
    const Executor executor(graph);
    auto stepDone = [&](const char* step) {
        if (req.evalEachStep)
            r.stepTop1.emplace_back(step, evaluate(executor, *eval, model.integerHooks(), batch, nullptr).top1());
    };
    stepDone("calibration");
    for (size_t k = 0; k < req.steps.size(); ++k) {
        const TuningStep step = req.steps[k];
        const auto [from, to] = shares.next(stepCosts[k] + stepEvalCost);
        ScaledProgress p(progress, from, to);
        const StepReport report = runTuningStep(model, *calib, step, req.tuning, batch, nullptr, p.get());
        logger()->info("{} ({:.1f} s)", report.summary, report.seconds);
        if (!report.note.empty()) r.notes.push_back(report.note);
        switch (step) {
        case TuningStep::AdaQuantParallel:
        case TuningStep::AdaQuantSequential:
        case TuningStep::AdaQuantBlocks:
            r.adaQuant = report.adaquant;
            r.adaQuantSeconds += report.seconds;
            break;
        case TuningStep::BatchNorm:
            r.bnTuned = report.batchNormsTuned;
            r.bnTuningSeconds += report.seconds;
            break;
        case TuningStep::BiasCorrection: r.biasesCorrected = report.biasesCorrected; break;
        case TuningStep::BiasTuning:
            r.biasTuning = report.biasTuning;
            r.biasTuningSeconds += report.seconds;
            break;
        }
        stepDone(stepTop1Name(step));
    }
    r.tuneSeconds = secondsSince(t0);  // includes the step evaluations when asked for
    const auto [errorsFrom, errorsTo] = shares.next(layerErrorsCost);
    if (req.layerErrors)
        r.layerErrors = layerErrors(model, *calib, batch, ScaledProgress(progress, errorsFrom, errorsTo, "Layer errors").get());
    return run;
}
}  // namespace

QuantizeResult evaluateRun(const QuantizedRun& run, const QuantizeRequest& req, const Progress* progress,
                           const EvaluationShares* shares) {
    if (!run.eval) throw invalidInput("Evaluation needs labelled data (for example fmnist:test).");
    QuantizeResult r = run.result;
    const Executor executor(run.graph());
    const Executor fp32Executor(run.source->graph());  // the user's model, not its equalized copy
    const int64_t batch = req.quantizer.batchSize;
    const EvaluationShares own{0.0, req.evaluateFp32 ? 0.42 : 0.0};
    const EvaluationShares& at = shares ? *shares : own;
    ScaledProgress fpProgress(progress, at.fp32From, at.quantFrom, "Evaluating FP32");
    const EvalResult fp = req.evaluateFp32 ? evaluate(fp32Executor, *run.eval, {}, batch, fpProgress.get()) : EvalResult{};
    ScaledProgress qProgress(progress, at.quantFrom, 1.0, "Evaluating quantized");
    const EvalResult q = evaluate(executor, *run.eval, run.model->integerHooks(), batch, qProgress.get());
    r.fp32Top1 = fp.top1();
    r.quantTop1 = q.top1();
    r.quantCorrect = q.correct;
    r.fp32CrossEntropy = fp.crossEntropy;
    r.quantCrossEntropy = q.crossEntropy;
    r.fp32EvalSeconds = fp.seconds;
    r.quantEvalSeconds = q.seconds;
    return r;
}

QuantizeResult quantizeAndEvaluate(const QuantizeRequest& req, const Progress* progress) {
    if (!req.evalSource.given()) throw invalidInput("Evaluation needs labelled data (for example fmnist:test).");
    EvaluationShares shares;
    const QuantizedRun run = quantizeModel(req, progress, shares);
    return evaluateRun(run, req, progress, &shares);
}

}  // namespace ptq
