// The only translation unit with ONNX's headers (see onnx_model.h): no LibTorch here.
#include "core/onnx/onnx_model.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <exception>

namespace ptq::onnx {

Attribute Attribute::integer(std::string name, int64_t v) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Kind::Int;
    a.i = v;
    return a;
}
Attribute Attribute::real(std::string name, float v) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Kind::Float;
    a.f = v;
    return a;
}
Attribute Attribute::list(std::string name, std::vector<int64_t> v) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Kind::Ints;
    a.ints = std::move(v);
    return a;
}
Attribute Attribute::text(std::string name, std::string v) {
    Attribute a;
    a.name = std::move(name);
    a.kind = Kind::String;
    a.s = std::move(v);
    return a;
}

namespace {

using ::onnx::TensorProto;

int elemType(ElemType t) {
    switch (t) {
    case ElemType::Float: return TensorProto::FLOAT;
    case ElemType::Int8: return TensorProto::INT8;
    case ElemType::Uint8: return TensorProto::UINT8;
    case ElemType::Int32: return TensorProto::INT32;
    case ElemType::Int64: return TensorProto::INT64;
    }
    return TensorProto::UNDEFINED;
}

const char* elemTypeName(int t) {
    switch (t) {
    case TensorProto::FLOAT: return "float";
    case TensorProto::INT8: return "int8";
    case TensorProto::UINT8: return "uint8";
    case TensorProto::INT32: return "int32";
    case TensorProto::INT64: return "int64";
    default: return "other";
    }
}

void setValueInfo(::onnx::ValueInfoProto* v, const ValueInfo& info) {
    v->set_name(info.name);
    auto* tensor = v->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(TensorProto::FLOAT);
    auto* shape = tensor->mutable_shape();
    for (int64_t d : info.shape) {
        auto* dim = shape->add_dim();
        if (d < 0)
            dim->set_dim_param("N");
        else
            dim->set_dim_value(d);
    }
}

ValueInfo valueInfo(const ::onnx::ValueInfoProto& v) {
    ValueInfo out;
    out.name = v.name();
    if (v.type().has_tensor_type())
        for (const auto& d : v.type().tensor_type().shape().dim())
            out.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    return out;
}

// Checker, then strict shape inference (a node whose shapes do not infer, or an inferred shape
// that contradicts a declared one, throws), then the checker again with the inferred shapes.
void check(::onnx::ModelProto& model) {
    ::onnx::checker::check_model(model);
    ::onnx::ShapeInferenceOptions options{/*check_type=*/true, /*error_mode=*/1, /*enable_data_propagation=*/false};
    ::onnx::shape_inference::InferShapes(model, ::onnx::OpSchemaRegistry::Instance(), options);
    ::onnx::checker::check_model(model);
}

}  // namespace

std::string serializeChecked(const ModelSpec& spec) {
    try {
        ::onnx::ModelProto model;
        model.set_ir_version(7);  // what opset 13 came with
        model.set_producer_name("PTQ Studio");
        model.set_doc_string(spec.docString);
        auto* opset = model.add_opset_import();
        opset->set_domain("");
        opset->set_version(spec.opset);
        for (const auto& [key, value] : spec.metadata) {
            auto* p = model.add_metadata_props();
            p->set_key(key);
            p->set_value(value);
        }
        ::onnx::GraphProto* g = model.mutable_graph();
        g->set_name(spec.graphName);
        for (const ValueInfo& v : spec.inputs) setValueInfo(g->add_input(), v);
        for (const ValueInfo& v : spec.outputs) setValueInfo(g->add_output(), v);
        for (const Tensor& t : spec.initializers) {
            TensorProto* p = g->add_initializer();
            p->set_name(t.name);
            p->set_data_type(elemType(t.type));
            for (int64_t d : t.dims) p->add_dims(d);
            p->set_raw_data(t.bytes);
        }
        for (const NodeSpec& n : spec.nodes) {
            ::onnx::NodeProto* p = g->add_node();
            p->set_op_type(n.op);
            p->set_name(n.name);
            for (const std::string& i : n.inputs) p->add_input(i);
            for (const std::string& o : n.outputs) p->add_output(o);
            for (const Attribute& a : n.attributes) {
                ::onnx::AttributeProto* ap = p->add_attribute();
                ap->set_name(a.name);
                switch (a.kind) {
                case Attribute::Kind::Int:
                    ap->set_type(::onnx::AttributeProto::INT);
                    ap->set_i(a.i);
                    break;
                case Attribute::Kind::Float:
                    ap->set_type(::onnx::AttributeProto::FLOAT);
                    ap->set_f(a.f);
                    break;
                case Attribute::Kind::Ints:
                    ap->set_type(::onnx::AttributeProto::INTS);
                    for (int64_t v : a.ints) ap->add_ints(v);
                    break;
                case Attribute::Kind::String:
                    ap->set_type(::onnx::AttributeProto::STRING);
                    ap->set_s(a.s);
                    break;
                }
            }
        }
        check(model);
        // Write the model as built, not with the inferred value_info (the file stays lean).
        model.mutable_graph()->clear_value_info();
        std::string bytes;
        if (!model.SerializeToString(&bytes)) throw OnnxError("the model could not be serialized");
        return bytes;
    } catch (const OnnxError&) {
        throw;
    } catch (const std::exception& e) {
        throw OnnxError(e.what());
    }
}

FileSummary checkBytes(const std::string& bytes) {
    try {
        ::onnx::ModelProto model;
        if (!model.ParseFromString(bytes)) throw OnnxError("the bytes are not an ONNX model (protobuf parse failed)");
        check(model);
        FileSummary s;
        s.irVersion = model.ir_version();
        for (const auto& o : model.opset_import())
            if (o.domain().empty() || o.domain() == "ai.onnx") s.opset = o.version();
        const auto& g = model.graph();
        for (const auto& n : g.node()) ++s.opCounts[n.op_type()];
        for (const auto& t : g.initializer()) {
            ++s.initializerTypes[elemTypeName(t.data_type())];
            s.initializerBytes += int64_t(t.raw_data().size());
            if ((t.data_type() == TensorProto::INT8 || t.data_type() == TensorProto::UINT8) && !t.raw_data().empty()) {
                int lo = 255, hi = -128;
                for (char c : t.raw_data()) {
                    const int v = t.data_type() == TensorProto::INT8 ? int(static_cast<signed char>(c))
                                                                      : int(static_cast<unsigned char>(c));
                    lo = std::min(lo, v);
                    hi = std::max(hi, v);
                }
                s.integerRanges[t.name()] = {lo, hi};
            }
        }
        for (const auto& v : g.input()) s.inputs.push_back(valueInfo(v));
        for (const auto& v : g.output()) s.outputs.push_back(valueInfo(v));
        for (const auto& p : model.metadata_props()) s.metadata[p.key()] = p.value();
        return s;
    } catch (const OnnxError&) {
        throw;
    } catch (const std::exception& e) {
        throw OnnxError(e.what());
    }
}

}  // namespace ptq::onnx
