// The sensitivity table from cached suffix runs, checked against the plain way: a whole model
// configured with one layer at the option, calibrated and evaluated from scratch.
#include "core/analysis/evaluate.h"
#include "core/analysis/sensitivity.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/quant/integer_kernels.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <ATen/ATen.h>

#include <QtTest/QtTest>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

Graph demoGraph() {
    Graph g = importTorchScript(demo, {1, 28, 28});
    foldBatchNorms(g);
    return g;
}

std::unique_ptr<Dataset> train(int count) {
    return openDataSource("fmnist:train:" + std::to_string(count), Normalization::fromModelCard(*loadModelCard(demo)),
                          {1, 28, 28});
}
}  // namespace

class TestSensitivity : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void matchesWholeModelRuns();
    void integerKernelsMatchFakeQuantization();
    void lowerBitsHurtMore();
    void unlabelledDataUsesKl();
    void subSamplesOverTheMemoryBound();
    void badOptions_data();
    void badOptions();
    void cancels();
};

void TestSensitivity::matchesWholeModelRuns() {
    const Graph g = demoGraph();
    const auto data = train(96);
    SensitivityRequest req;
    req.options = {{2, 8}, {8, 8}, {4, 4}, {2, 8, 2}};  // the last: multipoint, two 2-bit points
    req.quantizer.batchSize = 40;  // batches of 40, 40 and 16: the cache's last batch is short
    const SensitivityResult r = measureSensitivity(g, *data, req);
    QCOMPARE(r.layers.size(), g.quantizableNodes().size());
    QCOMPARE(r.metric, std::string("cross_entropy"));
    QCOMPARE(r.samples, int64_t(96));
    // Cost: the sum of suffixes, well under a full forward per (layer, option).
    QVERIFY2(r.forwardEquivalents < 0.75 * double(r.layers.size() * r.options.size()),
             qPrintable(QString::number(r.forwardEquivalents)));

    const Executor ex(g);
    auto score = [&](const QuantConfig& c) {
        QuantizedModel m(g, c);
        m.calibrate(*data, 40);
        return evaluate(ex, *data, m.integerHooks(), 40);
    };
    const QuantConfig base = QuantConfig::uniform(g, 8, 8, Granularity::PerChannel, false);
    const EvalResult baseEval = score(base);
    QVERIFY(std::abs(baseEval.crossEntropy - r.baseLoss) < 1e-5);
    QCOMPARE(r.baseTop1, baseEval.top1());
    const EvalResult fp = evaluate(ex, *data, {}, 40);
    QVERIFY(std::abs(fp.crossEntropy - r.fp32Loss) < 1e-5);

    // The first layer, one in the middle of a residual stage and the classifier.
    for (const std::string layer : {"conv1", "layer2.0.conv2", "fc"}) {
        size_t li = 0;
        while (li < r.layers.size() && r.layers[li].name != layer) ++li;
        QVERIFY2(li < r.layers.size(), layer.c_str());
        for (size_t oi = 0; oi < req.options.size(); ++oi) {
            QuantConfig c = base;
            c.layers[layer].weightBits = req.options[oi].weightBits;
            c.layers[layer].activationBits = req.options[oi].activationBits;
            c.layers[layer].weightPoints = req.options[oi].weightPoints;
            const EvalResult e = score(c);
            const SensitivityCell& cell = r.cells[li][oi];
            const QString what = QString::fromStdString(layer + " " + req.options[oi].name());
            QVERIFY2(std::abs(cell.deltaLoss - (e.crossEntropy - baseEval.crossEntropy)) < 1e-5,
                     qPrintable(what + QString(": %1 vs %2").arg(cell.deltaLoss).arg(e.crossEntropy - baseEval.crossEntropy)));
            QVERIFY2(std::abs(cell.deltaTop1 - (e.top1() - baseEval.top1())) < 1e-9, qPrintable(what));
        }
    }
}

// The table and the evaluations run each layer as an integer kernel: the fake-quantized model's
// values to float rounding. Rounding moves a value now and then across a rounding boundary of a
// later quantizer, one grid step, so the two runs agree closely, not bit for bit.
void TestSensitivity::integerKernelsMatchFakeQuantization() {
    if (!integerKernelsAvailable()) QSKIP("No integer kernels on this CPU (no VNNI): hooks() and integerHooks() are one");
    const Graph g = demoGraph();
    const auto data = train(96);
    for (const auto& [w, a] : {std::pair{8, 8}, std::pair{4, 8}, std::pair{4, 4}}) {
        QuantizedModel m(g, QuantConfig::uniform(g, w, a, Granularity::PerChannel, false));
        m.calibrate(*data, 48);
        const Executor ex(g);
        const EvalResult fake = evaluate(ex, *data, m.hooks(), 48);
        const EvalResult integer = evaluate(ex, *data, m.integerHooks(), 48);
        const QString what = QString("w%1a%2: %3 vs %4").arg(w).arg(a).arg(integer.crossEntropy).arg(fake.crossEntropy);
        QVERIFY2(std::abs(integer.crossEntropy - fake.crossEntropy) < 2e-3 * std::max(1.0, fake.crossEntropy),
                 qPrintable(what));
        QVERIFY2(std::abs(integer.top1() - fake.top1()) <= 100.0 / 96 + 1e-9, qPrintable(what));  // one sample at most
        // ... and the kernels did run: float rounding differs somewhere.
        c10::InferenceMode guard;
        const at::Tensor batch = at::empty({8, 1, 28, 28});
        std::vector<int64_t> labels(8);
        data->read(0, 8, batch.data_ptr<float>(), labels.data());
        QVERIFY(!at::equal(ex.run(batch, m.hooks()).at(0), ex.run(batch, m.integerHooks()).at(0)));
    }
}

