// ONNX → IR: the driver (input, names, parameters, the batch check) and the folding of what is
// known at import time. The op table for activations is onnx_import_ops.cpp.
#include "core/graph/onnx_importer.h"

#include "core/graph/detail/onnx_import_state.h"
#include "core/runtime/ops.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>

namespace ptq {

namespace onnx_import {

namespace {

const onnx::ReadAttribute* attr(const onnx::ReadNode& n, const std::string& key) { return n.attribute(key); }

}  // namespace

int64_t attrInt(const onnx::ReadNode& n, const std::string& key, int64_t fallback) {
    const auto* a = attr(n, key);
    return a && a->kind == onnx::ReadAttribute::Kind::Int ? a->i : fallback;
}
double attrFloat(const onnx::ReadNode& n, const std::string& key, double fallback) {
    const auto* a = attr(n, key);
    if (!a) return fallback;
    if (a->kind == onnx::ReadAttribute::Kind::Float) return a->f;
    if (a->kind == onnx::ReadAttribute::Kind::Int) return double(a->i);
    return fallback;
}
std::vector<int64_t> attrInts(const onnx::ReadNode& n, const std::string& key) {
    const auto* a = attr(n, key);
    return a && a->kind == onnx::ReadAttribute::Kind::Ints ? a->ints : std::vector<int64_t>{};
}
std::string attrString(const onnx::ReadNode& n, const std::string& key, const std::string& fallback) {
    const auto* a = attr(n, key);
    return a && a->kind == onnx::ReadAttribute::Kind::String ? a->s : fallback;
}
bool hasAttr(const onnx::ReadNode& n, const std::string& key) { return attr(n, key) != nullptr; }

namespace {

/// An ONNX tensor as an ATen one (its own copy); float16, bfloat16 and double become float.
at::Tensor toTensor(const onnx::ReadTensor& r, const std::string& path) {
    at::ScalarType type;
    switch (r.elemType) {
    case 1: type = at::kFloat; break;
    case 2: type = at::kByte; break;
    case 3: type = at::kChar; break;
    case 5: type = at::kShort; break;
    case 6: type = at::kInt; break;
    case 7: type = at::kLong; break;
    case 9: type = at::kBool; break;
    case 10: type = at::kHalf; break;
    case 11: type = at::kDouble; break;
    case 16: type = at::kBFloat16; break;
    default:
        throw invalidInput("The tensor '" + r.name + "' in " + path + " holds " + onnx::elemTypeName(r.elemType) +
                           " elements, which PTQ Studio does not read.");
    }
    std::vector<int64_t> dims = r.dims;
    at::Tensor t = at::empty(dims, at::TensorOptions().dtype(type));
    if (!r.bytes.empty()) std::memcpy(t.data_ptr(), r.bytes.data(), r.bytes.size());
    if (type == at::kHalf || type == at::kBFloat16 || type == at::kDouble) t = t.to(at::kFloat);
    return t;
}

at::ScalarType castType(int64_t to, const onnx::ReadNode& n, const Importer& im) {
    switch (to) {
    case 1: case 10: case 11: case 16: return at::kFloat;
    case 2: return at::kByte;
    case 3: return at::kChar;
    case 5: return at::kShort;
    case 6: return at::kInt;
    case 7: return at::kLong;
    case 9: return at::kBool;
    default: im.refuse(n, "casts to " + onnx::elemTypeName(int(to)) + ", which PTQ Studio does not hold");
    }
}

int64_t normAxis(int64_t axis, int64_t rank) { return axis < 0 ? axis + rank : axis; }

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<int64_t> ints(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kLong).contiguous().flatten();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

/// ONNX's multidirectional broadcast of two shapes.
std::vector<int64_t> broadcastShape(std::vector<int64_t> a, std::vector<int64_t> b) {
    if (a.size() < b.size()) std::swap(a, b);
    b.insert(b.begin(), a.size() - b.size(), 1);
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i] == 1) a[i] = b[i];
    return a;
}

const std::set<std::string>& foldableOps() {
    static const std::set<std::string> ops = {
        "Constant", "Identity", "Dropout", "Cast", "CastLike", "Shape", "Size", "Gather", "Unsqueeze", "Squeeze",
        "Concat", "Slice", "Reshape", "Transpose", "Flatten", "Expand", "Tile", "ConstantOfShape", "Range", "Add",
        "Sub", "Mul", "Div", "Pow", "Min", "Max", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And",
        "Or", "Not", "Where", "Neg", "Abs", "Sqrt", "Exp", "Log", "Reciprocal", "Floor", "Ceil", "Round", "Relu",
        "Sigmoid", "Tanh", "Erf", "Clip", "Mod", "ReduceProd", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
        "MatMul", "Gemm", "DequantizeLinear", "Softmax", "Split"};
    return ops;
}

}  // namespace

bool isFoldableOp(const std::string& op) { return foldableOps().count(op) != 0; }

const Known& Importer::known(const std::string& name) const {
    auto it = known_.find(name);
    if (it == known_.end()) throw failed("internal: the ONNX import has no constant called '" + name + "'");
    return it->second;
}

