// The importer's tensor ops: argument helpers, the OpArgs view of a TorchScript node (import_ops.h)
// and the mapping of one ATen tensor op to IR nodes (shape queries and linear layers written as
// matrix products here, everything else through the op table).
#include "core/graph/import_context.h"

#include "core/util/error.h"

#include <torch/csrc/jit/ir/constants.h>

#include <algorithm>
#include <cmath>

namespace ptq::import_detail {

// ------------------------------------------------------------------ argument helpers

bool ImportContext::isSequence(const Sym& s) const {
    return s.kind == Sym::List || s.kind == Sym::Tuple ||
           (s.kind == Sym::Const && (s.iv.isList() || s.iv.isTuple()));
}

std::vector<Sym> ImportContext::itemsOf(const jit::Node* n, const Sym& s) const {
    if (s.kind == Sym::List || s.kind == Sym::Tuple) return *s.items;
    std::vector<Sym> out;
    if (s.kind == Sym::Const && s.iv.isList())
        for (const c10::IValue& v : s.iv.toListRef()) out.push_back(Sym::constant(v));
    else if (s.kind == Sym::Const && s.iv.isTuple())
        for (const c10::IValue& v : s.iv.toTupleRef().elements()) out.push_back(Sym::constant(v));
    else
        fail(n, "a list or tuple was expected");
    return out;
}

int64_t ImportContext::intOf(const jit::Node* n, size_t i) {
    const Sym& s = sym(n->input(i));
    if (s.kind == Sym::Batch && s.iv.toInt() == 1) return kBatchDim;
    if (s.kind == Sym::Batch) fail(n, kBatchArithmetic);  // k x the batch size as a single number
    if (s.kind == Sym::Const && s.iv.isInt()) return s.iv.toInt();
    if (s.kind == Sym::Const && s.iv.isDouble() && std::abs(s.iv.toDouble()) < 9e18) return int64_t(s.iv.toDouble());
    if (s.kind == Sym::Const && s.iv.isBool()) return s.iv.toBool() ? 1 : 0;
    if (s.kind == Sym::Const && s.iv.isTensor() && s.iv.toTensor().numel() == 1) return s.iv.toTensor().item<int64_t>();
    fail(n, s.kind == Sym::Derived ? kBatchArithmetic : "argument " + std::to_string(i) + " must be a known integer");
}

double ImportContext::numberOf(const jit::Node* n, size_t i) {
    const Sym& s = sym(n->input(i));
    if (s.kind == Sym::Const && s.iv.isDouble()) return s.iv.toDouble();
    if (s.kind == Sym::Const && s.iv.isInt()) return double(s.iv.toInt());
    if (s.kind == Sym::Const && s.iv.isBool()) return s.iv.toBool() ? 1.0 : 0.0;
    if (s.kind == Sym::Const && s.iv.isTensor() && s.iv.toTensor().numel() == 1) return s.iv.toTensor().item<double>();
    fail(n, s.kind == Sym::Derived ? kBatchArithmetic : "argument " + std::to_string(i) + " must be a known number");
}

std::vector<int64_t> ImportContext::intsOf(const jit::Node* n, size_t i, bool shape) {
    const Sym& s = sym(n->input(i));
    if (s.kind == Sym::Const && s.iv.isInt()) return {s.iv.toInt()};
    if (s.kind == Sym::Const && s.iv.isNone()) return {};
    std::vector<int64_t> out;
    bool inferred = false;  // a -1 in the list: at most one entry may be left to the reshape
    for (const Sym& item : itemsOf(n, s)) {
        if (item.kind == Sym::Batch && item.iv.toInt() == 1) out.push_back(kBatchDim);
        else if (item.kind == Sym::Batch && shape) out.push_back(-1), inferred = true;  // k x batch: the rest
        else if (item.kind == Sym::Const && item.iv.isInt()) out.push_back(item.iv.toInt());
        else fail(n, fromBatch(item) ? kBatchArithmetic : "argument " + std::to_string(i) + " must be a list of known integers");
    }
    if (inferred && std::count(out.begin(), out.end(), int64_t(-1)) > 1) fail(n, kBatchArithmetic);
    return out;
}

bool ImportContext::isNone(const jit::Node* n, size_t i) {
    if (i >= n->inputs().size()) return true;
    const Sym& s = sym(n->input(i));
    return s.kind == Sym::Const && s.iv.isNone();
}

// A constant tensor of more than one element is an operand like any tensor (a parameter);
// a one-element one is a number.
bool ImportContext::isTensor(const jit::Node* n, size_t i) {
    if (i >= n->inputs().size()) return false;
    const Sym& s = sym(n->input(i));
    return s.kind == Sym::Tensor || (s.kind == Sym::Const && s.iv.isTensor() && s.iv.toTensor().numel() > 1);
}

int ImportContext::tensorOf(const jit::Node* n, size_t i) {
    Sym& s = sym(n->input(i));
    if (s.kind == Sym::Const && s.iv.isTensor()) {
        const std::string key = "constant." + std::to_string(constantCount++);
        const int id = paramValue(key, s.iv.toTensor());
        if (id >= 0) graph.markBuffer(key);
        if (id >= 0) s = makeTensor(id);
    }
    if (s.kind != Sym::Tensor) fail(n, "argument " + std::to_string(i) + " must be a tensor");
    return s.value;
}

// ------------------------------------------------------------------ tensor operations

// The OpArgs view (import_ops.h) of one TorchScript node, over the interpreter's symbols.
class NodeArgs final : public OpArgs {
public:
    NodeArgs(ImportContext& ctx, const jit::Node* n, std::string op, bool inplace)
        : ctx_(ctx), n_(n), op_(std::move(op)), inplace_(inplace) {}

