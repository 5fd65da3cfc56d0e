// Image sources (folder:, list:) on files the test writes: layouts, list files, image modes,
// the evaluation transform's arithmetic (Pillow's antialiased bilinear, torchvision's crop),
// streaming reads on worker threads, bad files refused or skipped.
#include "core/data/data_source.h"
#include "core/data/image_dataset.h"
#include "core/data/image_resample.h"
#include "core/util/error.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QtTest>

#include <cmath>

using namespace ptq;

namespace {

QString errorOf(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.kind() == Error::Kind::InvalidInput ? QString::fromStdString(e.what())
                                                    : "<wrong kind> " + QString::fromStdString(e.what());
    }
    return {};
}

#define EXPECT_REFUSED(action, name, phrase)                                                          \
    do {                                                                                              \
        const QString m_ = errorOf(action);                                                           \
        QVERIFY2(!m_.isEmpty() && !m_.startsWith("<wrong kind>"), qPrintable("not refused: " + m_)); \
        QVERIFY2(m_.endsWith('.') && !m_.contains('\n'), qPrintable("not one sentence: " + m_));     \
        QVERIFY2(m_.contains(name), qPrintable("does not name " + QString(name) + ": " + m_));       \
        QVERIFY2(m_.contains(phrase), qPrintable("does not say '" + QString(phrase) + "': " + m_));  \
    } while (false)

void writeBytes(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(bytes);
}

QByteArray readBytes(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

/// A colour picture with a gradient, so a resize changes it.
QImage gradient(int width, int height, int seed = 0) {
    QImage image(width, height, QImage::Format_RGB888);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            image.setPixel(x, y, qRgb((x * 255) / std::max(1, width - 1), (y * 255) / std::max(1, height - 1), (seed * 37 + x * y) % 256));
    return image;
}

void save(const QImage& image, const QString& path, const char* format = nullptr, int quality = -1) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QVERIFY2(image.save(path, format, quality), qPrintable(path));
}

std::vector<float> readAll(const Dataset& data, std::vector<int64_t>* labels = nullptr) {
    std::vector<float> out(size_t(data.size() * data.sampleElements()));
    if (labels) labels->assign(size_t(data.size()), -1);
    data.read(0, data.size(), out.data(), labels ? labels->data() : nullptr);
    return out;
}

}  // namespace

class TestImageSources : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pillowAntialiasedBilinear();
    void torchvisionCropOffsets();
    void exactSizePassesThrough();
    void cropRatioResizesThenCrops();
    void mixedSizesAreResized();
    void flatFolderIsUnlabelled();
    void classFoldersAtAnyDepthAndOtherFilesLeftOut();
    void imageModes();
    void listFile();
    void listFileErrors_data();
    void listFileErrors();
    void badFilesRefused_data();
    void badFilesRefused();
    void badFilesSkippedAndCounted();
    void damageFoundMidStreamNamesTheFile();
    void streamsOnWorkerThreads();
    void batchesStreamAndKeepNothing();

private:
    QTemporaryDir tmp_;
};

void TestImageSources::pillowAntialiasedBilinear() {
    // A 4 x 4 image whose rows are 0, 70, 140, 210, halved: Pillow's triangle filter widens to
    // a support of 2 input pixels, weights 0.75, 0.75, 0.25 (normalized by 1.75), giving 50 and
    // 160. Plain bilinear (support 1) would give 35 and 175.
    Image8 in;
    in.width = in.height = 4;
    in.channels = 1;
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) in.pixels.push_back(uint8_t(70 * x));
    const Image8 out = resizeAndCentreCrop(in, 2, 2, 1.0);
    QCOMPARE(out.width, 2);
    QCOMPARE(out.height, 2);
    QCOMPARE(int(out.pixels[0]), 50);
    QCOMPARE(int(out.pixels[1]), 160);
    QCOMPARE(int(out.pixels[2]), 50);
    QCOMPARE(int(out.pixels[3]), 160);
    // Upscaling keeps the triangle's support at 1: a 2-pixel row 0, 100 doubled gives
    // 0, 25, 75, 100 (centres at 0.25, 0.75, 1.25, 1.75 of the input).
    Image8 row;
    row.width = 2;
    row.height = 2;
    row.channels = 1;
    row.pixels = {0, 100, 0, 100};
    const Image8 up = resizeAndCentreCrop(row, 4, 4, 1.0);
    QCOMPARE(std::vector<int>(up.pixels.begin(), up.pixels.begin() + 4), (std::vector<int>{0, 25, 75, 100}));
}

