// ONNX → IR: the folding of what is known at import time (initializers, Constants and what
// follows from them and from the activations' shapes). The driver is onnx_importer.cpp.
#include "core/graph/detail/onnx_import_state.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace ptq::onnx_import {

namespace {

at::ScalarType castType(int64_t to, const onnx::ReadNode& n, const Importer& im) {
    switch (to) {
    case 1: case 10: case 11: case 16: return at::kFloat;
    case 2: return at::kByte;
    case 3: return at::kChar;
    case 5: return at::kShort;
    case 6: return at::kInt;
    case 7: return at::kLong;
    case 9: return at::kBool;
    default: im.refuse(n, "casts to " + onnx::elemTypeName(int(to)) + ", which PTQ Studio does not hold");
    }
}

/// ONNX's multidirectional broadcast of two shapes.
std::vector<int64_t> broadcastShape(std::vector<int64_t> a, std::vector<int64_t> b) {
    if (a.size() < b.size()) std::swap(a, b);
    b.insert(b.begin(), a.size() - b.size(), 1);
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i] == 1) a[i] = b[i];
    return a;
}

const std::set<std::string>& foldableOps() {
    static const std::set<std::string> ops = {
        "Constant", "Identity", "Dropout", "Cast", "CastLike", "Shape", "Size", "Gather", "Unsqueeze", "Squeeze",
        "Concat", "Slice", "Reshape", "Transpose", "Flatten", "Expand", "Tile", "ConstantOfShape", "Range", "Add",
        "Sub", "Mul", "Div", "Pow", "Min", "Max", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And",
        "Or", "Not", "Where", "Neg", "Abs", "Sqrt", "Exp", "Log", "Reciprocal", "Floor", "Ceil", "Round", "Relu",
        "Sigmoid", "Tanh", "Erf", "Clip", "Mod", "ReduceProd", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
        "MatMul", "Gemm", "DequantizeLinear", "Softmax", "Split"};
    return ops;
}

}  // namespace

bool isFoldableOp(const std::string& op) { return foldableOps().count(op) != 0; }

namespace {

/// The result's tags for an element-wise op: the batch's own tags kept through x·1, x/1, x+0,
/// x−0; anything else computed from the batch is 2.
at::Tensor elementwiseTags(const std::string& op, const std::vector<const Known*>& in, const at::Tensor& result) {
    bool any = false;
    for (const Known* k : in) any = any || (k && k->tags.defined());
    if (!any) return at::Tensor();
    if (in.size() == 2 && in[0] && in[1]) {
        const bool tagged0 = in[0]->tags.defined(), tagged1 = in[1]->tags.defined();
        if (tagged0 != tagged1) {
            const Known& other = tagged0 ? *in[1] : *in[0];
            const double neutral = (op == "Mul" || op == "Div") ? 1.0 : (op == "Add" || op == "Sub") ? 0.0 : NAN;
            const bool otherIsSecond = tagged0;
            if (!std::isnan(neutral) && (otherIsSecond || op == "Add" || op == "Mul") &&
                other.t.numel() > 0 && other.t.to(at::kDouble).eq(neutral).all().item<bool>()) {
                const at::Tensor& tags = tagged0 ? in[0]->tags : in[1]->tags;
                return tags.broadcast_to(result.sizes()).clone();
            }
        }
    }
    at::Tensor t = at::zeros(result.sizes(), at::kChar);
    for (const Known* k : in)
        if (k && k->tags.defined()) t = at::maximum(t, k->tags.broadcast_to(result.sizes()).ne(0).to(at::kChar) * 2);
    return t;
}

at::Tensor tagsOrZeros(const Known& k) { return k.tags.defined() ? k.tags : at::zeros(k.t.sizes(), at::kChar); }

}  // namespace

