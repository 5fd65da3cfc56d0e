#include "test_data.h"

#include "core/data/data_source.h"
#include "core/data/idx.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtTest/QtTest>

#include <zlib.h>

#include <cmath>
#include <cstring>

using namespace ptq;

QString invalidInputMessage(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        const QString message = QString::fromStdString(e.what());
        return e.kind() == Error::Kind::InvalidInput ? message : "<wrong kind> " + message;
    } catch (const std::exception& e) {
        return QString("<wrong kind> std::exception: ") + e.what();
    }
    return {};
}

QByteArray gunzipFile(const QString& path) {
    QByteArray out;
    gzFile file = gzopen(QFile::encodeName(path).constData(), "rb");
    if (!file) return out;
    char chunk[1 << 16];
    int got = 0;
    while ((got = gzread(file, chunk, sizeof chunk)) > 0) out.append(chunk, got);
    gzclose(file);
    return out;
}

QByteArray gzipBytes(const QByteArray& raw) {
    z_stream zip{};
    deflateInit2(&zip, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    QByteArray out(int(deflateBound(&zip, uLong(raw.size()))), '\0');
    zip.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.constData()));
    zip.avail_in = uInt(raw.size());
    zip.next_out = reinterpret_cast<Bytef*>(out.data());
    zip.avail_out = uInt(out.size());
    deflate(&zip, Z_FINISH);
    out.resize(int(zip.total_out));
    deflateEnd(&zip);
    return out;
}

void writeBytes(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
}

QString fashionMnistPath(const QString& name) {
    return QString::fromStdString(fashionMnistDirectory()) + "/" + name;
}

TestData::TestData() = default;
TestData::~TestData() = default;

namespace {

std::unique_ptr<InMemoryDataset> openInMemory(const std::string& spec) {
    std::unique_ptr<Dataset> data = openDataSource(spec, Normalization::fashionMnist());
    return std::unique_ptr<InMemoryDataset>(dynamic_cast<InMemoryDataset*>(data.release()));
}

QByteArray withByte(QByteArray bytes, int at, char value) {
    bytes[at] = value;
    return bytes;
}

QByteArray withCount(QByteArray bytes, quint32 count) {
    for (int i = 0; i < 4; ++i) bytes[4 + i] = char((count >> (24 - 8 * i)) & 0xff);
    return bytes;
}

}  // namespace

void TestData::initTestCase() {
    QVERIFY(tmp_.isValid());
    if (!QFileInfo::exists(fashionMnistPath("train-images-idx3-ubyte.gz")))
        QSKIP("Fashion-MNIST is not installed (Debian package dataset-fashion-mnist)");
    train_ = openInMemory("fmnist:train");
    test_ = openInMemory("fmnist:test");
    QVERIFY(train_ && test_);
    testImagesRaw_ = gunzipFile(fashionMnistPath("t10k-images-idx3-ubyte.gz"));
    testLabelsRaw_ = gunzipFile(fashionMnistPath("t10k-labels-idx1-ubyte.gz"));
    QCOMPARE(testImagesRaw_.size(), 16 + 10000 * 784);
    QCOMPARE(testLabelsRaw_.size(), 8 + 10000);
    writeBytes(tmp_.filePath("good-images-idx3-ubyte"), testImagesRaw_);
    writeBytes(tmp_.filePath("good-labels-idx1-ubyte"), testLabelsRaw_);
}

void TestData::realFiles_data() {
    QTest::addColumn<QString>("split");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("perClass");
    QTest::newRow("train") << "train" << 60000 << 6000;
    QTest::newRow("test") << "test" << 10000 << 1000;
}

void TestData::realFiles() {
    QFETCH(QString, split);
    QFETCH(int, size);
    QFETCH(int, perClass);
    const InMemoryDataset& data = split == "train" ? *train_ : *test_;
    QCOMPARE(data.size(), int64_t(size));
    QCOMPARE(data.sampleShape(), (std::vector<int64_t>{1, 28, 28}));
    QCOMPARE(int64_t(data.images().size()), int64_t(size) * 784);
    QVERIFY(data.hasLabels());
    QCOMPARE(data.classNames().size(), size_t(10));
    QCOMPARE(data.classNames().front(), std::string("T-shirt/top"));
    QCOMPARE(QString::fromStdString(data.description()),
             QString("Fashion-MNIST %1, %2 images").arg(split).arg(size));
    std::vector<int> counts(10, 0);
    for (int64_t label : data.labels()) {
        QVERIFY(label >= 0 && label <= 9);
        ++counts[size_t(label)];
    }
    for (int count : counts) QCOMPARE(count, perClass);
}

