// Data source names, folder: and npy: sources, on files the tests write.
#include "test_data.h"

#include "core/data/data_source.h"

#include <QtCore/QDir>
#include <QtCore/QtEndian>
#include <QtGui/QImage>
#include <QtTest/QtTest>

#include <cmath>
#include <limits>

using namespace ptq;

namespace {

/// A grey image of @p width x @p height filled with @p value, with 200 at (3, 2).
void writeGreyPng(const QString& path, int width, int height, int value) {
    QImage image(width, height, QImage::Format_Grayscale8);
    image.fill(QColor(value, value, value));
    if (width > 3 && height > 2) image.setPixel(3, 2, qRgb(200, 200, 200));
    QDir().mkpath(QFileInfo(path).absolutePath());
    QVERIFY(image.save(path, "PNG"));
}

/// A .npy file built byte by byte: magic, version, header length, padded dict, data.
QByteArray npyFile(int major, const QString& descr, bool fortran, const QString& shape,
                   const QByteArray& data) {
    QByteArray header = QString("{'descr': %1, 'fortran_order': %2, 'shape': %3, }")
                            .arg(descr.startsWith('[') ? descr : "'" + descr + "'",
                                 fortran ? "True" : "False", shape)
                            .toLatin1();
    const int preamble = major == 1 ? 10 : 12;
    while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    QByteArray file("\x93NUMPY", 6);
    file += char(major);
    file += char(0);
    if (major == 1) {
        file += char(header.size() & 0xff);
        file += char(header.size() >> 8);
    } else {
        for (int i = 0; i < 4; ++i) file += char((header.size() >> (8 * i)) & 0xff);
    }
    return file + header + data;
}

QByteArray floatBytes(const std::vector<float>& values) {
    QByteArray bytes;
    for (float v : values) {
        const quint32 bits = qToLittleEndian(*reinterpret_cast<const quint32*>(&v));
        bytes.append(reinterpret_cast<const char*>(&bits), 4);
    }
    return bytes;
}

}  // namespace

void TestData::parseGoodSpecs_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("split");
    QTest::addColumn<qlonglong>("limit");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("labels");
    const int fmnist = int(DataSourceSpec::Kind::FashionMnist), idx = int(DataSourceSpec::Kind::Idx);
    QTest::newRow("train") << "fmnist:train" << fmnist << "train" << -1LL << "" << "";
    QTest::newRow("test") << "fmnist:test" << fmnist << "test" << -1LL << "" << "";
    QTest::newRow("train head") << "fmnist:train:1000" << fmnist << "train" << 1000LL << "" << "";
    QTest::newRow("test head") << "fmnist:test:5" << fmnist << "test" << 5LL << "" << "";
    QTest::newRow("idx images") << "idx:/d/img.gz" << idx << "" << -1LL << "/d/img.gz" << "";
    QTest::newRow("idx both") << "idx:/d/img.gz,/d/lab.gz" << idx << "" << -1LL << "/d/img.gz" << "/d/lab.gz";
    QTest::newRow("folder") << "folder:/data/calib" << int(DataSourceSpec::Kind::Folder) << "" << -1LL
                            << "/data/calib" << "";
    QTest::newRow("folder with colon") << "folder:a:b" << int(DataSourceSpec::Kind::Folder) << "" << -1LL
                                       << "a:b" << "";
    QTest::newRow("npy") << "npy:x.npy" << int(DataSourceSpec::Kind::Npy) << "" << -1LL << "x.npy" << "";
    QTest::newRow("tensor") << "tensor:x.pt" << int(DataSourceSpec::Kind::Tensor) << "" << -1LL << "x.pt" << "";
    QTest::newRow("distilled") << "distilled:d.pt" << int(DataSourceSpec::Kind::Distilled) << "" << -1LL << "d.pt" << "";
}

