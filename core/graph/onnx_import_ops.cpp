// The ONNX importer's op table: ONNX nodes on activations to IR nodes (see onnx_importer.h). The
// patterns of several nodes that are one IR op are onnx_import_patterns.cpp.
#include "core/graph/detail/onnx_import_state.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace ptq::onnx_import {

namespace {

using Node_ = onnx::ReadNode;

void out(Importer& im, const Node_& n, const std::vector<int>& values) {
    for (size_t i = 0; i < n.outputs.size() && i < values.size(); ++i)
        if (!n.outputs[i].empty()) im.setActivation(n.outputs[i], values[i]);
}

/// Refuses a node whose extra outputs (BatchNorm's running statistics, MaxPool's indices,
/// Dropout's mask) something reads.
void onlyFirstOutputUsed(const Importer& im, const Node_& n) {
    for (size_t i = 1; i < n.outputs.size(); ++i)
        if (!n.outputs[i].empty() && (im.consumers.count(n.outputs[i]) || im.graphOutputs.count(n.outputs[i])))
            im.refuse(n, "has output " + std::to_string(i + 1) + " in use, which PTQ Studio does not compute");
}

/// Input @p i as an IR value: an activation, or a constant made a buffer parameter.
int operand(Importer& im, const Node_& n, size_t i, const std::string& role = "const") {
    if (im.isActivation(n.inputs.at(i))) return im.activation(n.inputs[i]);
    const Known& k = im.knownInput(n, i, "operand");
    if (k.fromBatch()) im.refuse(n, "uses a value computed from the batch size as data");
    return im.param(n, role, k.t.is_floating_point() ? k.t : k.t.to(at::kFloat), false);
}

int activationInput(Importer& im, const Node_& n, size_t i = 0) {
    if (!Importer::given(n, i) || !im.isActivation(n.inputs[i]))
        im.refuse(n, "has a constant where PTQ Studio expects the model's activations (input " + std::to_string(i + 1) + ")");
    return im.activation(n.inputs[i]);
}

std::vector<int64_t> fill(std::vector<int64_t> v, size_t n, int64_t value) {
    if (v.empty()) v.assign(n, value);
    return v;
}

struct Padding {
    std::vector<int64_t> begin, end;
    bool symmetric() const { return begin == end; }
};

/// A conv's or pool's padding from pads / auto_pad for input spatial sizes @p in.
Padding padding(const Importer& im, const Node_& n, const std::vector<int64_t>& in, const std::vector<int64_t>& kernel,
                const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations) {
    const size_t s = kernel.size();
    Padding p;
    const std::string autoPad = attrString(n, "auto_pad", "NOTSET");
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        for (size_t i = 0; i < s; ++i) {
            const int64_t outSize = (in[i] + strides[i] - 1) / strides[i];
            const int64_t total = std::max<int64_t>((outSize - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in[i], 0);
            const int64_t small = total / 2;
            p.begin.push_back(autoPad == "SAME_UPPER" ? small : total - small);
            p.end.push_back(total - p.begin.back());
        }
        return p;
    }
    if (autoPad == "VALID") {
        p.begin.assign(s, 0), p.end.assign(s, 0);
        return p;
    }
    if (autoPad != "NOTSET") im.refuse(n, "has auto_pad " + autoPad + ", which ONNX does not define");
    const std::vector<int64_t> pads = fill(attrInts(n, "pads"), 2 * s, 0);
    if (pads.size() != 2 * s) im.refuse(n, "gives " + std::to_string(pads.size()) + " pads for " + std::to_string(s) + " spatial dimensions");
    p.begin.assign(pads.begin(), pads.begin() + long(s));
    p.end.assign(pads.begin() + long(s), pads.end());
    return p;
}

/// An explicit Pad node before a conv or pool whose padding is not the same on both sides.
int padBefore(Importer& im, const Node_& n, int x, const Padding& p, double value) {
    std::vector<int64_t> list;  // at::pad: the last dimension first
    for (size_t i = p.begin.size(); i-- > 0;) list.push_back(p.begin[i]), list.push_back(p.end[i]);
    return im.add(OpKind::Pad, n, {x}, {{"pad", list}, {"mode", std::string("constant")}, {"value", value}}, ".pad").at(0);
}

void conv(Importer& im, const Node_& n, bool transposed) {
    int x = activationInput(im, n);
    const Known& w = im.knownInput(n, 1, "weight");
    const int64_t spatial = w.t.dim() - 2;
    if (spatial != 1 && spatial != 2)
        im.refuse(n, "is a " + std::to_string(spatial) + "-d convolution; PTQ Studio imports 1-d and 2-d ones");
    if (transposed && spatial != 2) im.refuse(n, "is a 1-d transposed convolution, which PTQ Studio does not hold");
    const std::vector<int64_t> kernel(w.t.sizes().begin() + 2, w.t.sizes().end());
    const auto strides = fill(attrInts(n, "strides"), size_t(spatial), 1);
    const auto dilations = fill(attrInts(n, "dilations"), size_t(spatial), 1);
    const std::vector<int64_t> inShape = im.shape(x);
    if (int64_t(inShape.size()) != spatial + 2)
        im.refuse(n, "convolves a " + std::to_string(inShape.size()) + "-d input with a " + std::to_string(spatial) + "-d kernel");
    const std::vector<int64_t> in(inShape.begin() + 2, inShape.end());
    Padding p = padding(im, n, in, kernel, strides, dilations);
    if (!p.symmetric()) {
        if (transposed) im.refuse(n, "pads its two sides differently, which PTQ Studio's transposed convolution does not");
        x = padBefore(im, n, x, p, 0.0);
        p.begin.assign(size_t(spatial), 0);
    }
    std::vector<int> inputs{x, im.param(n, "weight", w.t, true)};
    if (Importer::given(n, 2)) inputs.push_back(im.param(n, "bias", im.knownInput(n, 2, "bias").t.flatten(), true));
    Attributes attrs{{"stride", strides}, {"padding", p.begin}, {"dilation", dilations}, {"groups", attrInt(n, "group", 1)}};
    if (transposed) {
        if (hasAttr(n, "output_shape")) im.refuse(n, "gives output_shape, which PTQ Studio does not follow; export it with pads");
        attrs["output_padding"] = fill(attrInts(n, "output_padding"), size_t(spatial), 0);
        return out(im, n, im.add(OpKind::ConvTranspose2d, n, inputs, attrs));
    }
    out(im, n, im.add(spatial == 2 ? OpKind::Conv2d : OpKind::Conv1d, n, inputs, attrs));
}

}  // namespace