    const std::string& op() const override { return op_; }
    size_t size() const override { return n_->inputs().size(); }
    bool isTensor(size_t i) override { return ctx_.isTensor(n_, i); }
    bool isNone(size_t i) override { return ctx_.isNone(n_, i); }
    bool isInt(size_t i) override { return i < size() && constant(i) && ctx_.sym(n_->input(i)).iv.isInt(); }
    bool isString(size_t i) override { return i < size() && constant(i) && ctx_.sym(n_->input(i)).iv.isString(); }
    bool isSequence(size_t i) override { return i < size() && ctx_.isSequence(ctx_.sym(n_->input(i))); }
    int tensor(size_t i) override { return ctx_.tensorOf(n_, i); }
    int64_t integer(size_t i) override { return ctx_.intOf(n_, i); }
    double number(size_t i) override { return ctx_.numberOf(n_, i); }
    std::vector<int64_t> ints(size_t i) override { return ctx_.intsOf(n_, i); }
    std::vector<int64_t> shape(size_t i) override { return ctx_.intsOf(n_, i, true); }
    std::vector<double> numbers(size_t i) override {
        std::vector<double> out;
        for (const Sym& item : ctx_.itemsOf(n_, ctx_.sym(n_->input(i)))) {
            if (item.kind != Sym::Const || !(item.iv.isDouble() || item.iv.isInt()))
                ctx_.fail(n_, "argument " + std::to_string(i) + " must be a list of known numbers");
            out.push_back(item.iv.isDouble() ? item.iv.toDouble() : double(item.iv.toInt()));
        }
        return out;
    }
    std::string text(size_t i) override {
        if (!isString(i)) ctx_.fail(n_, "argument " + std::to_string(i) + " must be a known string");
        return ctx_.sym(n_->input(i)).iv.toStringRef();
    }
    bool constantInts(size_t i, std::vector<int64_t>& values, std::vector<int64_t>& shape) override {
        IndexArg arg;
        if (i >= size() || !integers(ctx_.sym(n_->input(i)), false, arg)) return false;
        values = std::move(arg.values), shape = std::move(arg.shape);
        return true;
    }
    std::vector<IndexArg> indexList(size_t i) override {
        std::vector<IndexArg> out;
        for (const Sym& item : ctx_.itemsOf(n_, ctx_.sym(n_->input(i)))) {
            IndexArg arg;  // None, else integers (a 1-d mask: the positions it holds, as PyTorch does)
            if (!(item.kind == Sym::Const && item.iv.isNone()) && !integers(item, true, arg))
                arg.kind = IndexArg::Computed;
            out.push_back(std::move(arg));
        }
        return out;
    }
    std::vector<int> tensorList(size_t i) override {
        std::vector<int> out;
        for (const Sym& item : ctx_.itemsOf(n_, ctx_.sym(n_->input(i)))) {
            if (item.kind != Sym::Tensor) ctx_.fail(n_, "a list of something other than tensors");
            out.push_back(item.value);
        }
        return out;
    }