const Known& Importer::knownInput(const onnx::ReadNode& n, size_t i, const char* what) const {
    if (!given(n, i)) refuse(n, std::string("has no ") + what);
    if (!isKnown(n.inputs[i]))
        refuse(n, std::string("computes its ") + what + " from the model's input; PTQ Studio needs it fixed in the file");
    return known(n.inputs[i]);
}

int Importer::activation(const std::string& name) const {
    auto it = acts_.find(name);
    if (it == acts_.end()) throw failed("internal: the ONNX import has no activation called '" + name + "'");
    return it->second;
}

long Importer::soleConsumer(const std::string& name) const {
    if (graphOutputs.count(name)) return -1;
    auto it = consumers.find(name);
    if (it == consumers.end() || it->second.size() != 1) return -1;
    return long(it->second.front());
}

std::string Importer::describe(const onnx::ReadNode& n) const {
    return "the " + n.op + " node '" + (n.name.empty() ? "#" + std::to_string(nodeIndex(n)) : n.name) + "'";
}

void Importer::refuse(const onnx::ReadNode& n, const std::string& why) const {
    std::string d = describe(n);
    d[0] = char(std::toupper(static_cast<unsigned char>(d[0])));
    throw invalidInput(d + " of " + path + " " + why + ".");
}

std::string Importer::layerName(const onnx::ReadNode& n) const {
    if (n.name.empty()) return lower(n.op) + "_" + std::to_string(nodeIndex(n));
    if (n.name.find('/') == std::string::npos) return n.name;
    // torch.onnx.export: "/layer1/layer1.0/conv1/Conv" (scopes, then the op); this app's export:
    // "layer1.0.conv1/Conv". The module path grows by each scope that does not already hold the
    // one before it.
    std::vector<std::string> parts;
    std::stringstream ss(n.name[0] == '/' ? n.name.substr(1) : n.name);
    for (std::string p; std::getline(ss, p, '/');)
        if (!p.empty()) parts.push_back(p);
    if (parts.empty()) return lower(n.op) + "_" + std::to_string(nodeIndex(n));
    const std::string last = parts.back();
    parts.pop_back();
    std::string module;
    for (const std::string& p : parts) {
        const size_t dot = module.rfind('.');
        const std::string parent = dot == std::string::npos ? "" : module.substr(0, dot);
        const std::string tail = dot == std::string::npos ? module : module.substr(dot + 1);
        if (!module.empty() && p.rfind(module + ".", 0) == 0) module = p;  // "layer1", "layer1.0"
        else if (!tail.empty() && p.rfind(tail + ".", 0) == 0) module = parent.empty() ? p : parent + "." + p;  // "downsample", "downsample.0"
        else module = module.empty() ? p : module + "." + p;
    }
    static const std::set<std::string> layers = {"Conv", "Gemm", "MatMul", "ConvTranspose", "BatchNormalization",
                                                 "LayerNormalization", "InstanceNormalization"};
    if (module.empty()) return lower(last);
    if (layers.count(n.op)) return module;
    const std::string op = lower(last);
    const std::string tail = module.substr(module.rfind('.') == std::string::npos ? 0 : module.rfind('.') + 1);
    return tail.rfind(op.substr(0, op.find('_')), 0) == 0 ? module : module + "." + op;
}

std::vector<int> Importer::add(OpKind op, const onnx::ReadNode& n, std::vector<int> inputs, Attributes attrs,
                               const std::string& suffix) {
    Node tmp;
    tmp.op = op;
    tmp.name = layerName(n) + suffix;
    tmp.attrs = attrs;
    std::vector<at::Tensor> in;
    for (int id : inputs) in.push_back(probe(id));
    std::vector<at::Tensor> out;
    try {
        out = runOp(tmp, in, 1);
    } catch (const Error& e) {
        throw invalidInput(std::string(e.what()) + " It comes from " + describe(n) + " of " + path +
                           ": check the input shape, or export the model again.");
    }
    std::vector<std::vector<int64_t>> shapes;
    for (const at::Tensor& t : out) shapes.push_back(t.sizes().vec());
    const size_t dot = tmp.name.rfind('.');
    const std::string scope = dot == std::string::npos ? "" : tmp.name.substr(0, dot);
    const int id = g.addNode(op, tmp.name, scope, std::move(inputs), std::move(attrs), shapes);
    probes_.resize(g.values().size());
    const std::vector<int>& outs = g.node(id).outputs;
    for (size_t i = 0; i < outs.size(); ++i) probes_[size_t(outs[i])] = out[i];
    return outs;
}

int Importer::param(const onnx::ReadNode& n, const std::string& role, at::Tensor t, bool learned) {
    if (t.is_floating_point()) t = t.to(at::kFloat);
    t = t.contiguous();
    const std::string base = layerName(n) + "." + role;
    std::string key = base;
    for (int i = 1; keys_.count(key); ++i) key = base + "_" + std::to_string(i);
    keys_.insert(key);
    const int id = g.addParamValue(key, t);
    if (!learned) g.markBuffer(key);
    probes_.resize(g.values().size());
    probes_[size_t(id)] = t;
    return id;
}

