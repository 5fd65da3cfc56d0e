#include "core/io/quant_config_file.h"

#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/quant/multipoint.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/file_hash.h"

#include <ATen/ATen.h>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ptq {

struct ImportedConfig::Layer {
    at::Tensor weight;  ///< what the layer runs with (dequantized sum of its terms, or float)
    at::Tensor bias;    ///< undefined when the file gives none
    QuantParams weightParams, activationParams;
    bool activationOnly = false;     ///< an attention matmul: no weight, two activation quantizers
    QuantParams secondActivationParams;  ///< its input 1
};

namespace {

constexpr int kVersion = 1;
const char* kFormat = "ptq-config";

QString q(const std::string& s) { return QString::fromStdString(s); }

QJsonArray floats(const std::vector<float>& v) {
    QJsonArray a;
    for (float x : v) a.append(double(x));
    return a;
}
QJsonArray ints(const std::vector<int32_t>& v) {
    QJsonArray a;
    for (int32_t x : v) a.append(x);
    return a;
}
QJsonArray tensorFloats(const at::Tensor& t) {
    const at::Tensor c = t.detach().to(at::kFloat).contiguous();
    return floats(std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()));
}

/// Integer weights as little-endian bytes, base64: int8 up to 8 bits, int16 for 16.
QString intPayload(const at::Tensor& q, int bits) {
    const at::Tensor c = q.to(bits <= 8 ? at::kChar : at::kShort).contiguous();
    return QString::fromLatin1(
        QByteArray(static_cast<const char*>(c.data_ptr()), qsizetype(c.numel() * c.element_size())).toBase64());
}

QJsonObject termJson(const QuantParams& p, const at::Tensor& q, int bits) {
    QJsonObject t{{"scale", floats(p.scale)}, {"zero_point", ints(p.zeroPoint)}, {"int", intPayload(q, bits)}};
    if (!p.shift.empty()) t["shift"] = ints(p.shift);
    return t;
}

/// The integer terms of a layer's weight: one for plain quantization, one per point for
/// multipoint (channels past their point count hold zeros), each with its params.
QJsonArray weightTerms(const QuantizedModel& model, const std::string& layer, const at::Tensor& floatWeight) {
    const QuantSpec& spec = model.weightSpec(layer);
    const at::Tensor& run = model.runWeight(layer);
    QJsonArray terms;
    const std::vector<QuantParams>& points = model.weightPointParams(layer);
    if (points.empty()) {
        const QuantParams& p = model.weightParams(layer);
        terms.append(termJson(p, quantizeToInt(run, spec, p), spec.bits));
        return terms;
    }
    const std::vector<int>& counts = model.weightPointsPerChannel(layer);
    std::vector<int64_t> maskShape(size_t(floatWeight.dim()), 1);
    maskShape[0] = floatWeight.size(0);
    const at::Tensor count = at::tensor(std::vector<int64_t>(counts.begin(), counts.end()), at::kLong).view(maskShape);
    at::Tensor residual = floatWeight, sum = at::zeros_like(floatWeight);
    for (size_t k = 0; k < points.size(); ++k) {
        const at::Tensor used = count > int64_t(k);
        const at::Tensor qk = at::where(used, quantizeToInt(residual, spec, points[k]), at::zeros({}, at::kInt));
        const at::Tensor deq = at::where(used, dequantize(qk, spec, points[k]), at::zeros({}, floatWeight.options()));
        sum = sum + deq;
        residual = floatWeight - sum;
        terms.append(termJson(points[k], qk, spec.bits));
    }
    if (!at::allclose(sum, run, 1e-6, 1e-7))
        throw failed("internal: the multipoint terms of layer '" + layer + "' do not add up to its weight");
    return terms;
}

