// Range equalization before depthwise layers (core/methods/range_equalization.h) on the demo
// MobileNetV2 (inverted residuals) and ResNet-20 (no depthwise layer).
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/methods/range_equalization.h"
#include "core/model/model_card.h"
#include "core/quant/quantized_model.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "demo_setup.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include <map>
#include <set>

using namespace ptq;

namespace {
const std::string mobilenet = PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt";
const std::string resnet = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

using Setup = ptqtest::DemoSetup;

at::Tensor logits(const Graph& g, const at::Tensor& x, const RunHooks& hooks = {}) {
    const c10::InferenceMode guard;
    return Executor(g).run(x, hooks).at(0);
}

/// Per channel the largest |value| at the input of each node named in @p names.
std::map<std::string, at::Tensor> inputRanges(const Graph& g, const at::Tensor& x, const std::set<std::string>& names) {
    std::map<std::string, at::Tensor> out;
    RunHooks hooks;
    hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
        if (names.count(n.name)) out[n.name] = in[0].abs().amax({0, 2, 3});
    };
    logits(g, x, hooks);
    return out;
}

/// Logit MSE against FP32 with every layer at W@p weightBits A8 but the layers in @p lowInputs,
/// whose inputs are quantized at @p actBits.
double quantizedLogitMse(const Graph& g, const Dataset& calib, const at::Tensor& x, int weightBits, int actBits,
                         const std::set<std::string>& lowInputs) {
    QuantConfig config = QuantConfig::uniform(g, weightBits, 8, Granularity::PerChannel, true);
    for (const std::string& name : lowInputs) config.layers.at(name).activationBits = actBits;
    QuantizedModel m(g, config);
    m.calibrate(calib, 128);
    return (logits(g, x, m.hooks()) - logits(g, x)).pow(2).mean().item<double>();
}
}  // namespace

class TestRangeEqualization : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void findsTheExpandedDepthwiseInputs();
    void keepsTheFunctionAndEvensTheRanges();
    void lowersTheFourBitActivationError();
    void survivesRefoldingAndLeavesTheSourceAlone();
    void modelWithoutDepthwiseLayersIsLeftAlone();
    void cancelLeavesTheGraphAsItWas();
    void badOptions();
};

void TestRangeEqualization::findsTheExpandedDepthwiseInputs() {
    const Setup s(mobilenet, 8);
    const std::vector<EqualizationPair> pairs = equalizationPairs(s.graph);
    // 11 depthwise layers; the first one's input also feeds its block's residual add, so the
    // rescale would reach the add: it is left out.
    QCOMPARE(int(pairs.size()), 10);
    for (const EqualizationPair& p : pairs) {
        QVERIFY2(QString::fromStdString(p.producer).endsWith("conv.0"), p.producer.c_str());
        QVERIFY2(QString::fromStdString(p.consumer).endsWith("conv.3"), p.consumer.c_str());
        QCOMPARE(QString::fromStdString(p.activation), QString("relu6"));
        const Node& d = s.graph.node(s.graph.findNode(p.consumer));
        QCOMPARE(d.attrInt("groups"), p.channels);
    }
    QVERIFY(std::none_of(pairs.begin(), pairs.end(), [](const EqualizationPair& p) { return p.consumer == "features.3.conv.0"; }));
}

void TestRangeEqualization::keepsTheFunctionAndEvensTheRanges() {
    Setup s(mobilenet, 256);
    const at::Tensor x = s.images(256);
    const at::Tensor before = logits(s.graph, x);
    std::set<std::string> depthwise;
    for (const EqualizationPair& p : equalizationPairs(s.graph)) depthwise.insert(p.consumer);
    const auto rangesBefore = inputRanges(s.graph, x, depthwise);

    RangeEqualizationOptions o;
    o.maxScale = 64;
    const RangeEqualizationReport r = equalizeDepthwiseInputs(s.graph, *s.calib, o);
    QCOMPARE(int(r.pairs.size()), 10);
    QCOMPARE(r.samples, int64_t(256));
    QVERIFY(QString::fromStdString(r.summary()).contains("10 depthwise inputs"));
    // The same function on the data the ranges came from (ReLU6's bound is never crossed there).
    const at::Tensor after = logits(s.graph, x);
    const double scale = before.abs().max().item<double>();
    QVERIFY2((after - before).abs().max().item<double>() < 1e-4 * scale,
             qPrintable(QString::number((after - before).abs().max().item<double>())));
    QCOMPARE(after.argmax(1).ne(before.argmax(1)).sum().item<int64_t>(), int64_t(0));

    const auto rangesAfter = inputRanges(s.graph, x, depthwise);
    for (const EqualizedPair& p : r.pairs) {
        const at::Tensor b = rangesBefore.at(p.pair.consumer), a = rangesAfter.at(p.pair.consumer);
        const double widest = b.max().item<double>();
        // The widest channel, and so the per-tensor range, is where it was.
        QVERIFY(std::abs(a.max().item<double>() - widest) <= 1e-4 * widest);
        // Every live channel below the cap now spans that range.
        const at::Tensor live = b > widest / o.maxScale;
        QVERIFY(live.any().item<bool>());
        const at::Tensor ratio = a.masked_select(live) / widest;
        QVERIFY2(ratio.min().item<double>() > 0.999, p.pair.consumer.c_str());
        QVERIFY(p.medianRangeAfter > p.medianRangeBefore);
        QVERIFY(p.largestScale >= 1.0 && p.largestScale <= o.maxScale);
    }
}