void Importer::foldConstant(const onnx::ReadNode& n) {
    std::vector<const Known*> in;
    for (size_t i = 0; i < n.inputs.size(); ++i) in.push_back(given(n, i) ? &known(n.inputs[i]) : nullptr);
    auto input = [&](size_t i) -> const at::Tensor& {
        if (i >= in.size() || !in[i]) refuse(n, "misses input " + std::to_string(i + 1));
        return in[i]->t;
    };
    bool anyTags = false;
    for (const Known* k : in) anyTags = anyTags || (k && k->tags.defined());
    // Ops that move elements: the same op on the tags keeps them with their elements.
    auto structural = [&](const std::function<at::Tensor(const at::Tensor&, size_t)>& f) {
        Known out;
        out.t = f(input(0), 0);
        if (anyTags) out.tags = f(tagsOrZeros(*in[0]), 0);
        setKnown(n.outputs.at(0), std::move(out));
    };
    auto axesOf = [&](size_t inputIndex) {
        if (hasAttr(n, "axes")) return attrInts(n, "axes");
        if (given(n, inputIndex)) return ints(input(inputIndex));
        return std::vector<int64_t>{};
    };
    const std::string& op = n.op;
    const int64_t rank0 = in.empty() || !in[0] ? 0 : in[0]->t.dim();
    if (op == "Constant") {
        Known k;
        if (const auto* a = n.attribute("value"); a && a->kind == onnx::ReadAttribute::Kind::Tensor) k.t = toTensor(a->t, path);
        else if (const auto* f = n.attribute("value_float")) k.t = at::scalar_tensor(f->f, at::kFloat);
        else if (const auto* fs = n.attribute("value_floats")) k.t = at::tensor(fs->floats, at::kFloat);
        else if (const auto* i = n.attribute("value_int")) k.t = at::scalar_tensor(i->i, at::kLong);
        else if (const auto* is = n.attribute("value_ints")) k.t = at::tensor(is->ints, at::kLong);
        else refuse(n, "holds a kind of constant PTQ Studio does not read (sparse or string)");
        setKnown(n.outputs.at(0), std::move(k));
        return;
    }
    if (op == "Identity" || op == "Dropout") return setKnown(n.outputs.at(0), *in.at(0));
    if (op == "Cast" || op == "CastLike") {
        const at::ScalarType type = op == "Cast" ? castType(attrInt(n, "to", 1), n, *this) : input(1).scalar_type();
        Known k{input(0).to(type), in[0]->tags};
        return setKnown(n.outputs.at(0), std::move(k));
    }
    if (op == "Shape") {
        std::vector<int64_t> s = input(0).sizes().vec();
        const int64_t r = int64_t(s.size());
        int64_t start = normAxis(attrInt(n, "start", 0), r), end = hasAttr(n, "end") ? normAxis(attrInt(n, "end", r), r) : r;
        start = std::clamp<int64_t>(start, 0, r), end = std::clamp<int64_t>(end, start, r);
        return setKnown(n.outputs.at(0), Known{at::tensor(std::vector<int64_t>(s.begin() + start, s.begin() + end), at::kLong), {}});
    }
    if (op == "Size") return setKnown(n.outputs.at(0), Known{at::scalar_tensor(input(0).numel(), at::kLong), {}});
    if (op == "Gather") {
        const at::Tensor idxRaw = input(1).to(at::kLong);
        if (in[1]->tags.defined()) refuse(n, "indexes by the batch size");
        const int64_t axis = normAxis(attrInt(n, "axis", 0), rank0);
        return structural([&](const at::Tensor& x, size_t) {
            const at::Tensor idx = at::where(idxRaw < 0, idxRaw + x.size(axis), idxRaw);
            std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
            for (int64_t d : idx.sizes()) shape.push_back(d);
            shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
            return x.index_select(axis, idx.flatten()).reshape(shape);
        });
    }
    if (op == "Unsqueeze") {
        std::vector<int64_t> axes = axesOf(1);
        const int64_t outRank = rank0 + int64_t(axes.size());
        for (auto& a : axes) a = normAxis(a, outRank);
        std::sort(axes.begin(), axes.end());
        return structural([&](const at::Tensor& x, size_t) {
            at::Tensor y = x;
            for (int64_t a : axes) y = y.unsqueeze(a);
            return y;
        });
    }
    if (op == "Squeeze") {
        std::vector<int64_t> axes = axesOf(1);
        for (auto& a : axes) a = normAxis(a, rank0);
        if (axes.empty())
            for (int64_t d = 0; d < rank0; ++d)
                if (input(0).size(d) == 1) axes.push_back(d);
        std::sort(axes.rbegin(), axes.rend());
        return structural([&](const at::Tensor& x, size_t) {
            at::Tensor y = x;
            for (int64_t a : axes) y = y.squeeze(a);
            return y;
        });
    }
    if (op == "Concat") {
        std::vector<at::Tensor> parts, tags;
        for (size_t i = 0; i < in.size(); ++i) {
            parts.push_back(input(i));
            tags.push_back(tagsOrZeros(*in[i]));
        }
        const int64_t axis = normAxis(attrInt(n, "axis", 0), rank0);
        return setKnown(n.outputs.at(0), Known{at::cat(parts, axis), anyTags ? at::cat(tags, axis) : at::Tensor()});
    }
    if (op == "Slice") {
        std::vector<int64_t> starts, ends, axes, steps;
        if (hasAttr(n, "starts")) {
            starts = attrInts(n, "starts"), ends = attrInts(n, "ends"), axes = attrInts(n, "axes");
        } else {
            starts = ints(input(1)), ends = ints(input(2));
            if (given(n, 3)) axes = ints(input(3));
            if (given(n, 4)) steps = ints(input(4));
        }
        if (axes.empty())
            for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
        steps.resize(starts.size(), 1);
        return structural([&](const at::Tensor& x, size_t) {
            at::Tensor y = x;
            for (size_t i = 0; i < starts.size(); ++i) {
                const int64_t a = normAxis(axes[i], x.dim()), size = x.size(a);
                if (steps[i] < 0) {  // what at::slice does not take: a reversed range
                    int64_t s = starts[i] < 0 ? starts[i] + size : std::min(starts[i], size - 1);
                    int64_t e = ends[i] < -size ? -1 : ends[i] < 0 ? ends[i] + size : std::min(ends[i], size);
                    std::vector<int64_t> idx;
                    for (int64_t k = s; k > e; k += steps[i]) idx.push_back(k);
                    y = y.index_select(a, at::tensor(idx, at::kLong));
                } else {
                    y = y.slice(a, starts[i], ends[i], steps[i]);
                }
            }
            return y;
        });
    }
    if (op == "Reshape") {
        if (in.at(1)->tags.defined()) refuse(n, "reshapes a constant to a shape made from the batch size");
        std::vector<int64_t> shape = ints(input(1));
        for (size_t i = 0; i < shape.size(); ++i)
            if (shape[i] == 0 && !attrInt(n, "allowzero", 0)) shape[i] = input(0).size(int64_t(i));
        return structural([&](const at::Tensor& x, size_t) { return x.reshape(shape); });
    }
    if (op == "Transpose") {
        std::vector<int64_t> perm = attrInts(n, "perm");
        if (perm.empty())
            for (int64_t d = rank0 - 1; d >= 0; --d) perm.push_back(d);
        return structural([&](const at::Tensor& x, size_t) { return x.permute(perm).contiguous(); });
    }
    if (op == "Flatten") {
        const int64_t axis = normAxis(attrInt(n, "axis", 1), rank0);
        return structural([&](const at::Tensor& x, size_t) {
            int64_t outer = 1;
            for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
            return x.reshape({outer, -1});
        });
    }
    if (op == "Expand" || op == "Tile") {
        if (in.at(1)->tags.defined()) refuse(n, "repeats a value by the batch size in a way PTQ Studio cannot follow");
        const std::vector<int64_t> sizes = ints(input(1));
        return structural([&](const at::Tensor& x, size_t) {
            if (op == "Tile") return x.repeat(sizes);
            return x.broadcast_to(broadcastShape(x.sizes().vec(), sizes)).contiguous();
        });
    }
    if (op == "ConstantOfShape") {
        if (in.at(0)->tags.defined())
            refuse(n, "makes a tensor shaped by the batch size, which PTQ Studio's graph cannot hold");
        at::Tensor value = at::zeros({1}, at::kFloat);
        if (const auto* a = n.attribute("value"); a && a->kind == onnx::ReadAttribute::Kind::Tensor) value = toTensor(a->t, path);
        return setKnown(n.outputs.at(0), Known{value.flatten()[0].expand(ints(input(0))).contiguous(), {}});
    }
    if (op == "Range") {
        Known k{at::arange(input(0).item(), input(1).item(), input(2).item(), at::TensorOptions().dtype(input(0).scalar_type())), {}};
        if (anyTags) k.tags = at::full(k.t.sizes(), 2, at::kChar);
        return setKnown(n.outputs.at(0), std::move(k));
    }
    if (op == "Split") {
        const int64_t axis = normAxis(attrInt(n, "axis", 0), rank0);
        std::vector<int64_t> sizes = hasAttr(n, "split") ? attrInts(n, "split") : given(n, 1) ? ints(input(1)) : std::vector<int64_t>{};
        if (sizes.empty()) {
            const int64_t parts = int64_t(n.outputs.size()), total = input(0).size(axis);
            for (int64_t i = 0; i < parts; ++i) sizes.push_back(total / parts + (i < total % parts ? 1 : 0));
        }
        const auto outs = input(0).split_with_sizes(sizes, axis);
        std::vector<at::Tensor> tagOuts;
        if (anyTags) tagOuts = in[0]->tags.split_with_sizes(sizes, axis);
        for (size_t i = 0; i < n.outputs.size() && i < outs.size(); ++i)
            setKnown(n.outputs[i], Known{outs[i].contiguous(), anyTags ? tagOuts[i].contiguous() : at::Tensor()});
        return;
    }
    // Arithmetic: what follows from tagged elements is 2 (see elementwiseTags).
    at::Tensor r;
    auto reduceAxes = [&]() {
        std::vector<int64_t> axes = axesOf(1);
        if (axes.empty())
            for (int64_t d = 0; d < rank0; ++d) axes.push_back(d);
        for (auto& a : axes) a = normAxis(a, rank0);
        return axes;
    };
    const bool keep = attrInt(n, "keepdims", 1) != 0;
    const bool integral = !in.empty() && in[0] && !in[0]->t.is_floating_point();
    if (op == "Add") r = input(0) + input(1);
    else if (op == "Sub") r = input(0) - input(1);
    else if (op == "Mul") r = input(0) * input(1);
    else if (op == "Div") r = integral ? at::div(input(0), input(1), "trunc") : input(0) / input(1);
    else if (op == "Mod") r = attrInt(n, "fmod", 0) ? at::fmod(input(0), input(1)) : at::remainder(input(0), input(1));
    else if (op == "Pow") r = at::pow(input(0), input(1)).to(input(0).scalar_type());
    else if (op == "Min" || op == "Max") {
        r = input(0);
        for (size_t i = 1; i < in.size(); ++i) r = op == "Min" ? at::minimum(r, input(i)) : at::maximum(r, input(i));
    } else if (op == "Equal") r = at::eq(input(0), input(1));
    else if (op == "Less") r = at::lt(input(0), input(1));
    else if (op == "Greater") r = at::gt(input(0), input(1));
    else if (op == "LessOrEqual") r = at::le(input(0), input(1));
    else if (op == "GreaterOrEqual") r = at::ge(input(0), input(1));
    else if (op == "And") r = at::logical_and(input(0), input(1));
    else if (op == "Or") r = at::logical_or(input(0), input(1));
    else if (op == "Not") r = at::logical_not(input(0));
    else if (op == "Where") r = at::where(input(0).to(at::kBool), input(1), input(2));
    else if (op == "Neg") r = -input(0);
    else if (op == "Abs") r = input(0).abs();
    else if (op == "Sqrt") r = input(0).sqrt();
    else if (op == "Exp") r = input(0).exp();
    else if (op == "Log") r = input(0).log();
    else if (op == "Reciprocal") r = input(0).reciprocal();
    else if (op == "Floor") r = input(0).floor();
    else if (op == "Ceil") r = input(0).ceil();
    else if (op == "Round") r = input(0).round();
    else if (op == "Relu") r = input(0).relu();
    else if (op == "Sigmoid") r = input(0).sigmoid();
    else if (op == "Tanh") r = input(0).tanh();
    else if (op == "Erf") r = input(0).erf();
    else if (op == "Softmax") r = input(0).softmax(normAxis(attrInt(n, "axis", -1), rank0));
    else if (op == "Clip") {
        r = input(0);
        const double lo = given(n, 1) ? input(1).item<double>() : attrFloat(n, "min", -INFINITY);
        const double hi = given(n, 2) ? input(2).item<double>() : attrFloat(n, "max", INFINITY);
        r = at::clamp(r, std::isinf(lo) ? c10::optional<at::Scalar>() : at::Scalar(lo),
                      std::isinf(hi) ? c10::optional<at::Scalar>() : at::Scalar(hi));
    } else if (op == "ReduceProd" || op == "ReduceSum" || op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin") {
        r = input(0);
        std::vector<int64_t> axes = reduceAxes();
        std::sort(axes.rbegin(), axes.rend());
        for (int64_t a : axes) {
            if (op == "ReduceProd") r = r.prod(a, keep);
            else if (op == "ReduceSum") r = r.sum(a, keep, r.scalar_type());
            else if (op == "ReduceMean") r = r.mean(a, keep);
            else if (op == "ReduceMax") r = std::get<0>(r.max(a, keep));
            else r = std::get<0>(r.min(a, keep));
        }
    } else if (op == "MatMul") r = at::matmul(input(0), input(1));
    else if (op == "Gemm") {
        const at::Tensor a = attrInt(n, "transA", 0) ? input(0).t() : input(0);
        const at::Tensor b = attrInt(n, "transB", 0) ? input(1).t() : input(1);
        r = at::mm(a, b) * attrFloat(n, "alpha", 1.0);
        if (given(n, 2)) r = r + input(2) * attrFloat(n, "beta", 1.0);
    } else if (op == "DequantizeLinear") {
        at::Tensor x = input(0).to(at::kFloat), scale = input(1).to(at::kFloat);
        at::Tensor zp = given(n, 2) ? input(2).to(at::kFloat) : at::zeros_like(scale);
        if (scale.dim() == 1 && x.dim() > 0) {
            std::vector<int64_t> shape(size_t(x.dim()), 1);
            shape[size_t(normAxis(attrInt(n, "axis", 1), x.dim()))] = scale.size(0);
            scale = scale.reshape(shape), zp = zp.reshape(shape);
        }
        r = (x - zp) * scale;
    } else {
        refuse(n, "computes from constants only, in a way PTQ Studio does not fold");
    }
    setKnown(n.outputs.at(0), Known{r.contiguous(), elementwiseTags(op, in, r)});
}

}  // namespace ptq::onnx_import
