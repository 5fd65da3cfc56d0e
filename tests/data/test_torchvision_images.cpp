// The image pipeline against torchvision. tools/make_image_fixtures.py (run by ctest as the
// fixture make_fixtures_images) wrote a folder of several hundred mixed-size JPEGs and PNGs
// (grey, RGB, RGBA, palette; class sub-folders), preprocessed them with torchvision
// (ImageFolder, Resize(round(S / R)) + CenterCrop(S) + ToTensor + Normalize), trained a small
// CNN on them and recorded PyTorch's predictions on torchvision's tensors. Here the same
// folder goes through our folder: and list: sources and our executor: the tensors must agree
// to within 8-bit rounding, and the top-1 to within 0.1 point.
#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/data/npy.h"
#include "core/runtime/executor.h"
#include "core/workflow/model.h"

#include <ATen/ATen.h>

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

#include <cmath>

using namespace ptq;

namespace {

const QString kDir = QStringLiteral(PTQ_FIXTURE_DIR "/images/");

QJsonObject reference() {
    QFile f(kDir + "reference.json");
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

std::vector<float> floats(const QJsonArray& a) {
    std::vector<float> v;
    for (const auto& x : a) v.push_back(float(x.toDouble()));
    return v;
}

struct Comparison {
    double maxAbs = 0, meanAbs = 0;
    int64_t worstSample = -1;
};

/// Max and mean |ours - theirs| over every value, and the sample holding the largest.
Comparison compare(const Dataset& ours, const Dataset& theirs) {
    Comparison c;
    const int64_t n = ours.size(), per = ours.sampleElements();
    std::vector<float> a(size_t(n * per)), b(size_t(n * per));
    ours.read(0, n, a.data(), nullptr);
    theirs.read(0, n, b.data(), nullptr);
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::abs(double(a[i]) - double(b[i]));
        sum += d;
        if (d > c.maxAbs) {
            c.maxAbs = d;
            c.worstSample = int64_t(i) / per;
        }
    }
    c.meanAbs = sum / double(a.size());
    return c;
}

}  // namespace

class TestTorchvisionImages : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void rgbTensorsMatchTorchvision();
    void greyTensorsMatchTorchvision();
    void listFileGivesTheSameTensors();
    void top1MatchesPyTorchOnTorchvisionTensors();

private:
    QJsonObject ref_;
    int size_ = 0;
    ImageTransform transform_;
    Normalization norm_;
};

void TestTorchvisionImages::initTestCase() {
    ref_ = reference();
    QVERIFY2(!ref_.isEmpty(), "the fixture is missing: run ctest (make_fixtures_images writes " PTQ_FIXTURE_DIR "/images)");
    size_ = ref_["size"].toInt();
    transform_.cropRatio = ref_["crop_ratio"].toDouble();
    norm_ = {floats(ref_["mean"].toArray()), floats(ref_["std"].toArray())};
    QVERIFY(size_ > 0 && transform_.cropRatio > 0 && transform_.cropRatio < 1);
}

void TestTorchvisionImages::rgbTensorsMatchTorchvision() {
    const auto ours = openDataSource("folder:" + (kDir + "images").toStdString(), norm_, {3, size_, size_}, transform_);
    const InMemoryDataset theirs = loadNpyDataset((kDir + "reference_rgb.npy").toStdString(), {});
    QCOMPARE(ours->size(), int64_t(ref_["samples"].toInt()));
    QCOMPARE(theirs.sampleShape(), ours->sampleShape());
    const Comparison c = compare(*ours, theirs);
    qInfo("RGB, %lld images at %dx%d, crop ratio %.3f: max |ours - torchvision| %.5f (sample %lld), mean %.2e",
          (long long)ours->size(), size_, size_, transform_.cropRatio, c.maxAbs, (long long)c.worstSample, c.meanAbs);
    // One 8-bit level is 1 / 255 / std, about 0.0175 with ImageNet's smallest std.
    QVERIFY2(c.maxAbs < 0.02, qPrintable(QString("max abs diff %1 at sample %2").arg(c.maxAbs).arg(c.worstSample)));
    // The comparison sees a different preprocessing: the whole shorter side (crop ratio 1)
    // is far from torchvision's 0.875 crop.
    const auto whole = openDataSource("folder:" + (kDir + "images").toStdString(), norm_, {3, size_, size_}, ImageTransform{1.0});
    const Comparison other = compare(*whole, theirs);
    qInfo("control, crop ratio 1.0 against torchvision's %.3f: max %.3f, mean %.3f", transform_.cropRatio, other.maxAbs,
          other.meanAbs);
    QVERIFY(other.maxAbs > 0.1 && other.meanAbs > 0.01);
}