void linear(Importer& im, const onnx::ReadNode& n, int x, at::Tensor weight, const at::Tensor& bias, const std::string& output) {
    std::vector<int> inputs{x, im.param(n, "weight", weight.contiguous(), true)};
    if (bias.defined()) {
        if (bias.numel() != weight.size(0) && bias.numel() != 1)
            im.refuse(n, "adds a bias of " + std::to_string(bias.numel()) + " values to " + std::to_string(weight.size(0)) + " outputs");
        inputs.push_back(im.param(n, "bias", bias.flatten().expand({weight.size(0)}).contiguous(), true));
    }
    im.setActivation(output, im.add(OpKind::Linear, n, inputs, {}).at(0));
}

namespace {

void gemm(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    if (attrInt(n, "transA", 0)) im.refuse(n, "transposes its input (transA), which PTQ Studio does not follow");
    const Known& b = im.knownInput(n, 1, "weight");
    at::Tensor w = attrInt(n, "transB", 0) ? b.t : b.t.t();
    w = w.to(at::kFloat) * attrFloat(n, "alpha", 1.0);
    at::Tensor bias;
    if (Importer::given(n, 2)) bias = im.knownInput(n, 2, "bias").t.to(at::kFloat) * attrFloat(n, "beta", 1.0);
    linear(im, n, x, w, bias, n.outputs.at(0));
}

void matmul(Importer& im, const Node_& n) {
    if (im.isActivation(n.inputs.at(0)) && im.isActivation(n.inputs.at(1)))
        return out(im, n, im.add(OpKind::MatMul, n, {im.activation(n.inputs[0]), im.activation(n.inputs[1])}, {}));
    const int x = activationInput(im, n);
    const Known& b = im.knownInput(n, 1, "weight");
    if (b.t.dim() != 2) im.refuse(n, "multiplies by a " + std::to_string(b.t.dim()) + "-d constant; PTQ Studio takes 2-d weights");
    linear(im, n, x, b.t.to(at::kFloat).t(), at::Tensor(), n.outputs.at(0));
}

void batchNorm(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    onlyFirstOutputUsed(im, n);
    if (attrInt(n, "training_mode", 0)) im.refuse(n, "is in training mode; export the model in eval mode");
    std::vector<int> inputs{x, im.param(n, "running_mean", im.knownInput(n, 3, "mean").t, false),
                            im.param(n, "running_var", im.knownInput(n, 4, "variance").t, false),
                            im.param(n, "weight", im.knownInput(n, 1, "scale").t, true),
                            im.param(n, "bias", im.knownInput(n, 2, "bias").t, true)};
    out(im, n, im.add(OpKind::BatchNorm, n, inputs, {{"eps", attrFloat(n, "epsilon", 1e-5)}, {"affine", int64_t(1)}}));
}

void layerNorm(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    onlyFirstOutputUsed(im, n);
    const std::vector<int64_t> s = im.shape(x);
    const int64_t axis = normAxis(attrInt(n, "axis", -1), int64_t(s.size()));
    if (axis <= 0) im.refuse(n, "normalizes over the batch dimension");
    const std::vector<int64_t> normalized(s.begin() + axis, s.end());
    std::vector<int> inputs{x, im.param(n, "weight", im.knownInput(n, 1, "scale").t.reshape(normalized), true)};
    if (Importer::given(n, 2)) inputs.push_back(im.param(n, "bias", im.knownInput(n, 2, "bias").t.reshape(normalized), true));
    out(im, n, im.add(OpKind::LayerNorm, n, inputs, {{"normalized_shape", normalized}, {"eps", attrFloat(n, "epsilon", 1e-5)}}));
}

void instanceNorm(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    std::vector<int> inputs{x, im.param(n, "weight", im.knownInput(n, 1, "scale").t.flatten(), true),
                            im.param(n, "bias", im.knownInput(n, 2, "bias").t.flatten(), true)};
    out(im, n, im.add(OpKind::InstanceNorm, n, inputs,
                      {{"has_weight", int64_t(1)}, {"has_bias", int64_t(1)}, {"has_stats", int64_t(0)},
                       {"use_input_stats", int64_t(1)}, {"eps", attrFloat(n, "epsilon", 1e-5)}}));
}

void binary(Importer& im, const Node_& n, OpKind op) {
    const bool a = im.isActivation(n.inputs.at(0)), b = im.isActivation(n.inputs.at(1));
    if (a && b) return out(im, n, im.add(op, n, {im.activation(n.inputs[0]), im.activation(n.inputs[1])}, {}));
    const int x = im.activation(n.inputs[a ? 0 : 1]);
    const Known& c = im.knownInput(n, a ? 1 : 0, "operand");
    if (c.fromBatch()) im.refuse(n, "computes with the batch size as a number");
    const bool commutes = op == OpKind::Add || op == OpKind::Mul;
    if (isScalar(c) && c.t.dim() <= int64_t(im.shape(x).size())) {
        Attributes attrs{{"scalar", c.t.to(at::kDouble).item<double>()}};
        if (!a && !commutes) attrs["reversed"] = int64_t(1);
        return out(im, n, im.add(op, n, {x}, attrs));
    }
    const int p = operand(im, n, a ? 1 : 0);
    if (a || commutes) return out(im, n, im.add(op, n, {x, p}, {}));
    if (op == OpKind::Sub) {  // c - x = -x + c
        const int neg = im.add(OpKind::Neg, n, {x}, {}, ".neg").at(0);
        return out(im, n, im.add(OpKind::Add, n, {neg, p}, {}));
    }
    const int r = im.add(OpKind::Div, n, {x}, {{"scalar", 1.0}, {"reversed", int64_t(1)}}, ".reciprocal").at(0);
    out(im, n, im.add(OpKind::Mul, n, {r, p}, {}));
}

void minMax(Importer& im, const Node_& n, bool isMin) {
    int acc = -1;
    double bound = isMin ? INFINITY : -INFINITY;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
        if (im.isActivation(n.inputs[i])) {
            const int v = im.activation(n.inputs[i]);
            acc = acc < 0 ? v : im.add(isMin ? OpKind::Minimum : OpKind::Maximum, n, {acc, v}, {}, "." + std::to_string(i)).at(0);
            continue;
        }
        const Known& k = im.knownInput(n, i, "operand");
        if (!isScalar(k)) {
            const int v = operand(im, n, i);
            acc = im.add(isMin ? OpKind::Minimum : OpKind::Maximum, n, {acc < 0 ? v : acc, v}, {}, "." + std::to_string(i)).at(0);
            continue;
        }
        const double v = k.t.to(at::kDouble).item<double>();
        bound = isMin ? std::min(bound, v) : std::max(bound, v);
    }
    if (!std::isinf(bound)) acc = im.add(OpKind::Clamp, n, {acc}, {{isMin ? "max" : "min", bound}}).at(0);
    out(im, n, {acc});
}

