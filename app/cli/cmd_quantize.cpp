#include "cli/commands.h"

#include "cli/common.h"
#include "cli/terminal_progress.h"
#include "cli/target_args.h"
#include "core/analysis/sensitivity.h"
#include "core/workflow/export.h"
#include "core/workflow/quantize.h"
#include "core/quant/multipoint.h"
#include "core/target/target_costs.h"
#include "core/util/error.h"

#include <tuple>
#include <QtCore/QJsonArray>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <cmath>
#include <cstdio>

namespace ptq::cli {

namespace {

// One row a layer: AdaQuant's output MSE before and after, on the layer's calibration inputs.
void writeLayerCsv(const std::string& path, const QuantizeRequest& req, const QuantizeResult& r) {
    QString text = "model,layer,w_bits,a_bits,flavour,samples,iterations,relu_in_loss,mse_before,mse_after,applied,"
                   "seconds\n";
    const QString model = QFileInfo(QString::fromStdString(req.model.path)).fileName();
    for (const AdaQuantLayerResult& l : r.adaQuant.layers)
        text += QString("%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12\n")
                    .arg(model, QString::fromStdString(l.layer))
                    .arg(l.weightBits)
                    .arg(l.activationBits)
                    .arg(adaQuantFlavour(r.adaQuant))
                    .arg(qint64(l.samples))
                    .arg(l.iterations)
                    .arg(l.reluInLoss ? 1 : 0)
                    .arg(l.mseBefore, 0, 'g', 6)
                    .arg(l.mseAfter, 0, 'g', 6)
                    .arg(l.applied ? 1 : 0)
                    .arg(l.seconds, 0, 'f', 3);
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly) || file.write(text.toUtf8()) < 0 || !file.commit())
        throw failed("Could not write the layer CSV " + path + ": check that its folder exists and is writable.");
}

}  // namespace