void TestData::parseGoodSpecs() {
    QFETCH(QString, text);
    QFETCH(int, kind);
    QFETCH(QString, split);
    QFETCH(qlonglong, limit);
    QFETCH(QString, path);
    QFETCH(QString, labels);
    const DataSourceSpec spec = parseDataSource(text.toStdString());
    QCOMPARE(int(spec.kind), kind);
    QCOMPARE(QString::fromStdString(spec.text), text);
    QCOMPARE(QString::fromStdString(spec.split), split);
    QCOMPARE(qlonglong(spec.limit), limit);
    QCOMPARE(QString::fromStdString(spec.path), path);
    QCOMPARE(QString::fromStdString(spec.labelsPath), labels);
}

void TestData::parseBadSpecs_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("unknown split") << "fmnist:valid" << "only train and test";
    QTest::newRow("no split") << "fmnist:" << "split ''";
    QTest::newRow("negative count") << "fmnist:train:-3" << "negative number of samples";
    QTest::newRow("word count") << "fmnist:train:abc" << "'abc' where the number of samples";
    QTest::newRow("mixed count") << "fmnist:train:10x" << "'10x' where the number of samples";
    QTest::newRow("zero count") << "fmnist:test:0" << "0 samples";
    QTest::newRow("empty count") << "fmnist:train:" << "no sample count";
    QTest::newRow("huge count") << "fmnist:train:99999999999999999999999" << "more samples than";
    QTest::newRow("unknown scheme") << "mnist:train" << "unknown scheme 'mnist:'";
    QTest::newRow("upper case scheme") << "FMNIST:train" << "unknown scheme";
    QTest::newRow("empty") << "" << "is empty";
    QTest::newRow("bare npy path") << "calib.npy" << "did you mean npy:calib.npy";
    QTest::newRow("idx without path") << "idx:" << "no path after 'idx:'";
    QTest::newRow("idx empty labels") << "idx:a.gz," << "empty file name";
    QTest::newRow("folder without path") << "folder:" << "no path";
    QTest::newRow("tensor without path") << "tensor:" << "no path after 'tensor:'";
    QTest::newRow("distilled without path") << "distilled:" << "no path after 'distilled:'";
}

void TestData::parseBadSpecs() {
    QFETCH(QString, text);
    QFETCH(QString, phrase);
    PTQ_EXPECT_INVALID_INPUT([&] { parseDataSource(text.toStdString()); }, "'" + text + "'", phrase);
    // Every message lists the forms that work.
    const QString message = invalidInputMessage([&] { parseDataSource(text.toStdString()); });
    QVERIFY2(message.contains("fmnist:") && message.contains("folder:") && message.contains("npy:"),
             qPrintable(message));
}

void TestData::folderSource() {
    const QString dir = tmp_.filePath("folder-grey");
    for (int i = 0; i < 3; ++i) writeGreyPng(dir + QString("/a_cat/img%1.png").arg(i), 8, 6, 10 * i);
    for (int i = 0; i < 2; ++i) writeGreyPng(dir + QString("/b_dog/img%1.png").arg(i), 8, 6, 100 + i);
    writeBytes(dir + "/a_cat/.DS_Store", "not an image, but hidden");
    const std::unique_ptr<Dataset> data = openDataSource("folder:" + dir.toStdString(), Normalization::none());
    QCOMPARE(data->size(), int64_t(5));
    QCOMPARE(data->sampleShape(), (std::vector<int64_t>{1, 6, 8}));
    QCOMPARE(data->classNames(), (std::vector<std::string>{"a_cat", "b_dog"}));
    std::vector<float> images(size_t(5 * 48));
    std::vector<int64_t> labels(5);
    data->read(0, 5, images.data(), labels.data());
    QCOMPARE(labels, (std::vector<int64_t>{0, 0, 0, 1, 1}));
    QCOMPARE(images[48 * 1 + 0], 10.f / 255.f);  // a_cat/img1, pixel (0, 0)
    QCOMPARE(images[48 * 4 + 0], 101.f / 255.f); // b_dog/img1
    QCOMPARE(images[2 * 8 + 3], 200.f / 255.f);  // row 2, column 3
    QVERIFY(QString::fromStdString(data->description()).contains("5 images in 2 classes"));
}

