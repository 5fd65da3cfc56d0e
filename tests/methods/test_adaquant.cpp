// AdaQuant, the layer cache and bias tuning on the demo ResNet-20 and real Fashion-MNIST.
#include "core/analysis/evaluate.h"
#include "core/analysis/layer_error.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/methods/adaquant.h"
#include "core/methods/bias_tuning.h"
#include "core/methods/layer_cache.h"
#include "core/model/model_card.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

#include <cmath>
#include <limits>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

struct DemoSetup {
    Graph graph;
    std::unique_ptr<Dataset> calib;
    explicit DemoSetup(int calibCount) : graph(importTorchScript(demo, {1, 28, 28})) {
        foldBatchNorms(graph);
        const Normalization norm = Normalization::fromModelCard(*loadModelCard(demo));
        calib = openDataSource("fmnist:train:" + std::to_string(calibCount), norm, {1, 28, 28});
    }
    // W4A4 on the first @p quantized layers; the others stay in float (AdaQuant skips them).
    QuantizedModel model(int quantized, int weightBits = 4, int activationBits = 4) const {
        QuantConfig c = QuantConfig::uniform(graph, weightBits, activationBits, Granularity::PerChannel, false);
        const auto layers = graph.quantizableNodes();
        for (size_t i = size_t(quantized); i < layers.size(); ++i)
            c.layers[graph.node(layers[i]).name] = LayerQuant{32, 32, Granularity::PerChannel};
        QuantizedModel m(graph, c);
        m.calibrate(*calib, 128);
        return m;
    }
};

AdaQuantOptions fewSteps(int iterations) {
    AdaQuantOptions o;
    o.iterations = iterations;
    o.batchSize = 32;
    return o;
}

// Everything a run of the model depends on, to compare bit for bit.
struct ModelState {
    std::vector<QuantParams> weights, activations;
    std::vector<at::Tensor> floats;
    at::Tensor output;
    ModelState(const QuantizedModel& m, const Dataset& data) {
        const Graph& g = m.graph();
        for (int id : g.quantizableNodes()) {
            const Node& n = g.node(id);
            const LayerQuant& q = m.config().layer(n.name);
            weights.push_back(q.weightBits < 32 ? m.weightParams(n.name) : QuantParams{});
            activations.push_back(q.activationBits < 32 ? m.activationParams(n.name) : QuantParams{});
            for (size_t i = 1; i < n.inputs.size(); ++i) floats.push_back(m.floatParam(g.paramOf(n, i)).clone());
        }
        const c10::InferenceMode guard;
        const at::Tensor x = at::empty({16, 1, 28, 28});
        data.read(0, 16, x.data_ptr<float>(), nullptr);
        output = Executor(g).run(x, m.hooks()).at(0);
    }
    bool operator==(const ModelState& o) const {
        if (!(weights == o.weights) || !(activations == o.activations) || floats.size() != o.floats.size()) return false;
        for (size_t i = 0; i < floats.size(); ++i)
            if (!at::equal(floats[i], o.floats[i])) return false;
        return at::equal(output, o.output);
    }
};
}  // namespace

class TestAdaQuant : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void lowersLayerErrorAgainstRounding();
    void sequentialRunsOnQuantizedInputs();
    void storeKeepsResultsPerBits();
    void cacheHoldsWhatTheModelComputes();
    void cacheRespectsItsBound();
    void cancelLeavesTheModelAsItWas();
    void biasTuningLowersKl();
    void biasTuningCancelLeavesTheModel();
    void badOptions_data();
    void badOptions();
};

void TestAdaQuant::lowersLayerErrorAgainstRounding() {
    const DemoSetup s(256);
    QuantizedModel naive = s.model(4);
    QuantizedModel tuned = s.model(4);
    int ticks = 0;
    AdaQuantOptions o = fewSteps(40);
    o.onIteration = [&](const AdaQuantTick& t) {
        ++ticks;
        QVERIFY(std::isfinite(t.loss) && t.iteration >= 1 && t.iteration <= t.iterations);
    };
    const AdaQuantReport r = adaQuant(tuned, *s.calib, o);
    QCOMPARE(int(r.layers.size()), 4);
    QCOMPARE(ticks, 4 * 40);
    double before = 0, after = 0;
    for (const auto& l : r.layers) {
        QVERIFY(l.mseAfter <= l.mseBefore);
        before += l.mseBefore;
        after += l.mseAfter;
    }
    qInfo("AdaQuant's own figures: summed output MSE %.4g -> %.4g", before, after);
    QVERIFY2(after < 0.9 * before, "40 steps should cut the summed output MSE of 4 W4A4 layers by 10 %");
    // Measured independently (core/analysis/layer_error.h, no ReLU, the model's own hooks).
    const auto en = layerErrors(naive, *s.calib, 128), et = layerErrors(tuned, *s.calib, 128);
    double naiveSum = 0, tunedSum = 0;
    for (size_t i = 0; i < 4; ++i) {
        naiveSum += en[i].mse;
        tunedSum += et[i].mse;
    }
    qInfo("layer_error: naive %.4g, AdaQuant %.4g", naiveSum, tunedSum);
    QVERIFY(tunedSum < naiveSum);
    for (size_t i = 4; i < en.size(); ++i) QCOMPARE(et[i].mse, en[i].mse);  // float layers untouched
    QVERIFY(tuned.weightParamsPinned(r.layers[0].layer) || !r.layers[0].applied);
}

