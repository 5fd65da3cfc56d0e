// Block reconstruction (core/methods/adaquant.h, adaQuantBlocks) on the demo ResNet-20 and ViT.
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/methods/adaquant.h"
#include "core/model/model_card.h"
#include "core/quant/quantized_model.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "demo_setup.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include <cmath>
#include <set>

using namespace ptq;

namespace {
const std::string resnet = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";
const std::string vit = PTQ_SOURCE_DIR "/resources/models/vit_fmnist.pt";

struct Setup : ptqtest::DemoSetup {
    using DemoSetup::DemoSetup;
    QuantizedModel model(int bits) const {
        QuantizedModel m(graph, QuantConfig::uniform(graph, bits, bits, Granularity::PerChannel, false));
        m.calibrate(*calib, 128);
        return m;
    }
    /// Mean squared difference of the logits against FP32 on the first @p count samples.
    double logitMse(const QuantizedModel& m, int64_t count) const {
        const c10::InferenceMode guard;
        const Executor e(graph);
        const at::Tensor x = images(count);
        return (e.run(x, m.hooks()).at(0) - e.run(x).at(0)).pow(2).mean().item<double>();
    }
};

AdaQuantOptions fewSteps(int iterations) {
    AdaQuantOptions o;
    o.blockIterations = iterations;
    o.batchSize = 32;
    return o;
}
}  // namespace

class TestBlockReconstruction : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void residualBlocksOfResNet20();
    void plainChainsSplitAtTheLayerBound();
    void startMatchesTheModelsOwnRun();
    void lowersBlockAndModelError();
    void transformerBlocks();
    void subsamplesToTheBound();
    void cancelLeavesTheModelAsItWas();
    void badOptions();
};

void TestBlockReconstruction::residualBlocksOfResNet20() {
    const Setup s(resnet, 32);
    const QuantizedModel m = s.model(4);
    const Graph& g = s.graph;
    const std::vector<ReconstructionBlock> blocks = reconstructionBlocks(m, 3);
    QVERIFY(!blocks.empty());
    QCOMPARE(blocks.front().first, 0);
    QCOMPARE(blocks.back().end, int(g.nodes().size()));
    const Executor e(g);
    std::set<int> seen;
    std::set<std::string> names;
    for (size_t i = 0; i < blocks.size(); ++i) {
        const ReconstructionBlock& b = blocks[i];
        if (i > 0) QCOMPARE(b.first, blocks[i - 1].end);  // contiguous, in execution order
        QCOMPARE(int(e.cutValues(b.first).size()), 1);    // one value goes in
        if (b.end < int(g.nodes().size())) QCOMPARE(int(e.cutValues(b.end).size()), 1);  // one comes out
        QVERIFY(!b.layers.empty());
        for (int id : b.layers) {
            QVERIFY(id >= b.first && id < b.end);
            QVERIFY(seen.insert(id).second);
        }
        names.insert(b.name);
    }
    QCOMPARE(int(seen.size()), int(g.quantizableNodes().size()));
    // Each residual block of the network is one block, named by its module; the stem conv
    // joins the first one, the classifier ends alone.
    for (const char* block : {"layer1.1", "layer1.2", "layer2.0", "layer2.1", "layer3.0", "layer3.2"})
        QVERIFY2(names.count(block), block);
    const ReconstructionBlock* downsampling = nullptr;
    for (const ReconstructionBlock& b : blocks)
        if (b.name == "layer2.0") downsampling = &b;
    QCOMPARE(int(downsampling->layers.size()), 3);  // conv1, conv2 and the shortcut's conv
    QCOMPARE(int(blocks.size()), 10);
}

