// Multipoint weight quantization (core/quant/multipoint.h): greedy residual points, the spread
// of points over channels by output error under the budget, and its use in QuantizedModel.
#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/quant/multipoint.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include <numeric>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

/// A conv-shaped weight [16, 8, 3, 3] whose channels differ in range (0.05 to 2).
at::Tensor convWeight() {
    return at::randn({16, 8, 3, 3}, seeded(3)) * at::linspace(0.05, 2.0, 16).view({16, 1, 1, 1});
}

double weightedError(const at::Tensor& w, const at::Tensor& approx, const std::vector<double>& energy) {
    return ((w - approx).pow(2) * outputErrorWeights(w, energy)).sum().item<double>();
}

bool throwsInvalidInput(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind() == Error::Kind::InvalidInput;
    }
    return false;
}
}  // namespace

class TestMultipoint : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void onePointIsPlainQuantization();
    void morePointsLowerTheError_data();
    void morePointsLowerTheError();
    void pointsGoWhereTheOutputErrorIs();
    void errorWeightsFollowGroups();
    void badInputs();
    void quantizedModelUsesMultipoint();
};

void TestMultipoint::onePointIsPlainQuantization() {
    const at::Tensor w = convWeight();
    const QuantSpec spec = QuantSpec::weights(4);
    at::Tensor out;
    const MultipointWeight mp = multipointQuantize(w, spec, RangeMethod::MinMax, 1.0, {}, out);
    QVERIFY(at::equal(out, fakeQuantize(w, spec, weightParams(w, spec, RangeMethod::MinMax))));
    QCOMPARE(mp.meanPoints(), 1.0);
    QCOMPARE(mp.pointParams.size(), size_t(1));
}

void TestMultipoint::morePointsLowerTheError_data() {
    QTest::addColumn<int>("bits");
    QTest::addColumn<int>("granularity");
    QTest::newRow("2-bit per-channel") << 2 << int(Granularity::PerChannel);
    QTest::newRow("4-bit per-channel") << 4 << int(Granularity::PerChannel);
    QTest::newRow("4-bit per-tensor") << 4 << int(Granularity::PerTensor);
    QTest::newRow("4-bit shift") << 4 << int(Granularity::Shift);
}

void TestMultipoint::morePointsLowerTheError() {
    QFETCH(int, bits);
    QFETCH(int, granularity);
    const at::Tensor w = convWeight();
    const QuantSpec spec = QuantSpec::weights(bits, Granularity(granularity));
    double previous = std::numeric_limits<double>::infinity();
    for (double points : {1.0, 1.5, 2.0, 3.0, 4.0}) {
        at::Tensor out;
        const MultipointWeight mp = multipointQuantize(w, spec, RangeMethod::MinMax, points, {}, out);
        QCOMPARE(out.sizes(), w.sizes());
        QCOMPARE(mp.pointsPerChannel.size(), size_t(16));
        // The budget is spent exactly, within the per-channel bounds.
        QCOMPARE(std::accumulate(mp.pointsPerChannel.begin(), mp.pointsPerChannel.end(), 0),
                 int(std::llround(points * 16)));
        for (int p : mp.pointsPerChannel) QVERIFY(p >= 1 && p <= kMaxWeightPoints);
        const double e = weightedError(w, out, {});
        QVERIFY2(e < previous, qPrintable(QString("%1 points: error %2 after %3").arg(points).arg(e).arg(previous)));
        previous = e;
    }
    // Two 4-bit points get close to one 8-bit grid: the residual of a b-bit grid is within half a
    // step, and the second point spends its own 4 bits on it.
    if (bits == 4 && Granularity(granularity) == Granularity::PerChannel) {
        at::Tensor two;
        multipointQuantize(w, spec, RangeMethod::MinMax, 2.0, {}, two);
        const QuantSpec eight = QuantSpec::weights(8);
        const double e8 = quantizationMse(w, eight, weightParams(w, eight, RangeMethod::MinMax));
        const double e4 = quantizationMse(w, spec, weightParams(w, spec, RangeMethod::MinMax));
        const double e4x2 = (w - two).pow(2).mean().item<double>();
        qInfo("MSE: w4 %.3e  w4x2 %.3e  w8 %.3e", e4, e4x2, e8);
        QVERIFY(e4x2 < 0.05 * e4);
        QVERIFY(e4x2 < 10 * e8);
    }
}