void Importer::checkOps() const {
    if (model.opset < 9 || model.opset > 18)
        throw invalidInput(path + " uses ONNX opset " + std::to_string(model.opset) +
                           "; PTQ Studio reads opsets 9 to 18 (torch.onnx.export's opset_version=13 or 17 is safe).");
    std::map<std::string, int> unknown;
    for (const onnx::ReadNode& n : model.nodes) {
        if (!n.domain.empty()) {
            ++unknown[n.op + " (domain " + n.domain + ")"];
            continue;
        }
        if (n.hasSubgraph) {
            ++unknown[n.op + " (with a subgraph)"];
            continue;
        }
        if (!isMappedOp(n.op) && !isFoldableOp(n.op)) ++unknown[n.op];
    }
    if (unknown.empty()) return;
    std::string list;
    for (const auto& [op, count] : unknown)
        list += (list.empty() ? "" : ", ") + op + (count > 1 ? " ×" + std::to_string(count) : "");
    throw invalidInput(path + " uses ONNX operations PTQ Studio cannot import: " + list +
                       ". Export the model without them (a standard-domain opset 11 to 17 export), or report which "
                       "model needs them.");
}

namespace {
/// tf2onnx-style files take NHWC images and transpose them to NCHW first: the input has rank 4
/// and every node that reads it is a Transpose with perm [0, 3, 1, 2].
bool takesNhwc(const onnx::ReadModel& model) {
    if (model.inputs.size() != 1 || !model.inputs[0].hasShape || model.inputs[0].dims.size() != 4) return false;
    int readers = 0;
    for (const onnx::ReadNode& n : model.nodes)
        for (const std::string& i : n.inputs)
            if (i == model.inputs[0].name) {
                if (n.op != "Transpose" || attrInts(n, "perm") != std::vector<int64_t>{0, 3, 1, 2}) return false;
                ++readers;
            }
    return readers > 0;
}
}  // namespace

void Importer::addInput(const std::vector<int64_t>& sampleShape) {
    if (model.inputs.size() != 1) {
        std::string names;
        for (const auto& v : model.inputs) names += (names.empty() ? "'" : ", '") + v.name + "'";
        throw invalidInput(path + " has " + std::to_string(model.inputs.size()) + " inputs" +
                           (names.empty() ? "" : " (" + names + ")") +
                           "; PTQ Studio quantizes models that take one image tensor: export it with a single input.");
    }
    const onnx::ReadValue& in = model.inputs[0];
    if (in.elemType != 1)
        throw invalidInput(path + " takes " + onnx::elemTypeName(in.elemType) + " input ('" + in.name +
                           "'); PTQ Studio quantizes models that take float tensors (images, feature maps).");
    for (auto d : sampleShape)
        if (d <= 0)
            throw invalidInput("The input shape has a dimension of " + std::to_string(d) +
                               "; every dimension must be positive.");
    std::vector<int64_t> sample = sampleShape;
    // An NHWC input transposed to NCHW by its readers: the IR takes NCHW (what data sources give)
    // and the transposes go.
    const bool nhwc = takesNhwc(model);
    if (in.hasShape && !in.dims.empty()) {
        fileBatch = in.dims[0];
        std::vector<int64_t> fileSample(in.dims.begin() + 1, in.dims.end());
        std::vector<std::string> dimNames(in.dimNames.begin() + 1, in.dimNames.end());
        dimNames.resize(fileSample.size());
        if (nhwc) {
            fileSample = {fileSample[2], fileSample[0], fileSample[1]};
            dimNames = {dimNames[2], dimNames[0], dimNames[1]};
        }
        auto text = [](const std::vector<int64_t>& s) {
            std::string t;
            for (int64_t d : s) t += (t.empty() ? "" : ",") + (d < 0 ? std::string("?") : std::to_string(d));
            return t.empty() ? std::string("(none)") : t;
        };
        if (!sampleShape.empty()) {
            bool fits = sampleShape.size() == fileSample.size();
            for (size_t i = 0; fits && i < fileSample.size(); ++i)
                fits = fileSample[i] < 0 || fileSample[i] == sampleShape[i];
            if (!fits)
                throw invalidInput("The input shape " + text(sampleShape) + " does not fit " + path +
                                   ", whose input '" + in.name + "' takes samples of " + text(fileSample) +
                                   ": give that shape, or leave it out.");
        } else {
            std::string dynamic;
            for (size_t i = 0; i < fileSample.size(); ++i)
                if (fileSample[i] < 0)
                    dynamic += (dynamic.empty() ? "" : ", ") +
                               (dimNames[i].empty() ? "#" + std::to_string(i + 1) : "'" + dimNames[i] + "'");
            if (!dynamic.empty())
                throw missingSetting("input shape", "The input '" + in.name + "' of " + path +
                                                        " has dynamic dimensions (" + dynamic +
                                                        ") and no input shape says what one sample is; give it "
                                                        "(channels, height, width), here " + text(fileSample) + ".");
            sample = fileSample;
        }
    } else if (sample.empty()) {
        throw missingSetting("input shape", "No input shape is known for '" + path +
                                                "': the file does not give its input's dimensions and no model card "
                                                "says what one sample is (channels, height, width).");
    }
    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), sample.begin(), sample.end());
    const int id = g.addInput(in.name, shape);
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    // A fixed, varied probe (no random generator is touched): zeros would hide nothing here, but
    // they make ops such as x / x meaningless for the batch-of-two check below.
    probes_.resize(g.values().size());
    probes_[size_t(id)] = at::arange(count, at::kFloat).mul(0.37).sin().reshape(shape);
    setActivation(in.name, id);
    if (nhwc)
        for (size_t i = 0; i < model.nodes.size(); ++i)
            if (std::find(model.nodes[i].inputs.begin(), model.nodes[i].inputs.end(), in.name) != model.nodes[i].inputs.end()) {
                setActivation(model.nodes[i].outputs.at(0), id);
                skipped.insert(i);
            }
}