void TestTorchvisionImages::greyTensorsMatchTorchvision() {
    // torchvision: Grayscale(1) (Pillow's convert("L")) first, then the same resize and crop.
    const Normalization grey{{0.5f}, {0.25f}};
    const auto ours = openDataSource("folder:" + (kDir + "images").toStdString(), grey, {1, size_, size_}, transform_);
    const InMemoryDataset theirs = loadNpyDataset((kDir + "reference_grey.npy").toStdString(), {});
    QCOMPARE(theirs.sampleShape(), ours->sampleShape());
    const Comparison c = compare(*ours, theirs);
    qInfo("grey: max |ours - torchvision| %.5f (sample %lld), mean %.2e", c.maxAbs, (long long)c.worstSample, c.meanAbs);
    QVERIFY2(c.maxAbs < 1.0 / 255.0 / 0.25 + 1e-4, qPrintable(QString("max abs diff %1").arg(c.maxAbs)));
}

void TestTorchvisionImages::listFileGivesTheSameTensors() {
    const auto folder = openDataSource("folder:" + (kDir + "images").toStdString(), norm_, {3, size_, size_}, transform_);
    const auto list = openDataSource("list:" + (kDir + "images.list").toStdString(), norm_, {3, size_, size_}, transform_);
    QCOMPARE(list->size(), folder->size());
    // The list is in generation order, the folder in ImageFolder's: match them by file.
    const QJsonArray files = ref_["files"].toArray();
    QFile f(kDir + "images.list");
    QVERIFY(f.open(QIODevice::ReadOnly));
    QStringList listed;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (!line.isEmpty() && !line.startsWith('#')) listed << QString::fromUtf8(line.split(' ').at(0));
    const int64_t per = folder->sampleElements();
    std::vector<float> a(static_cast<size_t>(per)), b(static_cast<size_t>(per));
    int64_t la = 0, lb = 0;
    for (int i = 0; i < files.size(); i += 7) {
        const int j = int(listed.indexOf(files[i].toString()));
        QVERIFY2(j >= 0, qPrintable(files[i].toString()));
        folder->read(i, 1, a.data(), &la);
        list->read(j, 1, b.data(), &lb);
        QCOMPARE(la, lb);
        QVERIFY(a == b);
    }
}

void TestTorchvisionImages::top1MatchesPyTorchOnTorchvisionTensors() {
    ModelRequest request;
    request.path = (kDir + "model.pt").toStdString();
    request.inputShape = {3, size_, size_};
    const auto model = openModel(request);
    const auto ours = openDataSource("folder:" + (kDir + "images").toStdString(), norm_, model->inputShape(), transform_);
    const Executor executor(model->graph());
    const EvalResult r = evaluate(executor, *ours, {}, 64);
    const double torchTop1 = ref_["top1"].toDouble();
    // Per image: our predictions against PyTorch's on torchvision's tensors.
    const QJsonArray predictions = ref_["predictions"].toArray();
    int64_t differ = 0;
    forEachBatch(*ours, 64, [&](const Batch& b) {
        const at::Tensor x = at::from_blob(const_cast<float*>(b.images), b.shape, at::kFloat);
        const at::Tensor pred = executor.run(x).at(0).argmax(1);
        for (int64_t i = 0; i < b.count; ++i)
            if (pred[i].item<int64_t>() != predictions[int(b.first + i)].toInt()) ++differ;
    });
    qInfo("top-1: ours %.2f %% (%lld of %lld), PyTorch on torchvision's tensors %.2f %%; %lld predictions differ",
          r.top1(), (long long)r.correct, (long long)r.samples, torchTop1, (long long)differ);
    QCOMPARE(r.samples, int64_t(ref_["samples"].toInt()));
    QVERIFY2(std::abs(r.top1() - torchTop1) <= 0.1, qPrintable(QString("%1 vs %2").arg(r.top1()).arg(torchTop1)));
}

QTEST_GUILESS_MAIN(TestTorchvisionImages)
#include "test_torchvision_images.moc"