void clip(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    auto bound = [&](size_t i, const char* key) -> std::optional<double> {
        if (im.model.opset < 11) return hasAttr(n, key) ? std::optional<double>(attrFloat(n, key, 0)) : std::nullopt;
        if (!Importer::given(n, i)) return std::nullopt;
        return im.knownInput(n, i, key).t.to(at::kDouble).item<double>();
    };
    const auto lo = bound(1, "min"), hi = bound(2, "max");
    if (lo && hi && *lo == 0.0 && *hi == 6.0)
        return out(im, n, im.add(OpKind::Hardtanh, n, {x}, {{"min_val", 0.0}, {"max_val", 6.0}}));
    if (lo && !hi && *lo == 0.0) return out(im, n, im.add(OpKind::Relu, n, {x}, {}));
    Attributes attrs;
    if (lo) attrs["min"] = *lo;
    if (hi) attrs["max"] = *hi;
    out(im, n, im.add(OpKind::Clamp, n, {x}, attrs));
}

void hardSigmoid(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    const double alpha = attrFloat(n, "alpha", 0.2), beta = attrFloat(n, "beta", 0.5);
    if (std::abs(alpha - 1.0 / 6.0) < 1e-6 && std::abs(beta - 0.5) < 1e-6)
        return out(im, n, im.add(OpKind::Hardsigmoid, n, {x}, {}));
    const int ax = im.add(OpKind::Mul, n, {x}, {{"scalar", alpha}}, ".alpha").at(0);
    const int axb = im.add(OpKind::Add, n, {ax}, {{"scalar", beta}}, ".beta").at(0);
    out(im, n, im.add(OpKind::Clamp, n, {axb}, {{"min", 0.0}, {"max", 1.0}}));
}

