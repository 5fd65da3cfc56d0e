#include "core/data/image_folder.h"

#include "core/data/image_decode.h"
#include "core/util/error.h"

#include <QtCore/QDir>
#include <QtCore/QDirIterator>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QRegularExpression>

#include <algorithm>
#include <utility>

namespace ptq {

namespace {

constexpr const char* kEndings = ".jpg, .jpeg, .png, .ppm, .bmp, .pgm, .tif, .tiff or .webp";

/// Entries of @p dir of the given kind (hidden ones left out), sorted by their bytes so the
/// order (and so the class indices) is the same as torchvision's sorted() on any locale.
std::vector<std::string> sortedEntries(const QDir& dir, QDir::Filters kind) {
    std::vector<std::string> names;
    for (const QString& name : dir.entryList(kind | QDir::NoDotAndDotDot, QDir::NoSort))
        names.push_back(name.toStdString());
    std::sort(names.begin(), names.end());
    return names;
}

/// The image files at any depth below @p dir, ordered as torchvision's make_dataset walks
/// them: by folder path, then by name.
std::vector<std::string> imagesBelow(const QString& dir) {
    std::vector<std::pair<std::string, std::string>> found;  // folder, name
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories | QDirIterator::FollowSymlinks);
    while (it.hasNext()) {
        const QFileInfo info(it.next());
        const std::string name = info.fileName().toStdString();
        if (!hasImageExtension(name)) continue;
        // Hidden files, and files inside hidden folders, are left out.
        const QString relative = QDir(dir).relativeFilePath(info.filePath());
        if (relative.startsWith('.') || relative.contains(QLatin1String("/."))) continue;
        found.emplace_back(info.path().toStdString(), name);
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> paths;
    paths.reserve(found.size());
    for (const auto& [folder, name] : found) paths.push_back(folder + "/" + name);
    return paths;
}

[[noreturn]] void badLine(const std::string& path, int line, const std::string& why) {
    throw invalidInput("Line " + std::to_string(line) + " of the image list " + path + " " + why +
                       "; write one PATH or PATH LABEL per line (LABEL a whole number from 0).");
}

}  // namespace

ImageListing listImageFolder(const std::string& dirPath) {
    const QString qDirPath = QString::fromStdString(dirPath);
    const QFileInfo dirInfo(qDirPath);
    if (!dirInfo.exists())
        throw invalidInput("The image folder " + dirPath + " does not exist; check the path.");
    if (!dirInfo.isDir())
        throw invalidInput("The image folder " + dirPath +
                           " is a file, not a folder; give a folder of images, or one sub-folder of images per class.");
    const QDir dir(qDirPath);
    ImageListing listing;
    const std::vector<std::string> classNames = sortedEntries(dir, QDir::Dirs);
    if (classNames.empty()) {
        for (const std::string& name : sortedEntries(dir, QDir::Files))
            if (hasImageExtension(name)) listing.files.push_back({dir.filePath(QString::fromStdString(name)).toStdString(), 0});
        if (listing.files.empty()) {
            const bool hasFiles = !sortedEntries(dir, QDir::Files).empty();
            throw invalidInput("The image folder " + dirPath +
                               (hasFiles ? " has no images (files ending " + std::string(kEndings) + ")" : " is empty") +
                               "; put the images in it, or each class's images in a sub-folder named after the class.");
        }
        listing.name = "folder " + dirPath;
        listing.origin = "the image folder " + dirPath;
        return listing;
    }
    for (size_t label = 0; label < classNames.size(); ++label)
        for (std::string& file : imagesBelow(dir.filePath(QString::fromStdString(classNames[label]))))
            listing.files.push_back({std::move(file), int64_t(label)});
    if (listing.files.empty())
        throw invalidInput("The image folder " + dirPath + " has " + std::to_string(classNames.size()) +
                           " class sub-folders but no images in them (files ending " + kEndings +
                           "); put each class's images in its sub-folder.");
    listing.labelled = true;
    listing.classNames = classNames;
    listing.name = "folder " + dirPath;
    listing.origin = "the image folder " + dirPath;
    return listing;
}

ImageListing readImageList(const std::string& path) {
    const QString qPath = QString::fromStdString(path);
    const QFileInfo info(qPath);
    if (!info.exists()) throw invalidInput("The image list " + path + " does not exist; check the path.");
    if (info.isDir())
        throw invalidInput("The image list " + path + " is a folder, not a file; give it as folder:" + path +
                           " or give a text file of PATH [LABEL] lines.");
    QFile file(qPath);
    if (!file.open(QIODevice::ReadOnly))
        throw invalidInput("The image list " + path + " cannot be read (" + file.errorString().toStdString() +
                           "); check its permissions.");
    const QDir base = info.absoluteDir();
    ImageListing listing;
    int line = 0, firstLine = 0;
    while (!file.atEnd()) {
        ++line;
        const QString text = QString::fromUtf8(file.readLine()).trimmed();
        if (text.isEmpty() || text.startsWith('#')) continue;
        const QStringList fields = text.split(QRegularExpression(QStringLiteral("\\s+")));
        if (fields.size() > 2) badLine(path, line, "has " + std::to_string(fields.size()) + " fields ('" + text.toStdString() + "')");
        const bool labelled = fields.size() == 2;
        if (firstLine == 0) {
            firstLine = line;
            listing.labelled = labelled;
        } else if (labelled != listing.labelled) {
            badLine(path, line,
                    std::string(labelled ? "gives a label but line " : "gives no label but line ") +
                        std::to_string(firstLine) + (labelled ? " gives none" : " gives one") +
                        " (labels go on every line or on none)");
        }
        ImageFileEntry entry;
        if (labelled) {
            bool ok = false;
            const qlonglong label = fields[1].toLongLong(&ok);
            if (!ok || label < 0 || fields[1].startsWith('+'))
                badLine(path, line, "has the label '" + fields[1].toStdString() + "', not a whole number from 0");
            entry.label = label;
        }
        const QString file = QDir::cleanPath(base.filePath(fields[0]));
        if (!QFileInfo(file).isFile())
            throw invalidInput("Line " + std::to_string(line) + " of the image list " + path + " names " +
                               file.toStdString() + (QFileInfo(file).isDir() ? ", which is a folder" : ", which does not exist") +
                               "; fix the path (relative paths start at the list's folder) or remove the line.");
        entry.path = file.toStdString();
        listing.files.push_back(std::move(entry));
    }
    if (listing.files.empty())
        throw invalidInput("The image list " + path + " names no images; write one PATH or PATH LABEL per line.");
    listing.name = "list " + path;
    listing.origin = "the image list " + path;
    return listing;
}

}  // namespace ptq