void TestImageSources::torchvisionCropOffsets() {
    // int(round((size - crop) / 2.0)) with Python's round: halves to even.
    QCOMPARE(centreCropOffset(256, 224), 16);
    QCOMPARE(centreCropOffset(5, 2), 2);   // 1.5 -> 2
    QCOMPARE(centreCropOffset(3, 2), 0);   // 0.5 -> 0
    QCOMPARE(centreCropOffset(7, 2), 2);   // 2.5 -> 2
    QCOMPARE(centreCropOffset(9, 2), 4);   // 3.5 -> 4
    int w = 0, h = 0;
    resizedSize(500, 375, 256, w, h);      // int(256 * 500 / 375) = 341
    QCOMPARE(w, 341);
    QCOMPARE(h, 256);
    resizedSize(100, 300, 73, w, h);
    QCOMPARE(w, 73);
    QCOMPARE(h, 219);
}

void TestImageSources::exactSizePassesThrough() {
    const QString dir = tmp_.filePath("exact");
    const QImage image = gradient(12, 8);
    save(image, dir + "/a/x.png");
    const auto data = openDataSource("folder:" + dir.toStdString(), Normalization::none(), {3, 8, 12});
    const std::vector<float> px = readAll(*data);
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 12; ++x) {
            const QRgb v = image.pixel(x, y);
            QCOMPARE(px[size_t(0 * 96 + y * 12 + x)], float(qRed(v)) / 255.f);
            QCOMPARE(px[size_t(1 * 96 + y * 12 + x)], float(qGreen(v)) / 255.f);
            QCOMPARE(px[size_t(2 * 96 + y * 12 + x)], float(qBlue(v)) / 255.f);
        }
}

void TestImageSources::cropRatioResizesThenCrops() {
    // 0.875 on 8 x 8: the shorter side goes to round(8 / 0.875) = 9, the centre 8 x 8 is cut
    // at offset round(0.5) = 0; the same as resizing by hand then cropping.
    const QString dir = tmp_.filePath("ratio");
    const QImage image = gradient(20, 16, 3);
    save(image, dir + "/a/x.png");
    ImageTransform t;
    t.cropRatio = 0.875;
    const auto data = openDataSource("folder:" + dir.toStdString(), Normalization::none(), {3, 8, 8}, t);
    const std::vector<float> px = readAll(*data);
    Image8 in;
    in.width = 20;
    in.height = 16;
    in.channels = 3;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    for (int y = 0; y < 16; ++y) in.pixels.insert(in.pixels.end(), rgb.constScanLine(y), rgb.constScanLine(y) + 60);
    // Shorter side 16 -> 9, longer 20 -> int(9 * 20 / 16) = 11; crop 8 x 8 at (round(1.5), round(0.5)) = (2, 0).
    const Image8 expected = resizeAndCentreCrop(in, 8, 8, 0.875);
    for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 64; ++p) QCOMPARE(px[size_t(c * 64 + p)], float(expected.pixels[size_t(p * 3 + c)]) / 255.f);
    EXPECT_REFUSED([&] { openDataSource("folder:" + dir.toStdString(), {}, {3, 8, 8}, ImageTransform{1.5}); },
                   "crop ratio", "at most 1");
    EXPECT_REFUSED([&] { openDataSource("folder:" + dir.toStdString(), {}, {3, 8, 8}, ImageTransform{0.0}); },
                   "crop ratio", "above 0");
}