void prelu(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    at::Tensor slope = im.knownInput(n, 1, "slope").t.to(at::kFloat);
    const std::vector<int64_t> s = im.shape(x);
    if (slope.numel() == 1) slope = slope.reshape({1});
    else if (s.size() >= 2 && slope.numel() == s[1]) slope = slope.reshape({s[1]});
    else im.refuse(n, "has a slope of " + std::to_string(slope.numel()) + " values that is neither one nor one per channel");
    out(im, n, im.add(OpKind::Prelu, n, {x, im.param(n, "weight", slope, true)}, {}));
}

void softmax(Importer& im, const Node_& n, OpKind op) {
    const int x = activationInput(im, n);
    const int64_t rank = int64_t(im.shape(x).size());
    const int64_t axis = normAxis(attrInt(n, "axis", im.model.opset < 13 ? 1 : -1), rank);
    if (im.model.opset < 13 && axis != rank - 1)
        im.refuse(n, "is an opset-" + std::to_string(im.model.opset) + " softmax over the flattened dimensions from " +
                         std::to_string(axis) + " on; export at opset 13 or later");
    out(im, n, im.add(op, n, {x}, {{"dim", axis}}));
}

/// A reshape target: the batch (a Shape(x)[0] or the exported batch itself in the first place)
/// becomes kBatchDim, 0 copies the input's size.
std::vector<int64_t> reshapeTarget(Importer& im, const Node_& n, const Known& k, const std::vector<int64_t>& in) {
    std::vector<int64_t> shape = ints(k.t);
    const std::vector<int64_t> tags = k.tags.defined() ? ints(k.tags) : std::vector<int64_t>(shape.size(), 0);
    for (size_t i = 0; i < shape.size(); ++i) {
        if (tags[i] == 2)
            im.refuse(n, "reshapes to a size computed from the batch size (such as batch × heads), which PTQ Studio's "
                         "graph cannot hold; export the model with the batch kept as its own dimension");
        if (tags[i] == 1 || (shape[i] == 0 && i == 0 && !attrInt(n, "allowzero", 0))) shape[i] = kBatchDim;
        else if (shape[i] == 0 && !attrInt(n, "allowzero", 0)) shape[i] = i < in.size() ? in[i] : 0;
        else if (i == 0 && !k.tags.defined() && shape[i] == (im.fileBatch > 0 ? im.fileBatch : 1)) shape[i] = kBatchDim;
    }
    return shape;
}

void reshape(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    const std::vector<int64_t> shape = reshapeTarget(im, n, im.knownInput(n, 1, "shape"), im.shape(x));
    out(im, n, im.add(OpKind::Reshape, n, {x}, {{"shape", shape}}));
}

void flatten(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    const std::vector<int64_t> s = im.shape(x);
    const int64_t axis = normAxis(attrInt(n, "axis", 1), int64_t(s.size()));
    if (axis == 0) im.refuse(n, "flattens the batch into one sample");
    if (axis == 1) return out(im, n, im.add(OpKind::Flatten, n, {x}, {{"start_dim", int64_t(1)}, {"end_dim", int64_t(-1)}}));
    int64_t inner = 1;
    for (size_t d = size_t(axis); d < s.size(); ++d) inner *= s[d];
    out(im, n, im.add(OpKind::Reshape, n, {x}, {{"shape", std::vector<int64_t>{-1, inner}}}));
}

std::vector<int64_t> axesOf(Importer& im, const Node_& n, size_t index) {
    if (hasAttr(n, "axes")) return attrInts(n, "axes");
    if (Importer::given(n, index)) return ints(im.knownInput(n, index, "axes").t);
    return {};
}

void squeeze(Importer& im, const Node_& n, bool un) {
    int x = activationInput(im, n);
    std::vector<int64_t> axes = axesOf(im, n, 1);
    const int64_t rank = int64_t(im.shape(x).size());
    if (un) {
        for (auto& a : axes) a = normAxis(a, rank + int64_t(axes.size()));
        std::sort(axes.begin(), axes.end());
        for (size_t i = 0; i < axes.size(); ++i)
            x = im.add(OpKind::Unsqueeze, n, {x}, {{"dim", axes[i]}}, i + 1 < axes.size() ? "." + std::to_string(i) : "").at(0);
        return out(im, n, {x});
    }
    for (auto& a : axes) a = normAxis(a, rank);
    if (axes.empty())
        for (int64_t d = 1; d < rank; ++d)
            if (im.shape(x)[size_t(d)] == 1) axes.push_back(d);
    if (std::count(axes.begin(), axes.end(), int64_t(0))) im.refuse(n, "squeezes the batch dimension away");
    std::sort(axes.rbegin(), axes.rend());
    out(im, n, im.add(OpKind::Squeeze, n, {x}, {{"dims", axes}}));
}

