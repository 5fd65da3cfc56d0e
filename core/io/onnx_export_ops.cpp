// The ONNX export's op table (see onnx_export_builder.h): one IR node to opset-13 nodes, with
// ONNX's own op where there is one and a short decomposition where opset 13 has none
// (Hardswish, SiLU, GELU, Mish, LayerNorm).
#include "core/io/onnx_export_builder.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ptq::onnx_export {

using onnx::Attribute;

Builder::Builder(const Graph& g, std::function<const at::Tensor&(const std::string&)> param)
    : graph(g), param_(std::move(param)) {}

std::string Builder::fresh(const std::string& base) {
    std::string name = base.empty() ? "t" : base;
    for (int i = 1; used_.count(name); ++i) name = base + "_" + std::to_string(i);
    used_.insert(name);
    return name;
}

void Builder::alias(int valueId, const std::string& name) { names_[valueId] = name; }

std::string Builder::outputName(const Node& n, size_t index) {
    const int id = n.outputs.at(index);
    auto it = names_.find(id);
    if (it != names_.end()) return it->second;
    return names_[id] = fresh(index == 0 ? n.name : n.name + ":" + std::to_string(index));
}

std::string Builder::value(int valueId) {
    auto it = names_.find(valueId);
    if (it != names_.end()) return it->second;
    const Value& v = graph.value(valueId);
    if (!v.param.empty()) return names_[valueId] = tensor(v.param, param(v.param));
    if (v.producer >= 0) return outputName(graph.node(v.producer), size_t(v.producerOutput));
    throw failed("internal: the ONNX export met value '" + v.name + "' before it was made");
}

std::string Builder::add(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                         std::vector<Attribute> attributes, std::vector<std::string> outputs) {
    onnx::NodeSpec n;
    n.op = op;
    n.name = fresh(name + "/" + op);
    n.inputs = std::move(inputs);
    n.outputs = outputs.empty() ? std::vector<std::string>{fresh(name + "/" + op + "_out")} : std::move(outputs);
    n.attributes = std::move(attributes);
    spec.nodes.push_back(std::move(n));
    return spec.nodes.back().outputs.front();
}

std::string Builder::floats(const std::string& name, const std::vector<float>& values, std::vector<int64_t> dims) {
    onnx::Tensor t;
    t.name = fresh(name);
    t.type = onnx::ElemType::Float;
    t.dims = std::move(dims);
    t.bytes.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
    spec.initializers.push_back(std::move(t));
    return spec.initializers.back().name;
}

std::string Builder::int64s(const std::string& name, const std::vector<int64_t>& values) {
    onnx::Tensor t;
    t.name = fresh(name);
    t.type = onnx::ElemType::Int64;
    t.dims = {int64_t(values.size())};
    t.bytes.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
    spec.initializers.push_back(std::move(t));
    return spec.initializers.back().name;
}

std::string Builder::tensor(const std::string& name, const at::Tensor& src) {
    at::Tensor x = src.detach().cpu();
    onnx::Tensor t;
    switch (x.scalar_type()) {
    case at::kFloat: t.type = onnx::ElemType::Float; break;
    case at::kDouble: x = x.to(at::kFloat); t.type = onnx::ElemType::Float; break;
    case at::kChar: t.type = onnx::ElemType::Int8; break;
    case at::kByte: t.type = onnx::ElemType::Uint8; break;
    case at::kInt: t.type = onnx::ElemType::Int32; break;
    case at::kLong: t.type = onnx::ElemType::Int64; break;
    default: throw invalidInput("The parameter '" + name + "' has a tensor type the ONNX export does not write.");
    }
    x = x.contiguous();
    t.name = fresh(name);
    t.dims.assign(x.sizes().begin(), x.sizes().end());
    t.bytes.assign(static_cast<const char*>(x.data_ptr()), size_t(x.nbytes()));
    spec.initializers.push_back(std::move(t));
    return spec.initializers.back().name;
}

size_t rankOf(const Builder& b, const Node& n, size_t index) { return b.graph.value(n.inputs.at(index)).shape.size(); }

