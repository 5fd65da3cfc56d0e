#include "core/model/model_card.h"

#include "core/util/error.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <cmath>
#include <limits>

namespace ptq {

std::string modelCardPath(const std::string& modelPath) {
    QFileInfo info(QString::fromStdString(modelPath));
    return info.dir().filePath(info.completeBaseName() + ".json").toStdString();
}

std::optional<ModelCard> loadModelCard(const std::string& modelPath) {
    const QString path = QString::fromStdString(modelCardPath(modelPath));
    QFile file(path);
    if (!file.exists()) return std::nullopt;
    if (!file.open(QIODevice::ReadOnly))
        throw invalidInput("Cannot read the model's sidecar " + path.toStdString() + ": " +
                           file.errorString().toStdString() + ". Check its permissions.");
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        throw invalidInput("The model's sidecar " + path.toStdString() + " is not valid JSON (" +
                           err.errorString().toStdString() + " at offset " +
                           std::to_string(err.offset) + "). Fix it or remove it.");
    const QJsonObject o = doc.object();
    ModelCard card;
    card.name = o.value("name").toString().toStdString();
    for (const auto v : o.value("input_shape").toArray()) card.inputShape.push_back(v.toInteger());
    const QJsonObject norm = o.value("normalization").toObject();
    for (const char* key : {"mean", "std"})
        for (const auto v : norm.value(QLatin1String(key)).toArray()) {
            const double d = v.toDouble(std::nan(""));
            if (!(std::abs(d) <= double(std::numeric_limits<float>::max())))
                throw invalidInput("The model's sidecar " + path.toStdString() + " has a normalization " + key +
                                   " that is not a number a 32-bit float holds; fix it.");
            (key[0] == 'm' ? card.mean : card.std).push_back(float(d));
        }
    card.preset = norm.value("preset").toString().toStdString();
    card.cropRatio = o.value("crop_ratio").toDouble(0.0);
    if (o.contains("crop_ratio") && !(card.cropRatio > 0))
        throw invalidInput("The model's sidecar " + path.toStdString() +
                           " has a crop_ratio that is not a positive number; give one in (0, 1], e.g. 0.875.");
    for (const auto v : o.value("class_names").toArray()) card.classNames.push_back(v.toString().toStdString());
    card.fp32Top1 = o.value("fp32_top1_test").toDouble(-1.0);
    card.testImages = o.value("test_images").toInt();
    card.dataset = o.value("dataset").toString().toStdString();
    validateModelCard(card, "The model's sidecar " + path.toStdString());
    return card;
}

void validateModelCard(const ModelCard& card, const std::string& where) {
    if (!card.inputShape.empty() && card.inputShape.size() != 3 && card.inputShape.size() != 1)
        throw invalidInput(where + " gives an input shape of " + std::to_string(card.inputShape.size()) +
                           " dimensions; it must be channels, height, width (an image model) or the number of "
                           "tokens (a text model).");
    for (int64_t d : card.inputShape)
        if (d <= 0)
            throw invalidInput(where + " gives an input shape with a dimension of " + std::to_string(d) +
                               "; every dimension of the input shape must be positive.");
    if (card.mean.empty() != card.std.empty())
        throw invalidInput(where + " gives a normalization " + (card.mean.empty() ? "std" : "mean") + " without a " +
                           (card.mean.empty() ? "mean" : "std") + "; give both, or a preset.");
    for (float s : card.std)
        if (!(s > 0.f)) throw invalidInput(where + " has a normalization std that is not positive; fix it.");
    for (float m : card.mean)
        if (!std::isfinite(m)) throw invalidInput(where + " has a normalization mean that is not a number; fix it.");
    if (card.cropRatio < 0 || card.cropRatio > 1 || std::isnan(card.cropRatio))
        throw invalidInput(where + " gives a crop ratio of " + QString::number(card.cropRatio).toStdString() +
                           "; it must be in (0, 1] (1 keeps the whole shorter side, 0.875 is ImageNet's 224 of 256).");
}

const std::vector<NormalizationPreset>& normalizationPresets() {
    static const std::vector<NormalizationPreset> presets{
        {"none", {0.0f}, {1.0f}, 1.0, "pixels in [0, 1] (ToTensor alone)"},
        {"imagenet", {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, 0.875,
         "ImageNet's mean and std, crop ratio 0.875 (Resize 256, CenterCrop 224)"},
        {"fmnist", {0.2860f}, {0.3530f}, 1.0, "Fashion-MNIST's training-set mean and std"},
        {"mnist", {0.1307f}, {0.3081f}, 1.0, "MNIST's training-set mean and std (pytorch/examples)"},
        {"cifar10", {0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}, 1.0,
         "CIFAR-10's training-set mean and std"},
    };
    return presets;
}

const NormalizationPreset& normalizationPreset(const std::string& name) {
    const QString wanted = QString::fromStdString(name).trimmed().toLower();
    std::string names;
    for (const NormalizationPreset& p : normalizationPresets()) {
        if (QString::fromStdString(p.name) == wanted) return p;
        names += (names.empty() ? "" : ", ") + p.name;
    }
    throw invalidInput("There is no normalization preset '" + name + "'; the presets are " + names + ".");
}

void writeModelCard(const std::string& modelPath, const ModelCard& card) {
    const QString path = QString::fromStdString(modelCardPath(modelPath));
    validateModelCard(card, "The model card for " + modelPath);
    QJsonObject o;
    if (QFile old(path); old.open(QIODevice::ReadOnly)) {  // keep what this version does not write
        const QJsonDocument doc = QJsonDocument::fromJson(old.readAll());
        if (doc.isObject()) o = doc.object();
    }
    const auto numbers = [](const auto& values) {
        QJsonArray a;
        for (auto v : values) a.append(double(v));
        return a;
    };
    if (!card.name.empty()) o["name"] = QString::fromStdString(card.name);
    o["file"] = QFileInfo(QString::fromStdString(modelPath)).fileName();
    if (!card.inputShape.empty()) o["input_shape"] = numbers(card.inputShape);
    QJsonObject norm;
    if (card.hasNormalization()) {
        norm["mean"] = numbers(card.mean);
        norm["std"] = numbers(card.std);
        if (!card.preset.empty()) norm["preset"] = QString::fromStdString(card.preset);
        norm["note"] = QStringLiteral("pixels scaled to [0,1], then (x - mean) / std");
        o["normalization"] = norm;
    } else {
        o.remove("normalization");
    }
    if (card.cropRatio > 0) o["crop_ratio"] = card.cropRatio;
    else o.remove("crop_ratio");
    QJsonArray names;
    for (const std::string& n : card.classNames) names.append(QString::fromStdString(n));
    if (!card.classNames.empty()) o["class_names"] = names;
    else o.remove("class_names");
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(o).toJson()) < 0 || !file.commit())
        throw failed("Cannot write the model card " + path.toStdString() + ": " + file.errorString().toStdString() +
                     ". Check that its folder is writable.");
}

