// The interpreter: control flow, scalars and the entry point (its state: import_context.h; tensor
// ops and arguments: import_tensor_ops.cpp; the ATen op table: import_ops_*.cpp behind OpArgs).
#include "core/graph/import_interpreter.h"

#include "core/graph/import_context.h"
#include "core/graph/import_ops.h"

#include "core/runtime/ops.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

namespace ptq {

namespace import_detail {

const std::string kBatchArithmetic = "the batch size is used in arithmetic; PTQ Studio keeps the batch dimension free";

namespace {

// Questions about a tensor that are not about its values or sizes.
bool isMetadataQuery(c10::Symbol kind) {
    static const std::set<std::string> queries = {
        "prim::is_cuda",   "prim::is_nested",     "prim::device",       "prim::dtype",
        "prim::layout",    "prim::requires_grad", "prim::is_sparse",    "prim::is_quantized",
        "prim::is_mkldnn", "prim::is_meta",       "prim::is_xpu",       "aten::is_floating_point"};
    return queries.count(kind.toQualString()) != 0;
}

std::string shapeText(const std::vector<int64_t>& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
    return out;
}

}  // namespace

bool inFunction(const jit::Node* n, const char* name) {
    if (auto cs = n->callstack())
        for (const auto& entry : (*cs)->vec())
            if (std::get<0>(entry) && std::get<0>(entry)->name() == name) return true;
    return false;
}

ImportContext::ImportContext(const jit::Module& m, std::vector<int64_t> shape, std::string p)
    : module(m), sampleShape(std::move(shape)), path(std::move(p)) {}

std::string ImportContext::scopeOf(const jit::Node* n) const {
    std::string scope;
    if (auto cs = n->callstack()) {
        for (const auto& entry : (*cs)->vec()) {
            const auto& info = std::get<2>(entry);
            if (!info) continue;
            const std::string name = info->instance_name();
            if (name.empty() || name == "self" || name == "SELF") continue;
            scope += (scope.empty() ? "" : ".") + name;
        }
    }
    return scope;
}

[[noreturn]] void ImportContext::fail(const jit::Node* n, const std::string& what) const {
    const std::string scope = scopeOf(n);
    throw invalidInput("'" + path + "' cannot be imported: " + what + " (at " + n->kind().toQualString() +
                       (scope.empty() ? std::string("") : " in " + scope) + ").");
}

Sym& ImportContext::sym(const jit::Value* v) {
    auto it = syms.find(v);
    if (it == syms.end()) throw failed("internal: the importer met a value before its definition: %" + v->debugName());
    return it->second;
}

Sym ImportContext::makeTensor(int valueId) { return Sym::of(Sym::Tensor, valueId); }

int ImportContext::paramValue(const std::string& key, const at::Tensor& t) {
    if (!t.is_floating_point())
        return -1;  // integer buffers (num_batches_tracked) are not model parameters
    const int id = graph.addParamValue(key, t.detach());
    if (size_t(id) >= probes.size()) probes.resize(size_t(id) + 1), probes2.resize(size_t(id) + 1);
    probes[size_t(id)] = probes2[size_t(id)] = t.detach();
    return id;
}

std::vector<int> ImportContext::addOp(const jit::Node* n, OpKind op, std::string name, std::vector<int> inputs,
                                      Attributes attrs) {
    const std::string scope = scopeOf(n);
    if (name.empty()) name = scope.empty() ? std::string(opName(op)) : scope + "/" + opName(op);
    Node probeNode;
    probeNode.op = op;
    probeNode.name = name;
    probeNode.attrs = attrs;
    std::vector<at::Tensor> in, in2;
    for (int id : inputs) in.push_back(probes.at(size_t(id))), in2.push_back(probes2.at(size_t(id)));
    std::vector<at::Tensor> out, out2;
    try {
        out = runOp(probeNode, in, 1);
    } catch (const Error& e) {
        logger()->debug("{}", e.what());  // LibTorch's words: for the log, not the user
        fail(n, "the shapes do not fit for an input of " + shapeText(sampleShape));
    }
    try {
        out2 = runOp(probeNode, in2, 2);
    } catch (const Error& e) {
        logger()->debug("{}", e.what());
        fail(n, "the shapes do not fit for a batch of two (a size was computed from the batch size in a way "
                "PTQ Studio does not follow)");
    }
    std::vector<std::vector<int64_t>> shapes;
    for (const auto& t : out) shapes.push_back(t.sizes().vec());
    const int id = graph.addNode(op, std::move(name), scope, std::move(inputs), std::move(attrs), shapes);
    std::vector<int> outputs = graph.node(id).outputs;
    if (probes.size() < graph.values().size()) probes.resize(graph.values().size()), probes2.resize(graph.values().size());
    for (size_t i = 0; i < outputs.size(); ++i) probes[size_t(outputs[i])] = out[i], probes2[size_t(outputs[i])] = out2[i];
    return outputs;
}

int64_t ImportContext::batchScale(int value, int64_t dim) const {
    const at::Tensor& one = probes.at(size_t(value));
    const at::Tensor& two = probes2.at(size_t(value));
    if (dim < 0) dim += one.dim();
    if (dim < 0 || dim >= one.dim() || two.dim() != one.dim()) return 0;
    return two.size(dim) == 2 * one.size(dim) && one.size(dim) > 0 ? one.size(dim) : 0;
}

void ImportContext::recordUnknown(const jit::Node* n, const std::string& why) {
    std::string key = n->kind().toQualString();
    const std::string op = n->kind().toQualString();
    if (!why.empty()) key += " (" + why + ")";
    else if (op == "aten::_nested_tensor_from_mask_left_aligned" || op == "aten::_nested_tensor_from_mask")
        key += " (nn.TransformerEncoder's nested-tensor path, which depends on the padding of each batch: build "
               "the encoder with enable_nested_tensor=False)";
    else if (inFunction(n, "multi_head_attention_forward"))  // bias_k/bias_v, add_zero_attn, static keys...
        key += " (in nn.MultiheadAttention's explicit path: an attention variant PTQ Studio does not import)";
    auto& entry = unknown[key];
    entry.count++;
    const std::string scope = scopeOf(n);
    if (entry.scopes.size() < 3 && !scope.empty()) entry.scopes.push_back(scope);
    for (const jit::Value* out : n->outputs()) syms[out] = Sym{};
}

// ------------------------------------------------------------------ control flow and scalars

void ImportContext::runBlock(const jit::Block* block) {
    for (const jit::Node* n : block->nodes()) runNode(n);
}

bool ImportContext::anyUnknown(const jit::Node* n) {
    for (const jit::Value* v : n->inputs())
        if (sym(v).kind == Sym::Unknown) return true;
    return false;
}

void ImportContext::runNode(const jit::Node* n) {
    const auto kind = n->kind();
    if (kind != c10::prim::Constant && inFunction(n, "_verify_batch_size")) {  // F.group_norm's batch check
        for (const jit::Value* out : n->outputs()) syms[out] = Sym::constant(c10::IValue());
        return;
    }

    if (kind == c10::prim::Constant) {
        Sym s;
        if (n->output()->type()->kind() == c10::TypeKind::FunctionType) {
            s.kind = Sym::Const;  // a function reference; only its calls (already inlined) mattered
        } else if (auto iv = jit::toIValue(n->output())) {
            if (iv->isTensor() && iv->toTensor().numel() != 1) {  // one element: a number (traced 2 ** x)
                const std::string key = "constant." + std::to_string(constantCount++);
                const int id = paramValue(key, iv->toTensor());
                if (id >= 0) graph.markBuffer(key);
                s = id >= 0 ? makeTensor(id) : Sym::constant(*iv);
            } else {
                s = Sym::constant(*iv);
            }
        }
        syms[n->output()] = s;
        return;
    }
    if (kind == c10::prim::GetAttr) {
        const Sym& owner = sym(n->input(0));
        if (owner.kind != Sym::Module) fail(n, "an attribute of something other than a module is read");
        const std::string name = n->s(c10::attr::name);
        const std::string path = owner.path.empty() ? name : owner.path + "." + name;
        const c10::IValue attr = owner.iv.toObject()->getAttr(name);
        Sym s;
        if (attr.isObject()) {
            s.kind = Sym::Module;
            s.iv = attr;
            s.path = path;
        } else if (attr.isTensor()) {
            const int id = paramValue(path, attr.toTensor());
            s = id >= 0 ? makeTensor(id) : Sym::constant(attr);
            if (id >= 0) s.path = path;
            const auto& type = owner.iv.toObject()->type();
            if (id >= 0 && !type->is_parameter(type->getAttributeSlot(name))) graph.markBuffer(path);
        } else {
            s = Sym::constant(attr);
        }
        syms[n->output()] = s;
        return;
    }
    if (kind == c10::prim::If) {
        const Sym& cond = sym(n->input(0));
        if (cond.kind == Sym::Derived) fail(n, kBatchArithmetic);
        if (cond.kind == Sym::Const && cond.iv.isNone()) return;  // a skipped _verify_batch_size
        if (cond.kind != Sym::Const || !cond.iv.isBool()) {
            if (!unknown.empty()) {  // the real problem is an unsupported op upstream
                for (const jit::Value* out : n->outputs()) syms[out] = Sym{};
                return;
            }
            fail(n, "a branch depends on tensor values, which a static graph cannot follow");
        }
        const jit::Block* taken = n->blocks()[cond.iv.toBool() ? 0 : 1];
        runBlock(taken);
        for (size_t i = 0; i < n->outputs().size(); ++i) syms[n->outputs()[i]] = sym(taken->outputs()[i]);
        return;
    }
    if (kind == c10::prim::Loop) {
        runLoop(n);
        return;
    }
    if (kind == c10::prim::RaiseException) {
        std::string message = "an exception";
        const Sym& m = sym(n->input(0));
        if (m.kind == Sym::Const && m.iv.isString()) message = m.iv.toStringRef();
        fail(n, "the model rejects an input of shape " + shapeText(sampleShape) + ": \"" + message +
                    "\"; give the input shape the model was made for");
    }
    if (kind == c10::prim::Uninitialized) {  // the value of a branch that raises; never read
        syms[n->output()] = Sym::constant(c10::IValue());
        return;
    }
    if (kind == c10::prim::ListConstruct || kind == c10::prim::TupleConstruct) {
        if (!unknown.empty() && anyUnknown(n)) {  // downstream of an unsupported op
            syms[n->output()] = Sym{};
            return;
        }
        bool allConst = true;
        for (const jit::Value* v : n->inputs()) allConst = allConst && sym(v).kind == Sym::Const;
        if (allConst) {  // a constant list/tuple: scalar ops (`mode in [...]`) can evaluate it
            std::vector<c10::IValue> items;
            for (const jit::Value* v : n->inputs()) items.push_back(sym(v).iv);
            if (kind == c10::prim::TupleConstruct) {
                syms[n->output()] = Sym::constant(c10::ivalue::Tuple::create(std::move(items)));
            } else {
                c10::impl::GenericList list(n->output()->type()->expectRef<c10::ListType>().getElementType());
                for (auto& item : items) list.push_back(std::move(item));
                syms[n->output()] = Sym::constant(c10::IValue(std::move(list)));
            }
            return;
        }
        Sym s = Sym::of(kind == c10::prim::ListConstruct ? Sym::List : Sym::Tuple);
        for (const jit::Value* v : n->inputs()) s.items->push_back(sym(v));
        syms[n->output()] = s;
        return;
    }
    if ((kind == c10::prim::ListUnpack || kind == c10::prim::TupleUnpack || kind == c10::prim::TupleIndex ||
         kind == c10::aten::__getitem__) && !unknown.empty() && anyUnknown(n)) {  // downstream of an unsupported op
        for (const jit::Value* out : n->outputs()) syms[out] = Sym{};
        return;
    }
    if (kind == c10::prim::ListUnpack || kind == c10::prim::TupleUnpack) {
        const std::vector<Sym> items = itemsOf(n, sym(n->input(0)));
        if (items.size() != n->outputs().size()) fail(n, "an unpack of the wrong length");
        for (size_t i = 0; i < items.size(); ++i) syms[n->outputs()[i]] = items[i];
        return;
    }
    if (kind == c10::prim::TupleIndex || (kind == c10::aten::__getitem__ && isSequence(sym(n->input(0))))) {
        const std::vector<Sym> items = itemsOf(n, sym(n->input(0)));
        int64_t i = intOf(n, 1);
        if (i < 0) i += int64_t(items.size());
        if (i < 0 || i >= int64_t(items.size())) fail(n, "an index out of range");
        syms[n->output()] = items[size_t(i)];
        return;
    }
    if (kind == c10::aten::slice && n->inputs().size() == 4 && sym(n->input(0)).kind == Sym::List) {
        // x.shape[-3:] with the batch size in it: slice(list, start?, end?, step)
        const std::vector<Sym> items = itemsOf(n, sym(n->input(0)));
        const int64_t size = int64_t(items.size()), step = intOf(n, 3);
        auto bound = [&](size_t i, int64_t fallback) {
            int64_t v = isNone(n, i) ? fallback : intOf(n, i);
            if (v < 0) v += size;
            return std::clamp<int64_t>(v, 0, size);
        };
        if (step <= 0) fail(n, "a list slice with a step of " + std::to_string(step));
        Sym out = Sym::of(Sym::List);
        for (int64_t i = bound(1, 0); i < bound(2, size); i += step) out.items->push_back(items[size_t(i)]);
        syms[n->output()] = out;
        return;
    }
    if (kind == c10::aten::list && sym(n->input(0)).kind == Sym::List) {  // list(x.size()[2:]): a copy
        Sym copy = Sym::of(Sym::List);
        *copy.items = *sym(n->input(0)).items;
        syms[n->output()] = copy;
        return;
    }
    if (kind == c10::aten::append && sym(n->input(0)).kind == Sym::List) {
        sym(n->input(0)).items->push_back(sym(n->input(1)));
        syms[n->output()] = sym(n->input(0));
        return;
    }
    if (kind == c10::aten::len && isSequence(sym(n->input(0)))) {
        syms[n->output()] = Sym::constant(int64_t(itemsOf(n, sym(n->input(0))).size()));
        return;
    }
    if (kind == c10::prim::unchecked_cast || kind == c10::aten::Int || kind == c10::aten::IntImplicit ||
        kind == c10::aten::ScalarImplicit || kind == c10::prim::NumToTensor || kind == c10::aten::Float) {
        const Sym& in = sym(n->input(0));
        if (in.kind != Sym::Const) {
            syms[n->output()] = in;
            return;
        }
    }
    if (kind == c10::aten::warn || kind == c10::prim::Print) return;
    if (kind == c10::aten::__is__ || kind == c10::aten::__isnot__) {
        const Sym& a = sym(n->input(0));
        const Sym& b = sym(n->input(1));
        const bool aNone = a.kind == Sym::Const && a.iv.isNone();
        const bool bNone = b.kind == Sym::Const && b.iv.isNone();
        // x is y on tensors: the same IR value (attention's `query is key`)
        const bool tensors = a.kind == Sym::Tensor && b.kind == Sym::Tensor;
        if (aNone || bNone || tensors) {
            const bool same = tensors ? a.value == b.value : aNone && bNone;
            syms[n->output()] = Sym::constant(kind == c10::aten::__is__ ? same : !same);
            return;
        }
    }
    if (isMetadataQuery(kind) && n->inputs().size() == 1 && sym(n->input(0)).kind == Sym::Tensor) {
        // device, dtype, is_cuda, is_nested...: the probe's answer, which is the model's (a CPU
        // float tensor); requires_grad is false in inference
        jit::Stack stack{c10::IValue(probes.at(size_t(sym(n->input(0)).value)))};
        runConstantOp(n, stack);
        syms[n->output()] = Sym::constant(stack.at(0));
        return;
    }

    if (anyUnknown(n)) {
        // Downstream of an unsupported op: no shapes to probe, but still name unsupported ops.
        const std::string ns = kind.ns().toUnqualString();
        std::string base = kind.toUnqualString();
        if (base.size() > 1 && base.back() == '_' && base[base.size() - 2] != '_') base.pop_back();  // not __not__
        if (ns == "aten" && !isMappedOp(base)) recordUnknown(n, "");
        // a lookup by indices an unsupported op computed: name the lookup too
        else if (ns == "aten" && (base == "embedding" || base == "index") && n->inputs().size() > 1 &&
                 sym(n->input(1)).kind == Sym::Unknown)
            recordUnknown(n, "indices computed inside the model");
        for (const jit::Value* out : n->outputs()) syms[out] = Sym{};
        return;
    }
    // An op on known values only is evaluated with the operator's own kernel (constant
    // propagation, as TorchScript's freezing does): scalar arithmetic, a traced model's size
    // arithmetic, a mask built from sizes alone (Swin's shifted-window mask, written in place).
    bool allConst = true;
    for (const jit::Value* v : n->inputs()) allConst = allConst && sym(v).kind == Sym::Const;
    bool tensorOut = false;
    for (const jit::Value* v : n->outputs())
        tensorOut = tensorOut || v->type()->isSubtypeOf(*c10::TensorType::get());
    if (!(allConst && n->maybeOperator()) && newTensorOf(n)) return;
    if (!(allConst && n->maybeOperator()) && mapTensorOp(n)) return;
    if (allConst && n->maybeOperator()) {
        jit::Stack stack;
        for (const jit::Value* v : n->inputs()) stack.push_back(sym(v).iv);
        if (n->maybeSchema() && n->schema().is_vararg()) stack.emplace_back(int64_t(n->inputs().size()));  // format(...)
        runConstantOp(n, stack);
        for (size_t i = 0; i < n->outputs().size(); ++i) syms[n->outputs()[i]] = Sym::constant(stack.at(i));
        return;
    }
    if (batchArithmetic(n)) return;
    for (const jit::Value* v : n->inputs())
        if (fromBatch(sym(v)) && !tensorOut) {
            for (const jit::Value* out : n->outputs()) syms[out].kind = Sym::Derived;
            return;
        }
    recordUnknown(n, "");
}

// Runs the operator's own kernel on known values; its failure is a sentence naming the op.
void ImportContext::runConstantOp(const jit::Node* n, jit::Stack& stack) const {
    try {
        n->getOperation()(stack);
    } catch (const std::exception& e) {
        // LibTorch's own text (often an internal assert) is for PyTorch's developers, not the user
        logger()->debug("{}: {}", n->kind().toQualString(), e.what());
        fail(n, "a computation on the model's constants failed, so the model's code cannot be followed here");
    }
}

// x.new_zeros(sizes) and its kin: a tensor that takes only the dtype of x, a constant when the
// sizes are known.
bool ImportContext::newTensorOf(const jit::Node* n) {
    static const std::set<std::string> ops = {"aten::new_zeros", "aten::new_ones", "aten::new_full", "aten::new_empty"};
    if (!ops.count(n->kind().toQualString()) || !n->maybeOperator() || sym(n->input(0)).kind != Sym::Tensor) return false;
    jit::Stack stack{c10::IValue(probes.at(size_t(sym(n->input(0)).value)))};
    for (size_t i = 1; i < n->inputs().size(); ++i) {
        const Sym& s = sym(n->input(i));
        if (fromBatch(s)) fail(n, kBatchArithmetic);
        if (s.kind == Sym::List || s.kind == Sym::Tuple) (void)intsOf(n, i);  // says why a size is not known
        if (s.kind != Sym::Const) fail(n, "argument " + std::to_string(i) + " must be known when the model is read");
        stack.push_back(s.iv);
    }
    runConstantOp(n, stack);
    syms[n->output()] = Sym::constant(stack.at(0));
    return true;
}

// Scalar arithmetic that keeps a size k x the batch size (B * num_windows, x.size(0) // num_windows)
// and comparisons of two such sizes; false for anything else.
bool ImportContext::batchArithmetic(const jit::Node* n) {
    if (n->inputs().size() != 2 || n->outputs().size() != 1) return false;
    const Sym& a = sym(n->input(0));
    const Sym& b = sym(n->input(1));
    // an integer, or a traced model's one-element integer tensor
    auto known = [](const Sym& s) {
        return s.kind == Sym::Const && (s.iv.isInt() || (s.iv.isTensor() && s.iv.toTensor().numel() == 1 &&
                                                          !s.iv.toTensor().is_floating_point()));
    };
    auto value = [](const Sym& s) { return s.iv.isTensor() ? s.iv.toTensor().item<int64_t>() : s.iv.toInt(); };
    auto kind = n->kind();
    if (kind == c10::aten::floor_divide) kind = c10::aten::floordiv;  // traced x.size(0) // n
    Sym out;
    if (kind == c10::aten::mul && ((a.kind == Sym::Batch && known(b)) || (known(a) && b.kind == Sym::Batch))) {
        const int64_t k = a.kind == Sym::Batch ? a.iv.toInt() * value(b) : value(a) * b.iv.toInt();
        if (k <= 0) return false;
        out = Sym::constant(k);
        out.kind = Sym::Batch;
    } else if (kind == c10::aten::floordiv && a.kind == Sym::Batch && known(b) && value(b) > 0 &&
               a.iv.toInt() % value(b) == 0) {
        out = Sym::constant(a.iv.toInt() / value(b));
        out.kind = Sym::Batch;
    } else if ((kind == c10::aten::eq || kind == c10::aten::ne) && a.kind == Sym::Batch && b.kind == Sym::Batch) {
        out = Sym::constant((a.iv.toInt() == b.iv.toInt()) == (kind == c10::aten::eq));
    } else if ((kind == c10::aten::eq || kind == c10::aten::ne) && isSequence(a) && isSequence(b)) {
        // x.shape == (bsz, src_len): equal when every entry is, a size of the batch only to the same
        const std::vector<Sym> x = itemsOf(n, a), y = itemsOf(n, b);
        bool equal = x.size() == y.size();
        for (size_t i = 0; equal && i < x.size(); ++i) {
            if (x[i].kind == Sym::Batch && y[i].kind == Sym::Batch) equal = x[i].iv.toInt() == y[i].iv.toInt();
            else if (x[i].kind == Sym::Const && y[i].kind == Sym::Const) equal = x[i].iv == y[i].iv;
            else return false;
        }
        out = Sym::constant(equal == (kind == c10::aten::eq));
    } else {
        return false;
    }
    syms[n->output()] = out;
    return true;
}

void ImportContext::runLoop(const jit::Node* n) {
    const jit::Block* body = n->blocks()[0];
    const Sym& trips = sym(n->input(0));
    const Sym& cond0 = sym(n->input(1));
    if (trips.kind != Sym::Const || cond0.kind != Sym::Const) fail(n, "a loop whose length depends on tensor values");
    const int64_t maxTrips = trips.iv.toInt();
    bool cond = cond0.iv.toBool();
    std::vector<Sym> carried;
    for (size_t i = 2; i < n->inputs().size(); ++i) carried.push_back(sym(n->inputs()[i]));
    for (int64_t i = 0; i < maxTrips && cond; ++i) {
        if (i > 100000) fail(n, "a loop that runs more than 100000 times");
        syms[body->inputs()[0]] = Sym::constant(i);
        for (size_t k = 0; k < carried.size(); ++k) syms[body->inputs()[k + 1]] = carried[k];
        runBlock(body);
        const Sym& c = sym(body->outputs()[0]);
        if (c.kind != Sym::Const) fail(n, "a loop condition that depends on tensor values");
        cond = c.iv.toBool();
        for (size_t k = 0; k < carried.size(); ++k) carried[k] = sym(body->outputs()[k + 1]);
    }
    for (size_t k = 0; k < carried.size(); ++k) syms[n->outputs()[k]] = carried[k];
}

}  // namespace import_detail

// ------------------------------------------------------------------ entry point

Graph interpretForward(torch::jit::Graph& tsGraph, const torch::jit::Module& module, const std::vector<int64_t>& sampleShape,
                       const std::string& path) {
    using namespace import_detail;
    ImportContext ctx(module, sampleShape, path);
    if (tsGraph.inputs().size() != 2)
        throw invalidInput("'" + path + "' has a forward with " + std::to_string(tsGraph.inputs().size() - 1) +
                           " inputs; PTQ Studio quantizes models that take one image tensor.");
    Sym self;
    self.kind = Sym::Module;
    self.iv = module._ivalue();
    ctx.syms[tsGraph.inputs()[0]] = self;

    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), sampleShape.begin(), sampleShape.end());
    const int input = ctx.graph.addInput("input", shape);
    // A forward that looks its input up in an embedding table takes token ids (a text model).
    bool tokens = false;
    for (const jit::Use& use : tsGraph.inputs()[1]->uses())
        tokens = tokens || (use.user->kind() == c10::aten::embedding && use.offset == 1);
    if (tokens) ctx.graph.setInputKind(InputKind::Tokens, 1);
    const auto dtype = tokens ? at::kLong : at::kFloat;
    ctx.probes.resize(size_t(input) + 1);
    ctx.probes2.resize(size_t(input) + 1);
    ctx.probes[size_t(input)] = at::zeros(shape, dtype);
    shape[0] = 2;
    ctx.probes2[size_t(input)] = at::zeros(shape, dtype);
    ctx.syms[tsGraph.inputs()[1]] = ctx.makeTensor(input);

    ctx.runBlock(tsGraph.block());

    if (!ctx.unknown.empty()) throw invalidInput(unsupportedOpsSentence(path, ctx.unknown));

    std::vector<int> outputs;
    for (const jit::Value* out : tsGraph.outputs()) {
        const Sym& s = ctx.sym(out);
        if (s.kind == Sym::Tensor) outputs.push_back(s.value);
        else if (s.kind == Sym::Tuple || s.kind == Sym::List)
            for (const Sym& item : *s.items)
                if (item.kind == Sym::Tensor) outputs.push_back(item.value);
    }
    if (outputs.empty())
        throw invalidInput("'" + path + "' returns no tensor from forward; PTQ Studio needs the model's logits.");
    ctx.graph.setOutputs(outputs);
    if (tokens) {  // valid ids: those every table the input is looked up in has
        int64_t limit = std::numeric_limits<int64_t>::max();
        for (const Node& node : ctx.graph.nodes())
            if (node.op == OpKind::Embedding && !node.inputs.empty() && node.inputs[0] == input)
                limit = std::min(limit, ctx.graph.value(node.inputs[1]).shape.at(0));
        ctx.graph.setInputKind(InputKind::Tokens, limit);
    }
    ctx.graph.uniquifyNames();
    return std::move(ctx.graph);
}

}  // namespace ptq
