#include "core/io/sensitivity_cache.h"

#include "core/util/error.h"
#include "core/util/log.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QStandardPaths>

namespace ptq {

SensitivityCache::SensitivityCache(std::string directory) : directory_(std::move(directory)) {}

std::string SensitivityCache::defaultDirectory() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("cache"))
        .toStdString();
}

std::string SensitivityCache::key(const TableProvenance& p) {
    std::string text = p.modelSha256 + "|" + p.data + "|" + p.base + "|" + p.granularity + "|" + p.weightRange + "|" +
                       p.activationRange + "|" + std::to_string(p.batch) + "|" + std::to_string(p.seed);
    for (const std::string& o : p.options) text += "|" + o;
    // Tables measured with AdaQuant parameters are other entries (plain keys stay as they were).
    if (p.adaQuantIterations > 0) text += "|adaquant=" + std::to_string(p.adaQuantIterations);
    return QCryptographicHash::hash(QByteArray::fromStdString(text), QCryptographicHash::Sha1).toHex().toStdString();
}

std::string SensitivityCache::pathOf(const TableProvenance& p) const {
    return QDir(QString::fromStdString(directory_))
        .filePath(QStringLiteral("sensitivity-%1.json").arg(QString::fromStdString(key(p))))
        .toStdString();
}

std::optional<SensitivityResult> SensitivityCache::load(const TableProvenance& provenance) const {
    const std::string path = pathOf(provenance);
    if (!QFileInfo::exists(QString::fromStdString(path))) return std::nullopt;
    try {
        SensitivityTable table = readSensitivityTable(path);
        if (const std::string difference = table.provenance.differenceFrom(provenance); !difference.empty()) {
            logger()->info("Not using the cached table {}: {}", path, difference);
            return std::nullopt;
        }
        return std::move(table.result);
    } catch (const std::exception& e) {
        logger()->warn("Ignoring the damaged sensitivity cache entry {}: {}", path, e.what());
        return std::nullopt;
    }
}

bool SensitivityCache::store(const TableProvenance& provenance, const SensitivityResult& table) const {
    if (!QDir().mkpath(QString::fromStdString(directory_))) {
        logger()->warn("Cannot create the cache folder {}", directory_);
        return false;
    }
    try {
        writeSensitivityTable(pathOf(provenance), SensitivityTable{provenance, table});
        return true;
    } catch (const std::exception& e) {
        logger()->warn("Cannot write the cache entry {}: {}", pathOf(provenance), e.what());
        return false;
    }
}

}  // namespace ptq
