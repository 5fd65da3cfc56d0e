// Reading ONNX files (see onnx_reader.h). ONNX's headers are included here and in onnx_model.cpp
// only; no LibTorch.
#include "core/onnx/onnx_reader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/wire_format_lite.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <fcntl.h>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ptq::onnx {

namespace fs = std::filesystem;
using ::onnx::TensorProto;

int64_t ReadTensor::count() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

std::string elemTypeName(int t) {
    switch (t) {
    case TensorProto::FLOAT: return "float";
    case TensorProto::UINT8: return "uint8";
    case TensorProto::INT8: return "int8";
    case TensorProto::UINT16: return "uint16";
    case TensorProto::INT16: return "int16";
    case TensorProto::INT32: return "int32";
    case TensorProto::INT64: return "int64";
    case TensorProto::STRING: return "string";
    case TensorProto::BOOL: return "bool";
    case TensorProto::FLOAT16: return "float16";
    case TensorProto::DOUBLE: return "double";
    case TensorProto::UINT32: return "uint32";
    case TensorProto::UINT64: return "uint64";
    case TensorProto::BFLOAT16: return "bfloat16";
    default: return "type " + std::to_string(t);
    }
}

int elemSize(int t) {
    switch (t) {
    case TensorProto::FLOAT: case TensorProto::INT32: case TensorProto::UINT32: return 4;
    case TensorProto::UINT8: case TensorProto::INT8: case TensorProto::BOOL: return 1;
    case TensorProto::UINT16: case TensorProto::INT16: case TensorProto::FLOAT16: case TensorProto::BFLOAT16: return 2;
    case TensorProto::INT64: case TensorProto::DOUBLE: case TensorProto::UINT64: return 8;
    default: return 0;
    }
}

const ReadAttribute* ReadNode::attribute(const std::string& key) const {
    for (const ReadAttribute& a : attributes)
        if (a.name == key) return &a;
    return nullptr;
}

namespace {

std::string inQuotes(const std::string& s) { return "'" + s + "'"; }

template <typename T>
void appendBytes(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

/// The external data of @p t, read from @p folder: location, offset and length as ONNX's
/// external-data convention writes them.
std::string externalBytes(const TensorProto& t, const std::string& path, const std::string& folder, int64_t want) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto& e : t.external_data()) {
        try {
            if (e.key() == "location") location = e.value();
            else if (e.key() == "offset") offset = std::stoll(e.value());
            else if (e.key() == "length") length = std::stoll(e.value());
        } catch (const std::exception&) {
            throw OnnxError("The tensor " + inQuotes(t.name()) + " in " + path + " gives its external data's " + e.key() +
                            " as " + inQuotes(e.value()) + ", which is not a number: export the model again.");
        }
    }
    if (location.empty())
        throw OnnxError("The tensor " + inQuotes(t.name()) + " in " + path +
                        " says its data is in an external file but names none: export the model again.");
    const fs::path rel(location);
    bool escapes = rel.is_absolute();
    for (const auto& part : rel)
        if (part == "..") escapes = true;
    if (escapes)
        throw OnnxError("The tensor " + inQuotes(t.name()) + " in " + path + " keeps its data in " + inQuotes(location) +
                        ", outside the model's folder; external-data files must lie beside the model or below it.");
    const fs::path file = fs::path(folder) / rel;
    std::error_code ec;
    const bool exists = fs::exists(file, ec);
    std::ifstream in;
    if (exists && fs::is_regular_file(file, ec)) in.open(file, std::ios::binary);
    if (!in.is_open()) {
        if (exists)
            throw OnnxError("The external-data file " + inQuotes(location) + " that " + path + " names for tensor " +
                            inQuotes(t.name()) + " is " + (fs::is_directory(file, ec) ? "a folder" : "not a readable file") +
                            ": the model is damaged or its data files were moved; export it again.");
        throw OnnxError("The external-data file " + inQuotes(location) + " that " + path + " needs for tensor " +
                        inQuotes(t.name()) + " is missing (looked for in " + (folder.empty() ? std::string(".") : folder) +
                        "): copy it next to the model, as it was written.");
    }
    if (offset < 0 || (length >= 0 && length != want))
        throw OnnxError("The tensor " + inQuotes(t.name()) + " in " + path + " gives its external data an offset of " +
                        std::to_string(offset) + " and a length of " + std::to_string(length) + " where " +
                        std::to_string(want) + " bytes are needed: export the model again.");
    const int64_t size = int64_t(fs::file_size(file, ec));
    if (ec) throw OnnxError("The external-data file " + inQuotes(location) + " of " + path + " could not be read.");
    if (offset > size || want > size - offset)
        throw OnnxError("The external-data file " + inQuotes(location) + " of " + path + " is " + std::to_string(size) +
                        " bytes long, too short for tensor " + inQuotes(t.name()) + " (" + std::to_string(want) +
                        " bytes at offset " + std::to_string(offset) + "): copy it again, whole.");
    std::string bytes(size_t(want), '\0');
    in.seekg(offset);
    in.read(bytes.data(), want);
    if (!in)
        throw OnnxError("The external-data file " + inQuotes(location) + " of " + path + " could not be read.");
    return bytes;
}