/// Errors that name the file and the JSON path of the offending value.
struct Reader {
    std::string file;
    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw invalidInput("The configuration " + file + " is not usable: " + where + " " + what +
                           ". Export it again with `ptq export --format json`, or fix that entry.");
    }
    QJsonValue member(const QJsonObject& o, const std::string& where, const char* key) const {
        if (!o.contains(key)) fail(where + "." + key, "is missing");
        return o[key];
    }
    double number(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isDouble() || !std::isfinite(v.toDouble())) fail(where + "." + key, "is not a number");
        return v.toDouble();
    }
    int integer(const QJsonObject& o, const std::string& where, const char* key) const {
        const double v = number(o, where, key);
        if (v != std::floor(v) || std::abs(v) > 1e9) fail(where + "." + key, "is not a whole number");
        return int(v);
    }
    std::string string(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isString()) fail(where + "." + key, "is not a string");
        return v.toString().toStdString();
    }
    QJsonArray array(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isArray()) fail(where + "." + key, "is not an array");
        return v.toArray();
    }
    QJsonObject object(const QJsonValue& v, const std::string& where) const {
        if (!v.isObject()) fail(where, "is not an object");
        return v.toObject();
    }
    std::vector<double> numberList(const QJsonObject& o, const std::string& where, const char* key, size_t n) const {
        const QJsonArray a = array(o, where, key);
        if (size_t(a.size()) != n)
            fail(where + "." + key, "has " + std::to_string(a.size()) + " entries where " + std::to_string(n) +
                                        " are needed");
        std::vector<double> out;
        for (int i = 0; i < a.size(); ++i) {
            if (!a[i].isDouble() || !std::isfinite(a[i].toDouble()))
                fail(where + "." + key + "[" + std::to_string(i) + "]", "is not a finite number");
            out.push_back(a[i].toDouble());
        }
        return out;
    }
    std::vector<float> floatList(const QJsonObject& o, const std::string& where, const char* key, size_t n) const {
        std::vector<float> out;
        for (double v : numberList(o, where, key, n)) {
            if (std::abs(v) > double(std::numeric_limits<float>::max()))
                fail(where + "." + key, "holds " + QString::number(v, 'g', 6).toStdString() + ", beyond a 32-bit float");
            out.push_back(float(v));
        }
        return out;
    }
    std::vector<int32_t> intList(const QJsonObject& o, const std::string& where, const char* key, size_t n) const {
        std::vector<int32_t> out;
        for (double v : numberList(o, where, key, n)) {
            if (v != std::floor(v)) fail(where + "." + key, "holds a value that is not a whole number");
            if (std::abs(v) > 1e9) fail(where + "." + key, "holds " + QString::number(v, 'g', 6).toStdString() + ", out of range");
            out.push_back(int32_t(v));
        }
        return out;
    }
};

void checkBits(const Reader& r, const std::string& where, int bits) {
    if (bits == 32) return;
    try {
        validateQuantSpec(QuantSpec::weights(bits));
    } catch (const Error&) {
        r.fail(where, "is " + std::to_string(bits) + "; bit-widths are 2 to 8, 16, or 32 for float");
    }
}

/// The activation quantizer @p key of layer entry @p l (scale and zero point on the grid of @p bits).
QuantParams readActivation(const Reader& r, const QJsonObject& l, const std::string& where, const char* key, int bits) {
    const std::string at = where + "." + key;
    const QJsonObject a = r.object(l[key], at);
    const double scale = r.number(a, at, "scale");
    if (!(std::abs(scale) <= double(std::numeric_limits<float>::max()) && float(scale) > 0.f))  // nor 0 once a float
        r.fail(at + ".scale", "is not a positive number a 32-bit float holds");
    QuantParams p;
    p.scale = {float(scale)};
    p.zeroPoint = {r.integer(a, at, "zero_point")};
    const QuantSpec aSpec = QuantSpec::activations(bits);
    if (p.zeroPoint[0] < gridMin(aSpec) || p.zeroPoint[0] > gridMax(aSpec)) r.fail(at + ".zero_point", "is outside the activation grid");
    return p;
}

}  // namespace

