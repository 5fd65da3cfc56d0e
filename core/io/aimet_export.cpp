#include "core/io/aimet_export.h"

#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <map>
#include <optional>

namespace ptq {

namespace {

/// One channel's (or the tensor's) encoding in AIMET's terms.
struct Encoding {
    int bits = 8;
    bool symmetric = true;
    double scale = 1, offset = 0;
    double min() const { return scale * offset; }
    double max() const { return scale * (double((int64_t(1) << bits) - 1) + offset); }
};

/// AIMET's offset is the unsigned-grid zero point negated: a signed grid [−2^(b−1), 2^(b−1)−1]
/// with zero point z is the unsigned grid shifted by 2^(b−1), so offset = −(z + 2^(b−1)).
std::vector<Encoding> encodingsOf(const QuantSpec& spec, const QuantParams& p) {
    std::vector<Encoding> out;
    const double shift = spec.signedGrid ? double(int64_t(1) << (spec.bits - 1)) : 0.0;
    for (size_t c = 0; c < p.scale.size(); ++c)
        out.push_back({spec.bits, spec.symmetric, double(p.scale[c]), -(double(p.zeroPoint[c]) + shift)});
    return out;
}

QJsonObject legacyEntry(const Encoding& e) {
    return QJsonObject{{"bitwidth", e.bits}, {"dtype", "int"}, {"is_symmetric", e.symmetric ? "True" : "False"},
                       {"max", e.max()}, {"min", e.min()}, {"offset", qint64(e.offset)}, {"scale", e.scale}};
}

QJsonObject v1Entry(const std::string& name, const std::vector<Encoding>& es, bool perChannel) {
    QJsonArray scale, offset;
    for (const Encoding& e : es) {
        scale.append(e.scale);
        offset.append(e.offset);
    }
    return QJsonObject{{"name", QString::fromStdString(name)}, {"dtype", "INT"},
                       {"enc_type", perChannel ? "PER_CHANNEL" : "PER_TENSOR"},
                       {"is_sym", es.front().symmetric}, {"bw", es.front().bits},
                       {"scale", scale}, {"offset", offset}};
}

/// The name of the tensor feeding input @p index of @p layer: its producer's name (with
/// ":k" for output k > 0 of a producer with several), or the graph input's.
std::string inputName(const Graph& g, const Node& layer, size_t index = 0) {
    const Value& v = g.value(layer.inputs[index]);
    if (v.producer < 0) return v.name.empty() ? "input" : v.name;
    const std::string& producer = g.node(v.producer).name;
    return v.producerOutput > 0 ? producer + ":" + std::to_string(v.producerOutput) : producer;
}

}  // namespace

AimetVersion aimetVersionFromString(const std::string& text) {
    if (text == "0.6.1") return AimetVersion::V0_6_1;
    if (text == "1.0.0") return AimetVersion::V1_0_0;
    throw invalidInput("AIMET encodings come in versions 0.6.1 and 1.0.0, not '" + text + "'.");
}

void writeAimetEncodings(const std::string& path, const QuantizedModel& model, AimetVersion version) {
    const Graph& g = model.graph();
    QJsonObject legacyParams, legacyActs;
    QJsonArray params, acts;
    std::map<std::string, std::pair<std::string, QJsonObject>> actSeen;  ///< tensor -> (layer, entry)
    // Layers reading the same tensor (a block's conv and its shortcut) share one encoding.
    const auto addActivation = [&](const Node& n, size_t input) {
        const std::string name = inputName(g, n, input);
        const std::vector<Encoding> es = encodingsOf(model.activationSpec(n.name), model.activationParams(n.name, int(input)));
        const QJsonObject entry = v1Entry(name, es, false);
        if (auto it = actSeen.find(name); it != actSeen.end()) {
            if (it->second.second != entry)
                throw invalidInput("Layers '" + it->second.first + "' and '" + n.name + "' read the same tensor '" + name +
                                   "' with different activation quantizers, and AIMET keeps one encoding "
                                   "per tensor: give both layers the same activation bits.");
            return;
        }
        actSeen[name] = {n.name, entry};
        legacyActs[QString::fromStdString(name)] = QJsonArray{legacyEntry(es.front())};
        acts.append(entry);
    };
    for (int id : g.allocationNodes()) {
        const Node& n = g.node(id);
        const LayerQuant& c = model.config().layer(n.name);
        if (g.isActivationMatMul(n)) {  // attention's Q·Kᵀ and P·V: both inputs, no weight
            if (c.activationBits < 32) addActivation(n, 0), addActivation(n, 1);
            continue;
        }
        if (c.weightPoints > 1)
            throw invalidInput("Layer '" + n.name + "' has multipoint weights, which AIMET encodings cannot express (one "
                               "grid per tensor): export them with --format json, or allocate without multipoint options.");
        if (c.weightBits < 32) {
            const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(n);
            const std::string key = fold ? fold->weightKey : g.paramOf(n, 1);
            const std::vector<Encoding> es = encodingsOf(model.weightSpec(n.name), model.weightParams(n.name));
            QJsonArray list;
            for (const Encoding& e : es) list.append(legacyEntry(e));
            legacyParams[QString::fromStdString(key)] = list;
            params.append(v1Entry(key, es, c.granularity != Granularity::PerTensor));
        }
        if (c.activationBits < 32) addActivation(n, 0);
    }
    QJsonObject root;
    if (version == AimetVersion::V0_6_1) {
        root["version"] = "0.6.1";
        root["activation_encodings"] = legacyActs;
        root["param_encodings"] = legacyParams;
        root["excluded_layers"] = QJsonArray();
    } else {
        root["version"] = "1.0.0";
        root["activation_encodings"] = acts;
        root["param_encodings"] = params;
        root["excluded_layers"] = QJsonArray();
    }
    root["producer"] = QJsonObject{{"name", "PTQ Studio"}};
    QSaveFile file(QString::fromStdString(path));
    const QByteArray bytes = QJsonDocument(root).toJson(QJsonDocument::Indented);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        throw failed("Could not write " + path + ": " + file.errorString().toStdString() + ".");
}

}  // namespace ptq