void slice(Importer& im, const Node_& n) {
    int x = activationInput(im, n);
    std::vector<int64_t> starts, ends, axes, steps;
    if (im.model.opset < 10) {
        starts = attrInts(n, "starts"), ends = attrInts(n, "ends"), axes = attrInts(n, "axes");
    } else {
        starts = ints(im.knownInput(n, 1, "starts").t), ends = ints(im.knownInput(n, 2, "ends").t);
        if (Importer::given(n, 3)) axes = ints(im.knownInput(n, 3, "axes").t);
        if (Importer::given(n, 4)) steps = ints(im.knownInput(n, 4, "steps").t);
    }
    if (axes.empty())
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
    steps.resize(starts.size(), 1);
    const int64_t rank = int64_t(im.shape(x).size());
    for (size_t i = 0; i < starts.size(); ++i) {
        if (steps[i] <= 0) im.refuse(n, "slices with a step of " + std::to_string(steps[i]) + "; PTQ Studio takes positive steps");
        Attributes attrs{{"dim", normAxis(axes[i], rank)}, {"start", starts[i]}, {"step", steps[i]}};
        if (ends[i] < std::numeric_limits<int64_t>::max() / 2) attrs["end"] = ends[i];
        x = im.add(OpKind::Slice, n, {x}, attrs, i + 1 < starts.size() ? "." + std::to_string(i) : "").at(0);
    }
    out(im, n, {x});
}

void gather(Importer& im, const Node_& n) {
    if (!im.isActivation(n.inputs.at(0)))
        im.refuse(n, "looks a table up by the model's input (token ids?); PTQ Studio imports ONNX models that take "
                     "float tensors");
    const int x = im.activation(n.inputs[0]);
    const Known& idx = im.knownInput(n, 1, "indices");
    const std::vector<int64_t> s = im.shape(x);
    const int64_t axis = normAxis(attrInt(n, "axis", 0), int64_t(s.size()));
    // The probe runs at a batch of one: an axis 0 of another size is not the batch (attention's
    // q, k, v picked out of a permuted [3, N, heads, tokens, dim]); where the batch did move, the
    // import's batch-of-two check catches it.
    if (axis == 0 && s[0] == 1) im.refuse(n, "picks samples out of the batch");
    std::vector<int64_t> values = ints(idx.t);
    for (auto& v : values)
        if (v < 0) v += s[size_t(axis)];
    if (idx.t.dim() == 0) return out(im, n, im.add(OpKind::Select, n, {x}, {{"dim", axis}, {"index", values[0]}}));
    const std::string key = "index" + std::to_string(axis);
    out(im, n, im.add(OpKind::Index, n, {x},
                      {{"index_count", axis + 1}, {"index_dims", std::vector<int64_t>{axis}}, {key, values},
                       {key + "_shape", idx.t.sizes().vec()}}));
}

void split(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    const std::vector<int64_t> s = im.shape(x);
    const int64_t axis = normAxis(attrInt(n, "axis", 0), int64_t(s.size()));
    std::vector<int64_t> sizes = hasAttr(n, "split") ? attrInts(n, "split")
                                 : Importer::given(n, 1) ? ints(im.knownInput(n, 1, "split").t)
                                                         : std::vector<int64_t>{};
    if (sizes.empty()) {
        const int64_t parts = int64_t(n.outputs.size()), total = s[size_t(axis)];
        for (int64_t i = 0; i < parts; ++i) sizes.push_back(total / parts + (i < total % parts ? 1 : 0));
    }
    out(im, n, im.add(OpKind::Split, n, {x}, {{"sizes", sizes}, {"dim", axis}}));
}

void expand(Importer& im, const Node_& n) {
    const int x = operand(im, n, 0, "expanded");
    const Known& k = im.knownInput(n, 1, "shape");
    const std::vector<int64_t> target = ints(k.t);
    const std::vector<int64_t> tags = k.tags.defined() ? ints(k.tags) : std::vector<int64_t>(target.size(), 0);
    const std::vector<int64_t> in = im.shape(x);
    const size_t rank = std::max(in.size(), target.size());
    std::vector<int64_t> sizes(rank);
    for (size_t i = 0; i < rank; ++i) {
        const long ti = long(i) - long(rank - target.size()), ii = long(i) - long(rank - in.size());
        const int64_t t = ti >= 0 ? target[size_t(ti)] : 1, tag = ti >= 0 ? tags[size_t(ti)] : 0;
        if (tag == 2) im.refuse(n, "expands to a size computed from the batch size");
        if (tag == 1) sizes[i] = kBatchDim;
        else if (ii >= 0 && t == 1) sizes[i] = -1;  // keep the input's size (ONNX broadcasts both ways)
        else sizes[i] = t;
    }
    out(im, n, im.add(OpKind::Expand, n, {x}, {{"sizes", sizes}}));
}

void tile(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    const Known& k = im.knownInput(n, 1, "repeats");
    if (k.fromBatch()) im.refuse(n, "repeats by the batch size");
    out(im, n, im.add(OpKind::Repeat, n, {x}, {{"repeats", ints(k.t)}}));
}

