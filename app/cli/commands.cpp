#include "cli/commands.h"

#include "cli/options.h"
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/methods/pipeline.h"
#include "core/model/model_summary.h"
#include "core/runtime/bench_forward.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace ptq::cli {

namespace {

std::string shapeText(const std::vector<int64_t>& s, const char* sep = "x") {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? sep : "") + std::to_string(s[i]);
    return out;
}

QJsonArray jsonInts(const std::vector<int64_t>& v) {
    QJsonArray a;
    for (auto x : v) a.append(qint64(x));
    return a;
}

std::string human(double v) {
    char buf[32];
    if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
    else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

void printJson(const QJsonObject& o) {
    std::cout << QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString();
}

std::string modelArg(const Args& a, const std::string& command) {
    if (a.positionals().size() != 1)
        throw invalidInput("'ptq " + command + "' takes one model file (a TorchScript .pt): ptq " + command +
                           " MODEL.pt");
    return a.positionals()[0];
}

std::vector<int64_t> inputShapeArg(const Args& a) {
    std::vector<int64_t> shape;
    for (long long v : a.integers("input-shape")) shape.push_back(v);
    if (!shape.empty() && shape.size() != 3)
        throw invalidInput("--input-shape takes channels,height,width (for example 1,28,28).");
    return shape;
}

}  // namespace

std::string usage() {
    return "Usage: ptq COMMAND [options]\n"
           "\n"
           "PTQ Studio's command line: post-training quantization of TorchScript models.\n"
           "\n"
           "Commands:\n"
           "  info MODEL [--input-shape C,H,W] [--json]\n"
           "      conv/linear layers with weight shape, parameters and MACs for one input sample\n"
           "  graph MODEL [--input-shape C,H,W] [--fold-bn] [--verify] [--batch N] [--seed S] [--json]\n"
           "      the imported graph, one node a line; --fold-bn folds BatchNorm into the layer\n"
           "      before it; --verify compares the executor with TorchScript's own forward on\n"
           "      one random batch\n"
           "  quantize MODEL --calib SRC --eval SRC [--w BITS] [--a BITS]\n"
           "           [--granularity per-tensor|per-channel] [--weight-range minmax|percentile|mse]\n"
           "           [--act-range minmax|percentile|mse] [--keep-first-last-8bit] [--pipeline none|light]\n"
           "           [--bn-tuning] [--bias-correction] [--layer-errors] [--batch N] [--json]\n"
           "      fake-quantized evaluation: FP32 and quantized top-1 and the drop; light = ranges +\n"
           "      BN tuning + bias correction; --layer-errors adds each layer's output MSE and SNR\n"
           "      (data sources: fmnist:train, fmnist:test:1000, idx:IMAGES[,LABELS], folder:DIR, npy:FILE)\n"
           "  bench forward MODEL [--input-shape C,H,W] [--batch N] [--runs R] [--fold-bn] [--json]\n"
           "      executor vs TorchScript forward: median time of R alternating runs, peak memory\n"
           "\n"
           "Options for every command:\n"
           "  --json      one JSON object on stdout instead of text\n"
           "  --help      this text\n"
           "  --version   the version\n"
           "\n"
           "The input shape comes from the model's sidecar JSON (MODEL.json) unless given.\n"
           "Exit codes: 0 done, 1 failed while running, 2 bad input or usage.\n";
}

int runInfo(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"}, {"input-shape"}, "info");
    const ModelSummary s = summarizeModel(modelArg(a, "info"), inputShapeArg(a));
    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(s.name);
        o["path"] = QString::fromStdString(s.path);
        o["input_shape"] = jsonInts(s.inputShape);
        o["nodes"] = s.nodeCount;
        o["total_params"] = qint64(s.totalParams);
        o["quantizable_params"] = qint64(s.quantizableParams);
        o["total_macs"] = qint64(s.totalMacs);
        if (s.card && s.card->fp32Top1 >= 0) o["fp32_top1"] = s.card->fp32Top1;
        QJsonArray layers;
        for (const LayerSummary& l : s.layers) {
            QJsonObject j;
            j["name"] = QString::fromStdString(l.name);
            j["kind"] = QString::fromStdString(l.kind);
            j["weight_shape"] = jsonInts(l.weightShape);
            j["input_shape"] = jsonInts(l.inputShape);
            j["output_shape"] = jsonInts(l.outputShape);
            j["params"] = qint64(l.params);
            j["macs"] = qint64(l.macs);
            layers.append(j);
        }
        o["layers"] = layers;
        printJson(o);
        return 0;
    }
    std::printf("%s  (%s)\n", s.name.c_str(), s.path.c_str());
    std::printf("input %s · %zu quantizable layers · %s parameters · %s MACs per sample", 
                shapeText(s.inputShape).c_str(), s.layers.size(), human(double(s.quantizableParams)).c_str(),
                human(double(s.totalMacs)).c_str());
    if (s.card && s.card->fp32Top1 >= 0) std::printf(" · FP32 top-1 %.2f %%", s.card->fp32Top1);
    std::printf("\n\n%-32s %-17s %-14s %-12s %10s %12s\n", "layer", "kind", "weight", "output", "params", "MACs");
    for (const LayerSummary& l : s.layers)
        std::printf("%-32s %-17s %-14s %-12s %10lld %12lld\n", l.name.c_str(), l.kind.c_str(),
                    shapeText(l.weightShape).c_str(), shapeText(l.outputShape).c_str(), (long long)l.params,
                    (long long)l.macs);
    return 0;
}