ReadTensor readTensor(const TensorProto& t, const std::string& path, const std::string& folder) {
    ReadTensor r;
    r.name = t.name();
    r.elemType = t.data_type();
    const std::string what = "The tensor " + inQuotes(t.name()) + " in " + path;
    int64_t count = 1;
    for (int64_t d : t.dims()) {
        if (d < 0) throw OnnxError(what + " has a negative dimension: the file is damaged; export the model again.");
        if (d > 0 && count > (int64_t(1) << 40) / d)
            throw OnnxError(what + " claims more than 2^40 elements: the file is damaged; export the model again.");
        count *= d;
        r.dims.push_back(d);
    }
    const int size = elemSize(r.elemType);
    if (size == 0)
        throw OnnxError(what + " holds " + elemTypeName(r.elemType) +
                        " elements, which PTQ Studio does not read; only numeric tensors are supported.");
    const int64_t want = count * size;
    if (t.has_data_location() && t.data_location() == TensorProto::EXTERNAL) {
        r.bytes = externalBytes(t, path, folder, want);
    } else if (t.has_raw_data()) {
        r.bytes = t.raw_data();
    } else {
        switch (r.elemType) {
        case TensorProto::FLOAT:
            for (float v : t.float_data()) appendBytes(r.bytes, v);
            break;
        case TensorProto::DOUBLE:
            for (double v : t.double_data()) appendBytes(r.bytes, v);
            break;
        case TensorProto::INT64:
            for (int64_t v : t.int64_data()) appendBytes(r.bytes, v);
            break;
        case TensorProto::UINT32:
            for (uint64_t v : t.uint64_data()) appendBytes(r.bytes, uint32_t(v));
            break;
        case TensorProto::UINT64:
            for (uint64_t v : t.uint64_data()) appendBytes(r.bytes, v);
            break;
        case TensorProto::INT32:
            for (int32_t v : t.int32_data()) appendBytes(r.bytes, v);
            break;
        case TensorProto::INT16: case TensorProto::UINT16: case TensorProto::FLOAT16: case TensorProto::BFLOAT16:
            for (int32_t v : t.int32_data()) appendBytes(r.bytes, uint16_t(v));
            break;
        default:  // int8, uint8, bool: one byte each, held in int32_data
            for (int32_t v : t.int32_data()) appendBytes(r.bytes, uint8_t(v));
            break;
        }
    }
    if (int64_t(r.bytes.size()) != want)
        throw OnnxError(what + " has " + std::to_string(r.bytes.size()) + " bytes of data where its shape needs " +
                        std::to_string(want) + ": the file is damaged or truncated; export the model again.");
    if (r.elemType == TensorProto::FLOAT || r.elemType == TensorProto::DOUBLE) {
        for (int64_t i = 0; i < count; ++i) {
            double v = 0;
            if (r.elemType == TensorProto::FLOAT) {
                float f;
                std::memcpy(&f, r.bytes.data() + i * 4, 4);
                v = f;
            } else {
                std::memcpy(&v, r.bytes.data() + i * 8, 8);
            }
            if (!std::isfinite(v))
                throw OnnxError(what + " holds " + (std::isnan(v) ? "NaN" : "infinite") +
                                " values: the model's weights are broken; export it again from a healthy checkpoint.");
        }
    }
    return r;
}

ReadValue readValue(const ::onnx::ValueInfoProto& v) {
    ReadValue r;
    r.name = v.name();
    if (v.type().has_tensor_type()) {
        const auto& tt = v.type().tensor_type();
        r.elemType = tt.elem_type();
        if (tt.has_shape()) {
            r.hasShape = true;
            for (const auto& d : tt.shape().dim()) {
                const bool known = d.has_dim_value() && d.dim_value() > 0;
                r.dims.push_back(known ? d.dim_value() : -1);
                r.dimNames.push_back(d.has_dim_param() ? d.dim_param() : "");
            }
        }
    }
    return r;
}

ReadAttribute readAttribute(const ::onnx::AttributeProto& a, const std::string& path, const std::string& folder) {
    ReadAttribute r;
    r.name = a.name();
    using A = ::onnx::AttributeProto;
    switch (a.type()) {
    case A::INT: r.kind = ReadAttribute::Kind::Int, r.i = a.i(); break;
    case A::FLOAT: r.kind = ReadAttribute::Kind::Float, r.f = a.f(); break;
    case A::INTS: r.kind = ReadAttribute::Kind::Ints, r.ints.assign(a.ints().begin(), a.ints().end()); break;
    case A::FLOATS: r.kind = ReadAttribute::Kind::Floats, r.floats.assign(a.floats().begin(), a.floats().end()); break;
    case A::STRING: r.kind = ReadAttribute::Kind::String, r.s = a.s(); break;
    case A::TENSOR: r.kind = ReadAttribute::Kind::Tensor, r.t = readTensor(a.t(), path, folder); break;
    default:
        // Files written before the type field existed: the one field that is set says the kind.
        if (a.has_i()) r.kind = ReadAttribute::Kind::Int, r.i = a.i();
        else if (a.has_f()) r.kind = ReadAttribute::Kind::Float, r.f = a.f();
        else if (a.has_s()) r.kind = ReadAttribute::Kind::String, r.s = a.s();
        else if (a.has_t()) r.kind = ReadAttribute::Kind::Tensor, r.t = readTensor(a.t(), path, folder);
        else if (a.ints_size() > 0) r.kind = ReadAttribute::Kind::Ints, r.ints.assign(a.ints().begin(), a.ints().end());
        else if (a.floats_size() > 0)
            r.kind = ReadAttribute::Kind::Floats, r.floats.assign(a.floats().begin(), a.floats().end());
        break;
    }
    return r;
}

}  // namespace

