// ONNX exports: the IR walked once, quantized layers given their QuantizeLinear/DequantizeLinear
// nodes here, every op through onnx_export_ops.cpp; the bytes made and checked by core/onnx.
#include "core/io/onnx_export.h"

#include "core/io/onnx_export_builder.h"
#include "core/quant/quant_ops.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <QSaveFile>

#include <algorithm>
#include <set>

namespace ptq {

namespace {

using onnx::Attribute;
using onnx_export::Builder;

std::vector<int64_t> symbolicBatch(std::vector<int64_t> shape) {
    if (!shape.empty()) shape[0] = -1;
    return shape;
}

void begin(Builder& b, const OnnxExportOptions& o) {
    b.spec.graphName = o.modelName.empty() ? "ptq_studio_model" : o.modelName;
    b.spec.metadata = o.metadata;
    const Value& in = b.graph.value(b.graph.inputValue());
    const std::string name = b.fresh("input");
    b.spec.inputs.push_back({name, symbolicBatch(in.shape)});
    b.alias(in.id, name);
}

OnnxExportReport finish(Builder& b, const std::string& path, OnnxExportReport report) {
    const auto& outs = b.graph.outputValues();
    for (size_t i = 0; i < outs.size(); ++i) {
        const std::string name = b.fresh(outs.size() == 1 ? "output" : "output_" + std::to_string(i));
        b.add("Identity", name, {b.value(outs[i])}, {}, {name});
        b.spec.outputs.push_back({name, symbolicBatch(b.graph.value(outs[i]).shape)});
    }
    std::string bytes;
    try {
        bytes = onnx::serializeChecked(b.spec);
    } catch (const onnx::OnnxError& e) {
        std::string what = e.what();
        if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
        throw failed("The ONNX checker refused the export (nothing was written): " + what);
    }
    QSaveFile file(QString::fromStdString(path));
    // A path that cannot be opened is the user's to change (InvalidInput); a failure while
    // writing is the machine's (Failed). Either way the old file, if any, is untouched.
    if (!file.open(QIODevice::WriteOnly))
        throw invalidInput("Could not write " + path + ": " + file.errorString().toStdString() + "; choose another file.");
    if (file.write(bytes.data(), qint64(bytes.size())) != qint64(bytes.size()) || !file.commit())
        throw failed("Could not write " + path + ": " + file.errorString().toStdString() + ".");
    report.nodes = int(b.spec.nodes.size());
    return report;
}

// Scale and zero point initializers of @p p: scalars per tensor, 1-d per channel; the zero
// point in the grid's type (int8 signed, uint8 unsigned).
std::pair<std::string, std::string> scaleAndZero(Builder& b, const std::string& base, const QuantSpec& spec,
                                                 const QuantParams& p) {
    const bool perChannel = p.channels() > 1 || perChannelParams(spec.granularity);
    const std::vector<int64_t> dims = perChannel ? std::vector<int64_t>{int64_t(p.channels())} : std::vector<int64_t>{};
    const std::string scale = b.floats(base + "_scale", p.scale, dims);
    std::vector<int64_t> shape(dims);
    at::Tensor zp = at::tensor(std::vector<int64_t>(p.zeroPoint.begin(), p.zeroPoint.end()), at::kLong)
                        .to(spec.signedGrid ? at::kChar : at::kByte)
                        .reshape(shape);
    return {scale, b.tensor(base + "_zero_point", zp)};
}

// x -> [Clip to the grid below 8 bits] -> QuantizeLinear -> DequantizeLinear, with @p layer's
// input quantizer.
std::string activationQdq(Builder& b, const std::string& layer, const std::string& x, const QuantSpec& spec,
                          const QuantParams& p) {
    const auto [scale, zero] = scaleAndZero(b, layer + ".input", spec, p);
    std::vector<Attribute> attrs;
    if (p.channels() > 1) attrs.push_back(Attribute::integer("axis", 1));
    std::string in = x;
    if (spec.bits < 8) {
        if (p.channels() > 1)
            throw invalidInput("Layer '" + layer + "' quantizes its input per channel below 8 bits, which the ONNX "
                               "export cannot clip to its grid.");
        const float lo = float(gridMin(spec) - p.zeroPoint[0]) * p.scale[0];
        const float hi = float(gridMax(spec) - p.zeroPoint[0]) * p.scale[0];
        in = b.add("Clip", layer + ".input", {x, b.scalar(layer + ".input_min", lo), b.scalar(layer + ".input_max", hi)});
    }
    const std::string q = b.add("QuantizeLinear", layer + ".input", {in, scale, zero}, attrs);
    return b.add("DequantizeLinear", layer + ".input", {q, scale, zero}, attrs);
}

// The integer weight of @p layer (the app's clamped integers) through DequantizeLinear.
std::string integerWeight(Builder& b, const QuantizedModel& m, const Node& n, const std::string& weightKey) {
    const at::Tensor& w = m.runWeight(n.name);
    const QuantSpec& spec = m.weightSpec(n.name);
    const QuantParams& p = m.weightParams(n.name);
    const at::Tensor q = quantizeToInt(w, spec, p);
    // The weight the app runs is on its grid: the integers give it back exactly.
    const float minScale = *std::min_element(p.scale.begin(), p.scale.end());
    const double off = (dequantize(q, spec, p) - w.to(at::kFloat)).abs().max().item<double>();
    if (!(off <= 1e-3 * double(minScale)))
        throw failed("internal: layer '" + n.name + "''s weights are not on its quantization grid (off by " +
                     std::to_string(off) + ")");
    const auto [scale, zero] = scaleAndZero(b, weightKey, spec, p);
    std::vector<Attribute> attrs;
    if (perChannelParams(spec.granularity)) attrs.push_back(Attribute::integer("axis", quant_ops::normalizedAxis(spec, w.dim())));
    const std::string qname = b.tensor(weightKey + "_quantized", q);
    return b.add("DequantizeLinear", n.name + ".weight", {qname, scale, zero}, attrs);
}

}  // namespace

OnnxExportReport exportQuantizedOnnx(const QuantizedModel& m, const std::string& path, const OnnxExportOptions& o) {
    if (path.empty()) throw invalidInput("Choose the file to export to.");
    const Graph& g = m.graph();
    Builder b(g, [&m](const std::string& key) -> const at::Tensor& { return m.floatParam(key); });
    begin(b, o);
    const c10::InferenceMode guard;
    const std::vector<int> layers = g.allocationNodes();
    const std::set<int> quantizable(layers.begin(), layers.end());
    OnnxExportReport report;
    std::string bits;
    for (const Node& n : g.nodes()) {
        std::vector<std::string> in;
        if (g.isFoldedBatchNorm(n)) {  // identity: its scale and shift are in the layer before
            b.alias(n.outputs[0], b.value(n.inputs[0]));
            continue;
        }
        if (!quantizable.count(n.id)) {
            for (int v : n.inputs) in.push_back(b.value(v));
            onnx_export::mapNode(b, n, in);
            continue;
        }
        const LayerQuant& c = m.config().layer(n.name);
        if (g.isActivationMatMul(n)) {  // attention's Q·Kᵀ and P·V: a QDQ pair on each input
            bits += (bits.empty() ? "" : ";") + n.name + "=a" + std::to_string(c.activationBits);
            for (size_t i = 0; i < 2; ++i) {
                in.push_back(b.value(n.inputs[i]));
                if (c.activationBits > 8) continue;
                in[i] = activationQdq(b, i == 0 ? n.name : n.name + ".second", in[i], m.activationSpec(n.name),
                                      m.activationParams(n.name, int(i)));
                ++report.qdqPairs;
            }
            onnx_export::mapNode(b, n, in);
            continue;
        }
        bits += (bits.empty() ? "" : ";") + n.name + "=w" + std::to_string(c.weightBits) + "a" +
                std::to_string(c.activationBits) + (c.weightPoints > 1 ? "x" + std::to_string(c.weightPoints) : "");
        in.push_back(b.value(n.inputs[0]));
        if (c.activationBits <= 8) {
            in[0] = activationQdq(b, n.name, in[0], m.activationSpec(n.name), m.activationParams(n.name));
            ++report.qdqPairs;
        }
        const std::string weightKey = g.paramOf(n, 1);
        const bool multipoint = c.weightPoints > 1 || !m.weightPointsPerChannel(n.name).empty();
        if (c.weightBits <= 8 && !multipoint) {
            in.push_back(integerWeight(b, m, n, weightKey));
            ++report.quantizedLayers;
        } else {  // 16 bits and multipoint: the values the app runs; float layers: the float weight
            in.push_back(c.weightBits < 32 ? b.tensor(weightKey, m.runWeight(n.name)) : b.value(n.inputs[1]));
            ++report.floatLayers;
        }
        for (size_t i = 2; i < n.inputs.size(); ++i) in.push_back(b.value(n.inputs[i]));
        onnx_export::mapNode(b, n, in);
    }
    b.spec.metadata["ptq_studio.layer_bits"] = bits;  // the real bits (below 8 inside int8/uint8)
    report.description = "ONNX QDQ (opset 13: " + std::to_string(report.quantizedLayers) + " layers with integer weights, " +
                         std::to_string(report.qdqPairs) + " activation QDQ pairs" +
                         (report.floatLayers ? ", " + std::to_string(report.floatLayers) + " layers with float weights" : "") +
                         ")";
    return finish(b, path, report);
}

OnnxExportReport exportFloatOnnx(const Graph& g, const std::string& path, const OnnxExportOptions& o) {
    if (path.empty()) throw invalidInput("Choose the file to export to.");
    Builder b(g, [&g](const std::string& key) -> const at::Tensor& { return g.param(key); });
    begin(b, o);
    const c10::InferenceMode guard;
    OnnxExportReport report;
    for (const Node& n : g.nodes()) {
        if (g.isFoldedBatchNorm(n)) {
            b.alias(n.outputs[0], b.value(n.inputs[0]));
            continue;
        }
        std::vector<std::string> in;
        for (int v : n.inputs) in.push_back(b.value(v));
        onnx_export::mapNode(b, n, in);
    }
    report.floatLayers = int(g.quantizableNodes().size());
    report.description = "ONNX FP32 (opset 13, " + std::to_string(report.floatLayers) + " conv/linear layers)";
    return finish(b, path, report);
}

}  // namespace ptq
