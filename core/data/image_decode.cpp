#include "core/data/image_decode.h"

#include <QtCore/QByteArray>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QLoggingCategory>
#include <QtGui/QImage>
#include <QtGui/QImageReader>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

namespace ptq {

namespace {

/// The messages Qt's image plugins print on this thread while we read, when we listen.
thread_local std::string* tCaptured = nullptr;
QtMessageHandler gPrevious = nullptr;

void imageMessageHandler(QtMsgType type, const QMessageLogContext& context, const QString& message) {
    const bool imageIo = context.category && std::strncmp(context.category, "qt.gui.imageio", 14) == 0;
    if (tCaptured && (imageIo || message.startsWith(QLatin1String("libpng")))) {
        if (!tCaptured->empty()) *tCaptured += "; ";
        *tCaptured += message.toStdString();
        return;
    }
    if (gPrevious) gPrevious(type, context, message);
}

/// Listens to the image plugins' messages on this thread for its lifetime.
class CaptureImageMessages {
public:
    CaptureImageMessages() {
        static std::once_flag installed;
        std::call_once(installed, [] { gPrevious = qInstallMessageHandler(imageMessageHandler); });
        previous_ = tCaptured;
        tCaptured = &text;
    }
    ~CaptureImageMessages() { tCaptured = previous_; }
    CaptureImageMessages(const CaptureImageMessages&) = delete;
    CaptureImageMessages& operator=(const CaptureImageMessages&) = delete;
    std::string text;

private:
    std::string* previous_ = nullptr;
};

/// Why the PNG @p bytes are damaged (they stop before the IEND chunk, or a chunk fails its
/// CRC), or empty when the chunk structure is whole. Checked before decoding because libpng
/// would otherwise decode a damaged file part way.
std::string pngDamage(const QByteArray& bytes) {
    auto be32 = [&](qsizetype at) {
        const auto* b = reinterpret_cast<const uchar*>(bytes.constData() + at);
        return (quint32(b[0]) << 24) | (quint32(b[1]) << 16) | (quint32(b[2]) << 8) | quint32(b[3]);
    };
    qsizetype at = 8;
    while (at + 12 <= bytes.size()) {
        const quint32 length = be32(at);
        if (length > quint32(bytes.size() - at - 12)) break;  // the chunk runs past the end
        const QByteArray type = bytes.mid(at + 4, 4);
        const auto* typeAndData = reinterpret_cast<const Bytef*>(bytes.constData() + at + 4);
        if (crc32(0L, typeAndData, uInt(length + 4)) != be32(at + 8 + qsizetype(length)))
            return "it is a damaged PNG: its " + type.toStdString() + " chunk fails its CRC check";
        if (type == "IEND") return {};
        at += 12 + qsizetype(length);
    }
    return "it is a damaged PNG: it stops before its IEND chunk (truncated)";
}

/// Whether the last bytes of a JPEG hold its end-of-image marker (FF D9). Entropy-coded data
/// never holds FF D9, so a file cut inside its scan has none; trailers some cameras append
/// after the marker are allowed for (up to 64 KB).
bool jpegHasEndMarker(QFile& file) {
    const qint64 size = file.size();
    const qint64 tail = std::min<qint64>(size, 65536);
    if (!file.seek(size - tail)) return false;
    const QByteArray bytes = file.read(tail);
    return bytes.lastIndexOf(QByteArray("\xff\xd9", 2)) >= 0;
}

QImageReader& configured(QImageReader& reader) {
    reader.setDecideFormatFromContent(true);
    reader.setAutoTransform(false);  // torchvision's loader does not apply EXIF orientation
    return reader;
}

}  // namespace

bool hasImageExtension(const std::string& name) {
    static const char* const kEndings[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    for (const char* ending : kEndings) {
        const size_t n = std::strlen(ending);
        if (lower.size() > n && lower.compare(lower.size() - n, n, ending) == 0) return true;
    }
    return false;
}

ImageProbe probeImage(const std::string& path) {
    ImageProbe probe;
    const QString qPath = QString::fromStdString(path);
    QFile file(qPath);
    if (!file.open(QIODevice::ReadOnly)) {
        probe.damage = QFileInfo::exists(qPath) ? "it cannot be opened for reading (" + file.errorString().toStdString() + ")"
                                                : "it does not exist";
        return probe;
    }
    if (file.size() == 0) {
        probe.damage = "it is empty (0 bytes)";
        return probe;
    }
    const QByteArray head = file.peek(8);
    CaptureImageMessages quiet;
    if (head == QByteArray("\x89PNG\r\n\x1a\n", 8)) {
        const QByteArray bytes = file.readAll();
        probe.damage = pngDamage(bytes);
        if (!probe.damage.empty()) return probe;
        file.seek(0);
    }
    const bool jpeg = head.startsWith(QByteArray("\xff\xd8\xff", 3));
    const bool jpegEnds = !jpeg || jpegHasEndMarker(file);
    file.seek(0);
    QImageReader reader(&file);
    configured(reader);
    const QSize size = reader.size();
    if (!reader.canRead() || !size.isValid() || size.isEmpty()) {
        std::string why = reader.errorString().toStdString();
        if (why.empty() || why == "Unknown error") why = "its header does not decode";
        probe.damage = jpeg && !jpegEnds ? "it is a damaged JPEG: it stops before its end marker (truncated)"
                                         : "it is not an image Qt can read (" + why + ")";
        return probe;
    }
    probe.width = size.width();
    probe.height = size.height();
    const QImage::Format format = reader.imageFormat();
    probe.grey = format == QImage::Format_Grayscale8 || format == QImage::Format_Grayscale16 ||
                 format == QImage::Format_Mono || format == QImage::Format_MonoLSB;
    if (!jpegEnds) {
        // No end marker in the tail: decode it to tell a cut file from a long trailer. Qt's
        // reader ends a cut file with a made-up end marker, which libjpeg reports as "premature
        // end of data segment" (or the file does not decode at all).
        file.seek(0);
        QImageReader full(&file);
        configured(full);
        const QImage image = full.read();
        if (image.isNull() || !quiet.text.empty())
            probe.damage = "it is a damaged JPEG: it stops before its end marker (truncated)";
    }
    return probe;
}

bool decodeImage(const std::string& path, int channels, Image8& out, std::string& why) {
    CaptureImageMessages quiet;
    QImageReader reader(QString::fromStdString(path));
    configured(reader);
    QImage image = reader.read();
    if (image.isNull()) {
        why = reader.errorString().toStdString();
        if (why.empty() || why == "Unknown error") why = quiet.text.empty() ? "no image data" : quiet.text;
        return false;
    }
    const int width = image.width(), height = image.height();
    out.width = width;
    out.height = height;
    out.channels = channels;
    out.pixels.resize(size_t(width) * size_t(height) * size_t(channels));
    uint8_t* dst = out.pixels.data();
    if (image.isGrayscale()) {
        const QImage grey = image.convertToFormat(QImage::Format_Grayscale8);
        for (int y = 0; y < height; ++y) {
            const uchar* row = grey.constScanLine(y);
            if (channels == 1) {
                std::memcpy(dst + size_t(y) * size_t(width), row, size_t(width));
            } else {
                uint8_t* o = dst + size_t(y) * size_t(width) * 3;
                for (int x = 0; x < width; ++x) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = row[x];
            }
        }
        return true;
    }
    // Pillow's convert("RGB") drops alpha without compositing: read the straight colour values.
    if (image.hasAlphaChannel()) image = image.convertToFormat(QImage::Format_RGBA8888);
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    for (int y = 0; y < height; ++y) {
        const uchar* row = rgb.constScanLine(y);
        if (channels == 3) {
            std::memcpy(dst + size_t(y) * size_t(width) * 3, row, size_t(width) * 3);
        } else {
            uint8_t* o = dst + size_t(y) * size_t(width);
            for (int x = 0; x < width; ++x)  // Pillow's L24: ITU-R 601-2 luma in 16-bit fixed point
                o[x] = uint8_t((row[3 * x] * 19595 + row[3 * x + 1] * 38470 + row[3 * x + 2] * 7471 + 0x8000) >> 16);
        }
    }
    return true;
}

}  // namespace ptq
