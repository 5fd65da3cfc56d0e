// ONNX → IR: the driver (input, names, parameters, the batch check). The folding of what is known
// at import time is onnx_import_fold.cpp, the op table for activations onnx_import_ops.cpp.
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
#include <new>
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

// Helpers shared with onnx_import_fold.cpp and onnx_import_ops.cpp (detail/onnx_import_state.h).

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

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<int64_t> ints(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kLong).contiguous().flatten();
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}


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

namespace {

/// The inputs ONNX's schema requires of @p op (opsets 11 to 17): the ones every reader of a
/// node may count on.
size_t requiredInputs(const std::string& op) {
    static const std::map<std::string, size_t> required = {
        {"Conv", 2}, {"ConvTranspose", 2}, {"Gemm", 2}, {"MatMul", 2}, {"BatchNormalization", 5},
        {"LayerNormalization", 2}, {"InstanceNormalization", 3}, {"PRelu", 2}, {"Add", 2}, {"Sub", 2}, {"Mul", 2},
        {"Div", 2}, {"Pow", 2}, {"Mod", 2}, {"Equal", 2}, {"Less", 2}, {"Greater", 2}, {"LessOrEqual", 2},
        {"GreaterOrEqual", 2}, {"And", 2}, {"Or", 2}, {"Where", 3}, {"Reshape", 2}, {"Expand", 2}, {"Tile", 2},
        {"Gather", 2}, {"Slice", 3}, {"Range", 3}, {"CastLike", 2}, {"QuantizeLinear", 2}, {"DequantizeLinear", 2},
        {"Constant", 0}};
    const auto it = required.find(op);
    return it == required.end() ? 1 : it->second;
}

}  // namespace

void Importer::checkArity() const {
    for (const onnx::ReadNode& n : model.nodes) {
        const size_t want = requiredInputs(n.op);
        for (size_t i = 0; i < want; ++i)
            if (!given(n, i))
                refuse(n, "lacks its input " + std::to_string(i + 1) + " (every " + n.op +
                              " node has it): the file is damaged; export the model again");
        if (n.outputs.empty() || n.outputs[0].empty())
            refuse(n, "has no output: the file is damaged; export the model again");
    }
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
    if (unknown.empty()) {
        checkArity();
        return;
    }
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
    } catch (const std::bad_alloc&) {
        throw invalidInput(path + " claims tensors larger than the free memory, so the file is damaged or the model "
                           "too large for this machine: export it again, or use a machine with more memory.");
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
    } catch (const std::bad_alloc&) {
        throw invalidInput("Importing " + path + " needs more memory than is free (a tensor it computes is that "
                           "large): check the input shape, or export the model again.");
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

OnnxInputLayout onnxInputLayout(const std::string& path) {
    const onnx::ReadModel model = readOnnx(path);
    OnnxInputLayout layout;
    layout.nhwc = onnx_import::takesNhwc(model);
    if (model.inputs.size() == 1 && model.inputs[0].hasShape && !model.inputs[0].dims.empty())
        layout.fixedBatch = model.inputs[0].dims[0];
    return layout;
}

}  // namespace ptq