int runGraph(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "verify", "fold-bn"}, {"input-shape", "batch", "seed"}, "graph");
    const std::string path = modelArg(a, "graph");
    std::vector<int64_t> shape = inputShapeArg(a);
    if (shape.empty()) {
        if (auto card = loadModelCard(path)) shape = card->inputShape;
    }
    Graph g = importTorchScript(path, shape);
    const int folded = a.flag("fold-bn") ? foldBatchNorms(g) : 0;
    const long long batch = a.integer("batch", 4);
    if (batch < 1) throw invalidInput("--batch must be at least 1.");
    QJsonObject o;
    QJsonArray nodes;
    std::ostringstream text;
    for (const Node& n : g.nodes()) {
        if (g.isFoldedBatchNorm(n)) continue;  // runs as identity
        std::string inputs;
        for (int in : n.inputs)
            if (g.value(in).param.empty())
                inputs += (inputs.empty() ? "" : ", ") + g.value(in).name;
        int64_t params = 0;
        for (int in : n.inputs)
            if (!g.value(in).param.empty()) {
                int64_t c = 1;
                for (auto d : g.value(in).shape) c *= d;
                params += c;
            }
        const auto out = g.sampleShape(n.outputs.at(0));
        if (a.flag("json")) {
            QJsonObject j;
            j["name"] = QString::fromStdString(n.name);
            j["op"] = QString::fromStdString(displayOp(n));
            j["scope"] = QString::fromStdString(n.scope);
            j["output_shape"] = jsonInts(out);
            j["params"] = qint64(params);
            j["macs"] = qint64(g.macs(n));
            QJsonArray ins;
            for (int in : n.inputs)
                if (g.value(in).param.empty()) ins.append(QString::fromStdString(g.value(in).name));
            j["inputs"] = ins;
            nodes.append(j);
        } else {
            char line[512];
            std::snprintf(line, sizeof line, "%-36s %-20s %-14s %9lld %11lld  <- %s\n", n.name.c_str(),
                          displayOp(n).c_str(), shapeText(out).c_str(), (long long)params, (long long)g.macs(n),
                          inputs.c_str());
            text << line;
        }
    }
    if (a.flag("json")) {
        o["nodes"] = nodes;
        o["node_count"] = int(g.nodes().size());
        o["quantizable_layers"] = int(g.quantizableNodes().size());
        o["folded_batch_norms"] = folded;
    } else {
        std::printf("%-36s %-20s %-14s %9s %11s\n", "node", "op", "output", "params", "MACs");
        std::cout << text.str();
        std::printf("%zu nodes, %zu quantizable layers", g.nodes().size() - size_t(folded), g.quantizableNodes().size());
        if (a.flag("fold-bn")) std::printf(", %d batch norms folded into their layers", folded);
        std::printf("\n");
    }
    int status = 0;
    if (a.flag("verify")) {
        const VerifyResult r = verifyAgainstTorchScript(g, path, batch, uint64_t(a.integer("seed", 20261122)));
        const bool ok = r.maxRelativeDiff <= 1e-4;
        if (a.flag("json")) {
            QJsonObject v;
            v["batch"] = qint64(r.batch);
            v["max_relative_diff"] = r.maxRelativeDiff;
            v["max_absolute_diff"] = r.maxAbsoluteDiff;
            v["executor_ms"] = r.executorMs;
            v["torchscript_ms"] = r.torchScriptMs;
            v["within_1e-4"] = ok;
            o["verify"] = v;
        } else {
            std::printf("verify (batch %lld): largest relative difference %.3g (absolute %.3g) %s\n",
                        (long long)r.batch, r.maxRelativeDiff, r.maxAbsoluteDiff, ok ? "— within 1e-4" : "— TOO LARGE");
        }
        status = ok ? 0 : 1;
    }
    if (a.flag("json")) printJson(o);
    return status;
}

