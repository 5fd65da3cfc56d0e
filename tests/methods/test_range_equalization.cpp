// Range equalization (core/methods/range_equalization.h) on the demo MobileNetV2 (inverted
// residuals: depthwise inputs and residual streams), ResNet-20 (residual streams only) and the
// ViT (nothing it can rescale).
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
const std::string vit = PTQ_SOURCE_DIR "/resources/models/vit_fmnist.pt";

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

/// The convs that read a group's tensors.
std::set<std::string> readers(const EqualizationGroup& g) {
    std::set<std::string> out(g.depthwise.begin(), g.depthwise.end());
    out.insert(g.dense.begin(), g.dense.end());
    return out;
}

std::set<std::string> allReaders(const std::vector<EqualizationGroup>& groups) {
    std::set<std::string> out;
    for (const EqualizationGroup& g : groups) {
        const std::set<std::string> r = readers(g);
        out.insert(r.begin(), r.end());
    }
    return out;
}

bool endsWith(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// The rescale keeps @p g's function on @p x, keeps every read tensor's widest channel, and
/// brings every live channel up to the widest range of at least one tensor it is read in.
void checkEqualized(Graph& g, const Dataset& calib, const at::Tensor& x, const RangeEqualizationOptions& o,
                    RangeEqualizationReport& report) {
    const at::Tensor before = logits(g, x);
    const std::vector<EqualizationGroup> groups = equalizationGroups(g, o.denseReaders);
    const auto rangesBefore = inputRanges(g, x, allReaders(groups));
    report = equalizeActivationRanges(g, calib, o);
    QCOMPARE(report.groups.size(), groups.size());
    // The same function on the data the ranges came from (ReLU6's bound is never crossed there).
    const at::Tensor after = logits(g, x);
    const double scale = before.abs().max().item<double>();
    QVERIFY2((after - before).abs().max().item<double>() < 1e-4 * scale,
             qPrintable(QString::number((after - before).abs().max().item<double>())));
    QCOMPARE(after.argmax(1).ne(before.argmax(1)).sum().item<int64_t>(), int64_t(0));
    const auto rangesAfter = inputRanges(g, x, allReaders(groups));
    for (const EqualizedGroup& e : report.groups) {
        at::Tensor reached;  // per channel the best ratio to a read tensor's widest channel
        at::Tensor live;
        for (const std::string& reader : readers(e.group)) {
            const at::Tensor b = rangesBefore.at(reader), a = rangesAfter.at(reader);
            const double widest = b.max().item<double>();
            // The widest channel, and so the per-tensor range, is where it was.
            QVERIFY2(std::abs(a.max().item<double>() - widest) <= 1e-4 * widest, reader.c_str());
            const at::Tensor ratio = a / widest, l = b > widest / o.maxScale;
            reached = reached.defined() ? at::maximum(reached, ratio) : ratio;
            live = live.defined() ? (live & l) : l;
        }
        QVERIFY(live.any().item<bool>());
        QVERIFY2(reached.masked_select(live).min().item<double>() > 0.999, e.group.producers.front().c_str());
        QVERIFY(e.medianRangeAfter > e.medianRangeBefore);
        QVERIFY(e.largestScale >= 1.0 && e.largestScale <= o.maxScale);
    }
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
    void findsTheDepthwiseInputsAndResidualStreams();
    void keepsTheFunctionAndEvensTheRanges();
    void lowersTheLowBitActivationError();
    void survivesRefoldingAndLeavesTheSourceAlone();
    void resNetResidualStreams();
    void modelWithoutGroupsIsLeftAlone();
    void cancelLeavesTheGraphAsItWas();
    void badOptions();
};

void TestRangeEqualization::findsTheDepthwiseInputsAndResidualStreams() {
    const Setup s(mobilenet, 8);
    // By default the groups depthwise convs alone read: the 10 expand -> ReLU6 -> depthwise
    // pairs. The first depthwise layer's input also feeds its block's residual add, and the
    // add's output the next block's expand layer, so that group has a dense reader.
    const std::vector<EqualizationGroup> free = equalizationGroups(s.graph);
    QCOMPARE(int(free.size()), 10);
    for (const EqualizationGroup& g : free) {
        QVERIFY(g.dense.empty() && g.adds == 0);
        QVERIFY(g.depthwise.front() != "features.3.conv.0");
    }
    const std::vector<EqualizationGroup> groups = equalizationGroups(s.graph, true);
    // With dense readers every one of the 11 depthwise layers is read from a group: the first one's input also
    // feeds its block's residual add, so that group reaches through the add to the next block's
    // expand layer. The 10 expand -> ReLU6 -> depthwise pairs, and the residual streams of the 4
    // stages whose blocks repeat (24, 32, 64, 96 channels), from the projections to the expand
    // layers that read them.
    QCOMPARE(int(groups.size()), 15);
    std::set<std::string> depthwise;
    int pairs = 0, streams = 0;
    for (const EqualizationGroup& g : groups) {
        depthwise.insert(g.depthwise.begin(), g.depthwise.end());
        for (const std::string& d : g.depthwise)
            QCOMPARE(s.graph.node(s.graph.findNode(d)).attrInt("groups"), g.channels);
        if (g.adds == 0) {
            ++pairs;
            QCOMPARE(int(g.producers.size()), 1);
            QVERIFY2(endsWith(g.producers[0], "conv.0"), g.producers[0].c_str());
            QCOMPARE(int(g.depthwise.size()), 1);
            QVERIFY(endsWith(g.depthwise[0], "conv.3"));
            QVERIFY(g.dense.empty());
        } else if (g.depthwise.empty()) {
            ++streams;
            QCOMPARE(g.dense.size(), g.producers.size());
            QCOMPARE(g.adds, int(g.producers.size()) - 1);
            for (const std::string& p : g.producers) QVERIFY2(endsWith(p, "conv.6"), p.c_str());
        }
    }
    QCOMPARE(int(depthwise.size()), 11);
    QCOMPARE(pairs, 10);
    QCOMPARE(streams, 4);
    const EqualizationGroup& first = groups.front();
    QCOMPARE(first.producers, (std::vector<std::string>{"features.0", "features.3.conv.3"}));
    QCOMPARE(first.depthwise, std::vector<std::string>{"features.3.conv.0"});
    QCOMPARE(first.dense, std::vector<std::string>{"features.4.conv.0"});
    QCOMPARE(first.adds, 1);
}

void TestRangeEqualization::keepsTheFunctionAndEvensTheRanges() {
    for (const bool dense : {false, true}) {
        Setup s(mobilenet, 256);
        RangeEqualizationOptions o;
        o.maxScale = 64;
        o.denseReaders = dense;
        RangeEqualizationReport r;
        checkEqualized(s.graph, *s.calib, s.images(256), o, r);
        QCOMPARE(r.samples, int64_t(256));
        QCOMPARE(r.denseReaders, dense);
        const char* expected = dense ? "15 groups (5 through residual adds) before 11 depthwise and 11 dense layers"
                                     : "10 groups (0 through residual adds) before 10 depthwise and 0 dense layers";
        QVERIFY2(QString::fromStdString(r.summary()).contains(expected), r.summary().c_str());
    }
}

void TestRangeEqualization::lowersTheLowBitActivationError() {
    const Setup plain(mobilenet, 256);
    const at::Tensor x = plain.images(256);
    const double w4Before = quantizedLogitMse(plain.graph, *plain.calib, x, 4, 8, {});
    for (const bool dense : {false, true}) {
        Setup equalized(mobilenet, 256);
        const std::set<std::string> read = allReaders(equalizationGroups(plain.graph, dense));
        RangeEqualizationOptions o;
        o.denseReaders = dense;
        equalizeActivationRanges(equalized.graph, *equalized.calib, o);
        // The inputs the groups rescale at 4 and 3 bits, the rest at W8A8: the error they add shrinks.
        for (int bits : {4, 3}) {
            const double before = quantizedLogitMse(plain.graph, *plain.calib, x, 8, bits, read);
            const double after = quantizedLogitMse(equalized.graph, *equalized.calib, x, 8, bits, read);
            QVERIFY2(after < 0.7 * before, qPrintable(QString("A%1: %2 -> %3").arg(bits).arg(before).arg(after)));
            qInfo("%s: rescaled inputs at A%d: logit MSE %.4g -> %.4g", dense ? "dense readers" : "depthwise only",
                  bits, before, after);
        }
        // With 8-bit activations the producers and depthwise filters pay nothing; the dense
        // readers' divided columns cost their 4-bit weights.
        const double w4After = quantizedLogitMse(equalized.graph, *equalized.calib, x, 4, 8, {});
        qInfo("%s: W4A8 logit MSE %.4g -> %.4g", dense ? "dense readers" : "depthwise only", w4Before, w4After);
        QVERIFY2(w4After < (dense ? 1.5 : 1.05) * w4Before, qPrintable(QString("%1 -> %2").arg(w4Before).arg(w4After)));
    }
}

void TestRangeEqualization::survivesRefoldingAndLeavesTheSourceAlone() {
    const Setup s(mobilenet, 64);
    const at::Tensor x = s.images(64);
    const at::Tensor original = logits(s.graph, x);
    Graph copy = s.graph.clone();
    RangeEqualizationOptions o;
    o.denseReaders = true;
    equalizeActivationRanges(copy, *s.calib, o);
    const at::Tensor equalized = logits(copy, x);
    // The source graph shares its tensors with the clone until replaced: still the same model.
    QVERIFY(at::equal(logits(s.graph, x), original));
    for (const std::string& layer : {std::string("features.3.conv.3"), std::string("features.4.conv.0")}) {
        const std::string key = s.graph.paramOf(s.graph.node(s.graph.findNode(layer)), 1);
        QVERIFY2(!at::equal(s.graph.param(key), copy.param(key)), layer.c_str());
    }
    // BN tuning unfolds and refolds: the rescale lives in the BatchNorms' affine parameters and
    // the readers' own weights.
    unfoldBatchNorms(copy);
    foldBatchNorms(copy);
    QVERIFY((logits(copy, x) - equalized).abs().max().item<double>() < 1e-5 * equalized.abs().max().item<double>());
}

void TestRangeEqualization::resNetResidualStreams() {
    Setup s(resnet, 128);
    // ResNet-20's first two stages: the stem and the blocks' second convs write the stream, the
    // blocks' first convs and the next stage's downsample read it (the last stage's stream ends
    // in the pooling).
    QVERIFY(equalizationGroups(s.graph).empty());
    const std::vector<EqualizationGroup> groups = equalizationGroups(s.graph, true);
    QCOMPARE(int(groups.size()), 2);
    QCOMPARE(groups[0].producers.front(), std::string("conv1"));
    QCOMPARE(groups[0].adds, 3);
    QVERIFY(groups[0].depthwise.empty() && groups[1].depthwise.empty());
    RangeEqualizationOptions o;
    o.denseReaders = true;
    RangeEqualizationReport r;
    checkEqualized(s.graph, *s.calib, s.images(128), o, r);
    QVERIFY2(QString::fromStdString(r.summary()).contains("2 groups (2 through residual adds)"), r.summary().c_str());
}

void TestRangeEqualization::modelWithoutGroupsIsLeftAlone() {
    Setup s(vit, 32);
    QVERIFY(equalizationGroups(s.graph, true).empty());
    const at::Tensor x = s.images(32);
    const at::Tensor before = logits(s.graph, x);
    RangeEqualizationOptions o;
    o.denseReaders = true;
    const RangeEqualizationReport r = equalizeActivationRanges(s.graph, *s.calib, o);
    QVERIFY(r.groups.empty());
    QVERIFY(QString::fromStdString(r.summary()).contains("nothing changed"));
    QVERIFY(at::equal(logits(s.graph, x), before));
}

void TestRangeEqualization::cancelLeavesTheGraphAsItWas() {
    Setup s(mobilenet, 64);
    const at::Tensor x = s.images(16);
    const at::Tensor before = logits(s.graph, x);
    Progress p;
    p.cancelRequested = true;
    QVERIFY_THROWS_EXCEPTION(Cancelled, equalizeActivationRanges(s.graph, *s.calib, {}, &p));
    QVERIFY(at::equal(logits(s.graph, x), before));
}

void TestRangeEqualization::badOptions() {
    Setup s(mobilenet, 8);
    RangeEqualizationOptions o;
    o.maxScale = 0.5;
    try {
        equalizeActivationRanges(s.graph, *s.calib, o);
        QFAIL("a largest scale below 1 was accepted");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains("at least 1"), e.what());
    }
    o = {};
    o.maxSamples = 0;
    QVERIFY_THROWS_EXCEPTION(Error, equalizeActivationRanges(s.graph, *s.calib, o));
}

QTEST_GUILESS_MAIN(TestRangeEqualization)
#include "test_range_equalization.moc"
