// The interpreter's LibTorch state lives here (core headers stay LibTorch-free); the ATen op table is
// in import_ops_*.cpp behind OpArgs. Sections: control flow, arguments, OpArgs, symbol ops, entry.
#include "core/graph/import_interpreter.h"

#include "core/graph/import_ops.h"

#include "core/runtime/ops.h"
#include "core/util/error.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

namespace ptq {

namespace jit = torch::jit;

namespace {

/// What the interpreter knows of a TorchScript value at import time.
struct Sym {
    // Derived: a number computed from the batch size (its value at the probe's batch of 1 is
    // not the model's), fine in a check the model makes on itself, refused where it sizes a tensor.
    enum Kind { Unknown, Const, Tensor, Module, Batch, Derived, List, Tuple, TransposedParam };
    Kind kind = Unknown;
    c10::IValue iv;           ///< Const: the value; Module: the module object
    int value = -1;           ///< Tensor / TransposedParam: the IR value id
    std::string path;         ///< Module: its path; Tensor from an attribute: the parameter key
    std::shared_ptr<std::vector<Sym>> items;  ///< List / Tuple (shared: lists are mutable)

    static Sym of(Kind kind, int value = -1) {  // a Tensor / TransposedParam, or an empty List / Tuple
        Sym s;
        s.kind = kind;
        s.value = value;
        if (kind == List || kind == Tuple) s.items = std::make_shared<std::vector<Sym>>();
        return s;
    }
    static Sym constant(c10::IValue v) { Sym s = of(Const); s.iv = std::move(v); return s; }
};

class ImportContext {
    friend class NodeArgs;

public:
    ImportContext(const jit::Module& module, std::vector<int64_t> sampleShape, std::string path);

    void runBlock(const jit::Block* block);
    Sym& sym(const jit::Value* v);
    Sym makeTensor(int valueId);

    const jit::Module& module;
    std::vector<int64_t> sampleShape;
    std::string path;
    Graph graph;
    std::vector<at::Tensor> probes;  ///< per IR value: its value on the zero sample
    std::unordered_map<const jit::Value*, Sym> syms;
    std::map<std::string, UnsupportedOp> unknown;
    int constantCount = 0;

private:
    void runNode(const jit::Node* n);
    void runLoop(const jit::Node* n);
    bool mapTensorOp(const jit::Node* n);
    bool anyUnknown(const jit::Node* n);
    void recordUnknown(const jit::Node* n, const std::string& why);
    std::string scopeOf(const jit::Node* n) const;
    [[noreturn]] void fail(const jit::Node* n, const std::string& what) const;
    int paramValue(const std::string& key, const at::Tensor& t);
    std::string layerName(int weightValue) const { return layerNameOf(graph, weightValue); }
    std::vector<int> addOp(const jit::Node* n, OpKind op, std::string name, std::vector<int> inputs,
                           Attributes attrs = {});

    bool isSequence(const Sym& s) const;
    std::vector<Sym> itemsOf(const jit::Node* n, const Sym& s) const;
    int64_t intOf(const jit::Node* n, size_t i);
    double numberOf(const jit::Node* n, size_t i);
    std::vector<int64_t> intsOf(const jit::Node* n, size_t i);
    bool isNone(const jit::Node* n, size_t i);
    bool isTensor(const jit::Node* n, size_t i);
    int tensorOf(const jit::Node* n, size_t i);
};

const std::string kBatchArithmetic = "the batch size is used in arithmetic; PTQ Studio keeps the batch dimension free";

// Whether @p s is the batch size, made from it, or a list holding it (x.size(), so x.size()[2:] too).
bool fromBatch(const Sym& s) {
    if (s.kind == Sym::Batch || s.kind == Sym::Derived) return true;
    return s.items && std::any_of(s.items->begin(), s.items->end(), [](const Sym& i) { return fromBatch(i); });
}

// Whether @p n was inlined from a function of that name (F.group_norm's _verify_batch_size).
bool inFunction(const jit::Node* n, const char* name) {
    if (auto cs = n->callstack())
        for (const auto& entry : (*cs)->vec())
            if (std::get<0>(entry) && std::get<0>(entry)->name() == name) return true;
    return false;
}

std::string shapeText(const std::vector<int64_t>& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
    return out;
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
    if (size_t(id) >= probes.size()) probes.resize(size_t(id) + 1);
    probes[size_t(id)] = t.detach();
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
    std::vector<at::Tensor> in;
    for (int id : inputs) in.push_back(probes.at(size_t(id)));
    std::vector<at::Tensor> out;
    try {
        out = runOp(probeNode, in, 1);
    } catch (const Error& e) {
        fail(n, std::string("the shape check of an operation failed for input ") + shapeText(sampleShape) + ": " +
                    e.what());
    }
    std::vector<std::vector<int64_t>> shapes;
    for (const auto& t : out) shapes.push_back(t.sizes().vec());
    const int id = graph.addNode(op, std::move(name), scope, std::move(inputs), std::move(attrs), shapes);
    std::vector<int> outputs = graph.node(id).outputs;
    if (probes.size() < graph.values().size()) probes.resize(graph.values().size());
    for (size_t i = 0; i < outputs.size(); ++i) probes[size_t(outputs[i])] = out[i];
    return outputs;
}

void ImportContext::recordUnknown(const jit::Node* n, const std::string& why) {
    std::string key = n->kind().toQualString();
    if (!why.empty()) key += " (" + why + ")";
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
        if (aNone || bNone) {
            const bool same = aNone && bNone;
            syms[n->output()] = Sym::constant(kind == c10::aten::__is__ ? same : !same);
            return;
        }
    }