void writeQuantConfig(const std::string& path, const QuantizedModel& model, const ConfigProvenance& prov) {
    const at::NoGradGuard noGrad;
    const Graph& g = model.graph();
    QJsonObject root;
    root["format"] = kFormat;
    root["version"] = kVersion;
    root["model"] = QJsonObject{{"file", QFileInfo(q(prov.modelPath)).fileName()},
                                {"path", q(prov.modelPath)},
                                {"sha256", q(fileSha256(prov.modelPath))}};
    QJsonObject made{{"pipeline", q(prov.pipeline)},
                     {"calibration", q(prov.calibration)},
                     {"seed", QString::number(prov.seed)},
                     {"weight_range", rangeMethodName(model.config().weightMethod)},
                     {"activation_range", rangeMethodName(model.config().activationMethod)}};
    if (!prov.allocation.empty()) made["allocation"] = q(prov.allocation);
    root["provenance"] = made;
    QJsonObject metrics;
    if (!prov.evaluation.empty()) metrics["evaluation"] = q(prov.evaluation);
    if (prov.fp32Top1) metrics["fp32_top1"] = *prov.fp32Top1;
    if (prov.quantTop1) metrics["quant_top1"] = *prov.quantTop1;
    if (prov.predictedTop1) metrics["predicted_top1"] = *prov.predictedTop1;
    root["metrics"] = metrics;

    QJsonArray layers;
    const auto activationJson = [](const QuantParams& a) {
        return QJsonObject{{"scale", double(a.scale.at(0))}, {"zero_point", a.zeroPoint.at(0)}};
    };
    for (int id : g.allocationNodes()) {
        const Node& n = g.node(id);
        const LayerQuant& c = model.config().layer(n.name);
        if (g.isActivationMatMul(n)) {  // no weight: the quantizers of its two inputs
            QJsonObject l{{"name", q(n.name)}, {"op", q(displayOp(n))}, {"a_bits", c.activationBits}};
            l["activation"] = c.activationBits < 32 ? QJsonValue(activationJson(model.activationParams(n.name, 0))) : QJsonValue();
            l["second_activation"] =
                c.activationBits < 32 ? QJsonValue(activationJson(model.activationParams(n.name, 1))) : QJsonValue();
            layers.append(l);
            continue;
        }
        const std::string weightKey = g.paramOf(n, 1);
        const at::Tensor& floatWeight = model.floatParam(weightKey);
        const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(n);
        QJsonObject l{{"name", q(n.name)},
                      {"op", q(displayOp(n))},
                      {"weight_key", q(fold ? fold->weightKey : weightKey)},
                      {"w_bits", c.weightBits},
                      {"a_bits", c.activationBits},
                      {"granularity", granularityName(c.granularity)},
                      {"points", c.weightPoints}};
        if (fold) l["folded_batchnorm"] = q(fold->batchNorm);
        QJsonArray shape;
        for (int64_t d : floatWeight.sizes()) shape.append(qint64(d));
        QJsonObject weight{{"shape", shape}};
        if (c.weightBits < 32) {
            weight["dtype"] = c.weightBits <= 8 ? "int8" : "int16";
            weight["terms"] = weightTerms(model, n.name, floatWeight);
            if (c.weightPoints > 1) {
                QJsonArray per;
                for (int p : model.weightPointsPerChannel(n.name)) per.append(p);
                weight["points_per_channel"] = per;
            }
        } else {
            weight["dtype"] = "float32";
            weight["values"] = tensorFloats(floatWeight);
        }
        l["weight"] = weight;
        l["bias"] = n.inputs.size() > 2 ? QJsonValue(tensorFloats(model.floatParam(g.paramOf(n, 2)))) : QJsonValue();
        if (c.activationBits < 32) {
            l["activation"] = activationJson(model.activationParams(n.name));
        } else {
            l["activation"] = QJsonValue();
        }
        layers.append(l);
    }
    root["layers"] = layers;

    QSaveFile file(q(path));
    const QByteArray bytes = QJsonDocument(root).toJson(QJsonDocument::Indented);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        throw failed("Could not write " + path + ": " + file.errorString().toStdString() + ".");
}

