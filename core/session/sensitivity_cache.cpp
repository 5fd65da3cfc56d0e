#include "core/session/sensitivity_cache.h"

#include "core/util/error.h"
#include "core/util/log.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>
#include <QtCore/QStandardPaths>

namespace ptq {

namespace {
/// Bump when the stored fields or the measurement change meaning: old entries then miss.
constexpr int kFormat = 1;

QString q(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

SensitivityCache::SensitivityCache(std::string directory) : directory_(std::move(directory)) {}

std::string SensitivityCache::defaultDirectory() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("cache"))
        .toStdString();
}

std::string SensitivityCache::key(const std::string& modelHash, const std::string& source,
                                  const SensitivityRequest& request) {
    std::string text = "v" + std::to_string(kFormat) + "|" + modelHash + "|" + source + "|base=" + request.base.name();
    for (const BitOption& o : request.options) text += "|" + o.name();
    text += std::string("|") + granularityName(request.granularity) + "|" + rangeMethodName(request.weightMethod) +
            "|" + rangeMethodName(request.activationMethod) + "|batch=" + std::to_string(request.batchSize);
    return QCryptographicHash::hash(QByteArray::fromStdString(text), QCryptographicHash::Sha1).toHex().toStdString();
}

std::string SensitivityCache::pathOf(const std::string& key) const {
    return QDir(q(directory_)).filePath(QStringLiteral("sensitivity-%1.json").arg(q(key))).toStdString();
}

std::optional<SensitivityResult> SensitivityCache::load(const std::string& key) const {
    QFile file(q(pathOf(key)));
    if (!file.open(QIODevice::ReadOnly)) return std::nullopt;
    try {
        return sensitivityFromJson(file.readAll().toStdString());
    } catch (const std::exception& e) {
        logger()->warn("Ignoring the damaged sensitivity cache entry {}: {}", pathOf(key), e.what());
        return std::nullopt;
    }
}

bool SensitivityCache::store(const std::string& key, const SensitivityResult& table) const {
    if (!QDir().mkpath(q(directory_))) {
        logger()->warn("Cannot create the cache folder {}", directory_);
        return false;
    }
    QSaveFile file(q(pathOf(key)));
    const std::string json = sensitivityToJson(table);
    if (!file.open(QIODevice::WriteOnly) || file.write(json.data(), qint64(json.size())) != qint64(json.size()) ||
        !file.commit()) {
        logger()->warn("Cannot write the cache entry {}: {}", pathOf(key), file.errorString().toStdString());
        return false;
    }
    return true;
}

std::string sensitivityToJson(const SensitivityResult& r) {
    QJsonObject o;
    o["format"] = kFormat;
    o["metric"] = q(r.metric);
    o["base"] = q(r.base.name());
    o["fp32_loss"] = r.fp32Loss;
    o["fp32_top1"] = r.fp32Top1;
    o["base_loss"] = r.baseLoss;
    o["base_top1"] = r.baseTop1;
    o["samples"] = qint64(r.samples);
    o["seconds"] = r.seconds;
    o["forward_equivalents"] = r.forwardEquivalents;
    QJsonArray options;
    for (const BitOption& opt : r.options) options.append(q(opt.name()));
    o["options"] = options;
    QJsonArray layers;
    for (size_t i = 0; i < r.layers.size(); ++i) {
        QJsonObject l;
        l["name"] = q(r.layers[i].name);
        l["kind"] = q(r.layers[i].kind);
        l["params"] = qint64(r.layers[i].params);
        l["macs"] = qint64(r.layers[i].macs);
        QJsonArray cells;
        for (const SensitivityCell& c : r.cells[i])
            cells.append(QJsonObject{{"delta_loss", c.deltaLoss}, {"delta_top1", c.deltaTop1}, {"local_mse", c.localMse}});
        l["cells"] = cells;
        layers.append(l);
    }
    o["layers"] = layers;
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

SensitivityResult sensitivityFromJson(const std::string& json) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
    if (!doc.isObject()) throw invalidInput("The sensitivity table is not JSON: " + error.errorString().toStdString() + ".");
    const QJsonObject o = doc.object();
    if (!o.contains("options") || !o.contains("layers"))
        throw invalidInput("The sensitivity table has no options or layers.");
    SensitivityResult r;
    r.metric = o["metric"].toString().toStdString();
    if (o.contains("base")) r.base = BitOption::parse(o["base"].toString().toStdString());
    r.fp32Loss = o["fp32_loss"].toDouble();
    r.fp32Top1 = o["fp32_top1"].toDouble();
    r.baseLoss = o["base_loss"].toDouble();
    r.baseTop1 = o["base_top1"].toDouble();
    r.samples = o["samples"].toInteger();
    r.seconds = o["seconds"].toDouble();
    r.forwardEquivalents = o["forward_equivalents"].toDouble();
    for (const QJsonValue& v : o["options"].toArray()) r.options.push_back(BitOption::parse(v.toString().toStdString()));
    for (const QJsonValue& v : o["layers"].toArray()) {
        const QJsonObject l = v.toObject();
        r.layers.push_back({l["name"].toString().toStdString(), l["kind"].toString().toStdString(),
                            l["params"].toInteger(), l["macs"].toInteger()});
        std::vector<SensitivityCell> cells;
        for (const QJsonValue& c : l["cells"].toArray()) {
            const QJsonObject co = c.toObject();
            cells.push_back({co["delta_loss"].toDouble(), co["delta_top1"].toDouble(), co["local_mse"].toDouble()});
        }
        if (cells.size() != r.options.size())
            throw invalidInput("The sensitivity table's layer " + r.layers.back().name + " has " +
                               std::to_string(cells.size()) + " cells for " + std::to_string(r.options.size()) +
                               " options.");
        r.cells.push_back(std::move(cells));
    }
    return r;
}

}  // namespace ptq
