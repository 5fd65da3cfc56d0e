#pragma once
/// @file
/// The graph IR PTQ Studio works on: operations (nodes) over tensor values, with the model's
/// parameters owned by the graph. Imported from TorchScript (core/graph/torchscript_importer.h),
/// run by core/runtime/executor.h, drawn by ui. This header is plain C++: tensor data is only
/// reachable from core .cpp files (at::Tensor is forward-declared).

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace at {
class Tensor;
}

namespace ptq {

/// The operations of the IR. Conv2d and Linear are the quantizable layers (quantizableNodes);
/// Conv1d, ConvTranspose2d and Embedding hold parameters too but run in float.
enum class OpKind {
    Conv2d, Linear, MatMul, BatchNorm, LayerNorm,
    Relu, Hardtanh, Hardswish, Hardsigmoid, Silu, Sigmoid, Gelu, Tanh,
    Add, Sub, Mul, Div,
    Cat, Flatten, Reshape, Permute, Transpose, Chunk, Split,
    MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, Mean, Softmax,
    // layers run in float (not offered for quantization)
    Conv1d, ConvTranspose2d, Embedding, GroupNorm, InstanceNorm, Prelu,
    // activations and element-wise math
    LeakyRelu, Elu, Mish, Softplus, LogSoftmax,
    Pow, Sqrt, Rsqrt, Exp, Log, Neg, Abs, Clamp, Minimum, Maximum,
    // reductions over given dimensions
    Sum, Amax, Var,
    // shapes, indexing, resampling
    Pad, Upsample, Slice, Select, Index, Unsqueeze, Squeeze, Expand, Repeat, ChannelShuffle,
    MaxPool1d, AvgPool1d, AdaptiveAvgPool1d,
    // attention and transformer blocks: a softmax under a boolean mask (input 1), a cyclic shift
    MaskedSoftmax, Roll,
    // masks and token inputs: comparisons (attr "cmp": eq, ne, lt, le, gt, ge), masked_fill, dtype
    // casts, logical not, a tensor of one value shaped like its input
    Compare, MaskedFill, Cast, LogicalNot, FullLike,
};
/// How many OpKinds there are: keep it after the enum's last entry when adding one.
constexpr int kOpKindCount = int(OpKind::FullLike) + 1;

/// Short lower-case name ("conv2d", "relu6" is a Hardtanh with 0..6: see displayOp).
const char* opName(OpKind op);

/// In a Reshape's target shape, this entry stands for the batch size of the run.
constexpr int64_t kBatchDim = std::numeric_limits<int64_t>::min();

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>>;
using Attributes = std::map<std::string, AttrValue>;

/// A tensor flowing through the graph: the graph input, a node output, or a parameter.
struct Value {
    int id = -1;
    std::string name;
    std::vector<int64_t> shape;  ///< with the batch dimension first, as probed at batch 1
    int producer = -1;           ///< node id; -1 for the graph input and parameters
    int producerOutput = 0;      ///< which output of the producer
    std::string param;           ///< parameter key when this value is a parameter
    std::vector<int> consumers;  ///< node ids, in order
};

struct Node {
    int id = -1;
    OpKind op = OpKind::Relu;
    std::string name;    ///< unique: the module path for layers ("layer1.0.conv1"), else scope + op
    std::string scope;   ///< module path the op was called from ("layer1.0"), "" at top level
    std::vector<int> inputs;   ///< value ids; parameters (weight, bias, ...) come after data inputs
    std::vector<int> outputs;  ///< value ids
    Attributes attrs;

    int64_t attrInt(const std::string& key, int64_t fallback = 0) const;
    double attrDouble(const std::string& key, double fallback = 0.0) const;
    std::vector<int64_t> attrInts(const std::string& key) const;
    std::string attrString(const std::string& key) const;
    bool hasAttr(const std::string& key) const { return attrs.count(key) != 0; }
};

/// What the graph input holds: float samples (images, feature maps) or integer token ids (text
/// models whose first op is an embedding lookup).
enum class InputKind { Float, Tokens };

/// The graph: nodes in topological order. Thread-compatible: const use from many threads is
/// safe; mutation needs exclusive access.
class Graph {
public:
    Graph();
    ~Graph();
    Graph(Graph&&) noexcept;
    Graph& operator=(Graph&&) noexcept;
    /// A copy with its own nodes and parameter table; the parameter tensors are shared until
    /// one of the two graphs replaces them (setParam), which is how every pass changes them.
    Graph clone() const;