void TestImageSources::mixedSizesAreResized() {
    const QString dir = tmp_.filePath("mixed");
    save(gradient(28, 28), dir + "/a/small.png");
    save(gradient(64, 40), dir + "/b/wide.jpg", "JPEG", 90);
    save(gradient(30, 90), dir + "/b/tall.png");
    const auto data = openDataSource("folder:" + dir.toStdString(), Normalization::none(), {3, 28, 28});
    QCOMPARE(data->size(), int64_t(3));
    QCOMPARE(data->sampleShape(), (std::vector<int64_t>{3, 28, 28}));
    std::vector<int64_t> labels;
    const std::vector<float> px = readAll(*data, &labels);
    QCOMPARE(labels, (std::vector<int64_t>{0, 1, 1}));
    for (float v : px) QVERIFY(v >= 0.f && v <= 1.f);
    // Without a model's shape the first image's size applies and the others are brought to it.
    const auto free = openDataSource("folder:" + dir.toStdString(), Normalization::none());
    QCOMPARE(free->sampleShape(), (std::vector<int64_t>{3, 28, 28}));
}

void TestImageSources::flatFolderIsUnlabelled() {
    const QString dir = tmp_.filePath("flat");
    save(gradient(10, 10), dir + "/b.png");
    save(gradient(16, 12), dir + "/a.JPG", "JPEG");
    writeBytes(dir + "/README.txt", "calibration photos\n");
    const auto data = openDataSource("folder:" + dir.toStdString(), Normalization::none(), {3, 10, 10});
    QCOMPARE(data->size(), int64_t(2));
    QVERIFY(!data->hasLabels());
    QVERIFY(data->classNames().empty());
    QVERIFY2(QString::fromStdString(data->description()).contains("2 images, unlabelled"), data->description().c_str());
    std::vector<int64_t> labels(2);
    std::vector<float> px(2 * 300);
    EXPECT_REFUSED([&] { data->read(0, 2, px.data(), labels.data()); }, "", "no labels");
}

void TestImageSources::classFoldersAtAnyDepthAndOtherFilesLeftOut() {
    const QString dir = tmp_.filePath("deep");
    save(gradient(8, 8), dir + "/cat/2019/x.png");
    save(gradient(8, 8), dir + "/cat/a.png");
    save(gradient(8, 8), dir + "/dog/y.png");
    writeBytes(dir + "/dog/notes.txt", "not an image");
    writeBytes(dir + "/dog/.hidden.png", "hidden");
    writeBytes(dir + "/top.png", "beside the class folders: left out, as ImageFolder does");
    const auto data = openDataSource("folder:" + dir.toStdString(), Normalization::none(), {3, 8, 8});
    QCOMPARE(data->size(), int64_t(3));
    QCOMPARE(data->classNames(), (std::vector<std::string>{"cat", "dog"}));
    std::vector<int64_t> labels;
    readAll(*data, &labels);
    QCOMPARE(labels, (std::vector<int64_t>{0, 0, 1}));
}

void TestImageSources::imageModes() {
    const QString dir = tmp_.filePath("modes");
    // RGBA: alpha dropped without compositing, as Pillow's convert("RGB").
    QImage rgba(4, 4, QImage::Format_RGBA8888);
    rgba.fill(QColor(200, 100, 50, 10));
    save(rgba, dir + "/flat/rgba.png");
    // Palette.
    QImage palette(4, 4, QImage::Format_Indexed8);
    palette.setColorTable({qRgb(255, 0, 0), qRgb(0, 0, 255)});
    palette.fill(1);
    save(palette, dir + "/flat/palette.png");
    // 16-bit grey: 65535 * 0.6 scales to 153.
    QImage grey16(4, 4, QImage::Format_Grayscale16);
    for (int y = 0; y < 4; ++y) {
        auto* row = reinterpret_cast<quint16*>(grey16.scanLine(y));
        for (int x = 0; x < 4; ++x) row[x] = quint16(39321);
    }
    save(grey16, dir + "/flat/grey16.png");
    QImage grey8(4, 4, QImage::Format_Grayscale8);
    grey8.fill(QColor(77, 77, 77));
    save(grey8, dir + "/flat/grey8.jpg", "JPEG", 100);
    const auto data = openDataSource("folder:" + dir.toStdString() + "/flat", Normalization::none(), {3, 4, 4});
    QCOMPARE(data->size(), int64_t(4));  // grey16, grey8, palette, rgba (sorted names)
    const std::vector<float> px = readAll(*data);
    auto at = [&](int sample, int channel) { return int(std::lround(px[size_t(sample * 48 + channel * 16 + 5)] * 255.f)); };
    QCOMPARE(at(0, 0), 153);
    QCOMPARE(at(0, 2), 153);
    QVERIFY(std::abs(at(1, 1) - 77) <= 1);
    QCOMPARE(at(2, 0), 0);
    QCOMPARE(at(2, 2), 255);
    QCOMPARE(at(3, 0), 200);
    QCOMPARE(at(3, 1), 100);
    QCOMPARE(at(3, 2), 50);
    // One channel: grey from RGB by ITU-R 601-2 luma as Pillow's convert("L"):
    // (200 * 19595 + 100 * 38470 + 50 * 7471 + 32768) >> 16 = 124.
    const auto grey = openDataSource("folder:" + dir.toStdString() + "/flat", Normalization::none(), {1, 4, 4});
    const std::vector<float> g = readAll(*grey);
    QCOMPARE(int(std::lround(g[size_t(3 * 16 + 5)] * 255.f)), 124);
    QCOMPARE(int(std::lround(g[size_t(0 * 16 + 5)] * 255.f)), 153);
}