int runQuantize(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "keep-first-last-8bit", "bn-tuning", "bias-correction", "layer-errors"},
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
        o["fp32_top1"] = r.fp32Top1;
        o["quant_top1"] = r.quantTop1;
        o["drop"] = r.drop();
        o["fp32_cross_entropy"] = r.fp32CrossEntropy;
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
    std::printf("  FP32 top-1       %6.2f %%   (cross-entropy %.4f, %.1f s)\n", r.fp32Top1, r.fp32CrossEntropy,
                r.fp32EvalSeconds);
    std::printf("  quantized top-1  %6.2f %%   (cross-entropy %.4f, %.1f s)\n", r.quantTop1, r.quantCrossEntropy,
                r.quantEvalSeconds);
    std::printf("  drop             %6.2f pt on %lld images of %s\n", r.drop(), (long long)r.evalSamples,
                req.evalSource.c_str());
    if (req.layerErrors) {
        std::printf("\n  %-32s %12s %9s   (each layer on the FP input, on the calibration set)\n", "layer",
                    "output MSE", "SNR dB");
        for (const LayerError& e : r.layerErrors)
            std::printf("  %-32s %12.3e %9.1f\n", e.layer.c_str(), e.mse, e.snrDb);
    }
    return 0;
}

int runBench(const std::vector<std::string>& argv) {
    if (argv.empty() || argv[0] != "forward")
        throw invalidInput("'ptq bench' takes a benchmark name: forward (more arrive with their features).");
    const Args a(std::vector<std::string>(argv.begin() + 1, argv.end()), {"json", "fold-bn"},
                 {"input-shape", "batch", "runs"}, "bench forward");
    const std::string path = modelArg(a, "bench forward");
    std::vector<int64_t> shape = inputShapeArg(a);
    if (shape.empty())
        if (auto card = loadModelCard(path)) shape = card->inputShape;
    const long long batch = a.integer("batch", 8);
    const long long runs = a.integer("runs", 10);
    if (batch < 1 || runs < 1) throw invalidInput("--batch and --runs must be at least 1.");
    const ForwardBenchResult r = benchForward(path, shape, batch, int(runs), a.flag("fold-bn"));
    if (a.flag("json")) {
        QJsonObject o;
        o["benchmark"] = "forward";
        o["model"] = QString::fromStdString(path);
        o["input_shape"] = jsonInts(shape);
        o["batch"] = qint64(r.batch);
        o["runs"] = r.runs;
        o["threads"] = r.threads;
        o["folded_bn"] = r.foldedBn;
        o["executor_median_ms"] = r.executorMedianMs;
        o["torchscript_median_ms"] = r.torchScriptMedianMs;
        o["executor_min_ms"] = r.executorMinMs;
        o["torchscript_min_ms"] = r.torchScriptMinMs;
        o["ratio"] = r.ratio();
        o["peak_live_bytes"] = qint64(r.peakLiveBytes);
        o["produced_bytes"] = qint64(r.producedBytes);
        o["max_rss_bytes"] = qint64(r.maxRssBytes);
        printJson(o);
        return 0;
    }
    std::printf("forward, batch %lld x %s, %d runs each, %d threads%s\n", (long long)r.batch, shapeText(shape).c_str(),
                r.runs, r.threads, r.foldedBn ? ", BN folded" : "");
    std::printf("  executor     median %8.1f ms   min %8.1f ms\n", r.executorMedianMs, r.executorMinMs);
    std::printf("  TorchScript  median %8.1f ms   min %8.1f ms\n", r.torchScriptMedianMs, r.torchScriptMinMs);
    std::printf("  ratio (executor / TorchScript, medians): %.3f\n", r.ratio());
    std::printf("  executor peak live intermediates %.1f MB of %.1f MB produced; process peak RSS %.0f MB\n",
                r.peakLiveBytes / 1e6, r.producedBytes / 1e6, r.maxRssBytes / 1e6);
    return 0;
}

}  // namespace ptq::cli