    const std::vector<Node>& nodes() const { return nodes_; }
    const std::vector<Value>& values() const { return values_; }
    const Node& node(int id) const { return nodes_.at(size_t(id)); }
    const Value& value(int id) const { return values_.at(size_t(id)); }
    int inputValue() const { return input_; }
    InputKind inputKind() const { return inputKind_; }
    /// Tokens: the ids the model can look up are 0 .. tokenLimit() - 1 (its smallest embedding table).
    int64_t tokenLimit() const { return tokenLimit_; }
    void setInputKind(InputKind kind, int64_t tokenLimit = 0) { inputKind_ = kind, tokenLimit_ = tokenLimit; }
    const std::vector<int>& outputValues() const { return outputs_; }
    /// Node id by name; -1 when absent.
    int findNode(const std::string& name) const;

    /// Conv2d and Linear nodes whose weight is a parameter, in execution order.
    std::vector<int> quantizableNodes() const;
    /// Whether @p node is a MatMul of two activations (attention's Q·Kᵀ and P·V): a layer with
    /// an activation quantizer on each input and no weights.
    bool isActivationMatMul(const Node& node) const;
    /// The layers a quantization configuration and the allocation cover: quantizableNodes() and
    /// the activation MatMuls, in execution order.
    std::vector<int> allocationNodes() const;
    /// The parameter key of input @p index of @p node; "" when that input is not a parameter.
    std::string paramOf(const Node& node, size_t index) const;

    /// Per-sample shape of a value (the batch dimension dropped).
    std::vector<int64_t> sampleShape(int valueId) const;
    /// Multiply-accumulates of a conv (2-d, 1-d, transposed), linear or matmul node for one
    /// sample; 0 for other ops.
    int64_t macs(const Node& node) const;
    /// Elements of the learned parameters (weights, biases, BN affine); buffers such as BN
    /// running statistics and literals of the model's code are not counted.
    int64_t parameterCount() const;
    /// Marks a parameter key as a buffer (not learned): BN statistics, constants.
    void markBuffer(const std::string& key);
    /// The keys marked with markBuffer, sorted (a key may be marked before its tensor is set).
    std::vector<std::string> bufferKeys() const;

    // ---- parameters (core .cpp only: these need LibTorch's complete at::Tensor) ----
    const at::Tensor& param(const std::string& key) const;
    bool hasParam(const std::string& key) const;
    void setParam(const std::string& key, const at::Tensor& tensor);
    std::vector<std::string> paramKeys() const;

    // ---- building (used by importers and passes) ----
    int addInput(const std::string& name, std::vector<int64_t> shape);
    int addParamValue(const std::string& key, const at::Tensor& tensor);
    /// Appends a node; its output values are created with the given shapes.
    int addNode(OpKind op, std::string name, std::string scope, std::vector<int> inputs,
                Attributes attrs, const std::vector<std::vector<int64_t>>& outputShapes);
    void setOutputs(std::vector<int> outputs) { outputs_ = std::move(outputs); }
    /// Points input @p index of node @p nodeId at value @p valueId (appends when index == size).
    void setInput(int nodeId, size_t index, int valueId);
    /// Drops the inputs of node @p nodeId from index @p count on.
    void truncateInputs(int nodeId, size_t count);
    /// Sets an attribute of a node; eraseAttr removes one.
    void setAttr(int nodeId, const std::string& key, AttrValue value);
    void eraseAttr(int nodeId, const std::string& key);
    /// A BatchNorm folded into its producer runs as identity (see core/graph/passes.h).
    bool isFoldedBatchNorm(const Node& node) const { return node.op == OpKind::BatchNorm && node.hasAttr("folded_into"); }
    /// Makes node names unique by suffixing "_1", "_2"... in order of appearance.
    void uniquifyNames();

private:
    friend class GraphReader;  // core/graph/graph_io.cpp: rebuilds a graph from its stream
    struct Params;
    std::vector<Node> nodes_;
    std::vector<Value> values_;
    int input_ = -1;
    InputKind inputKind_ = InputKind::Float;
    int64_t tokenLimit_ = 0;
    std::vector<int> outputs_;
    std::unique_ptr<Params> params_;
};

/// "relu6" for a Hardtanh clamped to [0, 6], "conv2d/g4" for a grouped conv, "upsample_bilinear"
/// for an Upsample, else opName.
std::string displayOp(const Node& node);

}  // namespace ptq
