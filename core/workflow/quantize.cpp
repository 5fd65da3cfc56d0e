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

/// A step's rough share of a pipeline's tuning time on the demo models, for progress.
double stepWeight(TuningStep step) {
    switch (step) {
    case TuningStep::AdaQuantParallel:
    case TuningStep::AdaQuantSequential: return 0.45;
    case TuningStep::BatchNorm: return 0.07;
    case TuningStep::BiasCorrection: return 0.04;
    case TuningStep::BiasTuning: return 0.14;
    }
    return 0.1;
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
        case TuningStep::BatchNorm:
            r.batchNormsTuned = tuneBatchNorms(model, calib, batchSize, progress, options.onBatchNorm);
            r.summary = "BN tuning re-estimated " + std::to_string(r.batchNormsTuned) + " batch norms";
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
    if (req.dataFree && !req.calibSource.empty())
        throw invalidInput("Data-free quantization makes its own calibration data: calibrate on " + req.calibSource +
                           " or data-free, not both.");
    if (req.dataFree) req.distillOptions.validate();
    if (req.evalSource.empty() && req.evalEachStep)
        throw invalidInput("Measuring top-1 after each step needs labelled evaluation data.");
    const int64_t batch = req.quantizer.batchSize;
    QuantizedRun run;
    run.source = req.opened ? req.opened : openModel(req.model);
    const LoadedModel& source = *run.source;
    const Graph& graph = source.graph();
    const std::string& modelPath = source.path();
    std::unique_ptr<Dataset>& calib = run.calib;
    QuantizeResult& r = run.result;
    if (req.dataFree) {
        ScaledProgress p(progress, 0.0, 0.10, "Distilling data");
        const Graph unfolded = source.unfoldedGraph();
        const DistillResult d = distillData(unfolded, source.inputShape(), req.distillOptions, p.get());
        r.distillSeconds = d.seconds;
        r.distillLoss = d.finalLoss();
        const std::vector<int64_t> sample(d.shape.begin() + 1, d.shape.end());
        calib = std::make_unique<InMemoryDataset>(sample, d.images, std::vector<int64_t>{},
                                                  std::vector<std::string>{}, "distilled data");
    } else {
        calib = source.openData(req.calibSource);
    }
    if (!req.evalSource.empty()) run.eval = source.openData(req.evalSource);
    const std::unique_ptr<Dataset>& eval = run.eval;
    if (eval && !eval->hasLabels())
        throw invalidInput("The evaluation data " + req.evalSource + " has no labels: give a labelled set such as "
                           "fmnist:test.");

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
        ScaledProgress p(progress, 0.1, 0.2, "Sensitivity");
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

    run.model = std::make_unique<QuantizedModel>(graph, r.config);
    QuantizedModel& model = *run.model;
    ScaledProgress calibProgress(progress, 0.0, 0.3);
    auto t0 = std::chrono::steady_clock::now();
    model.calibrate(*calib, batch, calibProgress.get());
    r.calibrateSeconds = secondsSince(t0);
    t0 = std::chrono::steady_clock::now();
    const Executor executor(graph);
    auto stepDone = [&](const char* step) {
        if (req.evalEachStep)
            r.stepTop1.emplace_back(step, evaluate(executor, *eval, model.hooks(), batch, nullptr).top1());
    };
    stepDone("calibration");
    // Progress: calibration 0-0.3, then the tuning steps by their rough shares of the time.
    double total = 0;
    for (TuningStep s : req.steps) total += stepWeight(s);
    double at = 0.3;
    for (TuningStep step : req.steps) {
        const double next = at + 0.7 * stepWeight(step) / total;
        ScaledProgress p(progress, at, next);
        const StepReport report = runTuningStep(model, *calib, step, req.tuning, batch, nullptr, p.get());
        logger()->info("{} ({:.1f} s)", report.summary, report.seconds);
        switch (step) {
        case TuningStep::AdaQuantParallel:
        case TuningStep::AdaQuantSequential:
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
        at = next;
    }
    r.tuneSeconds = secondsSince(t0);  // includes the step evaluations when asked for
    if (req.layerErrors) r.layerErrors = layerErrors(model, *calib, batch, nullptr);
    return run;
}

QuantizeResult evaluateRun(const QuantizedRun& run, const QuantizeRequest& req, const Progress* progress) {
    if (!run.eval) throw invalidInput("Evaluation needs labelled data (for example fmnist:test).");
    QuantizeResult r = run.result;
    const Executor executor(run.graph());
    const int64_t batch = req.quantizer.batchSize;
    ScaledProgress fpProgress(progress, 0.0, 0.45, "Evaluating the FP32 model");
    const EvalResult fp = req.evaluateFp32 ? evaluate(executor, *run.eval, {}, batch, fpProgress.get()) : EvalResult{};
    ScaledProgress qProgress(progress, req.evaluateFp32 ? 0.45 : 0.0, 1.0, "Evaluating the quantized model");
    const EvalResult q = evaluate(executor, *run.eval, run.model->hooks(), batch, qProgress.get());
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
    if (req.evalSource.empty()) throw invalidInput("Evaluation needs labelled data (for example fmnist:test).");
    ScaledProgress tuneProgress(progress, 0.0, 0.45);
    const QuantizedRun run = quantizeModel(req, tuneProgress.get());
    ScaledProgress evalProgress(progress, 0.45, 1.0);
    return evaluateRun(run, req, evalProgress.get());
}

}  // namespace ptq
