#pragma once
/// @file
/// core-internal, with LibTorch types: the ONNX importer's state, shared by
/// core/graph/onnx_importer.cpp (the driver), onnx_import_fold.cpp (constants, folding),
/// onnx_import_ops.cpp (the op table) and onnx_import_patterns.cpp (several nodes that are one
/// IR op). Included by those files only; the public header is core/graph/onnx_importer.h.

#include "core/graph/graph.h"
#include "core/onnx/onnx_reader.h"

#include <ATen/ATen.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ptq::onnx_import {

/// A value known at import time: an initializer, a Constant, or what follows from them and from
/// the activations' shapes. @c tags (int8, t's shape, undefined when no element depends on the
/// batch) marks elements that are the batch size (1) or computed from it (2), so that a shape
/// read with Shape(x) becomes a reshape target that follows the batch.
struct Known {
    at::Tensor t;
    at::Tensor tags;
    bool fromBatch() const { return tags.defined() && tags.ne(0).any().item<bool>(); }
};

/// A single known element that does not depend on the batch.
inline bool isScalar(const Known& k) { return k.t.numel() == 1 && !k.tags.defined(); }

/// An ONNX tensor as an ATen one (its own copy); float16, bfloat16 and double become float.
at::Tensor toTensor(const onnx::ReadTensor& r, const std::string& path);
/// A negative ONNX axis counted from the end of a rank-@p rank shape.
inline int64_t normAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }
/// @p t's elements as int64 (flattened).
std::vector<int64_t> ints(const at::Tensor& t);
std::string lower(std::string s);

/// An ONNX attribute of @p n, or @p fallback.
int64_t attrInt(const onnx::ReadNode& n, const std::string& key, int64_t fallback);
double attrFloat(const onnx::ReadNode& n, const std::string& key, double fallback);
std::vector<int64_t> attrInts(const onnx::ReadNode& n, const std::string& key);
std::string attrString(const onnx::ReadNode& n, const std::string& key, const std::string& fallback = "");
bool hasAttr(const onnx::ReadNode& n, const std::string& key);

class Importer {
public:
    Importer(const onnx::ReadModel& model, std::string path) : model(model), path(std::move(path)) {}
    Graph run(const std::vector<int64_t>& sampleShape);

    const onnx::ReadModel& model;
    const std::string path;
    Graph g;
    /// The input's batch as the file fixes it (its first dimension), or -1 when it is symbolic.
    int64_t fileBatch = -1;

    bool isKnown(const std::string& name) const { return known_.count(name) != 0; }
    const Known& known(const std::string& name) const;
    /// Input @p i of @p n as a known value; refuses the node when it is an activation or missing.
    const Known& knownInput(const onnx::ReadNode& n, size_t i, const char* what) const;
    bool isActivation(const std::string& name) const { return acts_.count(name) != 0; }
    int activation(const std::string& name) const;
    void setKnown(const std::string& name, Known k) { known_[name] = std::move(k); }
    void setActivation(const std::string& name, int valueId) { acts_[name] = valueId; }
    /// Whether input @p i of @p n is given (present and not "").
    static bool given(const onnx::ReadNode& n, size_t i) { return i < n.inputs.size() && !n.inputs[i].empty(); }

    /// The probe tensor of an IR value (batch 1): its shape is the value's.
    const at::Tensor& probe(int valueId) const { return probes_.at(size_t(valueId)); }
    std::vector<int64_t> shape(int valueId) const { return probe(valueId).sizes().vec(); }

    /// Appends an IR node made from ONNX node @p n (its name, plus @p suffix for the extra nodes
    /// one ONNX node becomes); output shapes come from running it on the probe tensors. Returns
    /// the output value ids.
    std::vector<int> add(OpKind op, const onnx::ReadNode& n, std::vector<int> inputs, Attributes attrs,
                         const std::string& suffix = "");
    /// A parameter value named after the node (@p role: "weight", "bias", ...); @p learned false
    /// marks it a buffer (statistics, constants of the model's code).
    int param(const onnx::ReadNode& n, const std::string& role, at::Tensor t, bool learned);
    /// The module path a node name written by torch.onnx.export stands for ("/layer1/layer1.0/conv1/Conv"
    /// is layer1.0.conv1); for other names the name itself.
    std::string layerName(const onnx::ReadNode& n) const;
    [[noreturn]] void refuse(const onnx::ReadNode& n, const std::string& why) const;
    /// "the Conv node '/layer1/conv1/Conv'" for messages.
    std::string describe(const onnx::ReadNode& n) const;
    size_t nodeIndex(const onnx::ReadNode& n) const { return size_t(&n - model.nodes.data()); }
    /// The ONNX nodes reading each tensor name (by index), and the graph outputs' names.
    std::map<std::string, std::vector<size_t>> consumers;
    std::set<std::string> graphOutputs;
    /// ONNX nodes a fused pattern took (fuse below): not converted on their own.
    std::set<size_t> skipped;
    /// The only node reading @p name, or -1 (none, several, or a graph output).
    long soleConsumer(const std::string& name) const;

private:
    void addInput(const std::vector<int64_t>& sampleShape);
    void checkOps() const;
    /// Every node has the inputs its op requires and an output (after checkOps).
    void checkArity() const;
    void foldConstant(const onnx::ReadNode& n);
    void checkBatchOfTwo() const;

    std::map<std::string, Known> known_;
    std::map<std::string, int> acts_;
    std::vector<at::Tensor> probes_;  // by IR value id
    std::set<std::string> keys_;
};

/// The ONNX ops with an IR mapping on activations (onnx_import_ops.cpp), and those folded when
/// every input is known (onnx_importer.cpp).
bool isMappedOp(const std::string& op);
bool isFoldableOp(const std::string& op);
/// Maps @p n (at least one input an activation) to IR nodes. Refuses what the IR cannot hold.
void convertNode(Importer& im, const onnx::ReadNode& n);
/// A Linear IR node on activation @p x (@p weight out x in, @p bias, possibly undefined), its
/// output becoming ONNX tensor @p output (onnx_import_ops.cpp).
void linear(Importer& im, const onnx::ReadNode& n, int x, at::Tensor weight, const at::Tensor& bias,
            const std::string& output);
/// Patterns of several ONNX nodes that are one IR op: GELU's erf decomposition, MatMul + Add
/// with a constant weight and bias (a Linear). True when node @p index started one and was
/// converted with it (the other nodes go to im.skipped). onnx_import_patterns.cpp.
bool fuse(Importer& im, size_t index);

}  // namespace ptq::onnx_import