namespace {

/// The result's tags for an element-wise op: the batch's own tags kept through x·1, x/1, x+0,
/// x−0; anything else computed from the batch is 2.
at::Tensor elementwiseTags(const std::string& op, const std::vector<const Known*>& in, const at::Tensor& result) {
    bool any = false;
    for (const Known* k : in) any = any || (k && k->tags.defined());
    if (!any) return at::Tensor();
    if (in.size() == 2 && in[0] && in[1]) {
        const bool tagged0 = in[0]->tags.defined(), tagged1 = in[1]->tags.defined();
        if (tagged0 != tagged1) {
            const Known& other = tagged0 ? *in[1] : *in[0];
            const double neutral = (op == "Mul" || op == "Div") ? 1.0 : (op == "Add" || op == "Sub") ? 0.0 : NAN;
            const bool otherIsSecond = tagged0;
            if (!std::isnan(neutral) && (otherIsSecond || op == "Add" || op == "Mul") &&
                other.t.numel() > 0 && other.t.to(at::kDouble).eq(neutral).all().item<bool>()) {
                const at::Tensor& tags = tagged0 ? in[0]->tags : in[1]->tags;
                return tags.broadcast_to(result.sizes()).clone();
            }
        }
    }
    at::Tensor t = at::zeros(result.sizes(), at::kChar);
    for (const Known* k : in)
        if (k && k->tags.defined()) t = at::maximum(t, k->tags.broadcast_to(result.sizes()).ne(0).to(at::kChar) * 2);
    return t;
}

at::Tensor tagsOrZeros(const Known& k) { return k.tags.defined() ? k.tags : at::zeros(k.t.sizes(), at::kChar); }

}  // namespace