    const Graph& graph() const override { return ctx_.graph; }
    bool batchDim(int value, int64_t dim) const override { return ctx_.batchScale(value, dim) > 0; }
    std::vector<int> add(OpKind op, std::string name, std::vector<int> inputs, Attributes attrs) override {
        return ctx_.addOp(n_, op, std::move(name), std::move(inputs), std::move(attrs));
    }
    void result(int value, size_t index) override {
        ctx_.syms[n_->outputs().at(index)] = ctx_.makeTensor(value);
        if (inplace_ && index == 0 && ctx_.isTensor(n_, 0)) ctx_.syms[n_->input(0)] = ctx_.makeTensor(value);
    }
    void listResult(const std::vector<int>& values) override {
        Sym list = Sym::of(Sym::List);
        for (int v : values) list.items->push_back(ctx_.makeTensor(v));
        ctx_.syms[n_->output()] = list;
    }
    void unusedResult(size_t index) override {
        if (index < n_->outputs().size()) ctx_.syms[n_->outputs()[index]] = Sym{};
    }
    void unsupported(const std::string& why) override { ctx_.recordUnknown(n_, why); }
    [[noreturn]] void fail(const std::string& what) override { ctx_.fail(n_, what); }

private:
    bool constant(size_t i) const { return ctx_.sym(n_->input(i)).kind == Sym::Const; }
    // An integer tensor known at import time (a 1-d mask too when @p masks) into @p arg.
    bool integers(const Sym& s, bool masks, IndexArg& arg) const {
        if (s.kind != Sym::Const || !s.iv.isTensor() || !at::isIntegralType(s.iv.toTensor().scalar_type(), masks))
            return false;
        at::Tensor t = s.iv.toTensor();
        if (t.scalar_type() == at::kBool && t.dim() != 1) ctx_.fail(n_, "an index by a mask of more than one dimension");
        if (t.scalar_type() == at::kBool) t = t.nonzero().select(1, 0);
        t = t.to(at::kLong).contiguous();
        arg.kind = IndexArg::Constant;
        arg.values.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
        arg.shape = t.sizes().vec();
        return true;
    }

