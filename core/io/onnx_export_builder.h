#pragma once
/// @file
/// Internal to core/io's ONNX export (onnx_export.cpp, onnx_export_ops.cpp), not a public API:
/// the ONNX graph being built from the IR, with the names of values and initializers.

#include "core/graph/graph.h"
#include "core/onnx/onnx_model.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace ptq::onnx_export {

class Builder {
public:
    /// @p param gives the tensor a parameter key is written with (the quantized model's float
    /// parameters, or the graph's).
    Builder(const Graph& graph, std::function<const at::Tensor&(const std::string&)> param);

    const Graph& graph;
    onnx::ModelSpec spec;

    /// The ONNX name of IR value @p valueId; a parameter becomes an initializer on first use.
    std::string value(int valueId);
    /// Makes IR value @p valueId read as @p name (an op the export drops, a folded BatchNorm).
    void alias(int valueId, const std::string& name);
    /// The name an IR node's output @p index is written under.
    std::string outputName(const Node& node, size_t index = 0);
    /// A name not used yet, from @p base.
    std::string fresh(const std::string& base);

    /// Appends a node; returns its first output's name. With @p outputs empty, one output named
    /// fresh(name).
    std::string add(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                    std::vector<onnx::Attribute> attributes = {}, std::vector<std::string> outputs = {});

    /// Initializers; each returns its (fresh) name.
    std::string floats(const std::string& name, const std::vector<float>& values, std::vector<int64_t> dims);
    std::string scalar(const std::string& name, float value) { return floats(name, {value}, {}); }
    std::string int64s(const std::string& name, const std::vector<int64_t>& values);  ///< 1-D
    /// A tensor's values as they are (float32, int8, uint8, int32 or int64; float64 as float32).
    std::string tensor(const std::string& name, const at::Tensor& t);
    /// The tensor parameter @p key is written with.
    const at::Tensor& param(const std::string& key) const { return param_(key); }

private:
    std::function<const at::Tensor&(const std::string&)> param_;
    std::map<int, std::string> names_;
    std::set<std::string> used_;
};

/// Writes IR node @p node, whose inputs (data, then parameters) read as @p inputs, mapping its
/// outputs to outputName(). Throws ptq::Error (InvalidInput) in one sentence naming the node
/// when its op (or this use of it) has no ONNX mapping.
void mapNode(Builder& b, const Node& node, const std::vector<std::string>& inputs);

/// Input @p index of @p node as a rank (its IR shape's length).
size_t rankOf(const Builder& b, const Node& node, size_t index = 0);

}  // namespace ptq::onnx_export