void TestSensitivity::lowerBitsHurtMore() {
    const Graph g = demoGraph();
    const auto data = train(64);
    SensitivityRequest req;
    req.options = {{8, 8}, {4, 8}, {2, 8}, {8, 4}};
    const SensitivityResult r = measureSensitivity(g, *data, req);
    double sum2 = 0, sum8 = 0;
    for (size_t li = 0; li < r.layers.size(); ++li) {
        const auto& c = r.cells[li];
        QCOMPARE(c[0].deltaLoss, 0.0);  // the base option changes nothing...
        QVERIFY(c[0].localMse > 0);     // ...but 8-bit quantization still has an error
        QVERIFY2(c[2].localMse > c[1].localMse && c[1].localMse > c[0].localMse, r.layers[li].name.c_str());
        QVERIFY2(c[3].localMse > c[0].localMse, r.layers[li].name.c_str());
        QVERIFY(r.layers[li].params > 0 && r.layers[li].macs > 0);
        sum2 += c[2].deltaLoss;
        sum8 += c[0].deltaLoss;
    }
    QVERIFY(sum2 > sum8 + 0.01);
}

void TestSensitivity::unlabelledDataUsesKl() {
    const Graph g = demoGraph();
    const auto labelled = train(48);
    // The same images without labels.
    std::vector<float> images(labelled->contiguousImages(), labelled->contiguousImages() + 48 * 28 * 28);
    const InMemoryDataset data({1, 28, 28}, std::move(images), {}, {}, "unlabelled");
    SensitivityRequest req;
    req.options = {{2, 8}, {8, 8}};
    const SensitivityResult r = measureSensitivity(g, data, req);
    QCOMPARE(r.metric, std::string("kl"));
    QCOMPARE(r.fp32Loss, 0.0);
    QCOMPARE(r.fp32Top1, 100.0);  // agreement with itself
    QVERIFY(r.baseLoss > 0);
    for (const auto& row : r.cells) QVERIFY(row[0].deltaLoss > -r.baseLoss);
    QVERIFY(r.cells[0][0].deltaLoss > 0);  // 2-bit first layer moves away from FP
}

void TestSensitivity::subSamplesOverTheMemoryBound() {
    const Graph g = demoGraph();
    const auto data = train(64);
    SensitivityRequest req;
    req.options = {{4, 8}};
    req.cacheBytes = 10 * 2 * 16 * 28 * 28 * 4;  // ten samples at the widest cut of two 16x28x28 values
    const SensitivityResult r = measureSensitivity(g, *data, req);
    QVERIFY2(r.samples < 64 && r.samples >= 5, qPrintable(QString::number(r.samples)));
}

void TestSensitivity::badOptions_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("no activation bits") << "w4" << "not a bit option";
    QTest::newRow("upper case") << "W4A8" << "not a bit option";
    QTest::newRow("bits 9") << "w9a8" << "allowed bit-widths";
    QTest::newRow("bits 1") << "w4a1" << "allowed bit-widths";
    QTest::newRow("huge") << "w99999999999a8" << "not a bit option";
    QTest::newRow("twice") << "w4a8,w2a8,w4a8" << "listed twice";
    QTest::newRow("empty item") << "w4a8,,w2a8" << "not a bit option";
    QTest::newRow("five points") << "w4x5a8" << "multipoint takes 1 to 4";
    QTest::newRow("no points") << "w4x0a8" << "multipoint takes 1 to 4";
    QTest::newRow("points twice") << "w4x2a8,w4x2a8" << "listed twice";
}

void TestSensitivity::badOptions() {
    QFETCH(QString, text);
    QFETCH(QString, phrase);
    try {
        BitOption::parseList(text.toStdString());
        QFAIL("no error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains(phrase), e.what());
    }
    QCOMPARE(BitOption::parseList("w2a4,w16a8,w4x2a8,w4x1a8").size(), size_t(4));
    const BitOption multipoint = BitOption::parse("w4x3a8");
    QCOMPARE(multipoint.name(), std::string("w4x3a8"));
    QCOMPARE(multipoint.weightBitsTotal(), 12);
    QCOMPARE(BitOption::parse("w4x1a8").name(), std::string("w4a8"));
}

void TestSensitivity::cancels() {
    const Graph g = demoGraph();
    const auto data = train(32);
    Progress p;
    int calls = 0;
    p.onProgress = [&](double f, const std::string&) {
        if (f > 0.5 && ++calls == 1) p.cancelRequested = true;
    };
    SensitivityRequest req;
    req.options = {{4, 8}};
    QVERIFY_THROWS_EXCEPTION(Cancelled, measureSensitivity(g, *data, req, &p));
    QVERIFY(calls >= 1);
}

QTEST_GUILESS_MAIN(TestSensitivity)
#include "test_sensitivity.moc"
