// tensor: and distilled: data sources: files in torch.save's format (written here with LibTorch's
// pickle_save, which torch.load reads; test_distill checks the other direction with Python).
#include "core/data/data_source.h"
#include "core/util/error.h"

// LibTorch's pickle header uses the word `slots`: it comes before Qt's headers.
#include <torch/csrc/jit/serialization/pickle.h>
#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include <fstream>

using namespace ptq;

namespace {

void writeValue(const QString& path, const c10::IValue& value) {
    const std::vector<char> bytes = torch::jit::pickle_save(value);
    std::ofstream(path.toStdString(), std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

c10::IValue dictOf(std::vector<std::pair<std::string, c10::IValue>> entries) {
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    for (auto& [k, v] : entries) dict.insert(k, v);
    return dict;
}

QString invalidInputMessage(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind() == Error::Kind::InvalidInput ? QString::fromUtf8(e.what()) : QString("(other error)");
    }
    return "(no error)";
}

}  // namespace

class TestTensorFile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void floatImagesAsTheyAre();
    void threeDimensionsIsOneChannel();
    void uint8IsNormalized();
    void labelsFromADict();
    void errors_data();
    void errors();

private:
    QTemporaryDir tmp_;
};

void TestTensorFile::floatImagesAsTheyAre() {
    const QString path = tmp_.filePath("f.pt");
    const at::Tensor images = at::randn({3, 2, 4, 5});
    writeValue(path, images);
    const auto data = openDataSource("distilled:" + path.toStdString(), Normalization::fashionMnist(), {2, 4, 5});
    QCOMPARE(data->size(), int64_t(3));
    QVERIFY(!data->hasLabels());
    QVERIFY(at::equal(at::from_blob(const_cast<float*>(data->contiguousImages()), {3, 2, 4, 5}, at::kFloat), images));
    QVERIFY(QString::fromStdString(data->description()).contains("distilled f.pt"));
    // Another model's shape is refused by the common check.
    QVERIFY(invalidInputMessage([&] { openDataSource("tensor:" + path.toStdString(), {}, {1, 28, 28}); })
                .contains("the model expects"));
}

void TestTensorFile::threeDimensionsIsOneChannel() {
    const QString path = tmp_.filePath("hw.pt");
    writeValue(path, dictOf({{"images", at::rand({4, 6, 7}, at::kDouble)}}));
    const auto data = openDataSource("tensor:" + path.toStdString(), {});
    QCOMPARE(data->sampleShape(), (std::vector<int64_t>{1, 6, 7}));
}

void TestTensorFile::uint8IsNormalized() {
    const QString path = tmp_.filePath("u8.pt");
    writeValue(path, at::full({2, 1, 2, 2}, 255, at::kByte));
    const auto data = openDataSource("tensor:" + path.toStdString(), {{0.5f}, {0.25f}});
    QCOMPARE(data->contiguousImages()[0], 2.0f);  // (1 - 0.5) / 0.25
}

void TestTensorFile::labelsFromADict() {
    const QString path = tmp_.filePath("labelled.pt");
    writeValue(path, dictOf({{"images", at::zeros({3, 1, 2, 2})}, {"labels", at::tensor({2, 0, 1}, at::kLong)}}));
    const auto data = openDataSource("tensor:" + path.toStdString(), {});
    QVERIFY(data->hasLabels());
    QCOMPARE(data->contiguousLabels()[0], int64_t(2));
    // Distilled data is unlabelled: a labelled file is pointed to tensor:.
    QVERIFY(invalidInputMessage([&] { openDataSource("distilled:" + path.toStdString(), {}); })
                .contains("load it as tensor:"));
}

void TestTensorFile::errors_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("missing") << 0 << "does not exist";
    QTest::newRow("empty") << 1 << "is empty";
    QTest::newRow("random bytes") << 2 << "is not a file torch.save wrote";
    QTest::newRow("rank 2") << 3 << "rank 2";
    QTest::newRow("int32") << 4 << "of type Int";
    QTest::newRow("nan") << 5 << "not finite";
    QTest::newRow("labels count") << 6 << "2 labels for 3 images";
    QTest::newRow("dict without images") << 7 << "without \"images\"";
    QTest::newRow("a string") << 8 << "neither a tensor nor a dict";
    QTest::newRow("zero images") << 9 << "no images";
}

void TestTensorFile::errors() {
    QFETCH(int, kind);
    QFETCH(QString, phrase);
    const QString path = tmp_.filePath(QString("bad%1.pt").arg(kind));
    switch (kind) {
    case 0: break;
    case 1: std::ofstream(path.toStdString()); break;
    case 2: std::ofstream(path.toStdString()) << "PK\x03\x04 not really a zip"; break;
    case 3: writeValue(path, at::zeros({3, 4})); break;
    case 4: writeValue(path, at::zeros({1, 1, 2, 2}, at::kInt)); break;
    case 5: writeValue(path, at::full({1, 1, 2, 2}, std::nan(""))); break;
    case 6: writeValue(path, dictOf({{"images", at::zeros({3, 1, 2, 2})}, {"labels", at::zeros({2}, at::kLong)}})); break;
    case 7: writeValue(path, dictOf({{"pictures", at::zeros({3, 1, 2, 2})}})); break;
    case 8: writeValue(path, c10::IValue(std::string("images"))); break;
    case 9: writeValue(path, at::zeros({0, 1, 2, 2})); break;
    }
    const QString message = invalidInputMessage([&] { openDataSource("tensor:" + path.toStdString(), {}); });
    QVERIFY2(message.contains(phrase), qPrintable(message));
    QVERIFY2(message.contains(path), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestTensorFile)
#include "test_tensor_file.moc"
