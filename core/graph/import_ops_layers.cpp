// The importer's op table, part 1: layers with parameters, norms, activations, element-wise
// math and reductions (see import_ops.h). Argument positions follow the ATen schemas.
#include "core/graph/import_ops.h"

#include <map>
#include <sstream>

namespace ptq {

namespace {

// conv2d / conv1d / conv_transpose2d and the traced aten::_convolution behind all three.
bool mapConvolution(OpArgs& a) {
    const std::string& op = a.op();
    const int w = a.tensor(1);
    const size_t rank = a.graph().value(w).shape.size();
    bool transposed = op == "conv_transpose2d";
    Attributes attrs{{"stride", a.ints(3)}};
    if (op == "_convolution") {
        transposed = a.integer(6) != 0;
        attrs["dilation"] = a.ints(5);
        attrs["groups"] = a.integer(8);
        if (transposed) attrs["output_padding"] = a.ints(7);
    } else if (transposed) {
        attrs["output_padding"] = a.ints(5);
        attrs["groups"] = a.integer(6);
        attrs["dilation"] = a.ints(7);
    } else {
        attrs["dilation"] = a.ints(5);
        attrs["groups"] = a.integer(6);
    }
    if (a.isString(4)) attrs["padding_mode"] = a.text(4);  // "same" / "valid"
    else attrs["padding"] = a.ints(4);
    OpKind kind = OpKind::Conv2d;
    if (transposed && rank == 4) {
        kind = OpKind::ConvTranspose2d;
    } else if (!transposed && rank == 3) {
        kind = OpKind::Conv1d;
    } else if (transposed || rank != 4) {
        a.unsupported(std::to_string(int(rank) - 2) + "-d " + (transposed ? "transposed " : "") + "convolution");
        return true;
    }
    std::vector<int> in{a.tensor(0), w};
    if (!a.isNone(2)) in.push_back(a.tensor(2));
    return a.emit(kind, in, attrs, a.layerName(w));
}

bool mapNorm(OpArgs& a) {
    const std::string& op = a.op();
    if (op == "batch_norm") {
        if (a.integer(5) != 0) a.fail("batch norm in training mode");
        std::vector<int> in{a.tensor(0), a.tensor(3), a.tensor(4)};
        const bool affine = !a.isNone(1) && !a.isNone(2);
        if (affine) {
            in.push_back(a.tensor(1));
            in.push_back(a.tensor(2));
        }
        const std::string name = affine ? a.layerName(a.tensor(1)) : "";
        return a.emit(OpKind::BatchNorm, in, {{"eps", a.number(7)}, {"affine", int64_t(affine)}}, name);
    }
    if (op == "layer_norm") {
        std::vector<int> in{a.tensor(0)};
        if (!a.isNone(2)) in.push_back(a.tensor(2));
        if (!a.isNone(3)) in.push_back(a.tensor(3));
        return a.emit(OpKind::LayerNorm, in, {{"normalized_shape", a.ints(1)}, {"eps", a.number(4)}});
    }
    if (op == "group_norm") {  // (input, num_groups, weight?, bias?, eps, cudnn_enabled)
        std::vector<int> in{a.tensor(0)};
        Attributes attrs{{"groups", a.integer(1)}, {"eps", a.number(4)}};
        attrs["has_weight"] = int64_t(!a.isNone(2));
        attrs["has_bias"] = int64_t(!a.isNone(3));
        if (!a.isNone(2)) in.push_back(a.tensor(2));
        if (!a.isNone(3)) in.push_back(a.tensor(3));
        return a.emit(OpKind::GroupNorm, in, attrs, a.isNone(2) ? "" : a.layerName(a.tensor(2)));
    }
    if (op == "instance_norm") {
        // (input, weight?, bias?, running_mean?, running_var?, use_input_stats, momentum, eps, cudnn_enabled)
        std::vector<int> in{a.tensor(0)};
        Attributes attrs{{"use_input_stats", a.integer(5)}, {"momentum", a.number(6)}, {"eps", a.number(7)}};
        attrs["has_weight"] = int64_t(!a.isNone(1));
        attrs["has_bias"] = int64_t(!a.isNone(2));
        if (a.isNone(3) != a.isNone(4)) a.fail("an instance norm with a running mean but no running variance");
        attrs["has_stats"] = int64_t(!a.isNone(3));
        for (size_t i = 1; i <= 4; ++i)
            if (!a.isNone(i)) in.push_back(a.tensor(i));
        return a.emit(OpKind::InstanceNorm, in, attrs, a.isNone(1) ? "" : a.layerName(a.tensor(1)));
    }
    return false;
}

bool mapActivation(OpArgs& a) {
    const std::string& op = a.op();
    static const std::map<std::string, OpKind> unary = {
        {"relu", OpKind::Relu},   {"hardswish", OpKind::Hardswish}, {"hardsigmoid", OpKind::Hardsigmoid},
        {"silu", OpKind::Silu},   {"sigmoid", OpKind::Sigmoid},     {"tanh", OpKind::Tanh},
        {"mish", OpKind::Mish},   {"sqrt", OpKind::Sqrt},           {"rsqrt", OpKind::Rsqrt},
        {"exp", OpKind::Exp},     {"log", OpKind::Log},             {"neg", OpKind::Neg},
        {"negative", OpKind::Neg}, {"abs", OpKind::Abs},
    };
    if (!a.isTensor(0)) return false;
    if (auto it = unary.find(op); it != unary.end()) return a.emit(it->second, {a.tensor(0)});
    if (op == "relu6") return a.emit(OpKind::Hardtanh, {a.tensor(0)}, {{"min_val", 0.0}, {"max_val", 6.0}});
    if (op == "hardtanh")
        return a.emit(OpKind::Hardtanh, {a.tensor(0)}, {{"min_val", a.number(1)}, {"max_val", a.number(2)}});
    if (op == "gelu") {
        Attributes attrs;
        if (a.size() > 1 && a.isString(1)) attrs["approximate"] = a.text(1);
        return a.emit(OpKind::Gelu, {a.tensor(0)}, attrs);
    }
    if (op == "leaky_relu") {
        Attributes attrs;
        if (a.size() > 1) attrs["negative_slope"] = scalarAttr(a, 1);
        return a.emit(OpKind::LeakyRelu, {a.tensor(0)}, attrs);
    }
    if (op == "elu")
        return a.emit(OpKind::Elu, {a.tensor(0)},
                      {{"alpha", scalarAttr(a, 1)}, {"scale", scalarAttr(a, 2)}, {"input_scale", scalarAttr(a, 3)}});
    if (op == "softplus")
        return a.emit(OpKind::Softplus, {a.tensor(0)}, {{"beta", scalarAttr(a, 1)}, {"threshold", scalarAttr(a, 2)}});
    if (op == "prelu") {
        const int w = a.tensor(1);
        return a.emit(OpKind::Prelu, {a.tensor(0), w}, {}, a.graph().value(w).param.empty() ? "" : a.layerName(w));
    }
    if (op == "softmax" || op == "log_softmax") {
        if (a.size() > 2 && !a.isNone(2)) {
            a.unsupported("with a dtype");
            return true;
        }
        return a.emit(op == "softmax" ? OpKind::Softmax : OpKind::LogSoftmax, {a.tensor(0)}, {{"dim", a.integer(1)}});
    }
    return false;
}

bool mapElementwise(OpArgs& a) {
    const std::string& op = a.op();
    static const std::map<std::string, OpKind> binaries = {
        {"add", OpKind::Add}, {"sub", OpKind::Sub}, {"rsub", OpKind::Sub}, {"mul", OpKind::Mul}, {"div", OpKind::Div},
    };
    if (auto it = binaries.find(op); it != binaries.end() && (a.isTensor(0) || a.isTensor(1))) {
        Attributes attrs;
        if ((op == "add" || op == "sub" || op == "rsub") && a.size() > 2) attrs["alpha"] = a.number(2);
        if (op == "div" && a.size() > 2 && !a.isNone(2)) attrs["rounding_mode"] = a.text(2);
        if (a.isTensor(0) && a.isTensor(1)) {
            if (op == "rsub") return a.emit(OpKind::Sub, {a.tensor(1), a.tensor(0)}, attrs);
            return a.emit(it->second, {a.tensor(0), a.tensor(1)}, attrs);
        }
        const bool tensorFirst = a.isTensor(0);
        attrs["scalar"] = a.number(tensorFirst ? 1 : 0);
        // scalar - x and scalar / x need the reversed form; scalar + x and scalar * x commute.
        if (op == "rsub" || (!tensorFirst && (op == "sub" || op == "div"))) attrs["reversed"] = int64_t(1);
        return a.emit(it->second, {a.tensor(tensorFirst ? 0 : 1)}, attrs);
    }
    if (op == "pow" && (a.isTensor(0) || a.isTensor(1))) {
        if (a.isTensor(0) && a.isTensor(1)) return a.emit(OpKind::Pow, {a.tensor(0), a.tensor(1)});
        if (a.isTensor(0)) return a.emit(OpKind::Pow, {a.tensor(0)}, {{"exponent", scalarAttr(a, 1)}});
        return a.emit(OpKind::Pow, {a.tensor(1)}, {{"base", scalarAttr(a, 0)}});
    }
    if ((op == "minimum" || op == "maximum") && (a.isTensor(0) || a.isTensor(1)))
        return a.emit(op == "minimum" ? OpKind::Minimum : OpKind::Maximum, {a.tensor(0), a.tensor(1)});
    if ((op == "clamp" || op == "clip" || op == "clamp_min" || op == "clamp_max") && a.isTensor(0)) {
        const size_t lo = op == "clamp_max" ? 0 : 1;  // clamp_max(x, max) has no min argument
        const size_t hi = op == "clamp_min" ? 0 : (op == "clamp_max" ? 1 : 2);
        if ((lo && a.isTensor(lo)) || (hi && a.isTensor(hi))) {
            a.unsupported("with tensor bounds");
            return true;
        }
        Attributes attrs;
        if (lo && !a.isNone(lo)) attrs["min"] = scalarAttr(a, lo);
        if (hi && !a.isNone(hi)) attrs["max"] = scalarAttr(a, hi);
        return a.emit(OpKind::Clamp, {a.tensor(0)}, attrs);
    }
    return false;
}

bool mapReduction(OpArgs& a) {
    const std::string& op = a.op();
    if (!a.isTensor(0)) return false;
    if (op == "mean") {
        const bool full = a.size() <= 2;  // mean(x, dtype)
        return a.emit(OpKind::Mean, {a.tensor(0)},
                      {{"dims", full ? std::vector<int64_t>{} : a.ints(1)}, {"keepdim", full ? int64_t(0) : a.integer(2)}});
    }
    if (op == "sum") {
        const size_t dtype = a.size() <= 2 ? 1 : 3;  // sum(x, dtype) or sum(x, dims, keepdim, dtype)
        if (!a.isNone(dtype)) {
            a.unsupported("with a dtype");
            return true;
        }
        if (a.size() <= 2 || a.isNone(1)) return a.emit(OpKind::Sum, {a.tensor(0)}, {{"full", int64_t(1)}});
        return a.emit(OpKind::Sum, {a.tensor(0)}, {{"dims", a.ints(1)}, {"keepdim", a.integer(2)}});
    }
    if (op == "amax")  // amax(x, dims=[], keepdim=False): an empty list reduces every dimension
        return a.emit(OpKind::Amax, {a.tensor(0)}, {{"dims", a.ints(1)}, {"keepdim", a.integer(2)}});
    if (op == "var") {
        if (a.size() == 2)  // var(x, unbiased)
            return a.emit(OpKind::Var, {a.tensor(0)}, {{"full", int64_t(1)}, {"correction", a.integer(1)}});
        // var.dim(x, dims?, unbiased, keepdim) or var.correction(x, dims?, correction?, keepdim)
        Attributes attrs{{"keepdim", a.integer(3)}};
        attrs["correction"] = a.isNone(2) ? int64_t(1) : a.integer(2);
        if (!a.isNone(1)) attrs["dims"] = a.ints(1);
        return a.emit(OpKind::Var, {a.tensor(0)}, attrs);
    }
    return false;
}

bool mapEmbedding(OpArgs& a) {
    // embedding(weight, indices, padding_idx, scale_grad_by_freq, sparse); padding_idx only
    // changes gradients.
    std::vector<int64_t> indices, shape;
    const int w = a.tensor(0);
    if (!a.constantInts(1, indices, shape)) {
        // the model's token input itself (the importer gives it integer ids); other computed
        // indices are not followed
        if (a.isTensor(1) && a.tensor(1) == a.graph().inputValue() && a.graph().inputKind() == InputKind::Tokens)
            return a.emit(OpKind::Embedding, {a.tensor(1), w}, {}, a.layerName(w));
        a.unsupported("indices computed inside the model; embeddings of constant indices or of the token input import");
        return true;
    }
    if (a.graph().value(w).shape.size() != 2) a.fail("an embedding table that is not a matrix");
    const int64_t rows = a.graph().value(w).shape[0];
    for (int64_t i : indices)
        if (i < -rows || i >= rows) a.fail("an embedding index out of the table's " + std::to_string(rows) + " rows");
    return a.emit(OpKind::Embedding, {w}, {{"indices", indices}, {"indices_shape", shape}}, a.layerName(w));
}

}  // namespace

std::string layerNameOf(const Graph& graph, int weightValue) {
    std::string key = graph.value(weightValue).param;
    // "fc.weight" -> "fc"; nn.MultiheadAttention's "self_attn.in_proj_weight" -> "self_attn.in_proj"
    for (const std::string suffix : {".weight", "_weight"})
        if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0) {
            key.resize(key.size() - suffix.size());
            break;
        }
    return key;
}