void TestData::trainIsNormalized() {
    double sum = 0, squares = 0;
    for (float v : train_->images()) {
        sum += v;
        squares += double(v) * v;
    }
    const double n = double(train_->images().size());
    const double mean = sum / n;
    const double std = std::sqrt(squares / n - mean * mean);
    QVERIFY2(std::abs(mean) < 0.01, qPrintable(QString::number(mean)));
    QVERIFY2(std::abs(std - 1.0) < 0.01, qPrintable(QString::number(std)));
}

void TestData::knownPixelMatchesIndependentDecoding() {
    const QByteArray images = gunzipFile(fashionMnistPath("train-images-idx3-ubyte.gz"));
    const QByteArray labels = gunzipFile(fashionMnistPath("train-labels-idx1-ubyte.gz"));
    QCOMPARE(images.size(), 16 + 60000 * 784);
    int first = 0;
    while (first < 784 && images[16 + first] == 0) ++first;
    QVERIFY(first > 0 && first < 784);
    const double byte = double(uint8_t(images[16 + first]));
    const double expected = (byte / 255.0 - 0.2860) / 0.3530;
    QCOMPARE(train_->data()[first - 1], float((0.0 - 0.2860) / 0.3530));
    QVERIFY2(std::abs(train_->data()[first] - expected) < 1e-5,
             qPrintable(QString("pixel %1: %2 vs %3").arg(first).arg(train_->data()[first]).arg(expected)));
    // The last sample too, so the offsets hold across the whole file.
    const int64_t last = 59999 * 784 + 783 - 300;
    const double lastExpected = (double(uint8_t(images[int(16 + last)])) / 255.0 - 0.2860) / 0.3530;
    QVERIFY(std::abs(train_->data()[last] - lastExpected) < 1e-5);
    QCOMPARE(train_->labels().front(), int64_t(uint8_t(labels[8])));
    QCOMPARE(train_->labels().back(), int64_t(uint8_t(labels[8 + 59999])));
}

void TestData::rawEqualsGzip() {
    IdxLoadOptions options;
    options.normalization = Normalization::fashionMnist();
    options.classNames = fashionMnistClassNames();
    const InMemoryDataset raw = loadIdxDataset(tmp_.filePath("good-images-idx3-ubyte").toStdString(),
                                               tmp_.filePath("good-labels-idx1-ubyte").toStdString(),
                                               options);
    QCOMPARE(raw.size(), test_->size());
    QVERIFY(raw.images() == test_->images());
    QVERIFY(raw.labels() == test_->labels());
}