void TestBlockReconstruction::plainChainsSplitAtTheLayerBound() {
    const Setup s(resnet, 32);
    const QuantizedModel m = s.model(4);
    // Residual sums close blocks whatever the bound; a bound of one splits the stem from the
    // first residual block (a chain there), not a residual block in two.
    const std::vector<ReconstructionBlock> one = reconstructionBlocks(m, 1), three = reconstructionBlocks(m, 3);
    QCOMPARE(int(one.size()), int(three.size()) + 1);
    QCOMPARE(int(one.front().layers.size()), 1);
    QCOMPARE(s.graph.node(one.front().layers.front()).name, std::string("conv1"));
}

void TestBlockReconstruction::startMatchesTheModelsOwnRun() {
    // Before any step, a block's MSE is that of the model's own fake-quantized run against FP
    // over the block (the autograd fake-quant computes what QuantizedModel does).
    const Setup s(resnet, 64);
    QuantizedModel m = s.model(4);
    const std::vector<ReconstructionBlock> blocks = reconstructionBlocks(m, 3);
    AdaQuantOptions o = fewSteps(1);
    o.runBatchSize = 64;
    const AdaQuantReport r = adaQuantBlocks(m, *s.calib, o);
    QCOMPARE(int(r.blocks.size()), int(blocks.size()));
    QCOMPARE(r.layers.size(), size_t(s.graph.quantizableNodes().size()));
    const QuantizedModel naive = s.model(4);
    const c10::InferenceMode guard;
    const Executor e(s.graph);
    const at::Tensor x = s.images(64);
    const int input = s.graph.inputValue();
    const LiveValues q = e.runSegment(0, {{input, x}}, blocks[0].end, 64, naive.hooks());
    const LiveValues f = e.runSegment(0, {{input, x}}, blocks[0].end, 64);
    const double expected = (q.at(0).second - f.at(0).second).pow(2).mean().item<double>();
    qInfo("first block: MSE %.6g (report) vs %.6g (the model's run)", r.blocks[0].mseBefore, expected);
    QVERIFY(std::abs(r.blocks[0].mseBefore - expected) <= 1e-5 * expected + 1e-9);
}

void TestBlockReconstruction::lowersBlockAndModelError() {
    const Setup s(resnet, 256);
    QuantizedModel naive = s.model(3), tuned = s.model(3);
    int ticks = 0, blocksSeen = 0;
    AdaQuantOptions o = fewSteps(40);
    o.onIteration = [&](const AdaQuantTick& t) {
        ++ticks;
        QVERIFY(std::isfinite(t.loss) && t.iteration >= 1 && t.iteration <= t.iterations);
        QVERIFY(t.layerIndex < t.layerCount && !t.layer.empty());
    };
    o.onBlock = [&](const AdaQuantBlockResult&) { ++blocksSeen; };
    const AdaQuantReport r = adaQuantBlocks(tuned, *s.calib, o);
    QVERIFY(r.blockwise && r.sequential);
    QCOMPARE(blocksSeen, int(r.blocks.size()));
    QCOMPARE(ticks, 40 * int(r.blocks.size()));
    double before = 0, after = 0;
    for (const AdaQuantBlockResult& b : r.blocks) {
        QVERIFY(b.mseAfter <= b.mseBefore);
        before += b.mseBefore;
        after += b.mseAfter;
    }
    qInfo("summed block-output MSE %.4g -> %.4g", before, after);
    QVERIFY2(after < 0.8 * before, "40 steps a block should cut the W3A3 blocks' summed output MSE by 20 %");
    // Measured independently: the logits of the whole model against FP32.
    const double mseNaive = s.logitMse(naive, 256), mseTuned = s.logitMse(tuned, 256);
    qInfo("logit MSE against FP32: naive %.4g, blocks %.4g", mseNaive, mseTuned);
    QVERIFY(mseTuned < 0.7 * mseNaive);
    for (const AdaQuantLayerResult& l : r.layers)
        if (l.applied && l.weightBits < 32) QVERIFY(tuned.weightParamsPinned(l.layer));
}