ReadModel readModelBytes(const std::string& bytes, const std::string& path, const std::string& folder) {
    if (bytes.empty()) throw OnnxError(path + " is empty: it is not an ONNX model.");
    // protobuf's own complaints (a damaged file) go nowhere: the sentence below says what is wrong
    static const bool quiet = (google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int,
                                                                  const std::string&) {}),
                               true);
    (void)quiet;
    ::onnx::ModelProto model;
    try {
        if (!model.ParseFromString(bytes))
            throw OnnxError(path + " is not a readable ONNX model (the file is damaged or truncated, or is another "
                                   "kind of file): export the model again.");
    } catch (const OnnxError&) {
        throw;
    } catch (const std::exception&) {
        throw OnnxError(path + " is not a readable ONNX model (the file is damaged or truncated): export the model again.");
    }
    if (!model.has_graph() || model.ir_version() <= 0)
        throw OnnxError(path + " is not an ONNX model (it has no " + (model.has_graph() ? "IR version" : "graph") +
                        "): export the model again.");
    ReadModel r;
    r.irVersion = model.ir_version();
    r.producer = model.producer_name() + (model.producer_version().empty() ? "" : " " + model.producer_version());
    for (const auto& o : model.opset_import()) {
        if (o.domain().empty() || o.domain() == "ai.onnx") r.opset = o.version();
        else r.otherDomains.emplace_back(o.domain(), o.version());
    }
    const auto& g = model.graph();
    std::set<std::string> initNames;
    r.initializers.reserve(size_t(g.initializer_size()));
    for (const auto& t : g.initializer()) {
        r.initializers.push_back(readTensor(t, path, folder));
        initNames.insert(t.name());
    }
    if (g.sparse_initializer_size() > 0)
        throw OnnxError(path + " holds sparse initializers, which PTQ Studio does not read: export it with dense weights.");
    for (const auto& v : g.input())
        if (!initNames.count(v.name())) r.inputs.push_back(readValue(v));
    for (const auto& v : g.output()) r.outputs.push_back(readValue(v));
    r.nodes.reserve(size_t(g.node_size()));
    for (const auto& n : g.node()) {
        ReadNode rn;
        rn.op = n.op_type();
        rn.domain = n.domain() == "ai.onnx" ? "" : n.domain();
        rn.name = n.name();
        rn.inputs.assign(n.input().begin(), n.input().end());
        rn.outputs.assign(n.output().begin(), n.output().end());
        for (const auto& a : n.attribute()) {
            if (a.has_g() || a.graphs_size() > 0) {
                rn.hasSubgraph = true;
                continue;
            }
            rn.attributes.push_back(readAttribute(a, path, folder));
        }
        r.nodes.push_back(std::move(rn));
    }
    return r;
}

ReadModel readModelFile(const std::string& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw OnnxError("The model file " + path + " does not exist.");
    if (fs::is_directory(path, ec)) throw OnnxError(path + " is a folder, not an ONNX model file.");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw OnnxError("The model file " + path + " cannot be read (no permission?).");
    std::ostringstream buf;
    buf << in.rdbuf();
    const fs::path parent = fs::path(path).parent_path();
    return readModelBytes(buf.str(), path, parent.empty() ? std::string(".") : parent.string());
}

std::map<std::string, std::string> readMetadata(const std::string& path) {
    // ModelProto's metadata_props is field 14; every other field (the graph with its weights) is
    // skipped by length, so a large model is not parsed for this.
    using google::protobuf::internal::WireFormatLite;
    std::map<std::string, std::string> out;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    // FileInputStream skips with lseek: the weights of a large model are not read either
    google::protobuf::io::FileInputStream raw(fd);
    raw.SetCloseOnDelete(true);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT_MAX);
    for (uint32_t tag = coded.ReadTag(); tag != 0; tag = coded.ReadTag()) {
        if (WireFormatLite::GetTagFieldNumber(tag) != 14 ||
            WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
            if (!WireFormatLite::SkipField(&coded, tag)) break;
            continue;
        }
        std::string entry;
        uint32_t length = 0;
        if (!coded.ReadVarint32(&length) || !coded.ReadString(&entry, int(length))) break;
        ::onnx::StringStringEntryProto p;
        if (p.ParseFromString(entry)) out[p.key()] = p.value();
    }
    return out;
}

}  // namespace ptq::onnx