void TestImageSources::listFile() {
    const QString dir = tmp_.filePath("list");
    save(gradient(8, 8, 1), dir + "/img/a.png");
    save(gradient(8, 8, 2), dir + "/img/b.png");
    save(gradient(8, 8, 3), tmp_.filePath("elsewhere.png"));
    writeBytes(dir + "/val.txt", "# validation images\n\nimg/b.png 3\n  img/a.png\t0\n" +
                                     tmp_.filePath("elsewhere.png").toUtf8() + " 1\n");
    const auto data = openDataSource("list:" + (dir + "/val.txt").toStdString(), Normalization::none(), {3, 8, 8});
    QCOMPARE(data->size(), int64_t(3));
    QVERIFY(data->hasLabels());
    std::vector<int64_t> labels;
    const std::vector<float> px = readAll(*data, &labels);
    QCOMPARE(labels, (std::vector<int64_t>{3, 0, 1}));
    // The first sample is img/b.png: the same pixels as a folder of it alone.
    const auto alone = openDataSource("folder:" + dir.toStdString() + "/img", Normalization::none(), {3, 8, 8});
    const std::vector<float> folderPx = readAll(*alone);  // a.png, b.png
    QVERIFY(std::equal(px.begin(), px.begin() + 192, folderPx.begin() + 192));
    writeBytes(dir + "/unlabelled.txt", "img/a.png\nimg/b.png\n");
    const auto unlabelled = openDataSource("list:" + (dir + "/unlabelled.txt").toStdString(), Normalization::none(), {3, 8, 8});
    QVERIFY(!unlabelled->hasLabels());
    QCOMPARE(unlabelled->size(), int64_t(2));
    QCOMPARE(parseDataSource("list:x.txt").kind, DataSourceSpec::Kind::List);
    QVERIFY(QString::fromStdString(dataSourceForms()).contains("list:FILE"));
}

void TestImageSources::listFileErrors_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("three fields") << QByteArray("img/a.png 0\nimg/b.png 1 2\n") << "Line 2 of the image list";
    QTest::newRow("label not a number") << QByteArray("img/a.png cat\n") << "the label 'cat'";
    QTest::newRow("negative label") << QByteArray("img/a.png -1\n") << "the label '-1'";
    QTest::newRow("labels on some lines") << QByteArray("# x\nimg/a.png 0\n\nimg/b.png\n") << "Line 4";
    QTest::newRow("missing file") << QByteArray("img/a.png 0\nimg/gone.png 1\n") << "which does not exist";
    QTest::newRow("a folder") << QByteArray("img 0\n") << "which is a folder";
    QTest::newRow("only comments") << QByteArray("# nothing\n\n") << "names no images";
}

