#pragma once
/// @file
/// The importer's table of ATen tensor ops (core-internal): how one TorchScript node becomes IR
/// nodes, written against OpArgs, the interpreter's view of that node's arguments. Plain C++,
/// so the op table compiles without LibTorch's JIT headers; the interpreter
/// (import_interpreter.cpp) implements OpArgs over its symbols and probes.
///   import_ops_layers.cpp  layers, norms, activations, element-wise math, reductions
///   import_ops_shape.cpp   shapes, indexing, padding, resampling, pooling
///   import_ops_attention.cpp  fused attention kernels as projections, matmuls and softmax

#include "core/graph/graph.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ptq {

/// One entry of an index list (x[:, [0, 2]]): nothing, integer constants, or a tensor the model
/// computes.
struct IndexArg {
    enum Kind { None, Constant, Computed };
    Kind kind = None;
    std::vector<int64_t> values;  ///< Constant: the indices, flattened
    std::vector<int64_t> shape;   ///< Constant: their shape
};

/// The layer name for a weight parameter: its key without ".weight" ("layer1.0.conv1").
std::string layerNameOf(const Graph& graph, int weightValue);

/// An op the tables do not map: how often it was met and the first few scopes it was met in.
struct UnsupportedOp {
    int count = 0;
    std::vector<std::string> scopes;
};
/// The import's refusal: one sentence naming every unsupported op (the key: "aten::cumsum", with
/// a qualifier in parentheses when given), how often and where.
std::string unsupportedOpsSentence(const std::string& path, const std::map<std::string, UnsupportedOp>& ops);

/// The arguments of the TorchScript node being imported, and what the op may do with them.
/// Argument accessors throw the import's error sentence (naming the node) when an argument is
/// not of the asked kind.
class OpArgs {
public:
    virtual ~OpArgs() = default;
    /// The ATen op's name without "aten::" and without the trailing '_' of in-place forms.
    virtual const std::string& op() const = 0;
    virtual size_t size() const = 0;
    virtual bool isTensor(size_t i) = 0;
    virtual bool isNone(size_t i) = 0;
    /// A known integer (not a float) scalar: keeps the type of a scalar operand (pow(x, 2)).
    virtual bool isInt(size_t i) = 0;
    virtual bool isString(size_t i) = 0;
    virtual bool isSequence(size_t i) = 0;
    virtual int tensor(size_t i) = 0;  ///< the IR value id
    virtual int64_t integer(size_t i) = 0;
    virtual double number(size_t i) = 0;
    virtual std::vector<int64_t> ints(size_t i) = 0;
    /// A reshape's target: as ints, with an entry k x the batch size (k > 1) as -1.
    virtual std::vector<int64_t> shape(size_t i) = 0;
    virtual std::vector<double> numbers(size_t i) = 0;
    virtual std::string text(size_t i) = 0;
    /// An integer tensor known at import time (a buffer, a literal): its values and shape.
    virtual bool constantInts(size_t i, std::vector<int64_t>& values, std::vector<int64_t>& shape) = 0;
    /// A list of optional index tensors (aten::index).
    virtual std::vector<IndexArg> indexList(size_t i) = 0;

    virtual const Graph& graph() const = 0;
    /// Whether dimension @p dim of IR value @p value grows with the batch (k x the batch size):
    /// the importer probes every op at a batch of one and of two.
    virtual bool batchDim(int value, int64_t dim) const = 0;
    /// Adds an IR node (its output shapes probed with the same kernel the executor runs) and
    /// returns its output values. An empty @p name names it after the scope and op.
    virtual std::vector<int> add(OpKind op, std::string name, std::vector<int> inputs, Attributes attrs = {}) = 0;
    /// The node's output @p index is IR value @p value (for in-place forms, so is its input 0).
    virtual void result(int value, size_t index = 0) = 0;
    /// The node's output @p index is never read by inference (max-pool indices).
    virtual void unusedResult(size_t index) = 0;
    /// Records the node as unsupported (@p why qualifies it: "transposed convolution"); the
    /// import then fails with one sentence naming every unsupported op.
    virtual void unsupported(const std::string& why) = 0;
    /// Fails the import now: "... cannot be imported: @p what (at aten::op in scope)."
    [[noreturn]] virtual void fail(const std::string& what) = 0;
    /// The list argument's tensors (cat's inputs).
    virtual std::vector<int> tensorList(size_t i) = 0;
    /// The node's output is a list of these values (split, chunk).
    virtual void listResult(const std::vector<int>& values) = 0;

    std::string layerName(int weightValue) const { return layerNameOf(graph(), weightValue); }
    /// Adds a node with one output and makes it the node's result.
    bool emit(OpKind op, std::vector<int> inputs, Attributes attrs = {}, std::string name = {}) {
        result(add(op, std::move(name), std::move(inputs), std::move(attrs)).at(0));
        return true;
    }
};

/// Maps a layer, norm, activation, element-wise or reduction op; false when @p a is not one.
bool mapLayerOp(OpArgs& a);
/// Maps a shape, indexing, padding, resampling or pooling op; false when @p a is not one.
bool mapShapeOp(OpArgs& a);
/// Maps a fused attention op (nn.MultiheadAttention's fast path); false when @p a is not one.
bool mapAttentionOp(OpArgs& a);
/// The ATen names the tables map (in-place forms included by dropping their '_').
const std::set<std::string>& layerOpNames();
const std::set<std::string>& shapeOpNames();
const std::set<std::string>& attentionOpNames();
/// Whether the importer maps the ATen op @p op: one of the tables' or one the interpreter answers
/// itself (shape queries, linear layers as matrix products, list and scalar ops).
bool isMappedOp(const std::string& op);

/// A scalar attribute keeping the operand's type (int or float): pow(x, 2) stays integral.
inline AttrValue scalarAttr(OpArgs& a, size_t i) {
    if (a.isInt(i)) return a.integer(i);
    return a.number(i);
}

}  // namespace ptq