void Importer::foldConstant(const onnx::ReadNode& n) {
    std::vector<const Known*> in;
    for (size_t i = 0; i < n.inputs.size(); ++i) in.push_back(given(n, i) ? &known(n.inputs[i]) : nullptr);
    auto input = [&](size_t i) -> const at::Tensor& {
        if (i >= in.size() || !in[i]) refuse(n, "misses input " + std::to_string(i + 1));
        return in[i]->t;
    };
    bool anyTags = false;
    for (const Known* k : in) anyTags = anyTags || (k && k->tags.defined());
    // Ops that move elements: the same op on the tags keeps them with their elements.
    auto structural = [&](const std::function<at::Tensor(const at::Tensor&, size_t)>& f) {
        Known out;
        out.t = f(input(0), 0);
        if (anyTags) out.tags = f(tagsOrZeros(*in[0]), 0);
        setKnown(n.outputs.at(0), std::move(out));
    };
    auto axesOf = [&](size_t inputIndex) {
        if (hasAttr(n, "axes")) return attrInts(n, "axes");
        if (given(n, inputIndex)) return ints(input(inputIndex));
        return std::vector<int64_t>{};
    };
    const std::string& op = n.op;
    const int64_t rank0 = in.empty() || !in[0] ? 0 : in[0]->t.dim();
    if (op == "Constant") {
        Known k;
        if (const auto* a = n.attribute("value"); a && a->kind == onnx::ReadAttribute::Kind::Tensor) k.t = toTensor(a->t, path);
        else if (const auto* f = n.attribute("value_float")) k.t = at::scalar_tensor(f->f, at::kFloat);
        else if (const auto* fs = n.attribute("value_floats")) k.t = at::tensor(fs->floats, at::kFloat);
        else if (const auto* i = n.attribute("value_int")) k.t = at::scalar_tensor(i->i, at::kLong);
        else if (const auto* is = n.attribute("value_ints")) k.t = at::tensor(is->ints, at::kLong);
        else refuse(n, "holds a kind of constant PTQ Studio does not read (sparse or string)");
        setKnown(n.outputs.at(0), std::move(k));
        return;
    }
    if (op == "Identity" || op == "Dropout") return setKnown(n.outputs.at(0), *in.at(0));
    if (op == "Cast" || op == "CastLike") {
        const at::ScalarType type = op == "Cast" ? castType(attrInt(n, "to", 1), n, *this) : input(1).scalar_type();
        Known k{input(0).to(type), in[0]->tags};
        return setKnown(n.outputs.at(0), std::move(k));
    }
    if (op == "Shape") {
        std::vector<int64_t> s = input(0).sizes().vec();
        const int64_t r = int64_t(s.size());
        int64_t start = normAxis(attrInt(n, "start", 0), r), end = hasAttr(n, "end") ? normAxis(attrInt(n, "end", r), r) : r;
        start = std::clamp<int64_t>(start, 0, r), end = std::clamp<int64_t>(end, start, r);
        return setKnown(n.outputs.at(0), Known{at::tensor(std::vector<int64_t>(s.begin() + start, s.begin() + end), at::kLong), {}});
    }
    if (op == "Size") return setKnown(n.outputs.at(0), Known{at::scalar_tensor(input(0).numel(), at::kLong), {}});
    if (op == "Gather") {
        const at::Tensor idxRaw = input(1).to(at::kLong);
        if (in[1]->tags.defined()) refuse(n, "indexes by the batch size");
        const int64_t axis = normAxis(attrInt(n, "axis", 0), rank0);
        return structural([&](const at::Tensor& x, size_t) {
            const at::Tensor idx = at::where(idxRaw < 0, idxRaw + x.size(axis), idxRaw);
            std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
            for (int64_t d : idx.sizes()) shape.push_back(d);
            shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
            return x.index_select(axis, idx.flatten()).reshape(shape);
        });
    }
    if (op == "Unsqueeze") {
        std::vector<int64_t> axes = axesOf(1);
        const int64_t outRank = rank0 + int64_t(axes.size());
        for (auto& a : axes) a = normAxis(a, outRank);
        std::sort(axes.begin(), axes.end());
        return structural([&](const at::Tensor& x, size_t) {
            at::Tensor y = x;
            for (int64_t a : axes) y = y.unsqueeze(a);
            return y;
        });
    }
    if (op == "Squeeze") {
        std::vector<int64_t> axes = axesOf(1);
        for (auto& a : axes) a = normAxis(a, rank0);
        if (axes.empty())
            for (int64_t d = 0; d < rank0; ++d)
                if (input(0).size(d) == 1) axes.push_back(d);
        std::sort(axes.rbegin(), axes.rend());
        return structural([&](const at::Tensor& x, size_t) {
            at::Tensor y = x;
            for (int64_t a : axes) y = y.squeeze(a);
            return y;
        });
    }
    if (op == "Concat") {
        std::vector<at::Tensor> parts, tags;
        for (size_t i = 0; i < in.size(); ++i) {
            parts.push_back(input(i));
            tags.push_back(tagsOrZeros(*in[i]));
        }
        const int64_t axis = normAxis(attrInt(n, "axis", 0), rank0);
        return setKnown(n.outputs.at(0), Known{at::cat(parts, axis), anyTags ? at::cat(tags, axis) : at::Tensor()});
    }
    if (op == "Slice") {
        std::vector<int64_t> starts, ends, axes, steps;
        if (hasAttr(n, "starts")) {
            starts = attrInts(n, "starts"), ends = attrInts(n, "ends"), axes = attrInts(n, "axes");
        } else {
            starts = ints(input(1)), ends = ints(input(2));
            if (given(n, 3)) axes = ints(input(3));
            if (given(n, 4)) steps = ints(input(4));
        }
        if (axes.empty())
            for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
        steps.resize(starts.size(), 1);
        return structural([&](const at::Tensor& x, size_t) {
            at::Tensor y = x;
            for (size_t i = 0; i < starts.size(); ++i) {
                const int64_t a = normAxis(axes[i], x.dim()), size = x.size(a);
                if (steps[i] < 0) {  // what at::slice does not take: a reversed range
                    int64_t s = starts[i] < 0 ? starts[i] + size : std::min(starts[i], size - 1);
                    int64_t e = ends[i] < -size ? -1 : ends[i] < 0 ? ends[i] + size : std::min(ends[i], size);
                    std::vector<int64_t> idx;
                    for (int64_t k = s; k > e; k += steps[i]) idx.push_back(k);
                    y = y.index_select(a, at::tensor(idx, at::kLong));
                } else {
                    y = y.slice(a, starts[i], ends[i], steps[i]);
                }
            }
            return y;
        });
    }
    if (op == "Reshape") {
        if (in.at(1)->tags.defined()) refuse(n, "reshapes a constant to a shape made from the batch size");
        std::vector<int64_t> shape = ints(input(1));
        for (size_t i = 0; i < shape.size(); ++i)
            if (shape[i] == 0 && !attrInt(n, "allowzero", 0)) shape[i] = input(0).size(int64_t(i));
        return structural([&](const at::Tensor& x, size_t) { return x.reshape(shape); });
    }
    if (op == "Transpose") {
        std::vector<int64_t> perm = attrInts(n, "perm");
        if (perm.empty())
            for (int64_t d = rank0 - 1; d >= 0; --d) perm.push_back(d);
        return structural([&](const at::Tensor& x, size_t) { return x.permute(perm).contiguous(); });
    }
    if (op == "Flatten") {
        const int64_t axis = normAxis(attrInt(n, "axis", 1), rank0);
        return structural([&](const at::Tensor& x, size_t) {
            int64_t outer = 1;
            for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
            return x.reshape({outer, -1});
        });
    }
    if (op == "Expand" || op == "Tile") {
        if (in.at(1)->tags.defined()) refuse(n, "repeats a value by the batch size in a way PTQ Studio cannot follow");
        const std::vector<int64_t> sizes = ints(input(1));
        return structural([&](const at::Tensor& x, size_t) {
            if (op == "Tile") return x.repeat(sizes);
            return x.broadcast_to(broadcastShape(x.sizes().vec(), sizes)).contiguous();
        });
    }
    if (op == "ConstantOfShape") {
        if (in.at(0)->tags.defined())
            refuse(n, "makes a tensor shaped by the batch size, which PTQ Studio's graph cannot hold");
        at::Tensor value = at::zeros({1}, at::kFloat);
        if (const auto* a = n.attribute("value"); a && a->kind == onnx::ReadAttribute::Kind::Tensor) value = toTensor(a->t, path);
        return setKnown(n.outputs.at(0), Known{value.flatten()[0].expand(ints(input(0))).contiguous(), {}});
    }
    if (op == "Range") {
        Known k{at::arange(input(0).item(), input(1).item(), input(2).item(), at::TensorOptions().dtype(input(0).scalar_type())), {}};
        if (anyTags) k.tags = at::full(k.t.sizes(), 2, at::kChar);
        return setKnown(n.outputs.at(0), std::move(k));
    }
    if (op == "Split") {
        const int64_t axis = normAxis(attrInt(n, "axis", 0), rank0);
        std::vector<int64_t> sizes = hasAttr(n, "split") ? attrInts(n, "split") : given(n, 1) ? ints(input(1)) : std::vector<int64_t>{};
        if (sizes.empty()) {
            const int64_t parts = int64_t(n.outputs.size()), total = input(0).size(axis);
            for (int64_t i = 0; i < parts; ++i) sizes.push_back(total / parts + (i < total % parts ? 1 : 0));
        }
        const auto outs = input(0).split_with_sizes(sizes, axis);
        std::vector<at::Tensor> tagOuts;
        if (anyTags) tagOuts = in[0]->tags.split_with_sizes(sizes, axis);
        for (size_t i = 0; i < n.outputs.size() && i < outs.size(); ++i)
            setKnown(n.outputs[i], Known{outs[i].contiguous(), anyTags ? tagOuts[i].contiguous() : at::Tensor()});
        return;
    }
    // Arithmetic: what follows from tagged elements is 2 (see elementwiseTags).
    at::Tensor r;
    auto reduceAxes = [&]() {
        std::vector<int64_t> axes = axesOf(1);
        if (axes.empty())
            for (int64_t d = 0; d < rank0; ++d) axes.push_back(d);
        for (auto& a : axes) a = normAxis(a, rank0);
        return axes;
    };
    const bool keep = attrInt(n, "keepdims", 1) != 0;
    const bool integral = !in.empty() && in[0] && !in[0]->t.is_floating_point();
    if (op == "Add") r = input(0) + input(1);
    else if (op == "Sub") r = input(0) - input(1);
    else if (op == "Mul") r = input(0) * input(1);
    else if (op == "Div") r = integral ? at::div(input(0), input(1), "trunc") : input(0) / input(1);
    else if (op == "Mod") r = attrInt(n, "fmod", 0) ? at::fmod(input(0), input(1)) : at::remainder(input(0), input(1));
    else if (op == "Pow") r = at::pow(input(0), input(1)).to(input(0).scalar_type());
    else if (op == "Min" || op == "Max") {
        r = input(0);
        for (size_t i = 1; i < in.size(); ++i) r = op == "Min" ? at::minimum(r, input(i)) : at::maximum(r, input(i));
    } else if (op == "Equal") r = at::eq(input(0), input(1));
    else if (op == "Less") r = at::lt(input(0), input(1));
    else if (op == "Greater") r = at::gt(input(0), input(1));
    else if (op == "LessOrEqual") r = at::le(input(0), input(1));
    else if (op == "GreaterOrEqual") r = at::ge(input(0), input(1));
    else if (op == "And") r = at::logical_and(input(0), input(1));
    else if (op == "Or") r = at::logical_or(input(0), input(1));
    else if (op == "Not") r = at::logical_not(input(0));
    else if (op == "Where") r = at::where(input(0).to(at::kBool), input(1), input(2));
    else if (op == "Neg") r = -input(0);
    else if (op == "Abs") r = input(0).abs();
    else if (op == "Sqrt") r = input(0).sqrt();
    else if (op == "Exp") r = input(0).exp();
    else if (op == "Log") r = input(0).log();
    else if (op == "Reciprocal") r = input(0).reciprocal();
    else if (op == "Floor") r = input(0).floor();
    else if (op == "Ceil") r = input(0).ceil();
    else if (op == "Round") r = input(0).round();
    else if (op == "Relu") r = input(0).relu();
    else if (op == "Sigmoid") r = input(0).sigmoid();
    else if (op == "Tanh") r = input(0).tanh();
    else if (op == "Erf") r = input(0).erf();
    else if (op == "Softmax") r = input(0).softmax(normAxis(attrInt(n, "axis", -1), rank0));
    else if (op == "Clip") {
        r = input(0);
        const double lo = given(n, 1) ? input(1).item<double>() : attrFloat(n, "min", -INFINITY);
        const double hi = given(n, 2) ? input(2).item<double>() : attrFloat(n, "max", INFINITY);
        r = at::clamp(r, std::isinf(lo) ? c10::optional<at::Scalar>() : at::Scalar(lo),
                      std::isinf(hi) ? c10::optional<at::Scalar>() : at::Scalar(hi));
    } else if (op == "ReduceProd" || op == "ReduceSum" || op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin") {
        r = input(0);
        std::vector<int64_t> axes = reduceAxes();
        std::sort(axes.rbegin(), axes.rend());
        for (int64_t a : axes) {
            if (op == "ReduceProd") r = r.prod(a, keep);
            else if (op == "ReduceSum") r = r.sum(a, keep, r.scalar_type());
            else if (op == "ReduceMean") r = r.mean(a, keep);
            else if (op == "ReduceMax") r = std::get<0>(r.max(a, keep));
            else r = std::get<0>(r.min(a, keep));
        }
    } else if (op == "MatMul") r = at::matmul(input(0), input(1));
    else if (op == "Gemm") {
        const at::Tensor a = attrInt(n, "transA", 0) ? input(0).t() : input(0);
        const at::Tensor b = attrInt(n, "transB", 0) ? input(1).t() : input(1);
        r = at::mm(a, b) * attrFloat(n, "alpha", 1.0);
        if (given(n, 2)) r = r + input(2) * attrFloat(n, "beta", 1.0);
    } else if (op == "DequantizeLinear") {
        at::Tensor x = input(0).to(at::kFloat), scale = input(1).to(at::kFloat);
        at::Tensor zp = given(n, 2) ? input(2).to(at::kFloat) : at::zeros_like(scale);
        if (scale.dim() == 1 && x.dim() > 0) {
            std::vector<int64_t> shape(size_t(x.dim()), 1);
            shape[size_t(normAxis(attrInt(n, "axis", 1), x.dim()))] = scale.size(0);
            scale = scale.reshape(shape), zp = zp.reshape(shape);
        }
        r = (x - zp) * scale;
    } else {
        refuse(n, "computes from constants only, in a way PTQ Studio does not fold");
    }
    setKnown(n.outputs.at(0), Known{r.contiguous(), elementwiseTags(op, in, r)});
}

