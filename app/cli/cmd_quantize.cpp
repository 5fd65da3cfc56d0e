#include "cli/commands.h"

#include "cli/common.h"
#include "core/methods/pipeline.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cmath>
#include <cstdio>

namespace ptq::cli {

int runQuantize(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "keep-first-last-8bit", "bn-tuning", "bias-correction", "layer-errors", "no-fp32"},
                 {"calib", "eval", "w", "a", "granularity", "weight-range", "act-range", "batch", "input-shape",
                  "pipeline"},
                 "quantize");
    QuantizeRequest req;
    req.modelPath = modelArg(a, "quantize");
    req.inputShape = inputShapeArg(a);
    if (!a.has("calib") || !a.has("eval"))
        throw invalidInput("'ptq quantize' needs --calib SRC and --eval SRC (for example --calib fmnist:train:1000 "
                           "--eval fmnist:test).");
    req.setPipeline(a.value("pipeline", "none"));
    if (a.flag("bn-tuning")) req.bnTuning = true;
    if (a.flag("bias-correction")) req.biasCorrection = true;
    req.layerErrors = a.flag("layer-errors");
    req.evaluateFp32 = !a.flag("no-fp32");
    req.calibSource = a.value("calib");
    req.evalSource = a.value("eval");
    req.weightBits = int(a.integer("w", 8));
    req.activationBits = int(a.integer("a", 8));
    req.granularity = granularityFromString(a.value("granularity", "per-channel"));
    req.weightMethod = rangeMethodFromString(a.value("weight-range", "minmax"));
    req.activationMethod = rangeMethodFromString(a.value("act-range", "minmax"));
    req.keepFirstLast8bit = a.flag("keep-first-last-8bit");
    req.batchSize = a.integer("batch", 256);
    if (req.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    const QuantizeResult r = quantizeAndEvaluate(req);
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(req.modelPath);
        o["w_bits"] = req.weightBits;
        o["a_bits"] = req.activationBits;
        o["granularity"] = granularityName(req.granularity);
        o["weight_range"] = rangeMethodName(req.weightMethod);
        o["act_range"] = rangeMethodName(req.activationMethod);
        o["keep_first_last_8bit"] = req.keepFirstLast8bit;
        o["pipeline"] = QString::fromStdString(req.pipelineName());
        o["bn_tuned"] = r.bnTuned;
        o["biases_corrected"] = r.biasesCorrected;
        o["tune_seconds"] = r.tuneSeconds;
        o["calib"] = QString::fromStdString(req.calibSource);
        o["eval"] = QString::fromStdString(req.evalSource);
        o["calib_samples"] = qint64(r.calibSamples);
        o["eval_samples"] = qint64(r.evalSamples);
        o["layers"] = r.layers;
        const QJsonValue none(QJsonValue::Null);
        o["fp32_top1"] = req.evaluateFp32 ? QJsonValue(r.fp32Top1) : none;
        o["quant_top1"] = r.quantTop1;
        o["drop"] = req.evaluateFp32 ? QJsonValue(r.drop()) : none;
        o["fp32_cross_entropy"] = req.evaluateFp32 ? QJsonValue(r.fp32CrossEntropy) : none;
        o["quant_cross_entropy"] = r.quantCrossEntropy;
        o["calibrate_seconds"] = r.calibrateSeconds;
        o["fp32_eval_seconds"] = r.fp32EvalSeconds;
        o["quant_eval_seconds"] = r.quantEvalSeconds;
        if (req.layerErrors) {
            QJsonArray layers;
            for (const LayerError& e : r.layerErrors) {
                QJsonObject j;
                j["layer"] = QString::fromStdString(e.layer);
                j["mse"] = e.mse;
                j["snr_db"] = std::isfinite(e.snrDb) ? QJsonValue(e.snrDb) : QJsonValue(QJsonValue::Null);
                layers.append(j);
            }
            o["layer_errors"] = layers;
        }
        printJson(o);
        return 0;
    }
    std::printf("%s: W%dA%d %s, weights %s, activations %s%s, pipeline %s; calibrated on %lld samples of %s\n",
                req.modelPath.c_str(), req.weightBits, req.activationBits, granularityName(req.granularity),
                rangeMethodName(req.weightMethod), rangeMethodName(req.activationMethod),
                req.keepFirstLast8bit ? ", first/last layer 8-bit" : "", req.pipelineName().c_str(),
                (long long)r.calibSamples, req.calibSource.c_str());
    if (req.bnTuning || req.biasCorrection)
        std::printf("  tuned %d batch norms, corrected %d biases (%.1f s)\n", r.bnTuned, r.biasesCorrected,
                    r.tuneSeconds);
    if (req.evaluateFp32)
        std::printf("  FP32 top-1       %6.2f %%   (cross-entropy %.4f, %.1f s)\n", r.fp32Top1, r.fp32CrossEntropy,
                    r.fp32EvalSeconds);
    std::printf("  quantized top-1  %6.2f %%   (cross-entropy %.4f, %.1f s)\n", r.quantTop1, r.quantCrossEntropy,
                r.quantEvalSeconds);
    if (req.evaluateFp32)
        std::printf("  drop             %6.2f pt on %lld images of %s\n", r.drop(), (long long)r.evalSamples,
                    req.evalSource.c_str());
    else
        std::printf("  (FP32 not evaluated: --no-fp32) on %lld images of %s\n", (long long)r.evalSamples,
                    req.evalSource.c_str());
    if (req.layerErrors) {
        std::printf("\n  %-32s %12s %9s   (each layer on the FP input, on the calibration set)\n", "layer",
                    "output MSE", "SNR dB");
        for (const LayerError& e : r.layerErrors)
            std::printf("  %-32s %12.3e %9.1f\n", e.layer.c_str(), e.mse, e.snrDb);
    }
    return 0;
}

}  // namespace ptq::cli
