#include "core/graph/graph.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <unordered_map>

namespace ptq {

const char* opName(OpKind op) {
    switch (op) {
    case OpKind::Conv2d: return "conv2d";
    case OpKind::Linear: return "linear";
    case OpKind::MatMul: return "matmul";
    case OpKind::BatchNorm: return "batch_norm";
    case OpKind::LayerNorm: return "layer_norm";
    case OpKind::Relu: return "relu";
    case OpKind::Hardtanh: return "hardtanh";
    case OpKind::Hardswish: return "hardswish";
    case OpKind::Hardsigmoid: return "hardsigmoid";
    case OpKind::Silu: return "silu";
    case OpKind::Sigmoid: return "sigmoid";
    case OpKind::Gelu: return "gelu";
    case OpKind::Tanh: return "tanh";
    case OpKind::Add: return "add";
    case OpKind::Sub: return "sub";
    case OpKind::Mul: return "mul";
    case OpKind::Div: return "div";
    case OpKind::Cat: return "cat";
    case OpKind::Flatten: return "flatten";
    case OpKind::Reshape: return "reshape";
    case OpKind::Permute: return "permute";
    case OpKind::Transpose: return "transpose";
    case OpKind::Chunk: return "chunk";
    case OpKind::Split: return "split";
    case OpKind::MaxPool2d: return "max_pool2d";
    case OpKind::AvgPool2d: return "avg_pool2d";
    case OpKind::AdaptiveAvgPool2d: return "adaptive_avg_pool2d";
    case OpKind::AdaptiveMaxPool2d: return "adaptive_max_pool2d";
    case OpKind::Mean: return "mean";
    case OpKind::Softmax: return "softmax";
    case OpKind::Conv1d: return "conv1d";
    case OpKind::ConvTranspose2d: return "conv_transpose2d";
    case OpKind::Embedding: return "embedding";
    case OpKind::GroupNorm: return "group_norm";
    case OpKind::InstanceNorm: return "instance_norm";
    case OpKind::Prelu: return "prelu";
    case OpKind::LeakyRelu: return "leaky_relu";
    case OpKind::Elu: return "elu";
    case OpKind::Mish: return "mish";
    case OpKind::Softplus: return "softplus";
    case OpKind::LogSoftmax: return "log_softmax";
    case OpKind::Pow: return "pow";
    case OpKind::Sqrt: return "sqrt";
    case OpKind::Rsqrt: return "rsqrt";
    case OpKind::Exp: return "exp";
    case OpKind::Log: return "log";
    case OpKind::Neg: return "neg";
    case OpKind::Abs: return "abs";
    case OpKind::Clamp: return "clamp";
    case OpKind::Minimum: return "minimum";
    case OpKind::Maximum: return "maximum";
    case OpKind::Sum: return "sum";
    case OpKind::Amax: return "amax";
    case OpKind::Var: return "var";
    case OpKind::Pad: return "pad";
    case OpKind::Upsample: return "upsample";
    case OpKind::Slice: return "slice";
    case OpKind::Select: return "select";
    case OpKind::Index: return "index";
    case OpKind::Unsqueeze: return "unsqueeze";
    case OpKind::Squeeze: return "squeeze";
    case OpKind::Expand: return "expand";
    case OpKind::Repeat: return "repeat";
    case OpKind::ChannelShuffle: return "channel_shuffle";
    case OpKind::MaxPool1d: return "max_pool1d";
    case OpKind::AvgPool1d: return "avg_pool1d";
    case OpKind::AdaptiveAvgPool1d: return "adaptive_avg_pool1d";
    case OpKind::MaskedSoftmax: return "masked_softmax";
    case OpKind::Roll: return "roll";
    case OpKind::Compare: return "compare";
    case OpKind::MaskedFill: return "masked_fill";
    case OpKind::Cast: return "cast";
    case OpKind::LogicalNot: return "logical_not";
    case OpKind::FullLike: return "full_like";
    }
    return "?";
}

std::string displayOp(const Node& node) {
    if (node.op == OpKind::Hardtanh && node.attrDouble("min_val") == 0.0 && node.attrDouble("max_val") == 6.0)
        return "relu6";
    if (node.op == OpKind::Conv2d && node.attrInt("groups", 1) > 1) {
        return "conv2d/g" + std::to_string(node.attrInt("groups", 1));
    }
    if (node.op == OpKind::Upsample) return "upsample_" + node.attrString("mode");
    return opName(node.op);
}

// ---------------------------------------------------------------- Node attributes

int64_t Node::attrInt(const std::string& key, int64_t fallback) const {
    auto it = attrs.find(key);
    if (it == attrs.end()) return fallback;
    if (auto v = std::get_if<int64_t>(&it->second)) return *v;
    if (auto d = std::get_if<double>(&it->second)) return int64_t(*d);
    return fallback;
}

double Node::attrDouble(const std::string& key, double fallback) const {
    auto it = attrs.find(key);
    if (it == attrs.end()) return fallback;
    if (auto d = std::get_if<double>(&it->second)) return *d;
    if (auto v = std::get_if<int64_t>(&it->second)) return double(*v);
    return fallback;
}

std::vector<int64_t> Node::attrInts(const std::string& key) const {
    auto it = attrs.find(key);
    if (it == attrs.end()) return {};
    if (auto v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
    if (auto i = std::get_if<int64_t>(&it->second)) return {*i};
    return {};
}

std::string Node::attrString(const std::string& key) const {
    auto it = attrs.find(key);
    if (it == attrs.end()) return {};
    if (auto s = std::get_if<std::string>(&it->second)) return *s;
    return {};
}

// ---------------------------------------------------------------- Graph

struct Graph::Params {
    std::map<std::string, at::Tensor> tensors;
    std::set<std::string> buffers;
};

Graph::Graph() : params_(std::make_unique<Params>()) {}
Graph::~Graph() = default;
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;

Graph Graph::clone() const {
    Graph g;
    g.nodes_ = nodes_;
    g.values_ = values_;
    g.input_ = input_;
    g.inputKind_ = inputKind_;
    g.tokenLimit_ = tokenLimit_;
    g.outputs_ = outputs_;
    *g.params_ = *params_;
    return g;
}

int Graph::findNode(const std::string& name) const {
    for (const Node& n : nodes_)
        if (n.name == name) return n.id;
    return -1;
}

std::string Graph::paramOf(const Node& node, size_t index) const {
    if (index >= node.inputs.size()) return {};
    return values_[size_t(node.inputs[index])].param;
}

std::vector<int> Graph::quantizableNodes() const {
    std::vector<int> ids;
    for (const Node& n : nodes_)
        if ((n.op == OpKind::Conv2d || n.op == OpKind::Linear) && !paramOf(n, 1).empty()) ids.push_back(n.id);
    return ids;
}

bool Graph::isActivationMatMul(const Node& n) const {
    return n.op == OpKind::MatMul && n.inputs.size() == 2 && paramOf(n, 0).empty() && paramOf(n, 1).empty();
}

std::vector<int> Graph::allocationNodes() const {
    std::vector<int> ids;
    for (const Node& n : nodes_)
        if (((n.op == OpKind::Conv2d || n.op == OpKind::Linear) && !paramOf(n, 1).empty()) || isActivationMatMul(n))
            ids.push_back(n.id);
    return ids;
}

std::vector<int64_t> Graph::sampleShape(int valueId) const {
    const auto& s = values_.at(size_t(valueId)).shape;
    if (s.empty()) return {};
    return std::vector<int64_t>(s.begin() + 1, s.end());
}

static int64_t product(const std::vector<int64_t>& v) {
    return std::accumulate(v.begin(), v.end(), int64_t(1), std::multiplies<int64_t>());
}

int64_t Graph::macs(const Node& node) const {
    if (node.outputs.empty() || node.inputs.size() < 2) return 0;
    const auto out = sampleShape(node.outputs[0]);
    const auto& w = values_[size_t(node.inputs[1])].shape;
    switch (node.op) {
    case OpKind::Conv2d:
        // every output element costs (Cin / groups) * kH * kW multiply-accumulates
        return w.size() == 4 ? product(out) * w[1] * w[2] * w[3] : 0;
    case OpKind::Conv1d:
        return w.size() == 3 ? product(out) * w[1] * w[2] : 0;
    case OpKind::ConvTranspose2d: {
        // weight Cin x (Cout / groups) x kH x kW: every input element feeds (Cout / groups) * kH * kW outputs
        const auto in = sampleShape(node.inputs[0]);
        return w.size() == 4 ? product(in) * w[1] * w[2] * w[3] : 0;
    }
    case OpKind::Linear:
        return w.size() == 2 ? product(out) * w[1] : 0;
    case OpKind::MatMul: {
        const auto a = sampleShape(node.inputs[0]);
        return a.empty() ? 0 : product(out) * a.back();
    }
    default: return 0;
    }
}

int64_t Graph::parameterCount() const {
    int64_t n = 0;
    for (const auto& [key, t] : params_->tensors)
        if (!params_->buffers.count(key)) n += t.numel();
    return n;
}

void Graph::markBuffer(const std::string& key) { params_->buffers.insert(key); }

std::vector<std::string> Graph::bufferKeys() const { return {params_->buffers.begin(), params_->buffers.end()}; }

const at::Tensor& Graph::param(const std::string& key) const {
    auto it = params_->tensors.find(key);
    if (it == params_->tensors.end()) throw failed("The graph has no parameter named '" + key + "'.");
    return it->second;
}

bool Graph::hasParam(const std::string& key) const { return params_->tensors.count(key) != 0; }

void Graph::setParam(const std::string& key, const at::Tensor& tensor) { params_->tensors[key] = tensor; }

std::vector<std::string> Graph::paramKeys() const {
    std::vector<std::string> keys;
    for (const auto& [key, t] : params_->tensors) keys.push_back(key);
    return keys;
}

int Graph::addInput(const std::string& name, std::vector<int64_t> shape) {
    Value v;
    v.id = int(values_.size());
    v.name = name;
    v.shape = std::move(shape);
    values_.push_back(v);
    input_ = v.id;
    return v.id;
}

int Graph::addParamValue(const std::string& key, const at::Tensor& tensor) {
    for (const Value& v : values_)
        if (v.param == key) return v.id;
    Value v;
    v.id = int(values_.size());
    v.name = key;
    v.param = key;
    v.shape = tensor.sizes().vec();
    values_.push_back(v);
    params_->tensors[key] = tensor;
    return v.id;
}

int Graph::addNode(OpKind op, std::string name, std::string scope, std::vector<int> inputs, Attributes attrs,
                   const std::vector<std::vector<int64_t>>& outputShapes) {
    Node n;
    n.id = int(nodes_.size());
    n.op = op;
    n.name = std::move(name);
    n.scope = std::move(scope);
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    for (int in : n.inputs) values_.at(size_t(in)).consumers.push_back(n.id);
    for (size_t i = 0; i < outputShapes.size(); ++i) {
        Value v;
        v.id = int(values_.size());
        v.name = outputShapes.size() == 1 ? n.name : n.name + ":" + std::to_string(i);
        v.shape = outputShapes[i];
        v.producer = n.id;
        v.producerOutput = int(i);
        values_.push_back(v);
        n.outputs.push_back(v.id);
    }
    nodes_.push_back(std::move(n));
    return nodes_.back().id;
}

void Graph::setInput(int nodeId, size_t index, int valueId) {
    Node& n = nodes_.at(size_t(nodeId));
    if (index > n.inputs.size()) throw failed("internal: input index past the end");
    if (index < n.inputs.size()) {
        auto& old = values_.at(size_t(n.inputs[index])).consumers;
        if (auto it = std::find(old.begin(), old.end(), nodeId); it != old.end()) old.erase(it);
        n.inputs[index] = valueId;
    } else {
        n.inputs.push_back(valueId);
    }
    values_.at(size_t(valueId)).consumers.push_back(nodeId);
}

void Graph::truncateInputs(int nodeId, size_t count) {
    Node& n = nodes_.at(size_t(nodeId));
    while (n.inputs.size() > count) {
        auto& consumers = values_.at(size_t(n.inputs.back())).consumers;
        if (auto it = std::find(consumers.begin(), consumers.end(), nodeId); it != consumers.end()) consumers.erase(it);
        n.inputs.pop_back();
    }
}

void Graph::setAttr(int nodeId, const std::string& key, AttrValue value) {
    nodes_.at(size_t(nodeId)).attrs[key] = std::move(value);
}

void Graph::eraseAttr(int nodeId, const std::string& key) { nodes_.at(size_t(nodeId)).attrs.erase(key); }

void Graph::uniquifyNames() {
    std::unordered_map<std::string, int> seen;
    for (Node& n : nodes_) {
        int& count = seen[n.name];
        if (count++ > 0) {
            std::string candidate;
            do {
                candidate = n.name + "_" + std::to_string(count++);
            } while (seen.count(candidate));
            seen[candidate] = 1;
            n.name = candidate;
        }
        for (size_t i = 0; i < n.outputs.size(); ++i)
            values_[size_t(n.outputs[i])].name = n.outputs.size() == 1 ? n.name : n.name + ":" + std::to_string(i);
    }
}

}  // namespace ptq