void Importer::checkBatchOfTwo() const {
    // Everything above ran at a batch of one. A reshape that holds the exported batch as a
    // number, not as the batch (kBatchDim), shows here, where the batch is two.
    std::vector<at::Tensor> values(g.values().size());
    for (const Value& v : g.values())
        if (!v.param.empty()) values[size_t(v.id)] = probe(v.id);
    const at::Tensor& x = probe(g.inputValue());
    values[size_t(g.inputValue())] = at::cat({x, x.flip(-1)});
    const std::string advice = "PTQ Studio runs models at any batch size: export it with a dynamic batch axis "
                               "(torch.onnx.export(..., dynamic_axes={'input': {0: 'batch'}})) and import it again.";
    for (const Node& n : g.nodes()) {
        std::vector<at::Tensor> in;
        for (int id : n.inputs) in.push_back(values[size_t(id)]);
        std::vector<at::Tensor> out;
        try {
            out = runOp(n, in, 2);
        } catch (const Error&) {
            throw invalidInput("The operation '" + n.name + "' of " + path +
                               " works only at the batch size the file was exported with. " + advice);
        }
        for (size_t i = 0; i < out.size(); ++i) {
            // The batch may move (attention permutes [N, T, 3, H, D] to [3, N, H, T, D]) but stays
            // one dimension of its own: exactly one dimension of size 1 at a batch of one is 2 here.
            // The model's outputs keep it first.
            const std::vector<int64_t>& one = g.value(n.outputs[i]).shape;
            const std::vector<int64_t> two = out[i].sizes().vec();
            int grown = 0, axis = -1;
            bool other = two.size() != one.size();
            for (size_t d = 0; !other && d < one.size(); ++d)
                if (one[d] == 1 && two[d] == 2) ++grown, axis = int(d);
                else if (one[d] != two[d]) other = true;
            const bool isOutput = std::find(g.outputValues().begin(), g.outputValues().end(), n.outputs[i]) !=
                                  g.outputValues().end();
            if (other || grown != 1 || (isOutput && axis != 0))
                throw invalidInput("The operation '" + n.name + "' of " + path +
                                   (isOutput && !other && grown == 1
                                        ? " gives the model's output with the batch in dimension " + std::to_string(axis) +
                                              ", not the first. "
                                        : " does not keep the batch as a dimension of its own at a batch of two. ") +
                                   advice);
            values[size_t(n.outputs[i])] = out[i];
        }
    }
}

