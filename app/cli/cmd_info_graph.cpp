#include "cli/commands.h"

#include "cli/common.h"
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_summary.h"
#include "core/graph/onnx_importer.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"

#include "core/model/model_card.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cmath>
#include <cstdio>

namespace ptq::cli {

namespace {
std::string numbers(const std::vector<float>& values) {
    std::string out;
    for (float v : values) out += (out.empty() ? "" : ",") + QString::number(double(v)).toStdString();
    return out;
}

/// "normalization mean 0.485,0.456,0.406 std 0.229,0.224,0.225 (imagenet) · crop ratio 0.875 · 1000 classes".
std::string preprocessingText(const ModelCard& card) {
    std::string text = card.hasNormalization()
                           ? "normalization mean " + numbers(card.mean) + " std " + numbers(card.std) +
                                 (card.preset.empty() ? "" : " (" + card.preset + ")")
                           : "normalization: none known (pixels in [0,1])";
    text += " · crop ratio " + QString::number(card.effectiveCropRatio()).toStdString();
    if (!card.classNames.empty()) text += " · " + std::to_string(card.classNames.size()) + " class names";
    return text;
}
}  // namespace

int runInfo(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"}, withModelCard({}), "info");
    const ModelSummary s = summarizeModel(modelRequestArg(a, "info"));
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
        if (s.card) {
            QJsonObject pre;
            QJsonArray mean, std;
            for (float v : s.card->mean) mean.append(double(v));
            for (float v : s.card->std) std.append(double(v));
            pre["mean"] = mean;  // empty: none known, pixels go in as [0, 1]
            pre["std"] = std;
            if (!s.card->preset.empty()) pre["preset"] = QString::fromStdString(s.card->preset);
            pre["crop_ratio"] = s.card->effectiveCropRatio();
            o["preprocessing"] = pre;
            QJsonArray names;
            for (const std::string& n : s.card->classNames) names.append(QString::fromStdString(n));
            if (!names.isEmpty()) o["class_names"] = names;
        }
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
    std::printf("\n%s\n", preprocessingText(s.card.value_or(ModelCard{})).c_str());
    int nameWidth = 32;  // wide enough for the longest name (transformer paths run long)
    for (const LayerSummary& l : s.layers) nameWidth = std::max(nameWidth, int(l.name.size()));
    std::printf("\n%-*s %-17s %-14s %-12s %10s %12s\n", nameWidth, "layer", "kind", "weight", "output", "params", "MACs");
    for (const LayerSummary& l : s.layers)
        std::printf("%-*s %-17s %-14s %-12s %10lld %12lld\n", nameWidth, l.name.c_str(), l.kind.c_str(),
                    shapeText(l.weightShape).c_str(), shapeText(l.outputShape).c_str(), (long long)l.params,
                    (long long)l.macs);
    return 0;
}

int runGraph(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "verify", "fold-bn"}, withModelCard({"batch", "seed"}), "graph");
    const ModelRequest request = modelRequestArg(a, "graph");
    const std::string& path = request.path;
    const auto model = openModel(request);
    // As imported unless --fold-bn: the folded graph is what quantization runs.
    const Graph g = a.flag("fold-bn") ? model->graph().clone() : model->unfoldedGraph();
    int folded = 0;
    for (const Node& n : g.nodes()) folded += g.isFoldedBatchNorm(n) ? 1 : 0;
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
        const bool onnx = isOnnxPath(path);  // an ONNX file's reference is ONNX Runtime
        const uint64_t seed = uint64_t(a.integer("seed", 20261122));
        const VerifyResult r = onnx ? verifyAgainstOnnxRuntime(g, path, batch, seed)
                                    : verifyAgainstTorchScript(g, path, batch, seed);
        const bool ok = r.maxRelativeDiff <= 1e-4;
        if (a.flag("json")) {
            QJsonObject v;
            v["batch"] = qint64(r.batch);
            v["max_relative_diff"] = r.maxRelativeDiff;
            v["max_absolute_diff"] = r.maxAbsoluteDiff;
            v["executor_ms"] = r.executorMs;
            v[onnx ? "onnxruntime_ms" : "torchscript_ms"] = r.torchScriptMs;
            v["reference"] = onnx ? "onnxruntime" : "torchscript";
            v["within_1e-4"] = ok;
            o["verify"] = v;
        } else {
            std::printf("verify (batch %lld, against %s): largest relative difference %.3g (absolute %.3g) %s\n",
                        (long long)r.batch, onnx ? "ONNX Runtime" : "TorchScript", r.maxRelativeDiff, r.maxAbsoluteDiff, ok ? "— within 1e-4" : "— TOO LARGE");
        }
        status = ok ? 0 : 1;
    }
    if (a.flag("json")) printJson(o);
    return status;
}

}  // namespace ptq::cli