void pad(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    const std::vector<int64_t> pads = im.model.opset < 11 ? attrInts(n, "pads") : ints(im.knownInput(n, 1, "pads").t);
    if (Importer::given(n, 3)) im.refuse(n, "pads chosen axes (opset 18), which PTQ Studio does not follow");
    const size_t rank = im.shape(x).size();
    if (pads.size() != 2 * rank) im.refuse(n, "gives " + std::to_string(pads.size()) + " pads for a " + std::to_string(rank) + "-d input");
    if (pads[0] != 0 || pads[rank] != 0) im.refuse(n, "pads the batch dimension");
    std::string mode = attrString(n, "mode", "constant");
    if (mode == "edge") mode = "replicate";
    else if (mode != "constant" && mode != "reflect") im.refuse(n, "pads in mode " + mode + ", which PTQ Studio does not hold");
    size_t first = 1;
    while (first < rank && pads[first] == 0 && pads[first + rank] == 0) ++first;
    std::vector<int64_t> list;
    for (size_t d = rank; d-- > first;) list.push_back(pads[d]), list.push_back(pads[d + rank]);
    if (list.empty()) return out(im, n, {x});
    Attributes attrs{{"pad", list}, {"mode", mode}};
    if (mode == "constant") {
        double value = im.model.opset < 11 ? attrFloat(n, "value", 0.0) : 0.0;
        if (im.model.opset >= 11 && Importer::given(n, 2)) value = im.knownInput(n, 2, "value").t.to(at::kDouble).item<double>();
        attrs["value"] = value;
    }
    out(im, n, im.add(OpKind::Pad, n, {x}, attrs));
}

void resize(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    const std::vector<int64_t> s = im.shape(x);
    if (s.size() != 4) im.refuse(n, "resizes a " + std::to_string(s.size()) + "-d tensor; PTQ Studio resizes images (4-d)");
    const bool old = n.op == "Upsample" || im.model.opset < 11;
    const std::string mode = attrString(n, "mode", "nearest");
    const std::string ctm = old ? "asymmetric" : attrString(n, "coordinate_transformation_mode", "half_pixel");
    const std::string nearest = old ? "floor" : attrString(n, "nearest_mode", "round_prefer_floor");
    const size_t scalesAt = old ? 1 : 2;
    Attributes attrs;
    std::vector<int64_t> size;
    if (!old && Importer::given(n, 3) && im.knownInput(n, 3, "sizes").t.numel() > 0) {
        const Known& k = im.knownInput(n, 3, "sizes");
        size = ints(k.t);
        if (size.size() != 4 || size[1] != s[1]) im.refuse(n, "resizes other dimensions than height and width");
    } else if (Importer::given(n, scalesAt)) {
        const at::Tensor sc = im.knownInput(n, scalesAt, "scales").t.to(at::kDouble);
        if (sc.numel() != 4 || sc[0].item<double>() != 1.0 || sc[1].item<double>() != 1.0)
            im.refuse(n, "scales other dimensions than height and width");
        const double sh = sc[2].item<double>(), sw = sc[3].item<double>();
        size = {s[0], s[1], int64_t(std::floor(double(s[2]) * sh)), int64_t(std::floor(double(s[3]) * sw))};
        attrs["scale_h"] = sh;
        attrs["scale_w"] = sw;
    } else {
        im.refuse(n, "gives neither scales nor sizes");
    }
    attrs["output_size"] = std::vector<int64_t>{size[2], size[3]};
    if (mode == "nearest") {
        if (ctm != "asymmetric" || nearest != "floor")
            im.refuse(n, "resizes by nearest neighbour with " + ctm + " coordinates and " + nearest +
                             " rounding; PTQ Studio follows PyTorch's (asymmetric, floor)");
        attrs["mode"] = std::string("nearest");
    } else if (mode == "linear" || mode == "bilinear") {
        if (ctm == "align_corners") attrs["align_corners"] = int64_t(1);
        else if (ctm == "half_pixel" || ctm == "pytorch_half_pixel") attrs["align_corners"] = int64_t(0);
        else im.refuse(n, "resizes bilinearly with " + ctm + " coordinates, which PTQ Studio does not follow");
        attrs["mode"] = std::string("bilinear");
    } else {
        im.refuse(n, "resizes in mode " + mode + "; PTQ Studio follows nearest and linear");
    }
    out(im, n, im.add(OpKind::Upsample, n, {x}, attrs));
}

void pool(Importer& im, const Node_& n, bool max) {
    int x = activationInput(im, n);
    onlyFirstOutputUsed(im, n);
    const std::vector<int64_t> kernel = attrInts(n, "kernel_shape");
    const size_t spatial = kernel.size();
    if (spatial != 1 && spatial != 2) im.refuse(n, "pools over " + std::to_string(spatial) + " dimensions; PTQ Studio pools 1-d and 2-d");
    const auto strides = fill(attrInts(n, "strides"), spatial, 1);
    const auto dilations = fill(attrInts(n, "dilations"), spatial, 1);
    const std::vector<int64_t> s = im.shape(x);
    if (s.size() != spatial + 2) im.refuse(n, "pools a " + std::to_string(s.size()) + "-d input");
    Padding p = padding(im, n, std::vector<int64_t>(s.begin() + 2, s.end()), kernel, strides, dilations);
    const int64_t includePad = attrInt(n, "count_include_pad", 0);
    if (!p.symmetric()) {
        if (!max && !includePad) im.refuse(n, "pads its sides differently and averages without the padding");
        x = padBefore(im, n, x, p, max ? -INFINITY : 0.0);
        p.begin.assign(spatial, 0);
    }
    Attributes attrs{{"kernel", kernel}, {"stride", strides}, {"padding", p.begin}, {"ceil_mode", attrInt(n, "ceil_mode", 0)}};
    if (max) attrs["dilation"] = dilations;
    else attrs["count_include_pad"] = includePad;
    const OpKind op = max ? (spatial == 2 ? OpKind::MaxPool2d : OpKind::MaxPool1d)
                          : (spatial == 2 ? OpKind::AvgPool2d : OpKind::AvgPool1d);
    out(im, n, im.add(op, n, {x}, attrs));
}

