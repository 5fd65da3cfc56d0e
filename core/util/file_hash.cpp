#include "core/util/file_hash.h"

#include "core/util/error.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QFile>

namespace ptq {

std::string fileSha256(const std::string& path) {
    QFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::ReadOnly)) throw invalidInput("Cannot read the model file " + path + ": check the path.");
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(&file);
    return hash.result().toHex().toStdString();
}

}  // namespace ptq