void TestData::folderConvertsChannels() {
    const QString grey = tmp_.filePath("folder-grey-rgb");
    writeGreyPng(grey + "/only/a.png", 8, 6, 50);
    const std::unique_ptr<Dataset> asRgb =
        openDataSource("folder:" + grey.toStdString(), Normalization::none(), {3, 6, 8});
    QCOMPARE(asRgb->sampleShape(), (std::vector<int64_t>{3, 6, 8}));
    std::vector<float> rgb(3 * 48);
    asRgb->read(0, 1, rgb.data(), nullptr);
    for (int c = 0; c < 3; ++c) QCOMPARE(rgb[size_t(c * 48 + 2 * 8 + 3)], 200.f / 255.f);

    const QString colour = tmp_.filePath("folder-colour");
    QImage image(4, 4, QImage::Format_RGB888);
    image.fill(Qt::black);
    image.setPixel(0, 0, qRgb(255, 0, 0));
    image.setPixel(1, 0, qRgb(0, 0, 255));
    QDir().mkpath(colour + "/red");
    QVERIFY(image.save(colour + "/red/x.png"));
    const std::unique_ptr<Dataset> inferred = openDataSource("folder:" + colour.toStdString(), Normalization::none());
    QCOMPARE(inferred->sampleShape(), (std::vector<int64_t>{3, 4, 4}));
    std::vector<float> planes(3 * 16);
    inferred->read(0, 1, planes.data(), nullptr);
    QCOMPARE(planes[0], 1.f);        // red plane, pixel (0, 0)
    QCOMPARE(planes[2 * 16 + 1], 1.f);  // blue plane, pixel (1, 0)
    QCOMPARE(planes[16 + 0], 0.f);   // green plane
    QCOMPARE(openDataSource("folder:" + colour.toStdString(), {}, {1, 4, 4})->sampleShape()[0], int64_t(1));
}

void TestData::folderErrors_data() {
    QTest::addColumn<QString>("layout");
    QTest::addColumn<QString>("phrase");
    QTest::addColumn<QString>("secondPhrase");
    QTest::newRow("missing") << "missing" << "does not exist" << "";
    QTest::newRow("a file") << "file" << "is a file, not a folder" << "";
    QTest::newRow("empty folder") << "empty" << "is empty" << "";
    // A flat folder of images is an unlabelled source now, and mixed sizes are resized
    // (test_image_sources); a flat folder without images is refused.
    QTest::newRow("files but no images") << "flat" << "has no images" << "";
    QTest::newRow("class folders without images") << "hollow" << "no images in them" << "";
    QTest::newRow("non-image file") << "text" << "a/notes.png in the image folder" << "is not an image";
}

void TestData::folderErrors() {
    QFETCH(QString, layout);
    QFETCH(QString, phrase);
    QFETCH(QString, secondPhrase);
    QTemporaryDir tmp;
    const QString dir = tmp.filePath("calib");
    if (layout == "file") writeBytes(dir, "x");
    if (layout != "missing" && layout != "file") QDir().mkpath(dir);
    if (layout == "flat") writeBytes(dir + "/notes.txt", "hello");
    if (layout == "hollow") QDir().mkpath(dir + "/a"), QDir().mkpath(dir + "/b");
    if (layout == "text") writeGreyPng(dir + "/a/x.png", 8, 6, 1), writeBytes(dir + "/a/notes.png", "hello");
    const std::string spec = "folder:" + dir.toStdString();
    PTQ_EXPECT_INVALID_INPUT([&] { openDataSource(spec, {}); }, dir, phrase);
    if (!secondPhrase.isEmpty())
        PTQ_EXPECT_INVALID_INPUT([&] { openDataSource(spec, {}); }, dir, secondPhrase);
}