void TestBlockReconstruction::transformerBlocks() {
    // Attention (two activation matmuls, a softmax) and the MLP each end at a residual sum: the
    // blocks follow them, and reconstruction lowers the logits' error.
    const Setup s(vit, 64);
    QuantizedModel naive = s.model(4), tuned = s.model(4);
    const std::vector<ReconstructionBlock> blocks = reconstructionBlocks(tuned, 3);
    int attention = 0;
    for (const ReconstructionBlock& b : blocks) {
        for (int id = b.first; id < b.end; ++id) attention += s.graph.isActivationMatMul(s.graph.node(id)) ? 1 : 0;
        QVERIFY(!b.layers.empty());
    }
    QVERIFY(attention >= 2);
    QVERIFY(blocks.size() >= 3);
    const AdaQuantReport r = adaQuantBlocks(tuned, *s.calib, fewSteps(20));
    const double mseNaive = s.logitMse(naive, 64), mseTuned = s.logitMse(tuned, 64);
    qInfo("ViT W4A4, %zu blocks: logit MSE against FP32 naive %.4g, blocks %.4g", r.blocks.size(), mseNaive,
          mseTuned);
    QVERIFY(mseTuned < mseNaive);
}

void TestBlockReconstruction::subsamplesToTheBound() {
    const Setup s(resnet, 256);
    QuantizedModel m = s.model(4);
    AdaQuantOptions o = fewSteps(2);
    o.maxCacheBytes = int64_t(4) << 20;  // 16 x 28 x 28 floats a value: about 30 samples of three values
    const AdaQuantReport r = adaQuantBlocks(m, *s.calib, o);
    QVERIFY(r.subsampled);
    QVERIFY(r.samples > 0 && r.samples < 256);
    for (const AdaQuantBlockResult& b : r.blocks) QCOMPARE(b.samples, r.samples);
}

void TestBlockReconstruction::cancelLeavesTheModelAsItWas() {
    const Setup s(resnet, 64);
    QuantizedModel m = s.model(4);
    const double before = s.logitMse(m, 64);
    const QuantParams w0 = m.weightParams("layer1.0.conv1");
    Progress progress;
    AdaQuantOptions o = fewSteps(5);
    // Cancel in the third block: two blocks are applied by then.
    o.onIteration = [&](const AdaQuantTick& t) {
        if (t.layerIndex == 2 && t.iteration == 3) progress.cancelRequested = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, adaQuantBlocks(m, *s.calib, o, &progress));
    QCOMPARE(s.logitMse(m, 64), before);
    QVERIFY(m.weightParams("layer1.0.conv1") == w0);
    QVERIFY(!m.weightParamsPinned("layer1.0.conv1"));
}

void TestBlockReconstruction::badOptions() {
    const Setup s(resnet, 32);
    QuantizedModel m = s.model(4);
    AdaQuantOptions o;
    o.blockIterations = 0;
    QVERIFY_THROWS_EXCEPTION(Error, adaQuantBlocks(m, *s.calib, o));
    o = AdaQuantOptions{};
    o.blockMaxLayers = 0;
    try {
        adaQuantBlocks(m, *s.calib, o);
        QFAIL("a block bound of 0 was taken");
    } catch (const Error& e) {
        QVERIFY2(QString::fromStdString(e.what()).contains("at least 1 layer"), e.what());
    }
    o = AdaQuantOptions{};
    o.maxCacheBytes = int64_t(1) << 20;
    o.runBatchSize = 8;
    // 1 MB holds some samples of the demo's blocks: runs; an uncalibrated model does not.
    QuantizedModel raw(s.graph, QuantConfig::uniform(s.graph, 4, 4, Granularity::PerChannel, false));
    QVERIFY_THROWS_EXCEPTION(Error, adaQuantBlocks(raw, *s.calib, o));
}

QTEST_GUILESS_MAIN(TestBlockReconstruction)
#include "test_block_reconstruction.moc"
