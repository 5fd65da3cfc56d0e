#include "core/methods/pipeline.h"

#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/methods/adaquant.h"
#include "core/methods/bias_tuning.h"
#include "core/methods/bn_tuning.h"
#include "core/model/model_card.h"
#include "core/quant/multipoint.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"

#include <chrono>

namespace ptq {


void QuantizeRequest::setPipeline(const std::string& name) {
    if (name == "none") {
        bnTuning = biasCorrection = adaQuant = biasTuning = false;
    } else if (name == "light") {
        bnTuning = biasCorrection = true;
        adaQuant = biasTuning = false;
    } else if (name == "advanced") {
        adaQuant = bnTuning = biasTuning = true;
        biasCorrection = false;
    } else {
        throw invalidInput("Unknown pipeline '" + name + "'; use none (range calibration only), light (ranges, "
                           "BN tuning and bias correction) or advanced (AdaQuant, BN tuning and bias tuning).");
    }
}

std::string QuantizeRequest::pipelineName() const {
    if (bnTuning && biasCorrection && !adaQuant && !biasTuning) return "light";
    const std::string ada = adaQuantOptions.sequential ? "adaquant-seq" : "adaquant";
    if (adaQuant && bnTuning && biasTuning && !biasCorrection)
        return adaQuantOptions.sequential ? "advanced-seq" : "advanced";
    std::string name = "none";
    if (adaQuant) name += "+" + ada;
    if (bnTuning) name += "+bn-tuning";
    if (biasCorrection) name += "+bias-correction";
    if (biasTuning) name += "+bias-tuning";
    return name;
}

QuantizedRun quantizeModel(const QuantizeRequest& req, const Progress* progress) {
    const auto card = loadModelCard(req.modelPath);
    std::vector<int64_t> shape = req.inputShape;
    if (shape.empty() && card) shape = card->inputShape;
    // Bits first: a typo should not cost an import and a data load.
    const QuantSpec w = QuantSpec::weights(req.weightBits, req.granularity);
    const QuantSpec a = QuantSpec::activations(req.activationBits);
    validateQuantSpec(w);
    validateQuantSpec(a);
    if (req.weightPoints < 1 || req.weightPoints > kMaxWeightPoints)
        throw invalidInput("--points must be 1 to " + std::to_string(kMaxWeightPoints) + ", not " +
                           std::to_string(req.weightPoints) + ".");
    if (req.adaQuant) req.adaQuantOptions.validate();
    if (req.biasTuning) req.biasTuningOptions.validate();
    if (req.dataFree && !req.calibSource.empty())
        throw invalidInput("Data-free quantization makes its own calibration data: drop --calib, or drop --data-free "
                           "to calibrate on " + req.calibSource + ".");
    if (req.dataFree) req.distillOptions.validate();
    QuantizedRun run;
    run.graph = std::make_unique<Graph>(importTorchScript(req.modelPath, shape));
    Graph& graph = *run.graph;
    const Normalization norm = card ? Normalization::fromModelCard(*card) : Normalization::fashionMnist();
    std::unique_ptr<Dataset>& calib = run.calib;
    QuantizeResult& r = run.result;
    if (req.dataFree) {
        ScaledProgress p(progress, 0.0, 0.10, "Distilling data");
        const DistillResult d = distillData(graph, graph.sampleShape(graph.inputValue()), req.distillOptions, p.get());
        r.distillSeconds = d.seconds;
        r.distillLoss = d.finalLoss();
        const std::vector<int64_t> sample(d.shape.begin() + 1, d.shape.end());
        calib = std::make_unique<InMemoryDataset>(sample, d.images, std::vector<int64_t>{},
                                                  std::vector<std::string>{}, "distilled data");
    }
    foldBatchNorms(graph);
    if (!req.dataFree) calib = openDataSource(req.calibSource, norm, shape);
    if (req.evalSource.empty() && req.evalEachStep)
        throw invalidInput("Measuring top-1 after each step needs evaluation data (--eval SRC).");
    if (!req.evalSource.empty()) run.eval = openDataSource(req.evalSource, norm, shape);
    const std::unique_ptr<Dataset>& eval = run.eval;
    if (eval && !eval->hasLabels())
        throw invalidInput("The evaluation data " + req.evalSource + " has no labels: give a labelled set such as "
                           "fmnist:test.");

    r.config = QuantConfig::uniform(graph, req.weightBits, req.activationBits, req.granularity, req.keepFirstLast8bit);
    for (auto& [name, layer] : r.config.layers)
        if (layer.weightBits == req.weightBits) layer.weightPoints = req.weightPoints;
    if (req.maxSizeRatio) {
        if (!req.layerOverrides.empty())
            throw invalidInput("A size budget allocates every layer's bits: drop the allocation or the budget.");
        const auto ts = std::chrono::steady_clock::now();
        SensitivityRequest sreq;
        sreq.options = req.mixedOptions;
        sreq.granularity = req.granularity;
        sreq.weightMethod = req.weightMethod;
        sreq.activationMethod = req.activationMethod;
        sreq.batchSize = req.batchSize;
        ScaledProgress p(progress, 0.1, 0.2, "Sensitivity");
        SensitivityTable table;
        table.result = measureSensitivity(graph, *calib, sreq, p.get());
        r.sensitivitySeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
        const AllocationProblem problem = problemFromTable(table, DegradationMeasure::DeltaLoss);
        AllocationBudget budget;
        budget.maxSize = *req.maxSizeRatio * problem.referenceSize;
        const AllocationResult a = solveAllocation(problem, budget);
        if (!a.optimal()) throw invalidInput(a.message);
        r.allocateMs = a.solveMs;
        r.allocatedSizeRatio = a.size / problem.referenceSize;
        r.predictedDegradation = a.degradation;
        for (size_t l = 0; l < problem.layers.size(); ++l) {
            const BitOption& o = table.result.options[size_t(a.choice[l])];
            r.config.layers[problem.layers[l]] = LayerQuant{o.weightBits, o.activationBits, req.granularity, o.weightPoints};
        }
    }
    for (const auto& [name, setting] : req.layerOverrides) {
        auto it = r.config.layers.find(name);
        if (it == r.config.layers.end())
            throw invalidInput("The allocation " + (req.layerOverridesFile.empty() ? "" : req.layerOverridesFile + " ") +
                               "names layer '" + name + "', which " + req.modelPath +
                               " does not have: it was made for another model.");
        validateQuantSpec(QuantSpec::weights(setting.weightBits, setting.granularity));
        validateQuantSpec(QuantSpec::activations(setting.activationBits));
        it->second = setting;
    }
    if (!req.layerOverridesFile.empty())
        for (const auto& entry : r.config.layers)
            if (!req.layerOverrides.count(entry.first))
                throw invalidInput("The allocation " + req.layerOverridesFile + " has no option for layer '" +
                                   entry.first + "' of " + req.modelPath + ": it is incomplete, so allocate again with "
                                   "ptq allocate.");
    r.config.weightMethod = req.weightMethod;
    r.config.activationMethod = req.activationMethod;
    r.layers = int(r.config.layers.size());
    r.calibSamples = calib->size();
    r.evalSamples = eval ? eval->size() : 0;

    run.model = std::make_unique<QuantizedModel>(graph, r.config);
    QuantizedModel& model = *run.model;
    ScaledProgress calibProgress(progress, 0.0, 0.3);
    auto t0 = std::chrono::steady_clock::now();
    model.calibrate(*calib, req.batchSize, calibProgress.get());
    r.calibrateSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    t0 = std::chrono::steady_clock::now();
    auto seconds = [](std::chrono::steady_clock::time_point from) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
    };
    const Executor executor(graph);
    auto stepDone = [&](const char* step) {
        if (req.evalEachStep)
            r.stepTop1.emplace_back(step, evaluate(executor, *eval, model.hooks(), req.batchSize, nullptr).top1());
    };
    stepDone("calibration");
    // Progress: calibration 0-0.3, then the tuning steps.
    if (req.adaQuant) {
        const auto ts = std::chrono::steady_clock::now();
        ScaledProgress p(progress, 0.3, 0.75);
        r.adaQuant = adaQuant(model, *calib, req.adaQuantOptions, p.get());
        r.adaQuantSeconds = seconds(ts);
        stepDone("adaquant");
    }
    if (req.bnTuning) {
        const auto ts = std::chrono::steady_clock::now();
        ScaledProgress p(progress, 0.75, 0.82);
        r.bnTuned = tuneBatchNorms(model, *calib, req.batchSize, p.get());
        r.bnTuningSeconds = seconds(ts);
        stepDone("bn-tuning");
    }
    if (req.biasCorrection) {
        ScaledProgress p(progress, 0.82, 0.86);
        r.biasesCorrected = correctBiases(model, *calib, req.batchSize, p.get());
        stepDone("bias-correction");
    }
    if (req.biasTuning) {
        const auto ts = std::chrono::steady_clock::now();
        ScaledProgress p(progress, 0.86, 1.0);
        r.biasTuning = tuneBiases(model, *calib, req.biasTuningOptions, p.get());
        r.biasTuningSeconds = seconds(ts);
        stepDone("bias-tuning");
    }
    r.tuneSeconds = seconds(t0);  // includes the step evaluations when asked for
    if (req.layerErrors) r.layerErrors = layerErrors(model, *calib, req.batchSize, nullptr);
    return run;
}