void TestData::npyFloat32() {
    std::vector<float> values(24);
    for (size_t i = 0; i < values.size(); ++i) values[i] = float(i) * 0.25f - 1.f;
    const QString path = tmp_.filePath("calib-f4.npy");
    writeBytes(path, npyFile(1, "<f4", false, "(2, 1, 3, 4)", floatBytes(values)));
    const std::unique_ptr<Dataset> data = openDataSource("npy:" + path.toStdString(), Normalization::fashionMnist());
    QCOMPARE(data->size(), int64_t(2));
    QCOMPARE(data->sampleShape(), (std::vector<int64_t>{1, 3, 4}));
    QVERIFY(!data->hasLabels());
    std::vector<float> read(24);
    data->read(0, 2, read.data(), nullptr);
    QCOMPARE(read, values);  // float32 is taken as already normalized
}

void TestData::npyUint8() {
    QByteArray pixels;
    for (int i = 0; i < 60; ++i) pixels += char(i * 4);
    const QString path = tmp_.filePath("calib-u1.npy");
    writeBytes(path, npyFile(2, "|u1", false, "(3, 5, 4)", pixels));
    const std::unique_ptr<Dataset> data = openDataSource("npy:" + path.toStdString(), {{0.5f}, {0.25f}});
    QCOMPARE(data->size(), int64_t(3));
    QCOMPARE(data->sampleShape(), (std::vector<int64_t>{1, 5, 4}));
    std::vector<float> read(60);
    data->read(0, 3, read.data(), nullptr);
    for (int i = 0; i < 60; ++i)
        QVERIFY(std::abs(read[size_t(i)] - ((i * 4) / 255.f - 0.5f) / 0.25f) < 1e-6f);
}

void TestData::npyErrors_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("phrase");
    const QByteArray floats = floatBytes(std::vector<float>(24, 0.5f));
    std::vector<float> withNan(24, 0.f);
    withNan[13] = std::numeric_limits<float>::quiet_NaN();
    QTest::newRow("float64") << npyFile(1, "<f8", false, "(2, 3, 4)", floats + floats) << "dtype '<f8'";
    QTest::newRow("int32") << npyFile(1, "<i4", false, "(2, 3, 4)", floats) << "dtype '<i4', which is not supported";
    QTest::newRow("big-endian") << npyFile(1, ">f4", false, "(2, 3, 4)", floats) << "big-endian";
    QTest::newRow("fortran order") << npyFile(1, "<f4", true, "(2, 3, 4)", floats) << "Fortran order";
    QTest::newRow("truncated data") << npyFile(1, "<f4", false, "(2, 3, 4)", floats.left(50))
                                    << "truncated (expected 96 bytes of data, found 50)";
    QTest::newRow("truncated header") << npyFile(1, "<f4", false, "(2, 3, 4)", {}).left(40) << "truncated";
    QTest::newRow("bytes after data") << npyFile(1, "<f4", false, "(2, 3, 4)", floats + "ab") << "2 bytes after";
    QTest::newRow("wrong magic") << QByteArray("PK\x03\x04 a zip, not npy") << "not a NumPy .npy file";
    QTest::newRow("one dimension") << npyFile(1, "<f4", false, "(24,)", floats) << "images need (N, C, H, W) or (N, H, W)";
    QTest::newRow("five dimensions") << npyFile(1, "<f4", false, "(1, 2, 1, 3, 4)", floats) << "5 dimensions";
    QTest::newRow("zero samples") << npyFile(1, "<f4", false, "(0, 3, 4)", {}) << "zero dimension";
    QTest::newRow("not finite") << npyFile(1, "<f4", false, "(2, 3, 4)", floatBytes(withNan)) << "not finite";
    QTest::newRow("structured") << npyFile(1, "[('a', '<f4')]", false, "(24,)", floats) << "structured dtype";
    QTest::newRow("version 9") << npyFile(1, "<f4", false, "(2, 3, 4)", floats).replace(6, 1, "\x09") << "version 9";
    QTest::newRow("missing") << QByteArray() << "does not exist";
}

void TestData::npyErrors() {
    QFETCH(QByteArray, content);
    QFETCH(QString, phrase);
    QTemporaryDir tmp;
    const QString path = tmp.filePath("bad.npy");
    if (!content.isEmpty()) writeBytes(path, content);
    PTQ_EXPECT_INVALID_INPUT([&] { openDataSource("npy:" + path.toStdString(), {}); }, "bad.npy", phrase);
}
