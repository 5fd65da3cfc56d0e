// The importer's op table, part 3: attention and masks (see import_ops.h). A fused attention kernel becomes
// the IR nodes the quantizer sees: the input projection as a Linear layer, the scaled Q·Kᵀ and
// P·V as MatMul nodes with two activation inputs, the softmax, the output projection as a Linear
// layer. Each node runs the ATen call the fused CPU kernel makes for that step.
#include "core/graph/import_ops.h"

#include <cmath>
#include <map>

namespace ptq {

namespace {

// The module path of an attention whose input projection is the parameter @p key
// ("encoder.layers.0.self_attn.in_proj_weight" -> "encoder.layers.0.self_attn").
std::string attentionPath(const std::string& key) {
    const auto dot = key.rfind('.');
    return dot == std::string::npos ? std::string("attention") : key.substr(0, dot);
}

// The fused kernel's steps as IR nodes, for self-attention of @p x (batch x tokens x embed):
// the projections are Linear layers, the scaled Q·Kᵀ and P·V MatMul nodes; returns the output
// and the attention probabilities (batch x heads x tokens x tokens).
struct AttentionNodes {
    int output = -1;
    int probs = -1;
};
AttentionNodes addAttention(OpArgs& a, int x, int64_t embed, int64_t heads, size_t qkvWeight, size_t projWeight,
                            size_t mask, size_t maskType) {
    const std::vector<int64_t> shape = a.graph().value(x).shape;
    if (shape.size() != 3 || shape[2] != embed || heads <= 0 || embed % heads != 0 || !a.batchDim(x, 0) ||
        a.batchDim(x, 1))
        a.fail("an attention whose input is not batch x tokens x " + std::to_string(embed));
    const int64_t tokens = shape[1], headDim = embed / heads;
    const int w = a.tensor(qkvWeight), projW = a.tensor(projWeight);
    const std::string path = attentionPath(a.graph().value(w).param);

    std::vector<int> in{x, w};
    if (!a.isNone(qkvWeight + 1)) in.push_back(a.tensor(qkvWeight + 1));
    const int qkv = a.add(OpKind::Linear, path + ".in_proj", in).at(0);
    // batch x tokens x 3 x heads x headDim -> 3 x batch x heads x tokens x headDim
    const int split = a.add(OpKind::Reshape, path + "/reshape_qkv", {qkv},
                            {{"shape", std::vector<int64_t>{-1, tokens, 3, heads, headDim}}}).at(0);
    const int perm = a.add(OpKind::Permute, path + "/permute_qkv", {split},
                           {{"dims", std::vector<int64_t>{2, 0, 3, 1, 4}}}).at(0);
    auto pick = [&](int64_t i, const char* name) {
        return a.add(OpKind::Select, path + "/" + name, {perm}, {{"dim", int64_t(0)}, {"index", i}}).at(0);
    };
    const int q = pick(0, "q"), k = pick(1, "k"), v = pick(2, "v");
    // the fused kernel scales q (bias added) by 1/sqrt(headDim) before Q·Kᵀ
    const int qs = a.add(OpKind::Mul, path + "/scale_q", {q}, {{"scalar", 1.0 / std::sqrt(double(headDim))}}).at(0);
    const int kt = a.add(OpKind::Transpose, path + "/k_t", {k}, {{"dim0", int64_t(-2)}, {"dim1", int64_t(-1)}}).at(0);
    const int scores = a.add(OpKind::MatMul, path + ".qk", {qs, kt}).at(0);
    AttentionNodes out;
    if (a.isNone(mask)) {
        out.probs = a.add(OpKind::Softmax, path + ".softmax", {scores}, {{"dim", int64_t(-1)}}).at(0);
    } else {
        // a key padding mask (mask_type 1: batch x tokens) or an attention mask (0: tokens x tokens)
        const int64_t type = a.isNone(maskType) ? int64_t(-1) : a.integer(maskType);
        if (type != 0 && type != 1) a.fail("an attention mask of type " + std::to_string(type));
        out.probs = a.add(OpKind::MaskedSoftmax, path + ".softmax", {scores, a.tensor(mask)},
                          {{"dim", int64_t(-1)}, {"mask_type", type}}).at(0);
    }
    const int context = a.add(OpKind::MatMul, path + ".pv", {out.probs, v}).at(0);
    const int merged = a.add(OpKind::Permute, path + "/merge_heads", {context},
                             {{"dims", std::vector<int64_t>{0, 2, 1, 3}}}).at(0);
    const int flat = a.add(OpKind::Reshape, path + "/reshape_out", {merged},
                           {{"shape", std::vector<int64_t>{-1, tokens, embed}}}).at(0);
    std::vector<int> proj{flat, projW};
    if (!a.isNone(projWeight + 1)) proj.push_back(a.tensor(projWeight + 1));
    out.output = a.add(OpKind::Linear, a.layerName(projW), proj).at(0);
    return out;
}

// aten::_native_multi_head_attention(query, key, value, embed_dim, num_head, qkv_weight, qkv_bias,
//     proj_weight, proj_bias, mask?, need_weights, average_attn_weights, mask_type?)
// nn.MultiheadAttention's fast path, taken for self-attention (query, key and value one tensor).
bool mapNativeAttention(OpArgs& a) {
    const int query = a.tensor(0);
    if (a.tensor(1) != query || a.tensor(2) != query) {
        a.unsupported("attention of a query over other keys or values");
        return true;
    }
    const AttentionNodes att = addAttention(a, query, a.integer(3), a.integer(4), 5, 7, 9, 12);
    const std::string path = attentionPath(a.graph().value(a.tensor(5)).param);
    a.result(att.output);
    if (a.integer(10) == 0) {
        a.unusedResult(1);  // no attention weights asked for
    } else if (a.integer(11) != 0) {  // the weights averaged over the heads
        a.result(a.add(OpKind::Mean, path + "/mean_heads", {att.probs},
                       {{"dims", std::vector<int64_t>{1}}, {"keepdim", int64_t(0)}}).at(0), 1);
    } else {
        a.result(att.probs, 1);
    }
    return true;
}

// aten::_transformer_encoder_layer_fwd(src, embed_dim, num_heads, qkv_weight, qkv_bias, proj_weight,
//     proj_bias, use_gelu, norm_first, eps, norm_weight_1, norm_bias_1, norm_weight_2, norm_bias_2,
//     ffn_weight_1, ffn_bias_1, ffn_weight_2, ffn_bias_2, mask?, mask_type?)
// nn.TransformerEncoderLayer's fast path: attention, residual, layer norms, feed-forward.
bool mapEncoderLayer(OpArgs& a) {
    const int src = a.tensor(0);
    const int64_t embed = a.integer(1);
    const bool gelu = a.integer(7) != 0, normFirst = a.integer(8) != 0;
    const double eps = a.number(9);
    auto norm = [&](int x, size_t weight) {
        const int w = a.tensor(weight);
        return a.add(OpKind::LayerNorm, a.layerName(w), {x, w, a.tensor(weight + 1)},
                     {{"normalized_shape", std::vector<int64_t>{embed}}, {"eps", eps}}).at(0);
    };
    const std::string path = attentionPath(attentionPath(a.graph().value(a.tensor(3)).param));
    int x = normFirst ? norm(src, 10) : src;
    x = addAttention(a, x, embed, a.integer(2), 3, 5, 18, 19).output;
    x = a.add(OpKind::Add, path + "/add_attention", {x, src}).at(0);
    if (!normFirst) x = norm(x, 10);
    const int residual = x;
    if (normFirst) x = norm(x, 12);
    const int w1 = a.tensor(14), w2 = a.tensor(16);
    x = a.add(OpKind::Linear, a.layerName(w1), {x, w1, a.tensor(15)}).at(0);
    x = a.add(gelu ? OpKind::Gelu : OpKind::Relu, path + (gelu ? "/gelu" : "/relu"), {x}).at(0);
    x = a.add(OpKind::Linear, a.layerName(w2), {x, w2, a.tensor(17)}).at(0);
    x = a.add(OpKind::Add, path + "/add_feed_forward", {x, residual}).at(0);
    if (!normFirst) x = norm(x, 12);
    a.result(x);
    return true;
}

// c10::ScalarType's numbers as TorchScript passes them (dtype=torch.float is 6), by the names
// the executor's Cast and FullLike read.
std::string dtypeName(OpArgs& a, size_t i) {
    static const std::map<int64_t, std::string> names = {
        {0, "uint8"}, {1, "int8"}, {2, "int16"}, {3, "int32"}, {4, "int64"}, {5, "float16"},
        {6, "float32"}, {7, "float64"}, {11, "bool"}, {15, "bfloat16"}};
    auto it = names.find(a.integer(i));
    if (it == names.end()) a.fail("a dtype PTQ Studio does not run (number " + std::to_string(a.integer(i)) + ")");
    return it->second;
}

// Masks: comparisons, masked_fill, dtype casts, logical not, zeros_like and its kin.
bool mapMaskOp(OpArgs& a) {
    const std::string& op = a.op();
    if (!a.isTensor(0)) return false;
    const int x = a.tensor(0);
    if (op == "eq" || op == "ne" || op == "lt" || op == "le" || op == "gt" || op == "ge") {
        if (a.isTensor(1)) return a.emit(OpKind::Compare, {x, a.tensor(1)}, {{"cmp", op}});
        return a.emit(OpKind::Compare, {x}, {{"cmp", op}, {"scalar", scalarAttr(a, 1)}});
    }
    if (op == "masked_fill") {  // masked_fill(x, mask, value): a scalar value
        if (a.isTensor(2)) {
            a.unsupported("with a tensor value");
            return true;
        }
        return a.emit(OpKind::MaskedFill, {x, a.tensor(1)}, {{"value", a.number(2)}});
    }
    if (op == "logical_not") return a.emit(OpKind::LogicalNot, {x});
    if (op == "to") {  // to(x, dtype, ...) or to(x, device, dtype, ...)
        const size_t dtype = a.isInt(1) ? 1 : 2;
        if (a.isTensor(1) || !a.isInt(dtype)) {
            a.unsupported("other than to a dtype");
            return true;
        }
        return a.emit(OpKind::Cast, {x}, {{"dtype", dtypeName(a, dtype)}});
    }
    if (op == "zeros_like" || op == "ones_like" || op == "full_like") {
        // (x, [fill_value,] dtype?, layout?, device?, pin_memory?, memory_format?)
        const size_t dtype = op == "full_like" ? 2 : 1;
        Attributes attrs{{"value", op == "full_like" ? scalarAttr(a, 1) : AttrValue(op == "ones_like" ? 1.0 : 0.0)}};
        if (!a.isNone(dtype)) attrs["dtype"] = dtypeName(a, dtype);
        return a.emit(OpKind::FullLike, {x}, attrs);
    }
    return false;
}

}  // namespace

const std::set<std::string>& attentionOpNames() {
    static const std::set<std::string> names = {
        "_native_multi_head_attention", "_transformer_encoder_layer_fwd", "eq", "ne", "lt", "le", "gt", "ge", "masked_fill", "logical_not", "to",
        "zeros_like", "ones_like", "full_like"};
    return names;
}

bool mapAttentionOp(OpArgs& a) {
    if (!attentionOpNames().count(a.op())) return false;
    if (a.op() == "_native_multi_head_attention") return mapNativeAttention(a);
    if (a.op() == "_transformer_encoder_layer_fwd") return mapEncoderLayer(a);
    return mapMaskOp(a);
}

}  // namespace ptq
