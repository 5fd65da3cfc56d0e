#include "core/alloc/allocation.h"

#include "core/util/error.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <cmath>
#include <limits>

namespace ptq {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
std::string s(const QJsonValue& v) { return v.toString().toStdString(); }

}  // namespace

double AllocationFile::predictedTop1FromLoss() const {
    if (top1PerLoss == 0 || measure != "delta-loss") return std::numeric_limits<double>::quiet_NaN();
    return fp32Top1 + top1PerLoss * ((baseLoss - fp32Loss) + degradation);
}

void writeAllocation(const std::string& path, const AllocationFile& a) {
    QJsonObject o;
    o["format"] = "ptq-allocation";
    o["version"] = 1;
    o["model"] = q(a.model);
    o["model_sha256"] = q(a.modelSha256);
    QJsonObject table;
    table["path"] = q(a.tablePath);
    table["data"] = q(a.table.data);
    table["metric"] = q(a.metric);
    table["granularity"] = q(a.table.granularity);
    table["weight_range"] = q(a.table.weightRange);
    table["act_range"] = q(a.table.activationRange);
    table["fp32_top1"] = a.fp32Top1;
    table["base_top1"] = a.baseTop1;
    table["fp32_loss"] = a.fp32Loss;
    table["base_loss"] = a.baseLoss;
    o["table"] = table;
    QJsonObject budget;
    if (a.maxDegradation) budget["max_degradation"] = *a.maxDegradation;
    if (a.maxSizeRatio) budget["max_size_ratio"] = *a.maxSizeRatio;
    if (a.maxBopsRatio) budget["max_bops_ratio"] = *a.maxBopsRatio;
    if (a.maxCostRatio) budget["max_cost_ratio"] = *a.maxCostRatio;
    budget["reference"] = q(a.reference);
    budget["measure"] = q(a.measure);
    QJsonObject locks;
    for (const auto& [layer, option] : a.locks) locks[q(layer)] = q(option);
    budget["locks"] = locks;
    QJsonArray excluded;
    for (const auto& e : a.excluded) excluded.append(q(e));
    budget["excluded"] = excluded;
    o["budget"] = budget;
    QJsonArray layers;
    for (const AllocatedLayer& l : a.layers) {
        QJsonObject layer{{"name", q(l.name)},
                          {"option", q(l.option.name())},
                          {"w_bits", l.option.weightBits},
                          {"w_points", l.option.weightPoints},
                          {"a_bits", l.option.activationBits},
                          {"degradation", l.degradation},
                          {"delta_top1", l.deltaTop1},
                          {"size_bits", l.sizeBits},
                          {"bops", l.bops}};
        if (!a.target.empty()) layer["target_cost"] = l.targetCost;
        layers.append(layer);
    }
    o["layers"] = layers;
    QJsonObject predicted;
    predicted["degradation"] = a.degradation;
    predicted["size_bits"] = a.sizeBits;
    predicted["fp32_size_bits"] = a.fp32SizeBits;
    predicted["size_ratio"] = a.sizeRatio();
    predicted["bops"] = a.bops;
    predicted["fp32_bops"] = a.fp32Bops;
    predicted["bops_ratio"] = a.bopsRatio();
    predicted["delta_top1"] = a.deltaTop1;
    predicted["top1"] = a.predictedTop1();
    if (a.top1PerLoss != 0) {
        predicted["top1_per_loss"] = a.top1PerLoss;
        predicted["top1_from_loss"] = a.predictedTop1FromLoss();
    }
    predicted["solve_ms"] = a.solveMs;
    if (const auto& m = a.measuredPrediction) {
        predicted["measured_fit"] = QJsonObject{{"drop", m->drop},
                                                {"top1", a.fp32Top1 - m->drop},
                                                {"uncertainty", m->uncertainty},
                                                {"anchors", m->anchors},
                                                {"interpolated", m->interpolated},
                                                {"pipeline", q(m->pipeline)},
                                                {"evaluation", q(m->evaluation)},
                                                {"fit", q(m->fit)}};
    }
    o["predicted"] = predicted;
    if (!a.target.empty())
        o["target"] = QJsonObject{{"name", q(a.target)},
                                  {"unit", q(a.targetUnit)},
                                  {"cost", a.targetCost},
                                  {"widest_cost", a.targetReference}};
    QSaveFile file(q(path));
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(o).toJson(QJsonDocument::Indented)) < 0 ||
        !file.commit())
        throw failed("Could not write the allocation " + path + ": check that its folder exists and is writable.");
}