    if (anyUnknown(n)) {
        // Downstream of an unsupported op: no shapes to probe, but still name unsupported ops.
        const std::string ns = kind.ns().toUnqualString();
        std::string base = kind.toUnqualString();
        if (base.size() > 1 && base.back() == '_') base.pop_back();
        if (ns == "aten" && !isMappedOp(base)) recordUnknown(n, "");
        // a lookup by indices an unsupported op computed: name the lookup too
        else if (ns == "aten" && (base == "embedding" || base == "index") && n->inputs().size() > 1 &&
                 sym(n->input(1)).kind == Sym::Unknown)
            recordUnknown(n, "indices computed inside the model");
        for (const jit::Value* out : n->outputs()) syms[out] = Sym{};
        return;
    }
    if (mapTensorOp(n)) return;

    // Everything else must be a scalar computation on known values: evaluate it with the
    // operator's own kernel (constant propagation, as TorchScript's freezing does).
    bool allConst = true;
    for (const jit::Value* v : n->inputs()) allConst = allConst && sym(v).kind == Sym::Const;
    bool tensorOut = false;
    for (const jit::Value* v : n->outputs())
        tensorOut = tensorOut || v->type()->isSubtypeOf(*c10::TensorType::get());
    // Constant-only tensor results (a traced model's size arithmetic) are constants too.
    if (allConst && n->maybeOperator()) {
        jit::Stack stack;
        for (const jit::Value* v : n->inputs()) stack.push_back(sym(v).iv);
        try {
            n->getOperation()(stack);
        } catch (const c10::Error& e) {
            fail(n, std::string("a computation on constants failed: ") + e.what_without_backtrace());
        }
        for (size_t i = 0; i < n->outputs().size(); ++i) syms[n->outputs()[i]] = Sym::constant(stack.at(i));
        return;
    }
    for (const jit::Value* v : n->inputs())
        if (fromBatch(sym(v)) && !tensorOut) {
            for (const jit::Value* out : n->outputs()) syms[out].kind = Sym::Derived;
            return;
        }
    recordUnknown(n, "");
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
    if (s.kind == Sym::Batch) return kBatchDim;
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

std::vector<int64_t> ImportContext::intsOf(const jit::Node* n, size_t i) {
    const Sym& s = sym(n->input(i));
    if (s.kind == Sym::Const && s.iv.isInt()) return {s.iv.toInt()};
    if (s.kind == Sym::Const && s.iv.isNone()) return {};
    std::vector<int64_t> out;
    for (const Sym& item : itemsOf(n, s)) {
        if (item.kind == Sym::Batch) out.push_back(kBatchDim);
        else if (item.kind == Sym::Const && item.iv.isInt()) out.push_back(item.iv.toInt());
        else fail(n, item.kind == Sym::Derived ? kBatchArithmetic : "argument " + std::to_string(i) + " must be a list of known integers");
    }
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
        const auto sizes = probes[size_t(tensorOf(n, 0))].sizes().vec();
        const bool withBatch = graph.value(tensorOf(n, 0)).param.empty();  // a parameter's sizes are its own
        auto dimSym = [&](int64_t d) {
            if (d < 0) d += int64_t(sizes.size());
            if (d < 0 || d >= int64_t(sizes.size())) fail(n, "a size() of a dimension the tensor does not have");
            Sym s = Sym::constant(sizes[size_t(d)]);
            if (d == 0 && withBatch) s.kind = Sym::Batch;
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
    if (op == "addmm" || op == "matmul" || op == "mm") {
        const size_t x = op == "addmm" ? 1 : 0;
        const Sym& rhs = sym(n->input(x + 1));
        const bool unitScale = op != "addmm" || (numberOf(n, 3) == 1.0 && numberOf(n, 4) == 1.0);
        if (rhs.kind == Sym::TransposedParam && unitScale) {
            std::vector<int> in{tensorOf(n, x), rhs.value};
            if (op == "addmm") in.push_back(tensorOf(n, 0));
            return finish(addOp(n, OpKind::Linear, layerName(rhs.value), in));
        }
        if (op != "addmm") return finish(addOp(n, OpKind::MatMul, "", {tensorOf(n, 0), tensorOf(n, 1)}));
        recordUnknown(n, "a general addmm");
        return true;
    }
    NodeArgs args(*this, n, op, inplace);
    if ((layerOpNames().count(op) && mapLayerOp(args)) || mapShapeOp(args)) return true;

    for (const jit::Value* v : n->inputs()) {
        const auto k = sym(v).kind;
        if (k == Sym::Tensor || k == Sym::TransposedParam) {
            recordUnknown(n, "");
            return true;
        }
    }
    return false;
}

}  // namespace

// ------------------------------------------------------------------ entry point

Graph interpretForward(jit::Graph& tsGraph, const jit::Module& module, const std::vector<int64_t>& sampleShape,
                       const std::string& path) {
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
    ctx.probes.resize(size_t(input) + 1);
    ctx.probes[size_t(input)] = at::zeros(shape);
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
    ctx.graph.uniquifyNames();
    return std::move(ctx.graph);
}

}  // namespace ptq
