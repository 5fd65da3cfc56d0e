#pragma once
/// @file
/// The importer's interpreter state (core-internal, LibTorch's JIT types): shared by
/// import_interpreter.cpp (control flow, scalars, the entry point) and import_tensor_ops.cpp
/// (arguments, the OpArgs view, tensor ops). Included by those two files only, never by a header:
/// core's headers stay LibTorch-free.

#include "core/graph/graph.h"
#include "core/graph/import_ops.h"

#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ptq::import_detail {

namespace jit = torch::jit;

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
    std::vector<at::Tensor> probes;   ///< per IR value: its value on a batch of one zero sample
    std::vector<at::Tensor> probes2;  ///< ... and on a batch of two: which sizes follow the batch
    std::unordered_map<const jit::Value*, Sym> syms;
    std::map<std::string, UnsupportedOp> unknown;
    int constantCount = 0;

private:
    void runNode(const jit::Node* n);
    void runLoop(const jit::Node* n);
    bool mapTensorOp(const jit::Node* n);
    std::string attentionMatMulName(const jit::Node* n);
    bool anyUnknown(const jit::Node* n);
    void recordUnknown(const jit::Node* n, const std::string& why);
    std::string scopeOf(const jit::Node* n) const;
    [[noreturn]] void fail(const jit::Node* n, const std::string& what) const;
    int paramValue(const std::string& key, const at::Tensor& t);
public:
    /// k when dimension @p dim of IR value @p value is k x the batch size, 0 when it is fixed.
    int64_t batchScale(int value, int64_t dim) const;
private:
    std::string layerName(int weightValue) const { return layerNameOf(graph, weightValue); }
    std::vector<int> addOp(const jit::Node* n, OpKind op, std::string name, std::vector<int> inputs,
                           Attributes attrs = {});

    bool isSequence(const Sym& s) const;
    std::vector<Sym> itemsOf(const jit::Node* n, const Sym& s) const;
    int64_t intOf(const jit::Node* n, size_t i);
    double numberOf(const jit::Node* n, size_t i);
    /// A list of known integers; with @p shape (a reshape's target) an entry k x the batch size
    /// (k > 1) becomes -1 when it is the only entry left to infer.
    std::vector<int64_t> intsOf(const jit::Node* n, size_t i, bool shape = false);
    bool batchArithmetic(const jit::Node* n);
    bool newTensorOf(const jit::Node* n);
    void runConstantOp(const jit::Node* n, jit::Stack& stack) const;
    bool isNone(const jit::Node* n, size_t i);
    bool isTensor(const jit::Node* n, size_t i);
    int tensorOf(const jit::Node* n, size_t i);
};

extern const std::string kBatchArithmetic;

/// Whether @p n was inlined from a function of that name (F.group_norm's _verify_batch_size).
bool inFunction(const jit::Node* n, const char* name);

// Whether @p s is the batch size, made from it, or a list holding it (x.size(), so x.size()[2:] too).
inline bool fromBatch(const Sym& s) {
    if (s.kind == Sym::Batch || s.kind == Sym::Derived) return true;
    return s.items && std::any_of(s.items->begin(), s.items->end(), [](const Sym& i) { return fromBatch(i); });
}

}  // namespace ptq::import_detail