void TestAdaQuant::sequentialRunsOnQuantizedInputs() {
    const DemoSetup s(128);
    QuantizedModel par = s.model(3), seq = s.model(3);
    AdaQuantOptions o = fewSteps(5);
    const AdaQuantReport rp = adaQuant(par, *s.calib, o);
    o.sequential = true;
    const AdaQuantReport rs = adaQuant(seq, *s.calib, o);
    QVERIFY(rs.sequential);
    QCOMPARE(rs.samples, int64_t(128));
    // The first layer sees the same (raw) input in both flavours; later ones do not.
    QCOMPARE(rs.layers[0].mseBefore, rp.layers[0].mseBefore);
    QVERIFY(rs.layers[1].mseBefore != rp.layers[1].mseBefore);
}

void TestAdaQuant::storeKeepsResultsPerBits() {
    const DemoSetup s(64);
    AdaQuantStore store;
    QuantizedModel m4 = s.model(2, 4, 8);
    adaQuant(m4, *s.calib, fewSteps(3), nullptr, &store);
    QuantizedModel m2 = s.model(2, 2, 8);
    adaQuant(m2, *s.calib, fewSteps(3), nullptr, &store);
    QCOMPARE(int(store.size()), 4);
    const std::string first = s.graph.node(s.graph.quantizableNodes()[0]).name;
    QVERIFY(store.find(first, 4, 8) && store.find(first, 2, 8));
    QVERIFY(!store.find(first, 8, 8));
    // Applying the stored 4-bit results to a fresh model reproduces the tuned one.
    QuantizedModel fresh = s.model(2, 4, 8);
    QCOMPARE(applyAdaQuant(fresh, store), 2);
    QVERIFY(ModelState(fresh, *s.calib) == ModelState(m4, *s.calib));
}

void TestAdaQuant::cacheHoldsWhatTheModelComputes() {
    const DemoSetup s(40);
    const Graph& g = s.graph;
    const auto layers = g.quantizableNodes();
    LayerCache cache(g, *s.calib, {int64_t(1) << 30, 16, 0});
    cache.capture({layers[1], layers[2]});
    QCOMPARE(cache.samples(), int64_t(40));
    QVERIFY(!cache.subsampled());
    const c10::InferenceMode guard;
    const at::Tensor x = at::empty({3, 1, 28, 28});
    s.calib->read(17, 3, x.data_ptr<float>(), nullptr);
    at::Tensor in, out;
    RunHooks h;
    h.stopAfter = layers[2];
    h.afterNode = [&](const Node& n, const std::vector<at::Tensor>& i, std::vector<at::Tensor>& o) {
        if (n.id == layers[2]) {
            in = i[0];
            out = o[0];
        }
    };
    Executor(g).run(x, h);
    QVERIFY(at::allclose(cache.input(layers[2], 17, 3), in, 1e-5, 1e-6));
    QVERIFY(at::allclose(cache.fpOutput(layers[2], 17, 3), out, 1e-5, 1e-6));
    QVERIFY_THROWS_EXCEPTION(Error, cache.input(layers[3], 0, 1));
    QVERIFY_THROWS_EXCEPTION(Error, cache.input(layers[1], 39, 2));
}