void TestRangeEqualization::lowersTheFourBitActivationError() {
    const Setup plain(mobilenet, 256);
    Setup equalized(mobilenet, 256);
    std::set<std::string> depthwise;
    for (const EqualizationPair& p : equalizationPairs(plain.graph)) depthwise.insert(p.consumer);
    equalizeDepthwiseInputs(equalized.graph, *equalized.calib);
    const at::Tensor x = plain.images(256);
    // The depthwise inputs at 4 bits, the rest at W8A8: the error those inputs add shrinks.
    const double before = quantizedLogitMse(plain.graph, *plain.calib, x, 8, 4, depthwise);
    const double after = quantizedLogitMse(equalized.graph, *equalized.calib, x, 8, 4, depthwise);
    QVERIFY2(after < 0.7 * before, qPrintable(QString("%1 -> %2").arg(before).arg(after)));
    qInfo("depthwise inputs at A4: logit MSE %.4g -> %.4g", before, after);
    // With 8-bit activations the rescale costs the per-channel weights nothing either.
    const double w4Before = quantizedLogitMse(plain.graph, *plain.calib, x, 4, 8, {});
    const double w4After = quantizedLogitMse(equalized.graph, *equalized.calib, x, 4, 8, {});
    QVERIFY2(w4After < 1.05 * w4Before, qPrintable(QString("%1 -> %2").arg(w4Before).arg(w4After)));
}

void TestRangeEqualization::survivesRefoldingAndLeavesTheSourceAlone() {
    const Setup s(mobilenet, 64);
    const at::Tensor x = s.images(64);
    const at::Tensor original = logits(s.graph, x);
    Graph copy = s.graph.clone();
    equalizeDepthwiseInputs(copy, *s.calib);
    const at::Tensor equalized = logits(copy, x);
    // The source graph shares its tensors with the clone until replaced: still the same model.
    QVERIFY(at::equal(logits(s.graph, x), original));
    const std::string expand = equalizationPairs(s.graph).front().producer;
    const std::string key = s.graph.paramOf(s.graph.node(s.graph.findNode(expand)), 1);
    QVERIFY(!at::equal(s.graph.param(key), copy.param(key)));
    // BN tuning unfolds and refolds: the rescale lives in the BatchNorm's affine parameters.
    unfoldBatchNorms(copy);
    foldBatchNorms(copy);
    QVERIFY((logits(copy, x) - equalized).abs().max().item<double>() < 1e-5 * equalized.abs().max().item<double>());
}

void TestRangeEqualization::modelWithoutDepthwiseLayersIsLeftAlone() {
    Setup s(resnet, 32);
    QVERIFY(equalizationPairs(s.graph).empty());
    const at::Tensor x = s.images(32);
    const at::Tensor before = logits(s.graph, x);
    const RangeEqualizationReport r = equalizeDepthwiseInputs(s.graph, *s.calib);
    QVERIFY(r.pairs.empty());
    QVERIFY(QString::fromStdString(r.summary()).contains("nothing changed"));
    QVERIFY(at::equal(logits(s.graph, x), before));
}

void TestRangeEqualization::cancelLeavesTheGraphAsItWas() {
    Setup s(mobilenet, 64);
    const at::Tensor x = s.images(16);
    const at::Tensor before = logits(s.graph, x);
    Progress p;
    p.cancelRequested = true;
    QVERIFY_THROWS_EXCEPTION(Cancelled, equalizeDepthwiseInputs(s.graph, *s.calib, {}, &p));
    QVERIFY(at::equal(logits(s.graph, x), before));
}

void TestRangeEqualization::badOptions() {
    Setup s(mobilenet, 8);
    RangeEqualizationOptions o;
    o.maxScale = 0.5;
    try {
        equalizeDepthwiseInputs(s.graph, *s.calib, o);
        QFAIL("a largest scale below 1 was accepted");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("at least 1"), e.what());
    }
    o = {};
    o.maxSamples = 0;
    QVERIFY_THROWS_EXCEPTION(Error, equalizeDepthwiseInputs(s.graph, *s.calib, o));
}

QTEST_GUILESS_MAIN(TestRangeEqualization)
#include "test_range_equalization.moc"