QuantizeResult quantizeAndEvaluate(const QuantizeRequest& req, const Progress* progress) {
    if (req.evalSource.empty())
        throw invalidInput("Evaluation needs labelled data: give --eval SRC (for example fmnist:test).");
    ScaledProgress tuneProgress(progress, 0.0, 0.45);
    QuantizedRun run = quantizeModel(req, tuneProgress.get());
    QuantizeResult& r = run.result;
    const Dataset& eval = *run.eval;
    const QuantizedModel& model = *run.model;
    const Executor executor(*run.graph);
    ScaledProgress fpProgress(progress, 0.45, 0.70);
    const EvalResult fp = req.evaluateFp32 ? evaluate(executor, eval, {}, req.batchSize, fpProgress.get())
                                           : EvalResult{};
    ScaledProgress qProgress(progress, 0.70, 1.0);
    const EvalResult q = evaluate(executor, eval, model.hooks(), req.batchSize, qProgress.get());
    r.fp32Top1 = fp.top1();
    r.quantTop1 = q.top1();
    r.fp32CrossEntropy = fp.crossEntropy;
    r.quantCrossEntropy = q.crossEntropy;
    r.fp32EvalSeconds = fp.seconds;
    r.quantEvalSeconds = q.seconds;
    return std::move(run.result);
}

}  // namespace ptq