std::string unsupportedOpsSentence(const std::string& path, const std::map<std::string, UnsupportedOp>& ops) {
    std::ostringstream msg;
    msg << "'" << path << "' uses operations PTQ Studio does not support: ";
    bool first = true;
    for (const auto& [op, info] : ops) {
        msg << (first ? "" : ", ") << op << " x" << info.count;
        if (!info.scopes.empty()) {
            msg << " (in ";
            for (size_t i = 0; i < info.scopes.size(); ++i) msg << (i ? ", " : "") << info.scopes[i];
            msg << (info.count > int(info.scopes.size()) ? ", ...)" : ")");
        }
        first = false;
    }
    msg << ". The model was refused before any data went through it; replace those operations or export a "
           "model without them.";
    return msg.str();
}

const std::set<std::string>& layerOpNames() {
    static const std::set<std::string> names = {
        "conv2d", "conv1d", "conv_transpose2d", "_convolution", "linear", "batch_norm", "layer_norm", "group_norm",
        "instance_norm", "embedding", "relu", "hardswish", "hardsigmoid", "silu", "sigmoid", "tanh", "mish", "sqrt",
        "rsqrt", "exp", "log", "neg", "negative", "abs", "relu6", "hardtanh", "gelu", "leaky_relu", "elu",
        "softplus", "prelu", "softmax", "log_softmax", "add", "sub", "rsub", "mul", "div", "pow", "minimum",
        "maximum", "clamp", "clip", "clamp_min", "clamp_max", "mean", "sum", "amax", "var"};
    return names;
}

bool isMappedOp(const std::string& op) {
    static const std::set<std::string> interpreter = {
        "dim", "size", "t", "addmm", "matmul", "mm", "bmm", "baddbmm", "__getitem__", "len", "append", "Int", "Float", "format", "warn",
        "__is__", "__isnot__", "__not__", "eq", "ne", "lt", "le", "gt", "ge"};
    return interpreter.count(op) || layerOpNames().count(op) || shapeOpNames().count(op) || attentionOpNames().count(op);
}

bool mapLayerOp(OpArgs& a) {
    const std::string& op = a.op();
    if (op == "conv2d" || op == "conv1d" || op == "conv_transpose2d" || op == "_convolution") return mapConvolution(a);
    if (op == "linear") {
        const int w = a.tensor(1);
        std::vector<int> in{a.tensor(0), w};
        if (!a.isNone(2)) in.push_back(a.tensor(2));
        return a.emit(OpKind::Linear, in, {}, a.layerName(w));
    }
    if (op == "embedding") return mapEmbedding(a);
    return mapNorm(a) || mapActivation(a) || mapElementwise(a) || mapReduction(a);
}

}  // namespace ptq
