#pragma once
/// @file
/// Reading an ONNX model file into plain values (library ptqonnx; ONNX's protobuf classes stay in
/// onnx_reader.cpp). The importer (core/graph/onnx_importer.h) turns these into the graph IR.
/// Plain C++; pure functions: any thread.

#include "core/onnx/onnx_model.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ptq::onnx {

/// A tensor as read: ONNX's element type code (TensorProto::DataType: 1 float, 2 uint8, 3 int8,
/// 5 int16, 6 int32, 7 int64, 9 bool, 10 float16, 11 double), its dims and its elements as
/// little-endian bytes of that type (typed fields and external data already resolved).
struct ReadTensor {
    std::string name;
    int elemType = 0;
    std::vector<int64_t> dims;
    std::string bytes;
    int64_t count() const;
};

/// Names of ONNX's element type codes ("float", "int64", ...; "type N" for others).
std::string elemTypeName(int elemType);
/// Bytes one element of @p elemType takes; 0 for a type the reader does not hold (strings, ...).
int elemSize(int elemType);

struct ReadAttribute {
    enum class Kind { Int, Float, Ints, Floats, String, Tensor, Other };
    std::string name;
    Kind kind = Kind::Other;
    int64_t i = 0;
    float f = 0.0f;
    std::vector<int64_t> ints;
    std::vector<float> floats;
    std::string s;
    ReadTensor t;
};

struct ReadNode {
    std::string op;
    std::string domain;  ///< "" for the default domain (also when the file says "ai.onnx")
    std::string name;
    std::vector<std::string> inputs;  ///< "" for an omitted optional input
    std::vector<std::string> outputs;
    std::vector<ReadAttribute> attributes;
    bool hasSubgraph = false;  ///< an If/Loop/Scan body: the importer refuses these
    const ReadAttribute* attribute(const std::string& key) const;
};

/// A graph input or output: element type and dims; a dim of -1 is symbolic (its name in dimNames,
/// "" when the file gives neither a value nor a name).
struct ReadValue {
    std::string name;
    int elemType = 0;
    bool hasShape = false;
    std::vector<int64_t> dims;
    std::vector<std::string> dimNames;
};

struct ReadModel {
    int64_t irVersion = 0;
    int64_t opset = 0;  ///< of the default domain; 0 when the file imports none
    std::vector<std::pair<std::string, int64_t>> otherDomains;  ///< other opset imports
    std::string producer;   ///< producer_name and version ("pytorch 1.13.1")
    std::vector<ReadValue> inputs;  ///< graph inputs that are not initializers
    std::vector<ReadValue> outputs;
    std::vector<ReadTensor> initializers;
    std::vector<ReadNode> nodes;
};

/// Parses @p bytes (the contents of @p path, which is only used for messages and, with
/// @p folder, to find external-data files: they must lie in @p folder or below it). Throws
/// OnnxError whose what() is one sentence for a user: not an ONNX model (damaged or truncated),
/// no graph, a tensor whose data does not match its dims or type, an external-data file that is
/// missing, too short or outside the model's folder, an initializer with NaN or Inf.
ReadModel readModelBytes(const std::string& bytes, const std::string& path, const std::string& folder);

/// Reads the file at @p path (external data relative to its folder). Throws OnnxError as above,
/// and for a missing, unreadable or empty file.
ReadModel readModelFile(const std::string& path);

/// The metadata_props of the ONNX file at @p path (key to value), read without parsing its
/// graph. Empty for a file that cannot be read or parsed (the import says why).
std::map<std::string, std::string> readMetadata(const std::string& path);

}  // namespace ptq::onnx