Graph Importer::run(const std::vector<int64_t>& sampleShape) {
    checkOps();
    for (size_t i = 0; i < model.nodes.size(); ++i)
        for (const std::string& name : model.nodes[i].inputs)
            if (!name.empty()) consumers[name].push_back(i);
    for (const auto& o : model.outputs) graphOutputs.insert(o.name);
    for (const onnx::ReadTensor& t : model.initializers) setKnown(t.name, Known{toTensor(t, path), {}});
    addInput(sampleShape);
    // Constant nodes first: the patterns in fuse() look ahead at constants a later node makes.
    for (size_t i = 0; i < model.nodes.size(); ++i)
        if (model.nodes[i].op == "Constant" && model.nodes[i].inputs.empty()) {
            foldConstant(model.nodes[i]);
            skipped.insert(i);
        }
    for (size_t i = 0; i < model.nodes.size(); ++i) {
        if (skipped.count(i)) continue;
        const onnx::ReadNode& n = model.nodes[i];
        for (const std::string& name : n.inputs)
            if (!name.empty() && !isKnown(name) && !isActivation(name))
                throw invalidInput(path + " is damaged: " + describe(n) + " reads '" + name +
                                   "', which no earlier node makes (the nodes must be in order). Export the model again.");
        if (fuse(*this, i)) continue;
        bool activationIn = false;
        for (const std::string& name : n.inputs) activationIn = activationIn || (!name.empty() && isActivation(name));
        const bool batchExpand = n.op == "Expand" && given(n, 1) && isKnown(n.inputs[1]) && known(n.inputs[1]).fromBatch();
        if (activationIn || batchExpand) {
            if (!isMappedOp(n.op)) refuse(n, "has no mapping to PTQ Studio's graph on the model's activations");
            convertNode(*this, n);
        } else {
            foldConstant(n);
        }
    }
    std::vector<int> outputs;
    for (const auto& o : model.outputs) {
        if (!isActivation(o.name))
            throw invalidInput("The output '" + o.name + "' of " + path +
                               " does not depend on the input: PTQ Studio quantizes models whose outputs are computed "
                               "from their input.");
        outputs.push_back(activation(o.name));
    }
    if (outputs.empty()) throw invalidInput(path + " has no outputs: export the model again.");
    g.setOutputs(outputs);
    if (g.nodes().empty()) throw invalidInput(path + " has no operations on its input.");
    checkBatchOfTwo();
    g.uniquifyNames();
    return std::move(g);
}

}  // namespace onnx_import