ImportedConfig readQuantConfig(const std::string& path, const Graph& graph) {
    const Reader r{path};
    QFile file(q(path));
    if (!file.open(QIODevice::ReadOnly)) throw invalidInput("Cannot read the configuration " + path + ": check the path.");
    QJsonParseError perr;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &perr);
    if (perr.error != QJsonParseError::NoError)
        throw invalidInput("The configuration " + path + " is not valid JSON (" + perr.errorString().toStdString() +
                           " at byte " + std::to_string(perr.offset) + "); export it again.");
    if (!doc.isObject()) r.fail("(top level)", "is not an object");
    const QJsonObject root = doc.object();
    if (r.string(root, "", "format") != kFormat) r.fail("format", "is not \"ptq-config\"");
    const int version = r.integer(root, "", "version");
    if (version != kVersion)
        r.fail("version", "is " + std::to_string(version) + "; this PTQ Studio reads version " +
                              std::to_string(kVersion));
    ImportedConfig out;
    const QJsonObject model = r.object(root["model"], "model");
    out.modelFile = r.string(model, "model", "file");
    out.modelSha256 = r.string(model, "model", "sha256");
    const QJsonObject made = r.object(root["provenance"], "provenance");
    out.provenance.pipeline = made["pipeline"].toString().toStdString();
    out.provenance.calibration = made["calibration"].toString().toStdString();
    out.provenance.allocation = made["allocation"].toString().toStdString();
    out.provenance.seed = made["seed"].toString().toULongLong();
    if (made.contains("weight_range"))
        out.config.weightMethod = rangeMethodFromString(r.string(made, "provenance", "weight_range"));
    if (made.contains("activation_range"))
        out.config.activationMethod = rangeMethodFromString(r.string(made, "provenance", "activation_range"));
    const QJsonObject metrics = root["metrics"].toObject();
    out.provenance.evaluation = metrics["evaluation"].toString().toStdString();
    if (metrics.contains("fp32_top1")) out.provenance.fp32Top1 = metrics["fp32_top1"].toDouble();
    if (metrics.contains("quant_top1")) out.provenance.quantTop1 = metrics["quant_top1"].toDouble();
    if (metrics.contains("predicted_top1")) out.provenance.predictedTop1 = metrics["predicted_top1"].toDouble();

    const QJsonArray layers = r.array(root, "", "layers");
    const std::vector<int> quantizable = graph.allocationNodes();
    const at::NoGradGuard noGrad;
    for (int i = 0; i < layers.size(); ++i) {
        const std::string where = "layers[" + std::to_string(i) + "]";
        const QJsonObject l = r.object(layers[i], where);
        const std::string name = r.string(l, where, "name");
        const int id = graph.findNode(name);
        if (id < 0 || std::find(quantizable.begin(), quantizable.end(), id) == quantizable.end())
            r.fail(where + ".name", "is '" + name + "', which is not a conv, linear or attention matmul layer of the model");
        if (out.config.layers.count(name)) r.fail(where + ".name", "repeats layer '" + name + "'");
        const Node& n = graph.node(id);
        if (graph.isActivationMatMul(n)) {
            LayerQuant c{32, r.integer(l, where, "a_bits")};
            checkBits(r, where + ".a_bits", c.activationBits);
            auto layer = std::make_shared<ImportedConfig::Layer>();
            layer->activationOnly = true;
            if (c.activationBits < 32) {
                layer->activationParams = readActivation(r, l, where, "activation", c.activationBits);
                layer->secondActivationParams = readActivation(r, l, where, "second_activation", c.activationBits);
            }
            out.config.layers[name] = c;
            out.layers[name] = layer;
            continue;
        }
        LayerQuant c;
        c.weightBits = r.integer(l, where, "w_bits");
        checkBits(r, where + ".w_bits", c.weightBits);
        c.activationBits = r.integer(l, where, "a_bits");
        checkBits(r, where + ".a_bits", c.activationBits);
        try {
            c.granularity = granularityFromString(r.string(l, where, "granularity"));
        } catch (const Error&) {
            r.fail(where + ".granularity", "is not per-tensor, per-channel or shift");
        }
        c.weightPoints = r.integer(l, where, "points");
        if (c.weightPoints < 1 || c.weightPoints > kMaxWeightPoints)
            r.fail(where + ".points", "is " + std::to_string(c.weightPoints) + "; multipoint takes 1 to 4");

        const at::Tensor& graphWeight = graph.param(graph.paramOf(n, 1));
        const int64_t channels = graphWeight.size(0);
        auto layer = std::make_shared<ImportedConfig::Layer>();
        const QJsonObject weight = r.object(l["weight"], where + ".weight");
        const QJsonArray shape = r.array(weight, where + ".weight", "shape");
        std::vector<int64_t> dims;
        for (const QJsonValue& v : shape) {
            const double d = v.toDouble(-1);
            if (!(d >= 0 && d <= 1e12 && d == std::floor(d)))
                r.fail(where + ".weight.shape", "holds an entry that is not a size (a whole number from 0)");
            dims.push_back(int64_t(d));
        }
        if (dims != graphWeight.sizes().vec()) r.fail(where + ".weight.shape", "differs from the model's weight shape");
        if (c.weightBits == 32) {
            const std::vector<float> values = r.floatList(weight, where + ".weight", "values", size_t(graphWeight.numel()));
            layer->weight = at::tensor(values).view(dims);
        } else {
            const QuantSpec spec = QuantSpec::weights(c.weightBits, c.granularity);
            const QJsonArray terms = r.array(weight, where + ".weight", "terms");
            if (terms.isEmpty() || terms.size() > kMaxWeightPoints)
                r.fail(where + ".weight.terms", "must hold 1 to 4 terms");
            const size_t nParams = perChannelParams(c.granularity) ? size_t(channels) : 1;
            at::Tensor sum = at::zeros(dims);
            for (int k = 0; k < terms.size(); ++k) {
                const std::string tw = where + ".weight.terms[" + std::to_string(k) + "]";
                const QJsonObject t = r.object(terms[k], tw);
                QuantParams p;
                p.scale = r.floatList(t, tw, "scale", nParams);
                p.zeroPoint = r.intList(t, tw, "zero_point", nParams);
                if (c.granularity == Granularity::Shift) p.shift = r.intList(t, tw, "shift", nParams);
                for (float s : p.scale)
                    if (!(s > 0)) r.fail(tw + ".scale", "holds a scale that is not positive");
                const QByteArray bytes = QByteArray::fromBase64(r.string(t, tw, "int").c_str());
                const int width = c.weightBits <= 8 ? 1 : 2;
                if (bytes.size() != graphWeight.numel() * width)
                    r.fail(tw + ".int", "holds " + std::to_string(bytes.size()) + " bytes where " +
                                            std::to_string(graphWeight.numel() * width) + " are needed");
                const at::Tensor qk = at::from_blob(const_cast<char*>(bytes.data()), dims,
                                                    width == 1 ? at::kChar : at::kShort)
                                          .to(at::kInt);
                if (qk.min().item<int64_t>() < gridMin(spec) || qk.max().item<int64_t>() > gridMax(spec))
                    r.fail(tw + ".int", "holds integers outside the " + std::to_string(c.weightBits) + "-bit grid");
                sum = sum + dequantize(qk, spec, p);
                if (k == 0) layer->weightParams = p;
            }
            layer->weight = sum;
        }
        if (l.contains("bias") && !l["bias"].isNull()) {
            if (n.inputs.size() < 3) r.fail(where + ".bias", "is given but the model's layer has no bias");
            const int64_t nb = graph.param(graph.paramOf(n, 2)).numel();
            layer->bias = at::tensor(r.floatList(l, where, "bias", size_t(nb)));
        }
        if (c.activationBits < 32) layer->activationParams = readActivation(r, l, where, "activation", c.activationBits);
        out.config.layers[name] = c;
        out.layers[name] = layer;
    }
    for (int id : graph.allocationNodes())
        if (!out.config.layers.count(graph.node(id).name))
            r.fail("layers", "misses the model's layer '" + graph.node(id).name + "'");
    return out;
}

std::unique_ptr<QuantizedModel> restoreQuantizedModel(const Graph& graph, const ImportedConfig& imported) {
    auto model = std::make_unique<QuantizedModel>(graph, imported.config);
    for (const auto& [name, layer] : imported.layers) {
        if (layer->activationOnly) {
            model->restoreActivationLayer(name, layer->activationParams, layer->secondActivationParams);
            continue;
        }
        model->restoreLayer(name, layer->weight, layer->bias.defined() ? &layer->bias : nullptr, layer->weightParams,
                            layer->activationParams);
    }
    model->markRestored();
    return model;
}

std::string modelMismatch(const ImportedConfig& imported, const std::string& modelPath) {
    const std::string sha = fileSha256(modelPath);
    if (sha == imported.modelSha256) return {};
    return "The configuration was made for " + imported.modelFile + " with SHA-256 " + imported.modelSha256.substr(0, 12) +
           "..., but " + modelPath + " has " + sha.substr(0, 12) + "...: the model changed since, so its figures may "
           "not hold; quantize it again to be sure.";
}

}  // namespace ptq
