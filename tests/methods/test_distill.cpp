// ZeroQ distillation on the demo ResNet-20: the BatchNorm-statistics loss falls, the images match
// the input statistics, the label term gives each image its class, runs are seeded, cancel stops
// it, and a model without BatchNorm is refused.
#include "core/graph/torchscript_importer.h"
#include "core/methods/distill.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include <cmath>
#include <numeric>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";
}  // namespace

class TestDistill : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void lossFallsAndInputIsStandardised();
    void seededAndCancellable();
    void labelTermGivesEachImageItsClass();
    void modelWithoutBatchNormIsRefused();
    void badOptions();
};

void TestDistill::lossFallsAndInputIsStandardised() {
    const Graph g = importTorchScript(demo, {1, 28, 28});
    DistillOptions o;
    o.count = 8;
    o.iterations = 120;
    std::vector<double> seen;
    o.onIteration = [&](int it, int total, double loss) {
        QCOMPARE(total, 120);
        QCOMPARE(it, int(seen.size()) + 1);
        seen.push_back(loss);
    };
    const DistillResult r = distillData(g, {1, 28, 28}, o);
    QCOMPARE(r.shape, (std::vector<int64_t>{8, 1, 28, 28}));
    QCOMPARE(r.images.size(), size_t(8 * 28 * 28));
    QCOMPARE(r.batchNorms, 21);
    QCOMPARE(r.loss, seen);
    qInfo("loss %.3f -> %.3f in %.1f s", r.loss.front(), r.finalLoss(), r.seconds);
    QVERIFY2(r.finalLoss() < 0.25 * r.loss.front(), qPrintable(QString::number(r.finalLoss())));
    // Each image has near mean 0 / std 1 (part of the loss).
    for (int i = 0; i < 8; ++i) {
        const float* p = r.images.data() + i * 784;
        const double mean = std::accumulate(p, p + 784, 0.0) / 784.0;
        double var = 0;
        for (int k = 0; k < 784; ++k) var += (p[k] - mean) * (p[k] - mean);
        QVERIFY2(std::abs(mean) < 0.3 && std::abs(std::sqrt(var / 784.0) - 1.0) < 0.3, qPrintable(QString::number(mean)));
    }
}

void TestDistill::seededAndCancellable() {
    const Graph g = importTorchScript(demo, {1, 28, 28});
    DistillOptions o;
    o.count = 2;
    o.iterations = 5;
    const DistillResult a = distillData(g, {1, 28, 28}, o), b = distillData(g, {1, 28, 28}, o);
    QCOMPARE(a.images, b.images);
    o.seed = 1;
    QVERIFY(distillData(g, {1, 28, 28}, o).images != a.images);
    Progress progress;
    o.iterations = 100000;
    o.onIteration = [&](int it, int, double) {
        if (it == 3) progress.cancelRequested = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, distillData(g, {1, 28, 28}, o, &progress));
}

void TestDistill::labelTermGivesEachImageItsClass() {
    // With the label term, image i is classified as class i mod 10 and the classifier's input
    // features are larger than from ZeroQ's loss alone (whose images leave them small).
    const Graph g = importTorchScript(demo, {1, 28, 28});
    DistillOptions o;
    o.count = 10;
    o.iterations = 150;
    auto classesAndFeatures = [&](const DistillResult& r) {
        const at::Tensor x = at::from_blob(const_cast<float*>(r.images.data()), r.shape, at::kFloat);
        const at::NoGradGuard noGrad;
        double featureMax = 0;
        RunHooks hooks;
        hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
            if (n.op == OpKind::Linear) featureMax = in[0].abs().max().item<double>();
        };
        const at::Tensor logits = Executor(g).run(x, hooks).at(0);
        return std::make_pair(logits.argmax(1), featureMax);
    };
    const auto [classes, withLabels] = classesAndFeatures(distillData(g, {1, 28, 28}, o));
    QCOMPARE(classes.equal(at::arange(10, at::kLong)), true);
    o.labelWeight = 0;
    const auto [unused, statisticsOnly] = classesAndFeatures(distillData(g, {1, 28, 28}, o));
    qInfo("classifier input max %.3f with the label term, %.3f without", withLabels, statisticsOnly);
    QVERIFY2(withLabels > 1.3 * statisticsOnly, qPrintable(QString::number(withLabels)));
}

void TestDistill::modelWithoutBatchNormIsRefused() {
    const std::string noBn = PTQ_FIXTURE_DIR "/bad/good_small.pt";  // conv + ReLU
    const Graph g = importTorchScript(noBn, {1, 8, 8});
    try {
        distillData(g, {1, 8, 8}, {});
        QFAIL("no error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains("no BatchNorm layer") && QString(e.what()).contains("calibrate on real data"), e.what());
    }
}

void TestDistill::badOptions() {
    auto refused = [](const DistillOptions& o) {
        try {
            o.validate();
        } catch (const Error& e) {
            return e.kind() == Error::Kind::InvalidInput;
        }
        return false;
    };
    DistillOptions o;
    QVERIFY(!refused(o));
    o.count = 0;
    QVERIFY(refused(o));
    o = {};
    o.iterations = 0;
    QVERIFY(refused(o));
    o = {};
    o.lr = -1;
    QVERIFY(refused(o));
    o = {};
    o.lr = std::nan("");
    QVERIFY(refused(o));
    o = {};
    o.labelWeight = -1;
    QVERIFY(refused(o));
    o.labelWeight = 0;
    QVERIFY(!refused(o));
}

QTEST_GUILESS_MAIN(TestDistill)
#include "test_distill.moc"