namespace {

[[noreturn]] void unmapped(const Node& n, const std::string& why = "") {
    throw invalidInput("The layer '" + n.name + "' (" + displayOp(n) + (why.empty() ? "" : ", " + why) +
                       ") has no ONNX mapping in the export, so the model cannot be written as ONNX.");
}

int64_t axis(int64_t d, size_t rank) { return d < 0 ? d + int64_t(rank) : d; }

// A 2-element spatial list from PyTorch's one- or two-element one.
std::vector<int64_t> pair2(std::vector<int64_t> v, int64_t fallback) {
    if (v.empty()) v = {fallback};
    if (v.size() == 1) v.push_back(v[0]);
    return v;
}

std::vector<int64_t> pads2(const std::vector<int64_t>& p) {
    const auto v = pair2(p, 0);
    return {v[0], v[1], v[0], v[1]};
}

void conv(Builder& b, const Node& n, const std::vector<std::string>& in, int spatial) {
    const std::vector<int64_t>& ws = b.graph.value(n.inputs.at(1)).shape;
    std::vector<int64_t> kernel(ws.begin() + 2, ws.end());
    auto fit = [&](std::vector<int64_t> v, int64_t fallback) {
        if (v.empty()) v = {fallback};
        while (int(v.size()) < spatial) v.push_back(v.back());
        return v;
    };
    const std::vector<int64_t> dilation = fit(n.attrInts("dilation"), 1);
    std::vector<int64_t> pads;
    const std::string mode = n.attrString("padding_mode");
    if (mode == "same") {  // PyTorch's: the odd pixel of padding at the end
        std::vector<int64_t> begin, end;
        for (int i = 0; i < spatial; ++i) {
            const int64_t total = dilation[size_t(i)] * (kernel[size_t(i)] - 1);
            begin.push_back(total / 2);
            end.push_back(total - total / 2);
        }
        pads = begin;
        pads.insert(pads.end(), end.begin(), end.end());
    } else {
        const std::vector<int64_t> p = mode == "valid" ? std::vector<int64_t>(size_t(spatial), 0) : fit(n.attrInts("padding"), 0);
        pads = p;
        pads.insert(pads.end(), p.begin(), p.end());
    }
    std::vector<std::string> inputs{in[0], in[1]};
    if (in.size() > 2) inputs.push_back(in[2]);
    b.add("Conv", n.name, inputs,
          {Attribute::list("kernel_shape", kernel), Attribute::list("strides", fit(n.attrInts("stride"), 1)),
           Attribute::list("pads", pads), Attribute::list("dilations", dilation),
           Attribute::integer("group", n.attrInt("groups", 1))},
          {b.outputName(n)});
}

void linear(Builder& b, const Node& n, const std::vector<std::string>& in) {
    if (rankOf(b, n) == 2) {
        std::vector<std::string> inputs{in[0], in[1]};
        if (in.size() > 2) inputs.push_back(in[2]);
        b.add("Gemm", n.name, inputs, {Attribute::integer("transB", 1)}, {b.outputName(n)});
        return;
    }
    const std::string wt = b.add("Transpose", n.name, {in[1]}, {Attribute::list("perm", {1, 0})});
    if (in.size() <= 2) {
        b.add("MatMul", n.name, {in[0], wt}, {}, {b.outputName(n)});
        return;
    }
    const std::string y = b.add("MatMul", n.name, {in[0], wt});
    b.add("Add", n.name, {y, in[2]}, {}, {b.outputName(n)});
}

void pool(Builder& b, const Node& n, const std::string& x, bool max) {
    const auto kernel = pair2(n.attrInts("kernel"), 1);
    auto stride = n.attrInts("stride");
    stride = stride.empty() ? kernel : pair2(stride, 1);
    std::vector<Attribute> attrs{Attribute::list("kernel_shape", kernel), Attribute::list("strides", stride),
                                 Attribute::list("pads", pads2(n.attrInts("padding"))),
                                 Attribute::integer("ceil_mode", n.attrInt("ceil_mode"))};
    if (max) {
        attrs.push_back(Attribute::list("dilations", pair2(n.attrInts("dilation"), 1)));
    } else {
        if (n.hasAttr("divisor_override")) unmapped(n, "with a divisor override");
        attrs.push_back(Attribute::integer("count_include_pad", n.attrInt("count_include_pad", 1)));
    }
    b.add(max ? "MaxPool" : "AveragePool", n.name, {x}, attrs, {b.outputName(n)});
}

void adaptivePool(Builder& b, const Node& n, const std::string& x, bool max) {
    const std::vector<int64_t>& inShape = b.graph.value(n.inputs[0]).shape;
    const auto out = pair2(n.attrInts("output_size"), 1);
    if (inShape.size() != 4) unmapped(n, "not on a 4-d input");
    if (out[0] == 1 && out[1] == 1) {
        b.add(max ? "GlobalMaxPool" : "GlobalAveragePool", n.name, {x}, {}, {b.outputName(n)});
        return;
    }
    if (inShape[2] % out[0] != 0 || inShape[3] % out[1] != 0) unmapped(n, "to a size that does not divide the input");
    const std::vector<int64_t> k{inShape[2] / out[0], inShape[3] / out[1]};
    b.add(max ? "MaxPool" : "AveragePool", n.name, {x}, {Attribute::list("kernel_shape", k), Attribute::list("strides", k)},
          {b.outputName(n)});
}

void binary(Builder& b, const Node& n, const std::vector<std::string>& in) {
    static const std::map<OpKind, const char*> ops = {
        {OpKind::Add, "Add"}, {OpKind::Sub, "Sub"}, {OpKind::Mul, "Mul"}, {OpKind::Div, "Div"}};
    const std::string op = ops.at(n.op);
    if (!n.attrString("rounding_mode").empty()) unmapped(n, "with rounding mode " + n.attrString("rounding_mode"));
    const double alpha = n.attrDouble("alpha", 1.0);
    const bool scaled = (n.op == OpKind::Add || n.op == OpKind::Sub) && alpha != 1.0;
    if (!n.hasAttr("scalar")) {
        std::string other = in[1];
        if (scaled) other = b.add("Mul", n.name, {other, b.scalar(n.name + ".alpha", float(alpha))});
        b.add(op, n.name, {in[0], other}, {}, {b.outputName(n)});
        return;
    }
    const double s = n.attrDouble("scalar");
    if (n.attrInt("reversed", 0) != 0) {  // s - alpha * x, s / x
        std::string x = in[0];
        if (scaled) x = b.add("Mul", n.name, {x, b.scalar(n.name + ".alpha", float(alpha))});
        b.add(op, n.name, {b.scalar(n.name + ".scalar", float(s)), x}, {}, {b.outputName(n)});
        return;
    }
    b.add(op, n.name, {in[0], b.scalar(n.name + ".scalar", float(scaled ? s * alpha : s))}, {}, {b.outputName(n)});
}

void layerNorm(Builder& b, const Node& n, const std::vector<std::string>& in) {
    const size_t rank = rankOf(b, n);
    const size_t k = n.attrInts("normalized_shape").size();
    std::vector<int64_t> axes;
    for (size_t i = rank - k; i < rank; ++i) axes.push_back(int64_t(i));
    const Attribute ax = Attribute::list("axes", axes);
    const std::string mean = b.add("ReduceMean", n.name, {in[0]}, {ax});
    const std::string d = b.add("Sub", n.name, {in[0], mean});
    const std::string var = b.add("ReduceMean", n.name, {b.add("Mul", n.name, {d, d})}, {ax});
    const std::string eps = b.scalar(n.name + ".eps", float(n.attrDouble("eps", 1e-5)));
    std::string y = b.add("Div", n.name, {d, b.add("Sqrt", n.name, {b.add("Add", n.name, {var, eps})})});
    if (in.size() > 1) y = b.add("Mul", n.name, {y, in[1]});
    if (in.size() > 2) y = b.add("Add", n.name, {y, in[2]});
    b.add("Identity", n.name, {y}, {}, {b.outputName(n)});
}

void split(Builder& b, const Node& n, const std::string& x) {
    const size_t rank = rankOf(b, n);
    const int64_t dim = axis(n.attrInt("dim"), rank);
    std::vector<int64_t> sizes;
    std::vector<std::string> outs;
    for (size_t i = 0; i < n.outputs.size(); ++i) {
        sizes.push_back(b.graph.value(n.outputs[i]).shape.at(size_t(dim)));
        outs.push_back(b.outputName(n, i));
    }
    b.add("Split", n.name, {x, b.int64s(n.name + ".split", sizes)}, {Attribute::integer("axis", dim)}, outs);
}

/// Expand to the node's sizes: -1 (keep) becomes ONNX's broadcasting 1; the batch size, when the
/// sizes hold it, is read from the graph input's shape at run time.
void expand(Builder& b, const Node& n, const std::string& x) {
    std::vector<int64_t> sizes = n.attrInts("sizes");
    bool batch = false;
    for (int64_t& d : sizes) {
        if (d == -1) d = 1;
        if (d == kBatchDim) batch = true;
    }
    std::string shape;
    if (!batch) {
        shape = b.int64s(n.name + ".shape", sizes);
    } else {
        const std::string inputShape = b.add("Shape", n.name + ".input_shape", {b.value(b.graph.inputValue())});
        const std::string batchSize = b.add("Slice", n.name + ".batch",
                                            {inputShape, b.int64s(n.name + ".batch_start", {0}),
                                             b.int64s(n.name + ".batch_end", {1})});
        std::vector<std::string> parts;
        for (size_t i = 0; i < sizes.size(); ++i)
            parts.push_back(sizes[i] == kBatchDim ? batchSize
                                                  : b.int64s(n.name + ".size" + std::to_string(i), {sizes[i]}));
        shape = b.add("Concat", n.name + ".shape", parts, {Attribute::integer("axis", 0)});
    }
    b.add("Expand", n.name, {x, shape}, {}, {b.outputName(n)});
}

void reshape(Builder& b, const Node& n, const std::string& x, std::vector<int64_t> shape) {
    const bool hasMinusOne = std::count(shape.begin(), shape.end(), int64_t(-1)) > 0;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] != kBatchDim) continue;
        if (i == 0) shape[i] = 0;  // ONNX's "copy this dimension from the input": the batch
        else if (!hasMinusOne) shape[i] = -1;
        else unmapped(n, "with the batch size inside its shape");
    }
    b.add("Reshape", n.name, {x, b.int64s(n.name + ".shape", shape)}, {}, {b.outputName(n)});
}

}  // namespace

