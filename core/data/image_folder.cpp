#include "core/data/image_folder.h"

#include "core/data/idx.h"
#include "core/util/error.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtGui/QImage>
#include <QtGui/QImageReader>

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace ptq {

namespace {

struct ImageFile {
    std::string path;
    int64_t label = 0;
};

std::string sizeText(const QSize& size) {
    return std::to_string(size.width()) + "x" + std::to_string(size.height());
}

/// Entries of @p dir of the given kind, sorted by their bytes so the order (and so the class
/// indices) is the same as torchvision's sorted() on any locale.
std::vector<std::string> sortedEntries(const QDir& dir, QDir::Filters kind) {
    std::vector<std::string> names;
    for (const QString& name : dir.entryList(kind | QDir::NoDotAndDotDot, QDir::NoSort))
        names.push_back(name.toStdString());
    std::sort(names.begin(), names.end());
    return names;
}

/// Why the PNG at @p path is damaged (it stops before its IEND chunk, or a chunk fails its CRC),
/// or empty when its chunk structure is whole or it is not a PNG. Checked before decoding because
/// libpng prints its own error line on stderr for such files, beside the sentence we give.
std::string pngDamage(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    static const char signature[] = "\x89PNG\r\n\x1a\n";
    if (file.read(8) != QByteArray(signature, 8)) return {};
    const QByteArray bytes = file.readAll();
    auto be32 = [&](qsizetype at) {
        const auto* b = reinterpret_cast<const uchar*>(bytes.constData() + at);
        return (quint32(b[0]) << 24) | (quint32(b[1]) << 16) | (quint32(b[2]) << 8) | quint32(b[3]);
    };
    qsizetype at = 0;
    while (at + 12 <= bytes.size()) {
        const quint32 length = be32(at);
        if (length > quint32(bytes.size() - at - 12)) break;  // the chunk runs past the end
        const QByteArray type = bytes.mid(at + 4, 4);
        const auto* typeAndData = reinterpret_cast<const Bytef*>(bytes.constData() + at + 4);
        if (crc32(0L, typeAndData, uInt(length + 4)) != be32(at + 8 + qsizetype(length)))
            return "its " + type.toStdString() + " chunk fails its CRC check";
        if (type == "IEND") return {};
        at += 12 + qsizetype(length);
    }
    return "it stops before its IEND chunk (truncated)";
}

/// Copies a decoded image into planar C x H x W bytes.
void appendPlanar(const QImage& image, int64_t channels, std::vector<uint8_t>& out) {
    const int width = image.width(), height = image.height();
    const size_t start = out.size();
    out.resize(start + size_t(channels * width * height));
    uint8_t* dst = out.data() + start;
    if (channels == 1) {
        const QImage grey = image.convertToFormat(QImage::Format_Grayscale8);
        for (int y = 0; y < height; ++y)
            std::memcpy(dst + size_t(y) * size_t(width), grey.constScanLine(y), size_t(width));
        return;
    }
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    const size_t plane = size_t(width) * size_t(height);
    for (int y = 0; y < height; ++y) {
        const uchar* row = rgb.constScanLine(y);
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < 3; ++c)
                dst[size_t(c) * plane + size_t(y) * size_t(width) + size_t(x)] = row[3 * x + c];
    }
}

}  // namespace

InMemoryDataset loadImageFolder(const std::string& dirPath, const Normalization& normalization,
                                int64_t channels) {
    const QString qDirPath = QString::fromStdString(dirPath);
    const QFileInfo dirInfo(qDirPath);
    if (!dirInfo.exists())
        throw invalidInput("The image folder " + dirPath + " does not exist; check the path.");
    if (!dirInfo.isDir())
        throw invalidInput("The image folder " + dirPath +
                           " is a file, not a folder; give a folder with one sub-folder per class.");
    if (channels != 0 && channels != 1 && channels != 3)
        throw invalidInput("Images from the folder " + dirPath + " cannot be given " +
                           std::to_string(channels) +
                           " channels; folder: sources make grey (1) or RGB (3) images.");

    const QDir dir(qDirPath);
    const std::vector<std::string> classNames = sortedEntries(dir, QDir::Dirs);
    if (classNames.empty()) {
        const bool hasFiles = !sortedEntries(dir, QDir::Files).empty();
        throw invalidInput("The image folder " + dirPath +
                           (hasFiles ? " has files but no class sub-folders"
                                     : " is empty") +
                           "; put each class's images in a sub-folder named after the class, "
                           "like torchvision's ImageFolder.");
    }

    std::vector<ImageFile> files;
    for (size_t label = 0; label < classNames.size(); ++label) {
        const QDir classDir(dir.filePath(QString::fromStdString(classNames[label])));
        for (const std::string& name : sortedEntries(classDir, QDir::Files))
            files.push_back({classDir.filePath(QString::fromStdString(name)).toStdString(),
                             int64_t(label)});
    }
    if (files.empty())
        throw invalidInput("The image folder " + dirPath + " has " +
                           std::to_string(classNames.size()) +
                           " class sub-folders but no images in them (it is empty); put each "
                           "class's images in its sub-folder.");

    // Decode everything first: the channel count may depend on whether every image is grey.
    std::vector<QImage> images;
    images.reserve(files.size());
    QSize firstSize;
    bool allGrey = true;
    for (const ImageFile& file : files) {
        if (const std::string damage = pngDamage(QString::fromStdString(file.path)); !damage.empty())
            throw invalidInput("The file " + file.path + " in the image folder " + dirPath + " is a damaged PNG (" +
                               damage + "); remove it or export it again.");
        QImageReader reader(QString::fromStdString(file.path));
        QImage image = reader.read();
        if (image.isNull())
            throw invalidInput("The file " + file.path + " in the image folder " + dirPath +
                               " is not an image Qt can read (" +
                               reader.errorString().toStdString() +
                               "); remove it or convert it to PNG.");
        if (images.empty()) {
            firstSize = image.size();
        } else if (image.size() != firstSize) {
            throw invalidInput("The image folder " + dirPath + " mixes image sizes: " +
                               files.front().path + " is " + sizeText(firstSize) + " but " +
                               file.path + " is " + sizeText(image.size()) +
                               " (width x height); resize them all to one size.");
        }
        if (channels == 0 && allGrey) allGrey = image.isGrayscale();
        images.push_back(std::move(image));
    }
    const int64_t outChannels = channels != 0 ? channels : (allGrey ? 1 : 3);

    std::vector<uint8_t> planar;
    planar.reserve(size_t(outChannels) * size_t(firstSize.width()) * size_t(firstSize.height()) *
                   images.size());
    std::vector<int64_t> labels;
    labels.reserve(files.size());
    for (size_t i = 0; i < images.size(); ++i) {
        appendPlanar(images[i], outChannels, planar);
        images[i] = QImage();  // release as we go: the floats need the memory next
        labels.push_back(files[i].label);
    }
    const int64_t pixelsPerChannel = int64_t(firstSize.width()) * firstSize.height();
    std::vector<float> pixels = normalizePixels(planar.data(), int64_t(files.size()), outChannels,
                                                pixelsPerChannel, normalization);
    std::string description = "folder " + dirPath + ", " + std::to_string(files.size()) +
                              " images in " + std::to_string(classNames.size()) + " classes";
    return InMemoryDataset({outChannels, firstSize.height(), firstSize.width()}, std::move(pixels),
                           std::move(labels), classNames, std::move(description));
}

}  // namespace ptq
