#include "core/alloc/sensitivity_table.h"

#include "core/util/error.h"
#include "core/util/file_hash.h"

#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <cmath>
#include <algorithm>

namespace ptq {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

}  // namespace

std::string TableProvenance::differenceFrom(const TableProvenance& o) const {
    if (modelSha256 != o.modelSha256) return "the model file's content differs";
    if (data != o.data) return "the data differs (" + o.data + " instead of " + data + ")";
    if (options != o.options) return "the options differ (" + join(o.options) + " instead of " + join(options) + ")";
    if (base != o.base) return "the base option differs";
    if (granularity != o.granularity) return "the weight granularity differs";
    if (weightRange != o.weightRange || activationRange != o.activationRange) return "the range methods differ";
    if (batch != o.batch) return "the batch size differs";
    if (seed != o.seed) return "the seed differs";
    if (adaQuantIterations != o.adaQuantIterations)
        return o.adaQuantIterations ? "it was not measured with AdaQuant parameters at " +
                                          std::to_string(o.adaQuantIterations) + " iterations"
                                    : "it was measured with AdaQuant parameters";
    if (estimate != o.estimate) return o.estimate ? "it is measured, not an estimate" : "it is an estimate, not measured";
    return {};
}

TableProvenance provenanceFor(const std::string& modelPath, const std::string& data, const SensitivityRequest& request,
                              uint64_t seed) {
    TableProvenance p;
    p.modelPath = modelPath;
    p.modelSha256 = fileSha256(modelPath);
    p.modelBytes = QFileInfo(q(modelPath)).size();
    p.data = data;
    for (const BitOption& o : request.options) p.options.push_back(o.name());
    p.base = request.base.name();
    p.granularity = granularityName(request.quantizer.granularity);
    p.weightRange = rangeMethodName(request.quantizer.weightRange);
    p.activationRange = rangeMethodName(request.quantizer.activationRange);
    p.batch = request.quantizer.batchSize;
    p.seed = seed;
    return p;
}

QJsonArray sensitivityLayersToJson(const SensitivityResult& r) {
    QJsonArray layers;
    for (size_t i = 0; i < r.layers.size(); ++i) {
        QJsonObject l;
        l["name"] = q(r.layers[i].name);
        l["kind"] = q(r.layers[i].kind);
        l["params"] = qint64(r.layers[i].params);
        l["macs"] = qint64(r.layers[i].macs);
        QJsonArray cells;
        for (const SensitivityCell& c : r.cells[i]) {
            QJsonObject cell{{"delta_loss", c.deltaLoss}, {"delta_top1", c.deltaTop1}, {"local_mse", c.localMse}};
            if (c.adaQuant) cell["adaquant"] = true;
            if (c.estimated) cell["estimated"] = true;
            cells.append(cell);
        }
        l["cells"] = cells;
        layers.append(l);
    }
    return layers;
}

void addSensitivitySummary(QJsonObject& o, const SensitivityResult& r) {
    o["metric"] = q(r.metric);
    o["samples"] = qint64(r.samples);
    o["fp32_loss"] = r.fp32Loss;
    o["fp32_top1"] = r.fp32Top1;
    o["base_loss"] = r.baseLoss;
    o["base_top1"] = r.baseTop1;
    o["seconds"] = r.seconds;
    o["forward_equivalents"] = r.forwardEquivalents;
    if (r.usedAdaQuant())
        o["adaquant"] = QJsonObject{{"iterations", r.adaQuantIterations}, {"samples", qint64(r.adaQuantSamples)}};
}

QJsonObject sensitivityTableToJson(const SensitivityTable& t) {
    const SensitivityResult& r = t.result;
    const TableProvenance& p = t.provenance;
    QJsonObject prov;
    prov["model"] = q(p.modelPath);
    prov["model_sha256"] = q(p.modelSha256);
    prov["model_bytes"] = qint64(p.modelBytes);
    prov["data"] = q(p.data);
    prov["base"] = q(p.base);
    prov["granularity"] = q(p.granularity);
    prov["weight_range"] = q(p.weightRange);
    prov["act_range"] = q(p.activationRange);
    prov["batch"] = qint64(p.batch);
    prov["seed"] = qint64(p.seed);
    if (p.adaQuantIterations > 0) prov["adaquant_iterations"] = p.adaQuantIterations;
    if (p.estimate) prov["estimate"] = true;
    QJsonArray opts;
    for (const auto& o : p.options) opts.append(q(o));
    prov["options"] = opts;
    QJsonObject o;
    o["format"] = "ptq-sensitivity";
    o["version"] = 1;
    o["provenance"] = prov;
    addSensitivitySummary(o, r);
    o["layers"] = sensitivityLayersToJson(r);
    return o;
}