void globalPool(Importer& im, const Node_& n, bool max) {
    const int x = activationInput(im, n);
    const size_t rank = im.shape(x).size();
    if (rank == 4)
        return out(im, n, im.add(max ? OpKind::AdaptiveMaxPool2d : OpKind::AdaptiveAvgPool2d, n, {x},
                                 {{"output_size", std::vector<int64_t>{1, 1}}}));
    if (rank == 3 && !max) return out(im, n, im.add(OpKind::AdaptiveAvgPool1d, n, {x}, {{"output_size", std::vector<int64_t>{1}}}));
    std::vector<int64_t> dims;
    for (size_t d = 2; d < rank; ++d) dims.push_back(int64_t(d));
    out(im, n, im.add(max ? OpKind::Amax : OpKind::Mean, n, {x}, {{"dims", dims}, {"keepdim", int64_t(1)}}));
}

void reduce(Importer& im, const Node_& n, OpKind op) {
    const int x = activationInput(im, n);
    const int64_t rank = int64_t(im.shape(x).size());
    std::vector<int64_t> axes = axesOf(im, n, 1);
    if (axes.empty()) {
        if (attrInt(n, "noop_with_empty_axes", 0)) return out(im, n, {x});
        im.refuse(n, "reduces over every dimension, the batch too");
    }
    for (auto& a : axes) a = normAxis(a, rank);
    if (std::count(axes.begin(), axes.end(), int64_t(0))) im.refuse(n, "reduces over the batch dimension");
    out(im, n, im.add(op, n, {x}, {{"dims", axes}, {"keepdim", attrInt(n, "keepdims", 1)}}));
}

void cast(Importer& im, const Node_& n) {
    const int x = activationInput(im, n);
    static const std::map<int64_t, std::string> names = {{1, "float32"}, {11, "float64"}, {10, "float16"},
                                                         {7, "int64"},   {6, "int32"},    {3, "int8"},
                                                         {2, "uint8"},   {9, "bool"}};
    const int64_t to = attrInt(n, "to", 1);
    if (to == 1) return out(im, n, {x});
    auto it = names.find(to);
    if (it == names.end()) im.refuse(n, "casts to " + onnx::elemTypeName(int(to)) + ", which PTQ Studio does not hold");
    out(im, n, im.add(OpKind::Cast, n, {x}, {{"dtype", it->second}}));
}

/// Shape(x) of an activation: its sizes at a batch of one, the first tagged as the batch.
void shape(Importer& im, const Node_& n) {
    const std::vector<int64_t> s = im.shape(activationInput(im, n));
    const int64_t r = int64_t(s.size());
    int64_t start = normAxis(attrInt(n, "start", 0), r), end = hasAttr(n, "end") ? normAxis(attrInt(n, "end", r), r) : r;
    start = std::clamp<int64_t>(start, 0, r), end = std::clamp<int64_t>(end, start, r);
    Known k;
    k.t = at::tensor(std::vector<int64_t>(s.begin() + start, s.begin() + end), at::kLong);
    k.tags = at::zeros({end - start}, at::kChar);
    if (start == 0 && end > 0) k.tags[0] = 1;
    if (n.op == "Size") {
        k.t = at::scalar_tensor(k.t.prod().item<int64_t>(), at::kLong);
        k.tags = at::full({}, 2, at::kChar);
    }
    im.setKnown(n.outputs.at(0), std::move(k));
}

const std::map<std::string, OpKind>& unaryOps() {
    static const std::map<std::string, OpKind> ops = {
        {"Relu", OpKind::Relu}, {"Sigmoid", OpKind::Sigmoid}, {"Tanh", OpKind::Tanh},   {"Exp", OpKind::Exp},
        {"Log", OpKind::Log},   {"Neg", OpKind::Neg},         {"Abs", OpKind::Abs},     {"Sqrt", OpKind::Sqrt},
        {"HardSwish", OpKind::Hardswish}};
    return ops;
}

const std::set<std::string>& mappedOps() {
    static const std::set<std::string> ops = {
        "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "LayerNormalization",
        "InstanceNormalization", "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
        "Softplus", "PRelu", "Clip", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Identity", "Dropout", "Add",
        "Sub", "Mul", "Div", "Pow", "Min", "Max", "Sum", "Concat", "Flatten", "Reshape", "Transpose", "Squeeze",
        "Unsqueeze", "Slice", "Gather", "Split", "Expand", "Tile", "Pad", "Resize", "Upsample", "MaxPool",
        "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceSum", "ReduceMax", "Softmax",
        "LogSoftmax", "Cast", "Shape", "Size", "QuantizeLinear", "DequantizeLinear"};
    return ops;
}

}  // namespace

bool isMappedOp(const std::string& op) { return mappedOps().count(op) != 0; }