void TestImageSources::listFileErrors() {
    QFETCH(QByteArray, content);
    QFETCH(QString, phrase);
    const QString dir = tmp_.filePath("listerr");
    save(gradient(8, 8), dir + "/img/a.png");
    save(gradient(8, 8), dir + "/img/b.png");
    writeBytes(dir + "/l.txt", content);
    const std::string spec = "list:" + (dir + "/l.txt").toStdString();
    EXPECT_REFUSED([&] { openDataSource(spec, {}, {3, 8, 8}); }, dir + "/l.txt", phrase);
    EXPECT_REFUSED([&] { openDataSource("list:" + (dir + "/none.txt").toStdString(), {}); }, "none.txt", "does not exist");
}

void TestImageSources::badFilesRefused_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("zero-byte PNG") << "empty" << "is empty (0 bytes)";
    QTest::newRow("truncated JPEG (in its header)") << "cut-jpeg-header" << "damaged JPEG";
    QTest::newRow("truncated JPEG (in its scan)") << "cut-jpeg" << "damaged JPEG";
    QTest::newRow("JPEG with a damaged header") << "bad-jpeg" << "not an image Qt can read";
    QTest::newRow("truncated PNG") << "cut-png" << "damaged PNG";
    QTest::newRow("text named .png") << "text" << "not an image Qt can read";
    QTest::newRow("folder with no images") << "none" << "has no images";
}

void TestImageSources::badFilesRefused() {
    QFETCH(QString, kind);
    QFETCH(QString, phrase);
    QTemporaryDir tmp;
    const QString dir = tmp.filePath("calib");
    const QString good = dir + "/good.jpg";
    save(gradient(160, 120), good, "JPEG", 90);
    const QByteArray jpeg = readBytes(good);
    QString bad = dir + "/bad.png";
    if (kind == "empty") writeBytes(bad, {});
    if (kind == "cut-jpeg-header") writeBytes(bad = dir + "/bad.jpg", jpeg.left(300));
    if (kind == "cut-jpeg") {
        QVERIFY(jpeg.size() > 4000);  // the cut falls well inside the compressed scan
        writeBytes(bad = dir + "/bad.jpg", jpeg.left(jpeg.size() / 2));
    }
    if (kind == "bad-jpeg") {
        QByteArray b = jpeg;
        for (int i = 2; i < 200 && i < b.size(); ++i) b[i] = char(0x5a);
        writeBytes(bad = dir + "/bad.jpg", b);
    }
    if (kind == "cut-png") {
        save(gradient(40, 30), dir + "/whole.png");
        writeBytes(bad, readBytes(dir + "/whole.png").left(60));
    }
    if (kind == "text") writeBytes(bad, "not a picture\n");
    if (kind == "none") {
        QFile::remove(good);
        writeBytes(dir + "/notes.txt", "no pictures here");
        bad = dir;
    }
    EXPECT_REFUSED([&] { openDataSource("folder:" + dir.toStdString(), {}, {3, 16, 16}); }, bad, phrase);
    if (kind != "none")
        EXPECT_REFUSED([&] { openDataSource("folder:" + dir.toStdString(), {}, {3, 16, 16}); }, bad, "skip bad images");
}

void TestImageSources::badFilesSkippedAndCounted() {
    const QString dir = tmp_.filePath("skip");
    save(gradient(20, 20), dir + "/a/0.png");
    writeBytes(dir + "/a/1.png", {});
    save(gradient(20, 20), dir + "/b/0.jpg", "JPEG");
    writeBytes(dir + "/b/1.jpg", readBytes(dir + "/b/0.jpg").left(100));
    DataSourceSpec spec = parseDataSource("folder:" + dir.toStdString());
    EXPECT_REFUSED([&] { openDataSource(spec, {}, {3, 8, 8}); }, "a/1.png", "is empty");
    spec.skipBad = true;
    const auto data = openDataSource(spec, {}, {3, 8, 8});
    QCOMPARE(data->size(), int64_t(2));
    QCOMPARE(data->skippedSamples(), int64_t(2));
    QVERIFY(QString::fromStdString(data->firstSkipped()).endsWith("a/1.png"));
    std::vector<int64_t> labels;
    readAll(*data, &labels);
    QCOMPARE(labels, (std::vector<int64_t>{0, 1}));
    QVERIFY(QString::fromStdString(data->description()).contains("2 unreadable skipped"));
    // Nothing readable at all is refused even when skipping.
    const QString none = tmp_.filePath("skip-none");
    writeBytes(none + "/x.png", {});
    DataSourceSpec nothing = parseDataSource("folder:" + none.toStdString());
    nothing.skipBad = true;
    EXPECT_REFUSED([&] { openDataSource(nothing, {}, {3, 8, 8}); }, "x.png", "None of the 1 file");
}