void mapNode(Builder& b, const Node& n, const std::vector<std::string>& in) {
    const std::string out = b.outputName(n);
    auto unary = [&](const char* op, std::vector<Attribute> attrs = {}) { b.add(op, n.name, {in[0]}, attrs, {out}); };
    const size_t rank = n.inputs.empty() ? 0 : rankOf(b, n);
    switch (n.op) {
    case OpKind::Conv2d: return conv(b, n, in, 2);
    case OpKind::Conv1d: return conv(b, n, in, 1);
    case OpKind::Linear: return linear(b, n, in);
    case OpKind::MatMul: b.add("MatMul", n.name, {in[0], in[1]}, {}, {out}); return;
    case OpKind::BatchNorm: {
        if (b.graph.isFoldedBatchNorm(n)) {
            b.alias(n.outputs[0], in[0]);
            return;
        }
        std::string scale, shift;
        if (n.attrInt("affine", 1) && in.size() >= 5) {
            scale = in[3];
            shift = in[4];
        } else {
            const int64_t c = b.graph.value(n.inputs[1]).shape.at(0);
            scale = b.floats(n.name + ".ones", std::vector<float>(size_t(c), 1.0f), {c});
            shift = b.floats(n.name + ".zeros", std::vector<float>(size_t(c), 0.0f), {c});
        }
        b.add("BatchNormalization", n.name, {in[0], scale, shift, in[1], in[2]},
              {Attribute::real("epsilon", float(n.attrDouble("eps", 1e-5)))}, {out});
        return;
    }
    case OpKind::LayerNorm: return layerNorm(b, n, in);
    case OpKind::Relu: return unary("Relu");
    case OpKind::Hardtanh:
        b.add("Clip", n.name,
              {in[0], b.scalar(n.name + ".min", float(n.attrDouble("min_val", -1.0))),
               b.scalar(n.name + ".max", float(n.attrDouble("max_val", 1.0)))},
              {}, {out});
        return;
    case OpKind::Clamp:
        b.add("Clip", n.name,
              {in[0], n.hasAttr("min") ? b.scalar(n.name + ".min", float(n.attrDouble("min"))) : "",
               n.hasAttr("max") ? b.scalar(n.name + ".max", float(n.attrDouble("max"))) : ""},
              {}, {out});
        return;
    case OpKind::Hardsigmoid:
        return unary("HardSigmoid", {Attribute::real("alpha", 1.0f / 6.0f), Attribute::real("beta", 0.5f)});
    case OpKind::Hardswish: {  // HardSwish is opset 14: x * hardsigmoid(x)
        const std::string hs = b.add("HardSigmoid", n.name, {in[0]},
                                     {Attribute::real("alpha", 1.0f / 6.0f), Attribute::real("beta", 0.5f)});
        b.add("Mul", n.name, {in[0], hs}, {}, {out});
        return;
    }
    case OpKind::Silu: b.add("Mul", n.name, {in[0], b.add("Sigmoid", n.name, {in[0]})}, {}, {out}); return;
    case OpKind::Mish: {
        const std::string t = b.add("Tanh", n.name, {b.add("Softplus", n.name, {in[0]})});
        b.add("Mul", n.name, {in[0], t}, {}, {out});
        return;
    }
    case OpKind::Gelu: {  // 0.5 x (1 + erf(x / sqrt 2)); Gelu is opset 20
        if (!n.attrString("approximate").empty() && n.attrString("approximate") != "none") unmapped(n, "tanh approximation");
        const std::string e = b.add("Erf", n.name, {b.add("Div", n.name, {in[0], b.scalar(n.name + ".sqrt2", float(std::sqrt(2.0)))})});
        const std::string onePlus = b.add("Add", n.name, {e, b.scalar(n.name + ".one", 1.0f)});
        const std::string xe = b.add("Mul", n.name, {in[0], onePlus});
        b.add("Mul", n.name, {xe, b.scalar(n.name + ".half", 0.5f)}, {}, {out});
        return;
    }
    case OpKind::Sigmoid: return unary("Sigmoid");
    case OpKind::Tanh: return unary("Tanh");
    case OpKind::Sqrt: return unary("Sqrt");
    case OpKind::Rsqrt: b.add("Reciprocal", n.name, {b.add("Sqrt", n.name, {in[0]})}, {}, {out}); return;
    case OpKind::Exp: return unary("Exp");
    case OpKind::Log: return unary("Log");
    case OpKind::Neg: return unary("Neg");
    case OpKind::Abs: return unary("Abs");
    case OpKind::LeakyRelu: return unary("LeakyRelu", {Attribute::real("alpha", float(n.attrDouble("negative_slope", 0.01)))});
    case OpKind::Elu:
        if (n.attrDouble("scale", 1.0) != 1.0 || n.attrDouble("input_scale", 1.0) != 1.0) unmapped(n, "scaled");
        return unary("Elu", {Attribute::real("alpha", float(n.attrDouble("alpha", 1.0)))});
    case OpKind::Softplus:
        if (n.attrDouble("beta", 1.0) != 1.0) unmapped(n, "with beta other than 1");
        return unary("Softplus");
    case OpKind::Prelu: {
        const std::vector<int64_t>& ws = b.graph.value(n.inputs[1]).shape;
        std::string slope = in[1];
        if (ws.size() == 1 && ws[0] > 1 && rank > 2) {  // per channel: [C] -> [C, 1, ...]
            std::vector<int64_t> shape{ws[0]};
            shape.resize(rank - 1, 1);
            slope = b.add("Reshape", n.name, {slope, b.int64s(n.name + ".slope_shape", shape)});
        }
        b.add("PRelu", n.name, {in[0], slope}, {}, {out});
        return;
    }
    case OpKind::Pow:
        if (!n.hasAttr("exponent")) unmapped(n, "without a constant exponent");
        b.add("Pow", n.name, {in[0], b.scalar(n.name + ".exponent", float(n.attrDouble("exponent")))}, {}, {out});
        return;
    case OpKind::Minimum: b.add("Min", n.name, {in[0], in[1]}, {}, {out}); return;
    case OpKind::Maximum: b.add("Max", n.name, {in[0], in[1]}, {}, {out}); return;
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: return binary(b, n, in);
    case OpKind::Cat: {
        std::vector<std::string> inputs(in.begin(), in.end());
        b.add("Concat", n.name, inputs, {Attribute::integer("axis", axis(n.attrInt("dim"), rank))}, {out});
        return;
    }
    case OpKind::Flatten: {
        const int64_t start = axis(n.attrInt("start_dim", 0), rank), end = axis(n.attrInt("end_dim", -1), rank);
        if (start == 1 && end == int64_t(rank) - 1) return unary("Flatten", {Attribute::integer("axis", 1)});
        std::vector<int64_t> shape = b.graph.value(n.outputs[0]).shape;
        if (shape.empty()) unmapped(n, "to a scalar");
        shape[0] = start == 0 ? -1 : 0;
        return reshape(b, n, in[0], shape);
    }
    case OpKind::Reshape: return reshape(b, n, in[0], n.attrInts("shape"));
    case OpKind::Permute: {
        std::vector<int64_t> perm = n.attrInts("dims");
        for (auto& d : perm) d = axis(d, rank);
        return unary("Transpose", {Attribute::list("perm", perm)});
    }
    case OpKind::Transpose: {
        std::vector<int64_t> perm;
        for (size_t i = 0; i < rank; ++i) perm.push_back(int64_t(i));
        std::swap(perm.at(size_t(axis(n.attrInt("dim0"), rank))), perm.at(size_t(axis(n.attrInt("dim1"), rank))));
        return unary("Transpose", {Attribute::list("perm", perm)});
    }
    case OpKind::Chunk:
    case OpKind::Split: return split(b, n, in[0]);
    case OpKind::MaxPool2d: return pool(b, n, in[0], true);
    case OpKind::AvgPool2d: return pool(b, n, in[0], false);
    case OpKind::AdaptiveAvgPool2d: return adaptivePool(b, n, in[0], false);
    case OpKind::AdaptiveMaxPool2d: return adaptivePool(b, n, in[0], true);
    case OpKind::Mean: {
        std::vector<int64_t> axes = n.attrInts("dims");
        for (auto& d : axes) d = axis(d, rank);
        return unary("ReduceMean", {Attribute::list("axes", axes), Attribute::integer("keepdims", n.attrInt("keepdim"))});
    }
    case OpKind::Amax: {
        std::vector<int64_t> axes = n.attrInts("dims");
        for (auto& d : axes) d = axis(d, rank);
        return unary("ReduceMax", {Attribute::list("axes", axes), Attribute::integer("keepdims", n.attrInt("keepdim"))});
    }
    case OpKind::Sum: {
        if (n.attrInt("full")) {
            b.add("ReduceSum", n.name, {in[0]}, {Attribute::integer("keepdims", 0)}, {out});
            return;
        }
        std::vector<int64_t> axes = n.attrInts("dims");
        for (auto& d : axes) d = axis(d, rank);
        b.add("ReduceSum", n.name, {in[0], b.int64s(n.name + ".axes", axes)},
              {Attribute::integer("keepdims", n.attrInt("keepdim"))}, {out});
        return;
    }
    case OpKind::Softmax: return unary("Softmax", {Attribute::integer("axis", axis(n.attrInt("dim"), rank))});
    case OpKind::LogSoftmax: return unary("LogSoftmax", {Attribute::integer("axis", axis(n.attrInt("dim"), rank))});
    case OpKind::Unsqueeze: {
        const int64_t d = n.attrInt("dim");
        b.add("Unsqueeze", n.name, {in[0], b.int64s(n.name + ".axes", {d < 0 ? d + int64_t(rank) + 1 : d})}, {}, {out});
        return;
    }
    case OpKind::Squeeze: {
        std::vector<int64_t> axes = n.attrInts("dims");
        for (auto& d : axes) d = axis(d, rank);
        b.add("Squeeze", n.name, {in[0], b.int64s(n.name + ".axes", axes)}, {}, {out});
        return;
    }
    case OpKind::Slice: {
        const int64_t d = axis(n.attrInt("dim"), rank);
        const int64_t start = n.hasAttr("start") ? n.attrInt("start") : 0;
        const int64_t end = n.hasAttr("end") ? n.attrInt("end") : std::numeric_limits<int64_t>::max();
        b.add("Slice", n.name,
              {in[0], b.int64s(n.name + ".starts", {start}), b.int64s(n.name + ".ends", {end}),
               b.int64s(n.name + ".axes", {d}), b.int64s(n.name + ".steps", {n.attrInt("step", 1)})},
              {}, {out});
        return;
    }
    case OpKind::Select: {  // a scalar index drops the dimension, as at::select does
        const std::string index = b.tensor(n.name + ".index", at::scalar_tensor(n.attrInt("index"), at::kLong));
        b.add("Gather", n.name, {in[0], index}, {Attribute::integer("axis", axis(n.attrInt("dim"), rank))}, {out});
        return;
    }
    case OpKind::Expand: return expand(b, n, in[0]);
    default: break;
    }
    unmapped(n);
}

}  // namespace ptq::onnx_export