void convertNode(Importer& im, const Node_& n) {
    const std::string& op = n.op;
    auto unary = [&](OpKind k, Attributes attrs = {}) { out(im, n, im.add(k, n, {activationInput(im, n)}, std::move(attrs))); };
    if (auto it = unaryOps().find(op); it != unaryOps().end()) return unary(it->second);
    if (op == "Conv" || op == "ConvTranspose") return conv(im, n, op == "ConvTranspose");
    if (op == "Gemm") return gemm(im, n);
    if (op == "MatMul") return matmul(im, n);
    if (op == "BatchNormalization") return batchNorm(im, n);
    if (op == "LayerNormalization") return layerNorm(im, n);
    if (op == "InstanceNormalization") return instanceNorm(im, n);
    if (op == "LeakyRelu") return unary(OpKind::LeakyRelu, {{"negative_slope", attrFloat(n, "alpha", 0.01)}});
    if (op == "Elu") return unary(OpKind::Elu, {{"alpha", attrFloat(n, "alpha", 1.0)}});
    if (op == "Softplus") return unary(OpKind::Softplus);
    if (op == "HardSigmoid") return hardSigmoid(im, n);
    if (op == "PRelu") return prelu(im, n);
    if (op == "Clip") return clip(im, n);
    if (op == "Reciprocal") return unary(OpKind::Div, {{"scalar", 1.0}, {"reversed", int64_t(1)}});
    if (op == "Identity" || op == "Dropout") {
        onlyFirstOutputUsed(im, n);
        return out(im, n, {activationInput(im, n)});
    }
    if (op == "Add") return binary(im, n, OpKind::Add);
    if (op == "Sub") return binary(im, n, OpKind::Sub);
    if (op == "Mul") return binary(im, n, OpKind::Mul);
    if (op == "Div") return binary(im, n, OpKind::Div);
    if (op == "Sum") {
        int acc = operand(im, n, 0);
        for (size_t i = 1; i < n.inputs.size(); ++i)
            acc = im.add(OpKind::Add, n, {acc, operand(im, n, i)}, {}, i + 1 < n.inputs.size() ? "." + std::to_string(i) : "").at(0);
        return out(im, n, {acc});
    }
    if (op == "Pow") {
        if (!im.isActivation(n.inputs.at(1))) {
            const Known& e = im.knownInput(n, 1, "exponent");
            if (!isScalar(e)) im.refuse(n, "raises to a tensor of exponents");
            return unary(OpKind::Pow, {{"exponent", e.t.to(at::kDouble).item<double>()}});
        }
        return out(im, n, im.add(OpKind::Pow, n, {operand(im, n, 0), im.activation(n.inputs[1])}, {}));
    }
    if (op == "Min" || op == "Max") return minMax(im, n, op == "Min");
    if (op == "Concat") {
        std::vector<int> inputs;
        for (size_t i = 0; i < n.inputs.size(); ++i) inputs.push_back(operand(im, n, i));
        const int64_t rank = int64_t(im.shape(inputs[0]).size());
        return out(im, n, im.add(OpKind::Cat, n, inputs, {{"dim", normAxis(attrInt(n, "axis", 0), rank)}}));
    }
    if (op == "Flatten") return flatten(im, n);
    if (op == "Reshape") return reshape(im, n);
    if (op == "Transpose") {
        const int x = activationInput(im, n);
        std::vector<int64_t> perm = attrInts(n, "perm");
        const int64_t rank = int64_t(im.shape(x).size());
        if (perm.empty())
            for (int64_t d = rank - 1; d >= 0; --d) perm.push_back(d);
        return out(im, n, im.add(OpKind::Permute, n, {x}, {{"dims", perm}}));
    }
    if (op == "Squeeze" || op == "Unsqueeze") return squeeze(im, n, op == "Unsqueeze");
    if (op == "Slice") return slice(im, n);
    if (op == "Gather") return gather(im, n);
    if (op == "Split") return split(im, n);
    if (op == "Expand") return expand(im, n);
    if (op == "Tile") return tile(im, n);
    if (op == "Pad") return pad(im, n);
    if (op == "Resize" || op == "Upsample") return resize(im, n);
    if (op == "MaxPool" || op == "AveragePool") return pool(im, n, op == "MaxPool");
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") return globalPool(im, n, op == "GlobalMaxPool");
    if (op == "ReduceMean") return reduce(im, n, OpKind::Mean);
    if (op == "ReduceSum") return reduce(im, n, OpKind::Sum);
    if (op == "ReduceMax") return reduce(im, n, OpKind::Amax);
    if (op == "Softmax") return softmax(im, n, OpKind::Softmax);
    if (op == "LogSoftmax") return softmax(im, n, OpKind::LogSoftmax);
    if (op == "Cast") return cast(im, n);
    if (op == "Shape" || op == "Size") return shape(im, n);
    if (op == "QuantizeLinear" || op == "DequantizeLinear")
        im.refuse(n, "quantizes the model's activations: the file is already quantized; import the float model it "
                     "was made from (for a PTQ Studio export, `ptq export --format onnx-fp32`)");
    im.refuse(n, "has no mapping to PTQ Studio's graph");
}


}  // namespace ptq::onnx_import