bool isOnnxPath(const std::string& path) {
    const std::string ext = std::filesystem::path(path).extension().string();
    std::string l;
    for (char c : ext) l += char(std::tolower(static_cast<unsigned char>(c)));
    return l == ".onnx";
}

namespace {

onnx::ReadModel readOnnx(const std::string& path) {
    try {
        return onnx::readModelFile(path);
    } catch (const onnx::OnnxError& e) {
        throw invalidInput(e.what());
    }
}

}  // namespace

Graph importOnnx(const std::string& path, const std::vector<int64_t>& sampleShape) {
    const auto start = std::chrono::steady_clock::now();
    const onnx::ReadModel model = readOnnx(path);
    c10::InferenceMode inference;
    Graph g;
    try {
        g = onnx_import::Importer(model, path).run(sampleShape);
    } catch (const Error&) {
        throw;
    } catch (const c10::Error& e) {
        logger()->debug("ONNX import of {}: {}", path, e.what_without_backtrace());
        throw invalidInput("Importing " + path + " failed inside the tensor library (its shapes or types do not fit "
                           "together): check the input shape, or export the model again.");
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    logger()->info("Imported {} (ONNX opset {}, {}): {} nodes, {} parameters in {:.0f} ms", path, model.opset,
                   model.producer, g.nodes().size(), g.parameterCount(), ms);
    return g;
}

std::vector<int64_t> onnxInputShape(const std::string& path) {
    const onnx::ReadModel model = readOnnx(path);
    if (model.inputs.size() != 1 || !model.inputs[0].hasShape || model.inputs[0].dims.size() < 2) return {};
    std::vector<int64_t> s(model.inputs[0].dims.begin() + 1, model.inputs[0].dims.end());
    for (int64_t d : s)
        if (d <= 0) return {};
    if (onnx_import::takesNhwc(model)) s = {s[2], s[0], s[1]};
    return s;
}

bool onnxTakesNhwc(const std::string& path) { return onnx_import::takesNhwc(readOnnx(path)); }

int64_t onnxFixedBatch(const std::string& path) {
    const onnx::ReadModel model = readOnnx(path);
    if (model.inputs.size() != 1 || !model.inputs[0].hasShape || model.inputs[0].dims.empty()) return -1;
    return model.inputs[0].dims[0];
}

}  // namespace ptq