std::vector<std::string> readClassNames(const std::string& path) {
    QFile file(QString::fromStdString(path));
    if (!file.exists())
        throw invalidInput("The class names file " + path + " does not exist; give a text file with one name a line.");
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        throw invalidInput("Cannot read the class names file " + path + ": " + file.errorString().toStdString() + ".");
    std::vector<std::string> names;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#'))) continue;
        names.push_back(line.toStdString());
    }
    if (names.empty())
        throw invalidInput("The class names file " + path + " names no class; give one name a line.");
    return names;
}

std::string demoModelPath() {
    const QString name = QStringLiteral("resnet20_fmnist.pt");
    QStringList candidates;
    if (QCoreApplication::instance()) {
        const QString bin = QCoreApplication::applicationDirPath();
        candidates << bin + "/../share/ptq-studio/models/" + name;
    }
    candidates << QStringLiteral(PTQ_SOURCE_RESOURCES "/models/") + name;
    for (const QString& c : candidates)
        if (QFileInfo::exists(c)) return QFileInfo(c).absoluteFilePath().toStdString();
    return {};
}

std::vector<std::string> demoModelPaths() {
    const std::string first = demoModelPath();
    if (first.empty()) return {};
    const QDir folder = QFileInfo(QString::fromStdString(first)).absoluteDir();
    std::vector<std::string> paths;
    for (const QFileInfo& f : folder.entryInfoList({QStringLiteral("*.pt")}, QDir::Files, QDir::Name))
        paths.push_back(f.absoluteFilePath().toStdString());
    return paths;
}

}  // namespace ptq
