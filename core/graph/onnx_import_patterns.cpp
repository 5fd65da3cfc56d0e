// The ONNX importer's patterns: several ONNX nodes that are one IR op (GELU's erf decomposition,
// MatMul + Add as a Linear, hardswish before opset 14). The single-node op table is
// onnx_import_ops.cpp.
#include "core/graph/detail/onnx_import_state.h"

#include <cmath>
#include <string>

namespace ptq::onnx_import {

using Node_ = onnx::ReadNode;

namespace {

bool scalarNear(const Importer& im, const std::string& name, double value, double tol) {
    if (!im.isKnown(name)) return false;
    const Known& k = im.known(name);
    return isScalar(k) && k.t.is_floating_point() && std::abs(k.t.to(at::kDouble).item<double>() - value) < tol;
}

/// The input of binary node @p n that is not @p name ("" when both or neither are).
std::string otherInput(const Node_& n, const std::string& name) {
    if (n.inputs.size() != 2) return "";
    if (n.inputs[0] == name && n.inputs[1] != name) return n.inputs[1];
    if (n.inputs[1] == name && n.inputs[0] != name) return n.inputs[0];
    return "";
}

const Node_* next(const Importer& im, const Node_& n, const char* op) {
    const long j = im.soleConsumer(n.outputs.at(0));
    if (j < 0 || im.model.nodes[size_t(j)].op != op) return nullptr;
    return &im.model.nodes[size_t(j)];
}

/// x / √2 (or x · 1/√2) → Erf → + 1 → · x → · 0.5: GELU as exporters before opset 20 write it.
bool gelu(Importer& im, size_t index) {
    const Node_& d = im.model.nodes[index];
    if ((d.op != "Div" && d.op != "Mul") || d.inputs.size() != 2 || !im.isActivation(d.inputs[0])) return false;
    const std::string x = d.inputs[0];
    if (!(d.op == "Div" ? scalarNear(im, d.inputs[1], std::sqrt(2.0), 1e-3) : scalarNear(im, d.inputs[1], std::sqrt(0.5), 1e-3)))
        return false;
    const Node_* erf = next(im, d, "Erf");
    const Node_* add = erf ? next(im, *erf, "Add") : nullptr;
    if (!add || !scalarNear(im, otherInput(*add, erf->outputs[0]), 1.0, 1e-6)) return false;
    const Node_* mul = next(im, *add, "Mul");
    if (!mul || otherInput(*mul, add->outputs[0]) != x) return false;
    const Node_* half = next(im, *mul, "Mul");
    if (!half || !scalarNear(im, otherInput(*half, mul->outputs[0]), 0.5, 1e-6)) return false;
    im.setActivation(half->outputs[0], im.add(OpKind::Gelu, *mul, {im.activation(x)}, {}).at(0));
    for (const Node_* n : {erf, add, mul, half}) im.skipped.insert(im.nodeIndex(*n));
    return true;
}

/// MatMul by a constant 2-d weight, then + a constant bias: one Linear (torch.onnx.export's
/// nn.Linear on more than 2-d input).
bool linearWithBias(Importer& im, size_t index) {
    const Node_& m = im.model.nodes[index];
    if (m.op != "MatMul" || m.inputs.size() != 2 || !im.isActivation(m.inputs[0]) || !im.isKnown(m.inputs[1])) return false;
    const Known& w = im.known(m.inputs[1]);
    if (w.t.dim() != 2 || w.tags.defined()) return false;
    const Node_* add = next(im, m, "Add");
    if (!add) return false;
    const std::string b = otherInput(*add, m.outputs[0]);
    if (b.empty() || !im.isKnown(b)) return false;
    const Known& bias = im.known(b);
    if (bias.tags.defined() || bias.t.numel() != w.t.size(1) || bias.t.size(-1) != w.t.size(1)) return false;
    for (int64_t i = 0; i + 1 < bias.t.dim(); ++i)
        if (bias.t.size(i) != 1) return false;
    linear(im, m, im.activation(m.inputs[0]), w.t.to(at::kFloat).t(), bias.t.to(at::kFloat), add->outputs[0]);
    im.skipped.insert(im.nodeIndex(*add));
    return true;
}

/// HardSigmoid(x) (1/6, 1/2) · x: hardswish before opset 14.
bool hardswish(Importer& im, size_t index) {
    const Node_& h = im.model.nodes[index];
    if (h.op != "HardSigmoid" || h.inputs.empty() || !im.isActivation(h.inputs[0])) return false;
    if (std::abs(attrFloat(h, "alpha", 0.2) - 1.0 / 6.0) > 1e-6 || std::abs(attrFloat(h, "beta", 0.5) - 0.5) > 1e-6) return false;
    const Node_* mul = next(im, h, "Mul");
    if (!mul || otherInput(*mul, h.outputs[0]) != h.inputs[0]) return false;
    im.setActivation(mul->outputs[0], im.add(OpKind::Hardswish, *mul, {im.activation(h.inputs[0])}, {}).at(0));
    im.skipped.insert(im.nodeIndex(*mul));
    return true;
}

}  // namespace

bool fuse(Importer& im, size_t index) { return gelu(im, index) || linearWithBias(im, index) || hardswish(im, index); }

}  // namespace ptq::onnx_import