void TestData::corruptedIdx_data() {
    QTest::addColumn<bool>("corruptsImages");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<bool>("exists");
    QTest::addColumn<QString>("phrase");
    const QByteArray& images = testImagesRaw_;
    const QByteArray& labels = testLabelsRaw_;
    const QByteArray gzLabels = gzipBytes(labels);
    const QByteArray gzImages = gzipBytes(images);

    QTest::newRow("images cut inside magic") << true << images.left(3) << true << "truncated (expected 4 bytes, found 3)";
    QTest::newRow("images cut inside dims") << true << images.left(10) << true << "truncated (expected 16 bytes, found 10)";
    QTest::newRow("images cut inside data") << true << images.left(16 + 784 * 5 + 17) << true
                                            << "truncated (expected 7840016 bytes, found 3953)";
    QTest::newRow("images one byte short") << true << images.chopped(1) << true
                                           << "truncated (expected 7840016 bytes, found 7840015)";
    QTest::newRow("gzip images cut in half") << true << gzImages.left(gzImages.size() / 2) << true
                                             << "truncated (expected 7840016 bytes after decompression, found";
    QTest::newRow("labels cut inside data") << false << labels.left(5000) << true
                                            << "truncated (expected 10008 bytes, found 5000)";
    QTest::newRow("gzip labels cut before checksum") << false << gzLabels.chopped(4) << true << "truncated";
    QTest::newRow("gzip checksum wrong") << false << withByte(gzLabels, gzLabels.size() - 8, char(~gzLabels[gzLabels.size() - 8]))
                                         << true << "damaged gzip";
    QTest::newRow("wrong magic") << true << withByte(images, 0, 0x50) << true << "not an IDX file (wrong magic";
    QTest::newRow("png given as idx") << true << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\0", 12) << true << "not an IDX file";
    QTest::newRow("float dtype") << true << withByte(images, 2, 0x0d) << true << "unsupported dtype 0x0d";
    QTest::newRow("int dtype labels") << false << withByte(labels, 2, 0x0c) << true << "unsupported dtype 0x0c";
    QTest::newRow("labels count mismatch") << false << withCount(labels, 9999).chopped(1) << true
                                           << "labels count mismatch";
    QTest::newRow("label out of range") << false << withByte(labels, 8 + 17, 10) << true
                                        << "image 17 the label 10, out of range";
    QTest::newRow("zero images") << true << withCount(images.left(16), 0) << true << "zero size";
    QTest::newRow("zero width") << true << images.left(16).replace(12, 4, QByteArray(4, '\0'))
                                << true << "zero size";
    QTest::newRow("labels given as images") << true << labels << true << "where images need 3";
    QTest::newRow("images given as labels") << false << images << true << "where labels need 1";
    QTest::newRow("bytes after the data") << true << images + "xyz" << true << "bytes after the 7840016";
    QTest::newRow("empty file") << true << QByteArray() << true << "is empty";
    QTest::newRow("missing file") << false << QByteArray() << false << "does not exist";
}

void TestData::corruptedIdx() {
    QFETCH(bool, corruptsImages);
    QFETCH(QByteArray, content);
    QFETCH(bool, exists);
    QFETCH(QString, phrase);
    QTemporaryDir dir;
    const QString badName = corruptsImages ? "bad-images-idx3-ubyte" : "bad-labels-idx1-ubyte";
    const QString bad = dir.filePath(badName);
    if (exists) writeBytes(bad, content);
    const QString images = corruptsImages ? bad : tmp_.filePath("good-images-idx3-ubyte");
    const QString labels = corruptsImages ? tmp_.filePath("good-labels-idx1-ubyte") : bad;
    IdxLoadOptions options;
    options.classNames = fashionMnistClassNames();
    PTQ_EXPECT_INVALID_INPUT(
        [&] { loadIdxDataset(images.toStdString(), labels.toStdString(), options); }, badName, phrase);
}

void TestData::fmnistHead() {
    const std::unique_ptr<InMemoryDataset> head = openInMemory("fmnist:train:1000");
    QVERIFY(head);
    QCOMPARE(head->size(), int64_t(1000));
    QCOMPARE(QString::fromStdString(head->description()), QString("Fashion-MNIST train, first 1000 images"));
    QVERIFY(std::memcmp(head->data(), train_->data(), sizeof(float) * 1000 * 784) == 0);
    QVERIFY(std::equal(head->labels().begin(), head->labels().end(), train_->labels().begin()));
}

void TestData::fmnistLimitLargerThanSet() {
    PTQ_EXPECT_INVALID_INPUT([] { openDataSource("fmnist:test:10001", {}); }, "fmnist:test:10001",
                             "holds only 10000");
}

void TestData::expectedShapeMismatch() {
    PTQ_EXPECT_INVALID_INPUT([] { openDataSource("fmnist:test:10", {}, {3, 32, 32}); }, "fmnist:test:10",
                             "samples of shape 1x28x28 but the model expects 3x32x32");
    QCOMPARE(openDataSource("fmnist:test:10", {}, {1, 28, 28})->size(), int64_t(10));
    // A 3-channel model's per-channel normalization on 1-channel data: the shape is the cause
    // named, not the normalization's count of values.
    const Normalization imagenet{{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    PTQ_EXPECT_INVALID_INPUT([&] { openDataSource("fmnist:test:10", imagenet, {3, 224, 224}); }, "fmnist:test:10",
                             "samples of shape 1x28x28 but the model expects 3x224x224");
    // Where the shape is right, a wrong normalization is still said as such.
    PTQ_EXPECT_INVALID_INPUT([&] { openDataSource("fmnist:test:10", imagenet, {1, 28, 28}); }, "3 mean values",
                             "data with 1 channel");
}

QTEST_GUILESS_MAIN(TestData)
