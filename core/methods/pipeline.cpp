#include "core/methods/pipeline.h"

#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/methods/bn_tuning.h"
#include "core/methods/adaquant.h"
#include "core/methods/bias_tuning.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
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

QuantizeResult quantizeAndEvaluate(const QuantizeRequest& req, const Progress* progress) {
    const auto card = loadModelCard(req.modelPath);
    std::vector<int64_t> shape = req.inputShape;
    if (shape.empty() && card) shape = card->inputShape;
    // Bits first: a typo should not cost an import and a data load.
    const QuantSpec w = QuantSpec::weights(req.weightBits, req.granularity);
    const QuantSpec a = QuantSpec::activations(req.activationBits);
    validateQuantSpec(w);
    validateQuantSpec(a);
    if (req.adaQuant) req.adaQuantOptions.validate();
    if (req.biasTuning) req.biasTuningOptions.validate();
    Graph graph = importTorchScript(req.modelPath, shape);
    foldBatchNorms(graph);
    const Normalization norm = card ? Normalization::fromModelCard(*card) : Normalization::fashionMnist();
    const auto calib = openDataSource(req.calibSource, norm, shape);
    const auto eval = openDataSource(req.evalSource, norm, shape);
    if (!eval->hasLabels())
        throw invalidInput("The evaluation data " + req.evalSource + " has no labels: give a labelled set such as "
                           "fmnist:test.");

    QuantizeResult r;
    r.config = QuantConfig::uniform(graph, req.weightBits, req.activationBits, req.granularity, req.keepFirstLast8bit);
    for (const auto& [name, setting] : req.layerOverrides) {
        auto it = r.config.layers.find(name);
        if (it == r.config.layers.end())
            throw invalidInput("The allocation names layer '" + name + "', which " + req.modelPath +
                               " does not have: it was made for another model.");
        validateQuantSpec(QuantSpec::weights(setting.weightBits, setting.granularity));
        validateQuantSpec(QuantSpec::activations(setting.activationBits));
        it->second = setting;
    }
    r.config.weightMethod = req.weightMethod;
    r.config.activationMethod = req.activationMethod;
    r.layers = int(r.config.layers.size());
    r.calibSamples = calib->size();
    r.evalSamples = eval->size();

    QuantizedModel model(graph, r.config);
    ScaledProgress calibProgress(progress, 0.0, 0.15);
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
    // Progress: calibration 0-0.15, tuning 0.15-0.45, evaluations 0.45-1.
    if (req.adaQuant) {
        const auto ts = std::chrono::steady_clock::now();
        ScaledProgress p(progress, 0.15, 0.35);
        r.adaQuant = adaQuant(model, *calib, req.adaQuantOptions, p.get());
        r.adaQuantSeconds = seconds(ts);
        stepDone("adaquant");
    }
    if (req.bnTuning) {
        const auto ts = std::chrono::steady_clock::now();
        ScaledProgress p(progress, 0.35, 0.38);
        r.bnTuned = tuneBatchNorms(model, *calib, req.batchSize, p.get());
        r.bnTuningSeconds = seconds(ts);
        stepDone("bn-tuning");
    }
    if (req.biasCorrection) {
        ScaledProgress p(progress, 0.38, 0.40);
        r.biasesCorrected = correctBiases(model, *calib, req.batchSize, p.get());
        stepDone("bias-correction");
    }
    if (req.biasTuning) {
        const auto ts = std::chrono::steady_clock::now();
        ScaledProgress p(progress, 0.40, 0.45);
        r.biasTuning = tuneBiases(model, *calib, req.biasTuningOptions, p.get());
        r.biasTuningSeconds = seconds(ts);
        stepDone("bias-tuning");
    }
    r.tuneSeconds = seconds(t0);  // includes the step evaluations when asked for
    if (req.layerErrors) r.layerErrors = layerErrors(model, *calib, req.batchSize, nullptr);

    ScaledProgress fpProgress(progress, 0.45, 0.70);
    const EvalResult fp = req.evaluateFp32 ? evaluate(executor, *eval, {}, req.batchSize, fpProgress.get())
                                           : EvalResult{};
    ScaledProgress qProgress(progress, 0.70, 1.0);
    const EvalResult q = evaluate(executor, *eval, model.hooks(), req.batchSize, qProgress.get());
    r.fp32Top1 = fp.top1();
    r.quantTop1 = q.top1();
    r.fp32CrossEntropy = fp.crossEntropy;
    r.quantCrossEntropy = q.crossEntropy;
    r.fp32EvalSeconds = fp.seconds;
    r.quantEvalSeconds = q.seconds;
    return r;
}

}  // namespace ptq
