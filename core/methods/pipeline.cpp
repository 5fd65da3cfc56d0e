#include "core/methods/pipeline.h"

#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/methods/bn_tuning.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"

#include <chrono>

namespace ptq {


void QuantizeRequest::setPipeline(const std::string& name) {
    if (name == "none") {
        bnTuning = biasCorrection = false;
    } else if (name == "light") {
        bnTuning = biasCorrection = true;
    } else {
        throw invalidInput("Unknown pipeline '" + name + "'; use none (range calibration only) or light (ranges, "
                           "BN tuning and bias correction).");
    }
}

std::string QuantizeRequest::pipelineName() const {
    if (bnTuning && biasCorrection) return "light";
    if (!bnTuning && !biasCorrection) return "none";
    return bnTuning ? "none+bn-tuning" : "none+bias-correction";
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
    if (req.bnTuning) {
        ScaledProgress p(progress, 0.15, 0.25);
        r.bnTuned = tuneBatchNorms(model, *calib, req.batchSize, p.get());
    }
    if (req.biasCorrection) {
        ScaledProgress p(progress, 0.25, 0.35);
        r.biasesCorrected = correctBiases(model, *calib, req.batchSize, p.get());
    }
    r.tuneSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (req.layerErrors) r.layerErrors = layerErrors(model, *calib, req.batchSize, nullptr);

    const Executor executor(graph);
    ScaledProgress fpProgress(progress, 0.35, 0.65);
    const EvalResult fp = req.evaluateFp32 ? evaluate(executor, *eval, {}, req.batchSize, fpProgress.get())
                                           : EvalResult{};
    ScaledProgress qProgress(progress, 0.65, 1.0);
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