void TestMultipoint::pointsGoWhereTheOutputErrorIs() {
    // Same weights in every channel, but output channels 0..7 read inputs with 100x the energy
    // of the others' (group conv with 2 groups): with half a point extra per channel, the extra
    // points all go to the first group.
    const at::Tensor row = at::randn({1, 4, 3, 3}, seeded(9));
    const at::Tensor w = row.expand({16, 4, 3, 3}).contiguous();
    std::vector<double> energy(8, 1.0);
    for (int j = 0; j < 4; ++j) energy[size_t(j)] = 100.0;
    at::Tensor out;
    const MultipointWeight mp = multipointQuantize(w, QuantSpec::weights(3), RangeMethod::MinMax, 1.5, energy, out);
    for (int c = 0; c < 16; ++c) QCOMPARE(mp.pointsPerChannel[size_t(c)], c < 8 ? 2 : 1);
    // Without energies the choice is a tie broken by channel order; the weighted error is worse.
    at::Tensor plain;
    multipointQuantize(w, QuantSpec::weights(3), RangeMethod::MinMax, 1.5, {}, plain);
    QVERIFY(weightedError(w, out, energy) <= weightedError(w, plain, energy));
}

void TestMultipoint::errorWeightsFollowGroups() {
    // Depthwise: weight [6, 1, 3, 3] over 6 input channels, output c reads input c.
    const at::Tensor dw = at::ones({6, 1, 3, 3});
    const at::Tensor e = outputErrorWeights(dw, {1, 2, 3, 4, 5, 6});
    for (int c = 0; c < 6; ++c) QCOMPARE(e[c][0][1][1].item<double>(), double(c + 1));
    // Linear [3, 4]: every output reads all 4 inputs.
    const at::Tensor lin = outputErrorWeights(at::ones({3, 4}), {1, 2, 3, 4});
    QVERIFY(at::equal(lin[2], at::tensor({1.0f, 2.0f, 3.0f, 4.0f})));
    QVERIFY(throwsInvalidInput([] { outputErrorWeights(at::ones({6, 4, 3, 3}), {1, 2, 3}); }));
}

void TestMultipoint::badInputs() {
    const at::Tensor w = convWeight();
    at::Tensor out;
    for (double points : {0.0, 0.5, 4.5, std::nan("")})
        QVERIFY(throwsInvalidInput([&] { multipointQuantize(w, QuantSpec::weights(4), RangeMethod::MinMax, points, {}, out); }));
    QVERIFY(throwsInvalidInput([&] { multipointQuantize(w, QuantSpec::weights(9), RangeMethod::MinMax, 2, {}, out); }));
}

void TestMultipoint::quantizedModelUsesMultipoint() {
    Graph g = importTorchScript(demo, {1, 28, 28});
    foldBatchNorms(g);
    const Normalization norm = Normalization::fromModelCard(*loadModelCard(demo));
    const auto calib = openDataSource("fmnist:train:200", norm, {1, 28, 28});
    const auto eval = openDataSource("fmnist:test:500", norm, {1, 28, 28});
    const Executor ex(g);
    const std::string layer = "layer2.0.conv1";
    const at::Tensor& w = g.param(g.paramOf(g.node(g.findNode(layer)), 1));
    struct Run {
        double kl;
        std::vector<int> points;
        std::vector<double> energy;
    };
    auto run = [&](int bits, int points) {
        QuantConfig config = QuantConfig::uniform(g, bits, 8, Granularity::PerChannel, false);
        for (auto& [name, l] : config.layers) l.weightPoints = points;
        QuantizedModel m(g, config);
        m.calibrate(*calib);
        return Run{evaluateAgainstReference(ex, *eval, m.hooks()).klToReference, m.weightPointsPerChannel(layer),
                   m.inputEnergy(layer)};
    };
    const Run w2 = run(2, 1), w2x2 = run(2, 2), w2x3 = run(2, 3);
    qInfo("KL to FP32: w2 %.4f  w2x2 %.4f  w2x3 %.4f", w2.kl, w2x2.kl, w2x3.kl);
    QVERIFY(w2x2.kl < 0.5 * w2.kl);
    QVERIFY(w2x3.kl < w2x2.kl);
    QVERIFY(w2.points.empty());
    for (const Run* r : {&w2x2, &w2x3}) {
        QCOMPARE(int64_t(r->points.size()), w.size(0));
        QCOMPARE(std::accumulate(r->points.begin(), r->points.end(), int64_t(0)), (r == &w2x2 ? 2 : 3) * w.size(0));
    }
    QCOMPARE(int64_t(w2.energy.size()), w.size(1));
    for (double v : w2.energy) QVERIFY(v >= 0.0 && std::isfinite(v));
    // Points outside 1..4 are refused with the layer's name.
    QuantConfig bad = QuantConfig::uniform(g, 4, 8, Granularity::PerChannel, false);
    bad.layers.begin()->second.weightPoints = 5;
    QVERIFY(throwsInvalidInput([&] { QuantizedModel m(g, bad); }));
}

QTEST_GUILESS_MAIN(TestMultipoint)
#include "test_multipoint.moc"
