#pragma once
/// @file
/// An ONNX model as plain values, and its serialization through Debian's libonnx (the protobuf
/// classes, the checker and shape inference). This is the one place ONNX's headers are
/// included (onnx_model.cpp, library ptqonnx); it sees no LibTorch, and ptqcore's exporter
/// (core/io/onnx_export.h) fills these values from the graph and the quantized model.
/// Plain C++; every function is pure: any thread.

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ptq::onnx {

/// Element types the exporter writes.
enum class ElemType { Float, Int8, Uint8, Int32, Int64 };

/// A constant tensor (an initializer): little-endian raw bytes of dims' product elements.
struct Tensor {
    std::string name;
    ElemType type = ElemType::Float;
    std::vector<int64_t> dims;  ///< empty for a scalar
    std::string bytes;
};

struct Attribute {
    enum class Kind { Int, Float, Ints, String };
    std::string name;
    Kind kind = Kind::Int;
    int64_t i = 0;
    float f = 0.0f;
    std::vector<int64_t> ints;
    std::string s;
    static Attribute integer(std::string name, int64_t v);
    static Attribute real(std::string name, float v);
    static Attribute list(std::string name, std::vector<int64_t> v);
    static Attribute text(std::string name, std::string v);
};

struct NodeSpec {
    std::string op;    ///< ONNX op type, default domain
    std::string name;  ///< unique within the graph
    std::vector<std::string> inputs;   ///< "" for an omitted optional input
    std::vector<std::string> outputs;
    std::vector<Attribute> attributes;
};

/// A graph value's name and shape; a negative dimension is symbolic (the batch, "N").
struct ValueInfo {
    std::string name;
    std::vector<int64_t> shape;
};

struct ModelSpec {
    int64_t opset = 13;
    std::string graphName;
    std::string docString;
    std::vector<ValueInfo> inputs;   ///< float tensors
    std::vector<ValueInfo> outputs;  ///< float tensors
    std::vector<Tensor> initializers;
    std::vector<NodeSpec> nodes;     ///< in topological order
    std::map<std::string, std::string> metadata;  ///< metadata_props
};

/// What the checker refused, or another failure of libonnx; what() is its message.
struct OnnxError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Builds the ModelProto of @p spec, runs onnx::checker::check_model and strict shape inference
/// (which must infer every output's shape), and returns the serialized bytes. Throws OnnxError.
std::string serializeChecked(const ModelSpec& spec);

/// What a file holds, as read back by libonnx (tests and `ptq` reports).
struct FileSummary {
    int64_t irVersion = 0;
    int64_t opset = 0;
    std::map<std::string, int> opCounts;  ///< nodes per op type
    std::map<std::string, int> initializerTypes;  ///< "int8", "uint8", "float", ... per count
    int64_t initializerBytes = 0;
    /// Smallest and largest value of every int8 and uint8 initializer, by name.
    std::map<std::string, std::pair<int, int>> integerRanges;
    std::vector<ValueInfo> inputs, outputs;
    std::map<std::string, std::string> metadata;
};

/// Parses @p bytes as a ModelProto, runs the checker and strict shape inference on it, and
/// summarizes it. Throws OnnxError.
FileSummary checkBytes(const std::string& bytes);

}  // namespace ptq::onnx