void writeSensitivityTable(const std::string& path, const SensitivityTable& t) {
    QSaveFile file(q(path));
    if (!file.open(QIODevice::WriteOnly) ||
        file.write(QJsonDocument(sensitivityTableToJson(t)).toJson(QJsonDocument::Indented)) < 0 || !file.commit())
        throw failed("Could not write the sensitivity table " + path + ": check that its folder exists and is writable.");
}

SensitivityTable readSensitivityTable(const std::string& path) {
    QFile file(q(path));
    if (!file.open(QIODevice::ReadOnly))
        throw invalidInput("Cannot read the sensitivity table " + path + ": check the path (ptq sensitivity MODEL "
                           "--calib SRC --out FILE writes one).");
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        throw invalidInput("The file " + path + " is not a sensitivity table (not JSON: " +
                           err.errorString().toStdString() + "); write one with ptq sensitivity --out.");
    return sensitivityTableFromJson(doc.object(), "The sensitivity table " + path);
}

SensitivityTable sensitivityTableFromJson(const QJsonObject& o, const std::string& what) {
    if (o["format"].toString() != "ptq-sensitivity")
        throw invalidInput(what + " is not a sensitivity table (its format is not ptq-sensitivity); write one with "
                           "ptq sensitivity --out.");
    if (o["version"].toInt() != 1)
        throw invalidInput(what + " has version " + std::to_string(o["version"].toInt()) +
                           "; this ptq reads version 1: measure it again with ptq sensitivity --force.");
    SensitivityTable t;
    const QJsonObject prov = o["provenance"].toObject();
    TableProvenance& p = t.provenance;
    p.modelPath = prov["model"].toString().toStdString();
    p.modelSha256 = prov["model_sha256"].toString().toStdString();
    p.modelBytes = prov["model_bytes"].toInteger();
    p.data = prov["data"].toString().toStdString();
    p.base = prov["base"].toString("w8a8").toStdString();
    p.granularity = prov["granularity"].toString().toStdString();
    p.weightRange = prov["weight_range"].toString().toStdString();
    p.activationRange = prov["act_range"].toString().toStdString();
    p.batch = prov["batch"].toInteger(256);
    p.seed = uint64_t(prov["seed"].toInteger(0));
    p.adaQuantIterations = prov["adaquant_iterations"].toInt(0);
    p.estimate = prov["estimate"].toBool(false);
    SensitivityResult& r = t.result;
    r.metric = o["metric"].toString().toStdString();
    r.samples = o["samples"].toInteger();
    r.fp32Loss = o["fp32_loss"].toDouble();
    r.fp32Top1 = o["fp32_top1"].toDouble();
    r.baseLoss = o["base_loss"].toDouble();
    r.baseTop1 = o["base_top1"].toDouble();
    r.seconds = o["seconds"].toDouble();
    r.forwardEquivalents = o["forward_equivalents"].toDouble();
    if (o.contains("adaquant")) {
        const QJsonObject aq = o["adaquant"].toObject();
        r.adaQuantIterations = aq["iterations"].toInt();
        r.adaQuantSamples = aq["samples"].toInteger();
        if (r.adaQuantIterations < 1)
            throw invalidInput(what + " says it used AdaQuant but not with how many iterations: measure it again "
                               "with ptq sensitivity --force.");
    }
    try {
        for (const QJsonValue& v : prov["options"].toArray()) {
            p.options.push_back(v.toString().toStdString());
            r.options.push_back(BitOption::parse(p.options.back()));
        }
        r.base = BitOption::parse(p.base);
    } catch (const Error& e) {
        throw invalidInput(what + " lists a bad option: " + e.what());
    }
    if (r.options.empty()) throw invalidInput(what + " lists no options.");
    for (const QJsonValue& v : o["layers"].toArray()) {
        const QJsonObject l = v.toObject();
        SensitivityLayer layer;
        layer.name = l["name"].toString().toStdString();
        layer.kind = l["kind"].toString().toStdString();
        layer.params = l["params"].toInteger();
        layer.macs = l["macs"].toInteger();
        if (layer.params < 0 || layer.macs < 0)
            throw invalidInput(what + " gives layer '" + layer.name + "' a negative " +
                               (layer.params < 0 ? "params" : "macs") + " count: measure it again with ptq "
                               "sensitivity --force.");
        const QJsonArray cells = l["cells"].toArray();
        if (layer.name.empty() || size_t(cells.size()) != r.options.size())
            throw invalidInput(what + " has a layer " +
                               (layer.name.empty() ? std::string("without a name") : "'" + layer.name + "'") +
                               " whose cells do not match its " + std::to_string(r.options.size()) +
                               " options: measure it again with ptq sensitivity --force.");
        std::vector<SensitivityCell> row;
        for (const QJsonValue& c : cells) {
            const QJsonObject co = c.toObject();
            if (!co["delta_loss"].isDouble() || !co["delta_top1"].isDouble())
                throw invalidInput(what + " has a cell of layer " + layer.name +
                                   " without numbers: measure it again with ptq sensitivity --force.");
            row.push_back({co["delta_loss"].toDouble(), co["delta_top1"].toDouble(), co["local_mse"].toDouble(),
                           co["adaquant"].toBool(false), co["estimated"].toBool(false)});
        }
        r.layers.push_back(layer);
        r.cells.push_back(std::move(row));
    }
    if (r.layers.empty()) throw invalidInput(what + " has no layers.");
    return t;
}