void TestImageSources::damageFoundMidStreamNamesTheFile() {
    // A file that was whole when the source opened and is damaged before it is read.
    const QString dir = tmp_.filePath("midstream");
    save(gradient(20, 20), dir + "/a/0.png");
    save(gradient(20, 20), dir + "/a/1.png");
    DataSourceSpec spec = parseDataSource("folder:" + dir.toStdString());
    spec.skipBad = true;
    const auto data = openDataSource(spec, {}, {3, 8, 8});
    writeBytes(dir + "/a/1.png", "gone bad");
    std::vector<float> px(size_t(2 * data->sampleElements()));
    EXPECT_REFUSED([&] { data->read(0, 2, px.data(), nullptr); }, dir + "/a/1.png", "remove it or replace it");
}

void TestImageSources::streamsOnWorkerThreads() {
    const QString dir = tmp_.filePath("threads");
    for (int i = 0; i < 37; ++i) save(gradient(30 + i, 50 - i / 2, i), dir + QString("/c%1/%2.%3").arg(i % 3).arg(i).arg(i % 2 ? "png" : "jpg"));
    ImageSourceOptions one, four;
    one.sampleShape = four.sampleShape = {3, 24, 24};
    one.transform.cropRatio = four.transform.cropRatio = 0.875;
    one.threads = 1;
    four.threads = 4;
    const Normalization norm{{0.5f, 0.4f, 0.3f}, {0.2f, 0.25f, 0.3f}};
    const ImageFileDataset serial(listImageFolder(dir.toStdString()), norm, one);
    const ImageFileDataset parallel(listImageFolder(dir.toStdString()), norm, four);
    std::vector<int64_t> la, lb;
    const std::vector<float> a = readAll(serial, &la), b = readAll(parallel, &lb);
    QCOMPARE(a, b);
    QCOMPARE(la, lb);
    // Reads of parts equal the whole.
    std::vector<float> part(size_t(5 * parallel.sampleElements()));
    parallel.read(30, 5, part.data(), nullptr);
    QVERIFY(std::equal(part.begin(), part.end(), a.begin() + 30 * parallel.sampleElements()));
    // Normalization: (v / 255 - mean) / std, per channel, within the 8-bit grid.
    for (size_t i = 0; i < a.size(); ++i) {
        const size_t c = (i / 576) % 3;
        const double v = (double(a[i]) * norm.std[c] + norm.mean[c]) * 255.0;
        QVERIFY2(std::abs(v - std::round(v)) < 1e-3 && v > -1e-3 && v < 255.001, qPrintable(QString::number(v)));
    }
}

void TestImageSources::batchesStreamAndKeepNothing() {
    const QString dir = tmp_.filePath("batches");
    for (int i = 0; i < 11; ++i) save(gradient(16, 16, i), dir + QString("/only/%1.png").arg(i, 2, 10, QChar('0')));
    const auto data = openDataSource("folder:" + dir.toStdString(), Normalization::none(), {3, 16, 16});
    QVERIFY(data->contiguousImages() == nullptr);  // not in memory
    const std::vector<float> whole = readAll(*data);
    int64_t seen = 0;
    forEachBatch(*data, 4, [&](const Batch& b) {
        QCOMPARE(b.first, seen);
        QVERIFY(b.labels != nullptr);
        QVERIFY(std::equal(b.images, b.images + b.count * 768, whole.begin() + b.first * 768));
        seen += b.count;
    });
    QCOMPARE(seen, int64_t(11));
}

QTEST_GUILESS_MAIN(TestImageSources)
#include "test_image_sources.moc"