void TestAdaQuant::cacheRespectsItsBound() {
    const DemoSetup s(100);
    const Graph& g = s.graph;
    const int layer = g.quantizableNodes()[3];
    LayerCache probe(g, *s.calib);
    const int64_t perSample = probe.bytesPerSample(layer);
    const int64_t bound = perSample * 30 + perSample / 2;
    LayerCache cache(g, *s.calib, {bound, 32, 7});
    cache.capture({layer});
    QCOMPARE(cache.samples(), int64_t(30));
    QVERIFY(cache.subsampled());
    QVERIFY(cache.bytes() <= bound);
    const auto& idx = cache.sampleIndices();
    QCOMPARE(int(idx.size()), 30);
    QVERIFY(std::is_sorted(idx.begin(), idx.end()) && idx.back() < 100);
    QVERIFY(std::adjacent_find(idx.begin(), idx.end()) == idx.end());
    // The sub-sample holds the right samples: compare one with a plain run.
    const c10::InferenceMode guard;
    const at::Tensor x = at::empty({1, 1, 28, 28});
    s.calib->read(idx[5], 1, x.data_ptr<float>(), nullptr);
    RunHooks h;
    h.stopAfter = layer;
    const at::Tensor y = Executor(g).run(x, h).at(0);
    QVERIFY(at::allclose(cache.fpOutput(layer, 5, 1), y, 1e-5, 1e-6));
    // The plan splits layers into groups that fit.
    const auto groups = cache.plan(g.quantizableNodes());
    QVERIFY(groups.size() > 1);
    // Below one sample: a clear error.
    LayerCache tiny(g, *s.calib, {perSample / 2, 32, 0});
    QVERIFY_THROWS_EXCEPTION(Error, tiny.capture({layer}));
}

void TestAdaQuant::cancelLeavesTheModelAsItWas() {
    const DemoSetup s(64);
    for (bool sequential : {false, true}) {
        QuantizedModel m = s.model(4);
        const ModelState before(m, *s.calib);
        Progress progress;
        AdaQuantOptions o = fewSteps(10);
        o.sequential = sequential;
        // Cancel in the third layer: in the sequential flavour two layers are applied by then.
        o.onIteration = [&](const AdaQuantTick& t) {
            if (t.layerIndex == 2 && t.iteration == 4) progress.cancelRequested = true;
        };
        QVERIFY_THROWS_EXCEPTION(Cancelled, adaQuant(m, *s.calib, o, &progress));
        QVERIFY2(ModelState(m, *s.calib) == before, sequential ? "sequential" : "parallel");
    }
}

void TestAdaQuant::biasTuningLowersKl() {
    const DemoSetup s(128);
    QuantizedModel m = s.model(22, 4, 4);
    const Executor ex(s.graph);
    const EvalResult before = evaluateAgainstReference(ex, *s.calib, m.hooks());
    BiasTuningOptions o;
    o.iterations = 15;
    o.batchSize = 64;
    const BiasTuningResult r = tuneBiases(m, *s.calib, o);
    QCOMPARE(r.biases, 22);
    QVERIFY(r.applied);
    QVERIFY(r.klAfter < r.klBefore);
    const EvalResult after = evaluateAgainstReference(ex, *s.calib, m.hooks());
    qInfo("calibration KL %.4g -> %.4g (own figures %.4g -> %.4g)", before.klToReference, after.klToReference,
          r.klBefore, r.klAfter);
    QVERIFY(after.klToReference < before.klToReference);
    QVERIFY(std::abs(before.klToReference - r.klBefore) < 1e-3 * std::max(1.0, r.klBefore) + 1e-6);
}

void TestAdaQuant::biasTuningCancelLeavesTheModel() {
    const DemoSetup s(64);
    QuantizedModel m = s.model(22, 4, 4);
    const ModelState before(m, *s.calib);
    Progress progress;
    BiasTuningOptions o;
    o.iterations = 10;
    o.batchSize = 32;
    o.onIteration = [&](int it, int, double) {
        if (it == 3) progress.cancelRequested = true;
    };
    QVERIFY_THROWS_EXCEPTION(Cancelled, tuneBiases(m, *s.calib, o, &progress));
    QVERIFY(ModelState(m, *s.calib) == before);
}

void TestAdaQuant::badOptions_data() {
    QTest::addColumn<int>("iterations");
    QTest::addColumn<double>("lrWeight");
    QTest::addColumn<double>("lrActivation");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("zero iterations") << 0 << 1e-2 << 1e-2 << "at least 1 iteration";
    QTest::newRow("zero lr") << 10 << 0.0 << 1e-2 << "weight learning rate must be a positive number";
    QTest::newRow("negative lr") << 10 << 1e-2 << -1.0 << "activation-quantizer learning rate";
    QTest::newRow("nan lr") << 10 << std::numeric_limits<double>::quiet_NaN() << 1e-2 << "positive number";
}

void TestAdaQuant::badOptions() {
    QFETCH(int, iterations);
    QFETCH(double, lrWeight);
    QFETCH(double, lrActivation);
    QFETCH(QString, phrase);
    AdaQuantOptions o;
    o.iterations = iterations;
    o.lrWeight = lrWeight;
    o.lrActivation = lrActivation;
    try {
        o.validate();
        QFAIL("accepted");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains(phrase), e.what());
    }
    BiasTuningOptions b;
    b.lr = 0;
    QVERIFY_THROWS_EXCEPTION(Error, b.validate());
}

QTEST_GUILESS_MAIN(TestAdaQuant)
#include "test_adaquant.moc"