int runQuantize(const std::vector<std::string>& argv) {
    const Args a(argv,
                 {"json", "keep-first-last-8bit", "bn-tuning", "bias-correction", "layer-errors", "adaquant",
                  "sequential", "bias-tuning", "eval-each-step", "no-fp32", "data-free", "skip-bad", "adaquant-blocks",
                  "equalize-ranges", "equalize-dense"},
                 withModelCard({"calib", "eval", "w", "a", "granularity", "weight-range", "act-range", "batch",
                                "pipeline", "adaquant-iters", "block-iters", "block-layers", "adaquant-batch", "adaquant-lr-w", "adaquant-lr-b",
                                "adaquant-lr-a", "adaquant-lr-q", "cache-mb", "bias-iters", "bias-batch", "bias-lr",
                                "layer-csv", "seed", "points", "distill-count", "distill-iters", "distill-lr", "distill-label-weight",
                                "max-size-ratio", "options", "target", "o", "out", "format", "aimet-version"}),
                 "quantize");
    TerminalProgress progress(a.flag("json"));
    QuantizeRequest req;
    req.model = modelRequestArg(a, "quantize");
    req.dataFree = a.flag("data-free");
    if ((!a.has("calib") && !req.dataFree) || !a.has("eval"))
        throw invalidInput("'ptq quantize' needs --calib SRC (or --data-free) and --eval SRC (for example --calib "
                           "fmnist:train:1000 --eval fmnist:test).");
    DistillOptions& distill = req.distillOptions;
    distill.count = a.integer("distill-count", distill.count);
    distill.iterations = int(a.integer("distill-iters", distill.iterations));
    distill.lr = a.number("distill-lr", distill.lr);
    distill.labelWeight = a.number("distill-label-weight", distill.labelWeight);
    if ((a.has("distill-count") || a.has("distill-iters") || a.has("distill-lr") || a.has("distill-label-weight")) &&
        !req.dataFree)
        throw invalidInput("The --distill-* options set up --data-free quantization: add --data-free.");
    AdaQuantOptions& ada = req.tuning.adaquant;
    pipelineArgs(a, req);
    if ((a.flag("adaquant") || ada.sequential) && !req.runs(TuningStep::AdaQuantBlocks))
        req.addStep(ada.sequential ? TuningStep::AdaQuantSequential : TuningStep::AdaQuantParallel);
    if (a.flag("adaquant") && a.flag("adaquant-blocks"))
        throw invalidInput("--adaquant (layer by layer) and --adaquant-blocks (block by block) are two AdaQuant "
                           "flavours: give one of them.");
    if (a.flag("bn-tuning")) req.addStep(TuningStep::BatchNorm);
    if (a.flag("bias-correction")) req.addStep(TuningStep::BiasCorrection);
    if (a.flag("bias-tuning")) req.addStep(TuningStep::BiasTuning);
    ada.iterations = int(a.integer("adaquant-iters", ada.iterations));
    ada.batchSize = a.integer("adaquant-batch", ada.batchSize);
    ada.lrWeight = a.number("adaquant-lr-w", ada.lrWeight);
    ada.lrBias = a.number("adaquant-lr-b", ada.lrBias);
    ada.lrActivation = a.number("adaquant-lr-a", ada.lrActivation);
    ada.lrWeightQuant = a.number("adaquant-lr-q", ada.lrWeightQuant);
    ada.maxCacheBytes = a.integer("cache-mb", ada.maxCacheBytes >> 20) << 20;
    ada.seed = uint64_t(a.integer("seed", 0));
    distill.seed = ada.seed;
    BiasTuningOptions& bias = req.tuning.biasTuning;
    bias.iterations = int(a.integer("bias-iters", bias.iterations));
    bias.batchSize = a.integer("bias-batch", bias.batchSize);
    bias.lr = a.number("bias-lr", bias.lr);
    bias.seed = ada.seed;
    // Checked here as well so that a bad option given without its step is still refused.
    if (a.has("adaquant-iters") || a.has("adaquant-batch") || a.has("adaquant-lr-w") || a.has("adaquant-lr-b") ||
        a.has("adaquant-lr-a") || a.has("adaquant-lr-q") || a.has("cache-mb"))
        ada.validate();
    if (a.has("bias-iters") || a.has("bias-batch") || a.has("bias-lr")) bias.validate();
    const std::string layerCsv = a.value("layer-csv");
    if (!layerCsv.empty() && !req.runsAdaQuant())
        throw invalidInput("--layer-csv writes AdaQuant's per-layer figures: add --adaquant or --pipeline advanced.");
    req.layerErrors = a.flag("layer-errors");
    req.evaluateFp32 = !a.flag("no-fp32");
    req.evalEachStep = a.flag("eval-each-step");
    req.calibSource = req.dataFree ? DataSourceSpec{} : dataSourceArg(a, "calib");
    if (req.dataFree && a.has("calib"))
        throw invalidInput("Data-free quantization makes its own calibration data: drop --calib, or drop --data-free.");
    req.evalSource = dataSourceArg(a, "eval");
    req.weightBits = int(a.integer("w", 8));
    req.activationBits = int(a.integer("a", 8));
    req.quantizer = quantizerArgs(a);
    req.weightPoints = int(a.integer("points", 1));
    if (req.weightPoints < 1 || req.weightPoints > kMaxWeightPoints)
        throw invalidInput("--points must be 1 to " + std::to_string(kMaxWeightPoints) + ", not " +
                           std::to_string(req.weightPoints) + ".");
    if (a.has("max-size-ratio")) {
        const double ratio = a.number("max-size-ratio", 0.0);
        if (!(ratio > 0.0) || ratio > 1.0)
            throw invalidInput("--max-size-ratio is a fraction of the FP32 weights' size, in (0, 1]; got " +
                               a.value("max-size-ratio") + ".");
        req.maxSizeRatio = ratio;
        if (a.has("options")) req.mixedOptions = BitOption::parseList(a.value("options"));
    } else if (a.has("options")) {
        throw invalidInput("--options lists the choices of a mixed allocation: add --max-size-ratio R.");
    }
    req.keepFirstLast8bit = a.flag("keep-first-last-8bit");
    std::tie(req.equalizeRanges, req.equalization.denseReaders) = equalizationArgs(a);
    if (const TargetInfo* target = targetArg(a)) {
        // The target decides what may run: its granularity unless one is given, and only its options.
        if (!a.has("granularity"))
            req.quantizer.granularity = granularityFromString(target->granularities.first().toStdString());
        const std::string g = granularityName(req.quantizer.granularity);
        if (req.maxSizeRatio) {
            if (!a.has("options")) req.mixedOptions = targetOptions(*target);
            for (const BitOption& o : req.mixedOptions) requireSupported(*target, o.weightBits, o.activationBits, o.weightPoints, g);
        } else {
            requireSupported(*target, req.weightBits, req.activationBits, req.weightPoints, g);
        }
        if (req.keepFirstLast8bit) requireSupported(*target, 8, 8, 1, g);
    }
    // -o FILE: the model just measured, in the format --format or the file's extension names.
    const std::string out = a.value("o", a.value("out"));
    ExportRequest exportRequest;
    if (!out.empty()) {
        exportRequest.path = out;
        exportRequest.format = a.has("format") ? exportFormatFromString(a.value("format")) : exportFormatForPath(out);
        if (exportRequest.format == ExportFormat::Html)
            throw invalidInput("The HTML report describes an allocation: write it with ptq export --alloc ALLOC.json "
                               "--format html.");
        exportRequest.aimetVersion = aimetVersionFromString(a.value("aimet-version", "1.0.0"));
    } else if (a.has("format") || a.has("aimet-version")) {
        throw invalidInput("--format and --aimet-version say how to write -o FILE: add -o FILE.");
    }
    EvaluationShares shares;
    req.opened = openModelForData(req.model);
    const QuantizedRun run = quantizeModel(req, progress.get(), shares);
    const QuantizeResult r = evaluateRun(run, req, progress.get(), &shares);
    progress.finish();
    reportSkipped(req.calibSource, r.calibSkipped);
    reportSkipped(req.evalSource, r.evalSkipped);
    if (!out.empty()) {
        ConfigProvenance& prov = exportRequest.provenance;
        prov.modelPath = req.model.path;
        prov.pipeline = req.pipelineName();
        prov.calibration = req.dataFree ? "distilled data" : req.calibSource.text;
        prov.seed = ada.seed;
        prov.evaluation = req.evalSource.text;
        if (req.evaluateFp32) prov.fp32Top1 = r.fp32Top1;
        prov.quantTop1 = r.quantTop1;
        const std::string what = exportQuantized(run, exportRequest);
        progress.wrote(out);
        std::fprintf(stderr, "ptq: wrote the %s of the measured model to %s\n", what.c_str(), out.c_str());
    }
    if (!layerCsv.empty()) writeLayerCsv(layerCsv, req, r);
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(req.model.path);
        if (!out.empty()) {
            o["out"] = QString::fromStdString(out);
            o["out_format"] = exportFormatName(exportRequest.format);
        }
        o["w_bits"] = req.weightBits;
        o["a_bits"] = req.activationBits;
        o["granularity"] = granularityName(req.quantizer.granularity);
        o["weight_points"] = req.weightPoints;
        o["data_free"] = req.dataFree;
        if (req.maxSizeRatio) {
            o["max_size_ratio"] = *req.maxSizeRatio;
            o["size_ratio"] = r.allocatedSizeRatio;
            o["predicted_degradation"] = r.predictedDegradation;
            o["sensitivity_seconds"] = r.sensitivitySeconds;
            o["allocate_ms"] = r.allocateMs;
            QJsonObject bits;
            for (const auto& [name, l] : r.config.layers)
                bits[QString::fromStdString(name)] = QString::fromStdString(
                    BitOption{l.weightBits, l.activationBits, l.weightPoints}.name());
            o["allocation"] = bits;
        }
        if (req.dataFree) {
            o["distill_seconds"] = r.distillSeconds;
            o["distill_loss"] = r.distillLoss;
            o["distill_count"] = qint64(req.distillOptions.count);
        }
        o["weight_range"] = rangeMethodName(req.quantizer.weightRange);
        o["act_range"] = rangeMethodName(req.quantizer.activationRange);
        o["keep_first_last_8bit"] = req.keepFirstLast8bit;
        o["equalize_ranges"] = req.equalizeRanges;
        if (req.equalizeRanges) {
            const RangeEqualizationReport& e = r.equalization;
            QJsonObject j;
            QJsonArray groups;
            int64_t scaled = 0;
            auto names = [](const std::vector<std::string>& list) {
                QJsonArray a;
                for (const std::string& n : list) a.append(QString::fromStdString(n));
                return a;
            };
            for (const EqualizedGroup& g : e.groups) {
                QJsonObject gj;
                gj["producers"] = names(g.group.producers);
                gj["depthwise"] = names(g.group.depthwise);
                gj["dense"] = names(g.group.dense);
                gj["residual_adds"] = g.group.adds;
                gj["channels"] = qint64(g.group.channels);
                gj["scaled_channels"] = qint64(g.scaledChannels);
                gj["largest_scale"] = g.largestScale;
                gj["median_range_before"] = g.medianRangeBefore;
                gj["median_range_after"] = g.medianRangeAfter;
                scaled += g.scaledChannels;
                groups.append(gj);
            }
            j["groups"] = groups;
            j["dense_readers"] = e.denseReaders;
            j["scaled_channels"] = qint64(scaled);
            j["samples"] = qint64(e.samples);
            j["seconds"] = e.seconds;
            o["equalization"] = j;
        }
        o["pipeline"] = QString::fromStdString(req.pipelineName());
        o["bn_tuned"] = r.bnTuned;
        QJsonArray notes;
        for (const std::string& note : r.notes) notes.append(QString::fromStdString(note));
        o["notes"] = notes;
        o["biases_corrected"] = r.biasesCorrected;
        o["tune_seconds"] = r.tuneSeconds;
        o["calib"] = QString::fromStdString(req.calibSource.text);
        o["eval"] = QString::fromStdString(req.evalSource.text);
        o["calib_samples"] = qint64(r.calibSamples);
        o["eval_samples"] = qint64(r.evalSamples);
        addSkipped(o, req.calibSource, r.calibSkipped, "calib");
        addSkipped(o, req.evalSource, r.evalSkipped, "eval");
        o["layers"] = r.layers;
        const QJsonValue none(QJsonValue::Null);
        o["fp32_top1"] = req.evaluateFp32 ? QJsonValue(r.fp32Top1) : none;
        o["quant_top1"] = r.quantTop1;
        o["quant_correct"] = qint64(r.quantCorrect);
        o["drop"] = req.evaluateFp32 ? QJsonValue(r.drop()) : none;
        o["fp32_cross_entropy"] = req.evaluateFp32 ? QJsonValue(r.fp32CrossEntropy) : none;
        o["quant_cross_entropy"] = r.quantCrossEntropy;
        o["calibrate_seconds"] = r.calibrateSeconds;
        o["fp32_eval_seconds"] = r.fp32EvalSeconds;
        o["quant_eval_seconds"] = r.quantEvalSeconds;
        if (req.runsAdaQuant()) {
            const AdaQuantReport& ar = r.adaQuant;
            QJsonObject j;
            j["sequential"] = ar.sequential;
            j["flavour"] = adaQuantFlavour(ar);
            if (!ar.blocks.empty()) {
                QJsonArray blocks;
                for (const AdaQuantBlockResult& b : ar.blocks) {
                    QJsonObject e;
                    e["block"] = QString::fromStdString(b.name);
                    QJsonArray names;
                    for (const std::string& l : b.layers) names.append(QString::fromStdString(l));
                    e["layers"] = names;
                    e["mse_before"] = b.mseBefore;
                    e["mse_after"] = b.mseAfter;
                    e["applied"] = b.applied;
                    e["iterations"] = b.iterations;
                    e["seconds"] = b.seconds;
                    blocks.append(e);
                }
                j["blocks"] = blocks;
            }
            j["iterations"] = ada.iterations;
            j["batch"] = qint64(ada.batchSize);
            j["samples"] = qint64(ar.samples);
            j["subsampled"] = ar.subsampled;
            j["seconds"] = ar.seconds;
            j["cache_seconds"] = ar.cacheSeconds;
            j["train_seconds"] = ar.trainSeconds;
            QJsonArray layers;
            for (const AdaQuantLayerResult& l : ar.layers) {
                QJsonObject e;
                e["layer"] = QString::fromStdString(l.layer);
                e["w_bits"] = l.weightBits;
                e["a_bits"] = l.activationBits;
                e["mse_before"] = l.mseBefore;
                e["mse_after"] = l.mseAfter;
                e["applied"] = l.applied;
                e["relu_in_loss"] = l.reluInLoss;
                e["seconds"] = l.seconds;
                layers.append(e);
            }
            j["layers"] = layers;
            o["adaquant"] = j;
        }
        o["bn_tuning_seconds"] = r.bnTuningSeconds;
        if (req.evalEachStep) {
            QJsonArray steps;
            for (const auto& [step, top1] : r.stepTop1) {
                QJsonObject e;
                e["step"] = QString::fromStdString(step);
                e["top1"] = top1;
                steps.append(e);
            }
            o["steps"] = steps;
        }
        if (req.runs(TuningStep::BiasTuning)) {
            QJsonObject j;
            j["biases"] = r.biasTuning.biases;
            j["kl_before"] = r.biasTuning.klBefore;
            j["kl_after"] = r.biasTuning.klAfter;
            j["applied"] = r.biasTuning.applied;
            j["iterations"] = r.biasTuning.iterations;
            j["seconds"] = r.biasTuning.seconds;
            o["bias_tuning"] = j;
        }
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
    const std::string bits =
        req.maxSizeRatio ? "mixed bits (integer program)"
                         : "W" + std::to_string(req.weightBits) +
                               (req.weightPoints > 1 ? "x" + std::to_string(req.weightPoints) : "") + "A" +
                               std::to_string(req.activationBits);
    std::printf("%s: %s %s, weights %s, activations %s%s, pipeline %s; calibrated on %lld samples of %s\n",
                req.model.path.c_str(), bits.c_str(), granularityName(req.quantizer.granularity),
                rangeMethodName(req.quantizer.weightRange), rangeMethodName(req.quantizer.activationRange),
                req.keepFirstLast8bit ? ", first/last layer 8-bit" : "", req.pipelineName().c_str(),
                (long long)r.calibSamples, req.dataFree ? "distilled data" : req.calibSource.text.c_str());
    if (req.maxSizeRatio)
        std::printf("  mixed precision: sensitivity %.1f s, integer program %.1f ms: %.3f of the FP32 weight size "
                    "(budget %.3f), predicted degradation %.4f\n",
                    r.sensitivitySeconds, r.allocateMs, r.allocatedSizeRatio, *req.maxSizeRatio, r.predictedDegradation);
    if (req.equalizeRanges && !r.equalization.groups.empty())
        std::printf("  %s (%.1f s)\n", r.equalization.summary().c_str(), r.equalization.seconds);
    if (req.dataFree)
        std::printf("  distilled %lld images from the BatchNorm statistics in %.1f s (loss %.4g)\n",
                    (long long)req.distillOptions.count, r.distillSeconds, r.distillLoss);
    if (req.runsAdaQuant()) {
        double before = 0, after = 0;
        for (const AdaQuantLayerResult& l : r.adaQuant.layers) {
            before += l.mseBefore;
            after += l.mseAfter;
        }
        if (!r.adaQuant.blocks.empty()) {
            before = after = 0;
            for (const AdaQuantBlockResult& b : r.adaQuant.blocks) {
                before += b.mseBefore;
                after += b.mseAfter;
            }
            std::printf("  block reconstruction on %lld samples%s, %d iterations x batch %lld a block: %zu blocks "
                        "(%zu layers), summed block-output MSE %.4g -> %.4g (%.1f s)\n",
                        (long long)r.adaQuant.samples,
                        r.adaQuant.subsampled ? " (sub-sampled to fit the cache bound)" : "", ada.blockIterations,
                        (long long)ada.batchSize, r.adaQuant.blocks.size(), r.adaQuant.layers.size(), before, after,
                        r.adaQuant.seconds);
        } else
        std::printf("  AdaQuant (%s) on %lld samples%s, %d iterations x batch %lld: %zu layers, summed output "
                    "MSE %.4g -> %.4g (%.1f s)\n",
                    adaQuantFlavour(r.adaQuant), (long long)r.adaQuant.samples,
                    r.adaQuant.subsampled ? " (sub-sampled to fit the cache bound)" : "",
                    ada.iterations, (long long)ada.batchSize,
                    r.adaQuant.layers.size(), before, after, r.adaQuant.seconds);
    }
    if (req.runs(TuningStep::BatchNorm) || req.runs(TuningStep::BiasCorrection))
        std::printf("  tuned %d batch norms, corrected %d biases\n", r.bnTuned, r.biasesCorrected);
    for (const std::string& note : r.notes) std::printf("  note: %s\n", note.c_str());
    if (req.runs(TuningStep::BiasTuning))
        std::printf("  bias tuning: %d biases, calibration KL %.4g -> %.4g%s (%.1f s)\n", r.biasTuning.biases,
                    r.biasTuning.klBefore, r.biasTuning.klAfter, r.biasTuning.applied ? "" : ", kept the old biases",
                    r.biasTuning.seconds);
    if (!req.steps.empty())
        std::printf("  tuning took %.1f s\n", r.tuneSeconds);
    for (const auto& [step, top1] : r.stepTop1) std::printf("  top-1 after %-16s %6.2f %%\n", step.c_str(), top1);
    if (req.evaluateFp32)
        std::printf("  FP32 top-1       %6.2f %%   (cross-entropy %.4f, %.1f s)\n", r.fp32Top1, r.fp32CrossEntropy,
                    r.fp32EvalSeconds);
    std::printf("  quantized top-1  %6.2f %%   (cross-entropy %.4f, %.1f s)\n", r.quantTop1, r.quantCrossEntropy,
                r.quantEvalSeconds);
    if (req.evaluateFp32)
        std::printf("  drop             %6.2f pt on %lld images of %s\n", r.drop(), (long long)r.evalSamples,
                    req.evalSource.text.c_str());
    else
        std::printf("  (FP32 not evaluated: --no-fp32) on %lld images of %s\n", (long long)r.evalSamples,
                    req.evalSource.text.c_str());
    if (req.layerErrors) {
        std::printf("\n  %-32s %12s %9s   (each layer on the FP input, on the calibration set)\n", "layer",
                    "output MSE", "SNR dB");
        for (const LayerError& e : r.layerErrors)
            std::printf("  %-32s %12.3e %9.1f\n", e.layer.c_str(), e.mse, e.snrDb);
    }
    return 0;
}

}  // namespace ptq::cli
