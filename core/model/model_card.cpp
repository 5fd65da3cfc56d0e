#include "core/model/model_card.h"

#include "core/util/error.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

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
    for (const auto v : o.value("class_names").toArray()) card.classNames.push_back(v.toString().toStdString());
    card.fp32Top1 = o.value("fp32_top1_test").toDouble(-1.0);
    card.testImages = o.value("test_images").toInt();
    card.dataset = o.value("dataset").toString().toStdString();
    if (!card.inputShape.empty() && card.inputShape.size() != 3)
        throw invalidInput("The model's sidecar " + path.toStdString() +
                           " gives an input_shape of " + std::to_string(card.inputShape.size()) +
                           " dimensions; it must be [channels, height, width].");
    for (int64_t d : card.inputShape)
        if (d <= 0)
            throw invalidInput("The model's sidecar " + path.toStdString() + " gives an input_shape with a dimension of " +
                               std::to_string(d) + "; every dimension of [channels, height, width] must be positive.");
    for (float s : card.std)
        if (!(s > 0.f))
            throw invalidInput("The model's sidecar " + path.toStdString() +
                               " has a normalization std that is not positive; fix it.");
    return card;
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

}  // namespace ptq