const char* degradationMeasureName(DegradationMeasure m) {
    return m == DegradationMeasure::DeltaLoss ? "delta-loss" : "delta-top1";
}

DegradationMeasure degradationMeasureFromString(const std::string& text) {
    if (text == "delta-loss") return DegradationMeasure::DeltaLoss;
    if (text == "delta-top1") return DegradationMeasure::DeltaTop1;
    throw invalidInput("Unknown degradation measure '" + text + "'; use delta-loss (the measured loss increase) or "
                       "delta-top1 (the measured top-1 drop in points).");
}

double top1PerLoss(const SensitivityResult& result) {
    // Estimated cells carry a top-1 change derived from their loss change: they add nothing
    // to the fit while any cell is measured.
    const bool anyMeasured = result.estimatedCells() < result.layers.size() * result.options.size();
    double xy = 0, xx = 0;
    for (const auto& row : result.cells)
        for (const SensitivityCell& c : row) {
            if (!std::isfinite(c.deltaLoss) || !std::isfinite(c.deltaTop1)) continue;
            if (anyMeasured && c.estimated) continue;
            xy += c.deltaLoss * c.deltaTop1;
            xx += c.deltaLoss * c.deltaLoss;
        }
    return xx > 0 ? xy / xx : 0.0;
}

AllocationProblem problemFromTable(const SensitivityTable& t, DegradationMeasure measure) {
    const SensitivityResult& r = t.result;
    AllocationProblem p = AllocationProblem::sized(r.layers.size(), r.options.size());
    for (size_t o = 0; o < r.options.size(); ++o) p.options[o] = r.options[o].name();
    const double tieWeight = kTieBreak / double(std::max<size_t>(1, r.layers.size()));
    for (size_t l = 0; l < r.layers.size(); ++l) {
        const SensitivityLayer& layer = r.layers[l];
        p.layers[l] = layer.name;
        p.referenceSize += double(layer.params) * 32;
        p.referenceBops += double(layer.macs) * 32 * 32;
        double largestMse = 0;
        for (const SensitivityCell& c : r.cells[l]) largestMse = std::max(largestMse, c.localMse);
        for (size_t o = 0; o < r.options.size(); ++o) {
            const BitOption& opt = r.options[o];
            const SensitivityCell& c = r.cells[l][o];
            const double measured = measure == DegradationMeasure::DeltaLoss ? c.deltaLoss : -c.deltaTop1;
            const double tie = largestMse > 0 ? tieWeight * c.localMse / largestMse : 0.0;
            p.degradation[l][o] = std::max(0.0, measured) + tie;
            p.size[l][o] = double(layer.params) * opt.weightBitsTotal();
            // An attention matmul multiplies two activations: both operands take the activation bits.
            const int otherOperandBits = layer.kind == "matmul" ? opt.activationBits : opt.weightBitsTotal();
            p.bops[l][o] = double(layer.macs) * otherOperandBits * opt.activationBits;
        }
    }
    return p;
}

}  // namespace ptq