    ImportContext& ctx_;
    const jit::Node* n_;
    std::string op_;
    bool inplace_;
};

// Maps an ATen tensor op to IR nodes: shape queries and linear layers written as matrix products
// here, every other op through the op table (import_ops.h). Returns false when the node is not a
// tensor op it knows and has no tensor operand (a scalar computation, evaluated by the caller).
// In nn.MultiheadAttention's explicit path, "<scope>.qk" for the scores and "<scope>.pv" for the
// product of the probabilities (a softmax's output) with the values; "" (the default) elsewhere.
std::string ImportContext::attentionMatMulName(const jit::Node* n) {
    if (!inFunction(n, "multi_head_attention_forward")) return "";
    const bool pv = n->kind() == c10::aten::bmm && sym(n->input(0)).kind == Sym::Tensor &&
                    graph.value(sym(n->input(0)).value).producer >= 0 &&
                    graph.node(graph.value(sym(n->input(0)).value).producer).op == OpKind::Softmax;
    return scopeOf(n) + (pv ? ".pv" : ".qk");
}

bool ImportContext::mapTensorOp(const jit::Node* n) {
    std::string op = n->kind().toUnqualString();
    const std::string ns = n->kind().ns().toUnqualString();
    if (ns != "aten") return false;
    // In-place variants compute the same thing; later readers of the mutated input see the result.
    const bool inplace = op.size() > 1 && op.back() == '_' && op[op.size() - 2] != '_';
    if (inplace) op.pop_back();
    auto finish = [&](const std::vector<int>& outs) {
        for (size_t i = 0; i < n->outputs().size() && i < outs.size(); ++i) syms[n->outputs()[i]] = makeTensor(outs[i]);
        if (inplace && isTensor(n, 0)) syms[n->input(0)] = makeTensor(outs[0]);
        return true;
    };

    // Shape queries: answered from the probe, with the batch dimension kept symbolic.
    if (op == "dim" && isTensor(n, 0)) {
        syms[n->output()] = Sym::constant(int64_t(probes[size_t(tensorOf(n, 0))].dim()));
        return true;
    }
    if (op == "size" && isTensor(n, 0)) {
        const int x = tensorOf(n, 0);
        const auto sizes = probes[size_t(x)].sizes().vec();
        auto dimSym = [&](int64_t d) {
            if (d < 0) d += int64_t(sizes.size());
            if (d < 0 || d >= int64_t(sizes.size())) fail(n, "a size() of a dimension the tensor does not have");
            Sym s = Sym::constant(sizes[size_t(d)]);
            if (batchScale(x, d) > 0) s.kind = Sym::Batch;  // k x the batch size; the constant holds k
            return s;
        };
        if (n->inputs().size() > 1) {
            syms[n->output()] = dimSym(intOf(n, 1));
        } else {
            Sym list = Sym::of(Sym::List);
            for (int64_t d = 0; d < int64_t(sizes.size()); ++d) list.items->push_back(dimSym(d));
            syms[n->output()] = list;
        }
        return true;
    }

    if (op == "t" && isTensor(n, 0)) {
        const int v = tensorOf(n, 0);
        if (!graph.value(v).param.empty()) {  // W^T of a parameter: part of a linear layer
            syms[n->output()] = Sym::of(Sym::TransposedParam, v);
            return true;
        }
        return finish(addOp(n, OpKind::Transpose, "", {v}, {{"dim0", int64_t(0)}, {"dim1", int64_t(1)}}));
    }
    if (op == "addmm" || op == "matmul" || op == "mm" || op == "bmm") {
        const size_t x = op == "addmm" ? 1 : 0;
        const Sym& rhs = sym(n->input(x + 1));
        const bool unitScale = op != "addmm" || (numberOf(n, 3) == 1.0 && numberOf(n, 4) == 1.0);
        if (rhs.kind == Sym::TransposedParam && unitScale) {
            std::vector<int> in{tensorOf(n, x), rhs.value};
            if (op == "addmm") in.push_back(tensorOf(n, 0));
            return finish(addOp(n, OpKind::Linear, layerName(rhs.value), in));
        }
        if (op != "addmm") return finish(addOp(n, OpKind::MatMul, attentionMatMulName(n), {tensorOf(n, 0), tensorOf(n, 1)}));
        recordUnknown(n, "a general addmm");
        return true;
    }
    if (op == "baddbmm" && isTensor(n, 0) && isTensor(n, 1) && isTensor(n, 2)) {
        // baddbmm(mask, q, kT): the attention scores with an additive mask (explicit attention path)
        if (numberOf(n, 3) != 1.0 || numberOf(n, 4) != 1.0) {
            recordUnknown(n, "with beta or alpha other than 1");
            return true;
        }
        const int product = addOp(n, OpKind::MatMul, attentionMatMulName(n), {tensorOf(n, 1), tensorOf(n, 2)}).at(0);
        return finish(addOp(n, OpKind::Add, "", {product, tensorOf(n, 0)}));
    }
    NodeArgs args(*this, n, op, inplace);
    if ((layerOpNames().count(op) && mapLayerOp(args)) || mapShapeOp(args) || mapAttentionOp(args)) return true;

    for (const jit::Value* v : n->inputs()) {
        const auto k = sym(v).kind;
        if (k == Sym::Tensor || k == Sym::TransposedParam) {
            recordUnknown(n, "");
            return true;
        }
    }
    return false;
}


}  // namespace ptq::import_detail