AllocationFile readAllocation(const std::string& path) {
    QFile file(q(path));
    if (!file.open(QIODevice::ReadOnly))
        throw invalidInput("Cannot read the allocation " + path + ": check the path (ptq allocate writes "
                           "allocation files).");
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        throw invalidInput("The file " + path + " is not an allocation (not JSON: " + err.errorString().toStdString() +
                           "); write one with ptq allocate.");
    const QJsonObject o = doc.object();
    if (o["format"].toString() != "ptq-allocation")
        throw invalidInput("The file " + path + " is not an allocation (its format is not ptq-allocation); write one "
                           "with ptq allocate.");
    if (o["version"].toInt() != 1)
        throw invalidInput("The allocation " + path + " has version " + std::to_string(o["version"].toInt()) +
                           "; this ptq reads version 1: allocate again with ptq allocate.");
    AllocationFile a;
    a.model = s(o["model"]);
    a.modelSha256 = s(o["model_sha256"]);
    const QJsonObject table = o["table"].toObject();
    a.tablePath = s(table["path"]);
    a.table.data = s(table["data"]);
    a.table.granularity = s(table["granularity"]);
    a.table.weightRange = s(table["weight_range"]);
    a.table.activationRange = s(table["act_range"]);
    a.table.modelPath = a.model;
    a.table.modelSha256 = a.modelSha256;
    a.metric = s(table["metric"]);
    a.fp32Top1 = table["fp32_top1"].toDouble();
    a.baseTop1 = table["base_top1"].toDouble();
    a.fp32Loss = table["fp32_loss"].toDouble();
    a.baseLoss = table["base_loss"].toDouble();
    const QJsonObject budget = o["budget"].toObject();
    if (budget.contains("max_degradation")) a.maxDegradation = budget["max_degradation"].toDouble();
    if (budget.contains("max_size_ratio")) a.maxSizeRatio = budget["max_size_ratio"].toDouble();
    if (budget.contains("max_bops_ratio")) a.maxBopsRatio = budget["max_bops_ratio"].toDouble();
    if (budget.contains("max_cost_ratio")) a.maxCostRatio = budget["max_cost_ratio"].toDouble();
    a.reference = budget["reference"].toString("fp32").toStdString();
    a.measure = budget["measure"].toString("delta-loss").toStdString();
    const QJsonObject locks = budget["locks"].toObject();
    for (auto it = locks.begin(); it != locks.end(); ++it)
        a.locks.emplace_back(it.key().toStdString(), it.value().toString().toStdString());
    for (const QJsonValue& v : budget["excluded"].toArray()) a.excluded.push_back(s(v));
    for (const QJsonValue& v : o["layers"].toArray()) {
        const QJsonObject l = v.toObject();
        AllocatedLayer layer;
        layer.name = s(l["name"]);
        try {
            layer.option = BitOption::parse(s(l["option"]));
        } catch (const Error& e) {
            throw invalidInput("The allocation " + path + " gives layer '" + layer.name + "' a bad option: " + e.what());
        }
        if (layer.name.empty())
            throw invalidInput("The allocation " + path + " has a layer without a name: allocate again with ptq "
                               "allocate.");
        layer.degradation = l["degradation"].toDouble();
        layer.deltaTop1 = l["delta_top1"].toDouble();
        layer.sizeBits = l["size_bits"].toDouble();
        layer.bops = l["bops"].toDouble();
        layer.targetCost = l["target_cost"].toDouble();
        a.layers.push_back(layer);
    }
    if (a.layers.empty()) throw invalidInput("The allocation " + path + " has no layers: allocate again with ptq allocate.");
    const QJsonObject predicted = o["predicted"].toObject();
    a.degradation = predicted["degradation"].toDouble();
    a.sizeBits = predicted["size_bits"].toDouble();
    a.fp32SizeBits = predicted["fp32_size_bits"].toDouble();
    a.bops = predicted["bops"].toDouble();
    a.fp32Bops = predicted["fp32_bops"].toDouble();
    a.deltaTop1 = predicted["delta_top1"].toDouble();
    a.top1PerLoss = predicted["top1_per_loss"].toDouble();
    if (!std::isfinite(a.top1PerLoss)) a.top1PerLoss = 0;
    a.solveMs = predicted["solve_ms"].toDouble();
    if (predicted["measured_fit"].isObject()) {
        const QJsonObject m = predicted["measured_fit"].toObject();
        AllocationFile::MeasuredPrediction p;
        p.drop = m["drop"].toDouble();
        p.uncertainty = m["uncertainty"].toDouble();
        p.anchors = m["anchors"].toInt();
        p.interpolated = m["interpolated"].toBool();
        p.pipeline = s(m["pipeline"]);
        p.evaluation = s(m["evaluation"]);
        p.fit = s(m["fit"]);
        if (!std::isfinite(p.drop) || !std::isfinite(p.uncertainty) || p.uncertainty < 0 || p.anchors < 1)
            throw invalidInput("The allocation " + path + " has a damaged measured-fit prediction: allocate again "
                               "with ptq allocate --anchors.");
        a.measuredPrediction = p;
    }
    const QJsonObject target = o["target"].toObject();
    a.target = s(target["name"]);
    a.targetUnit = s(target["unit"]);
    a.targetCost = target["cost"].toDouble();
    a.targetReference = target["widest_cost"].toDouble();
    return a;
}

}  // namespace ptq
