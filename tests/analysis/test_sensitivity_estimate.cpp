// The estimated sensitivity table against the measured one on the demo ResNet-20 and real
// Fashion-MNIST, the measurement in two rounds with cells reported one by one, and the
// estimate's mark in the table file.
#include "core/alloc/sensitivity_table.h"
#include "core/analysis/sensitivity.h"
#include "core/analysis/sensitivity_estimate.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

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

class TestSensitivityEstimate : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void ranksLikeTheMeasuredTable();
    void unlabelledDataEstimatesKl();
    void roundsMeasureTheSameCells();
    void badFirstCells();
    void estimateMarkSurvivesTheFile();
    void cancels();
};

void TestSensitivityEstimate::ranksLikeTheMeasuredTable() {
    const Graph g = demoGraph();
    const auto data = train(128);
    SensitivityRequest req;
    req.options = {{2, 4}, {2, 8}, {4, 4}, {4, 8}, {8, 8}};
    const SensitivityResult e = estimateSensitivity(g, *data, req);
    const SensitivityResult m = measureSensitivity(g, *data, req);
    QCOMPARE(e.layers.size(), m.layers.size());
    QCOMPARE(e.samples, m.samples);
    QCOMPARE(e.metric, std::string("cross_entropy"));
    QCOMPARE(e.estimatedCells(), e.layers.size() * e.options.size());
    QCOMPARE(m.estimatedCells(), size_t(0));
    // The same FP32 and base runs on the same samples.
    QVERIFY(std::abs(e.fp32Top1 - m.fp32Top1) < 1e-9);
    QVERIFY(std::abs(e.baseTop1 - m.baseTop1) < 1e-9);
    QVERIFY(std::abs(e.baseLoss - m.baseLoss) < 1e-5);
    double sum2 = 0, sum4 = 0;
    for (size_t l = 0; l < e.layers.size(); ++l) {
        QCOMPARE(e.layers[l].name, m.layers[l].name);
        QCOMPARE(e.cells[l][4].deltaLoss, 0.0);  // the base option
        for (size_t o = 0; o < e.options.size(); ++o) {
            QVERIFY(e.cells[l][o].estimated);
            QVERIFY(std::isfinite(e.cells[l][o].deltaLoss));
            // The local error is measured, on the FP input instead of the base model's.
            const double ratio = e.cells[l][o].localMse / m.cells[l][o].localMse;
            QVERIFY2(ratio > 0.5 && ratio < 2.0, qPrintable(QString::fromStdString(e.layers[l].name)));
        }
        sum2 += e.cells[l][1].deltaLoss;
        sum4 += e.cells[l][3].deltaLoss;
    }
    QVERIFY(sum2 > 2 * sum4);  // two weight bits hurt more than four
    const double rho = cellRankCorrelation(e, m);
    qInfo("Spearman, estimated vs measured delta loss: %.3f", rho);
    QVERIFY2(rho > 0.6, qPrintable(QString::number(rho)));
}

void TestSensitivityEstimate::unlabelledDataEstimatesKl() {
    const Graph g = demoGraph();
    const auto labelled = train(48);
    std::vector<float> images(labelled->contiguousImages(), labelled->contiguousImages() + 48 * 28 * 28);
    const InMemoryDataset data({1, 28, 28}, std::move(images), {}, {}, "unlabelled");
    SensitivityRequest req;
    req.options = {{2, 8}, {8, 8}};
    const SensitivityResult e = estimateSensitivity(g, data, req);
    QCOMPARE(e.metric, std::string("kl"));
    QCOMPARE(e.fp32Loss, 0.0);
    QCOMPARE(e.fp32Top1, 100.0);
    QVERIFY(e.baseLoss > 0);
    QVERIFY(e.cells[0][0].deltaLoss > 0);  // 2-bit first layer moves away from FP
    QCOMPARE(e.cells[0][1].deltaLoss, 0.0);
}

void TestSensitivityEstimate::roundsMeasureTheSameCells() {
    const Graph g = demoGraph();
    const auto data = train(64);
    SensitivityRequest req;
    req.options = {{2, 8}, {4, 8}, {8, 8}};
    const SensitivityResult once = measureSensitivity(g, *data, req);
    const size_t layers = once.layers.size();
    // First: the 4-bit cells of every third layer; then the rest.
    req.first.assign(layers, std::vector<char>(3, 0));
    for (size_t l = 0; l < layers; l += 3) req.first[l][1] = 1;
    std::vector<std::pair<size_t, size_t>> reported;
    req.onCell = [&](size_t l, size_t o, const SensitivityCell&) { reported.emplace_back(l, o); };
    const SensitivityResult twice = measureSensitivity(g, *data, req);
    QCOMPARE(reported.size(), layers * 3);
    const size_t firstCount = (layers + 2) / 3;
    for (size_t i = 0; i < reported.size(); ++i) {
        const bool inFirst = req.first[reported[i].first][reported[i].second] != 0;
        QCOMPARE(inFirst, i < firstCount);  // every first cell before any other
        for (size_t j = 0; j < i; ++j) QVERIFY(reported[j] != reported[i]);
    }
    for (size_t l = 0; l < layers; ++l)
        for (size_t o = 0; o < 3; ++o) {
            QVERIFY(std::abs(twice.cells[l][o].deltaLoss - once.cells[l][o].deltaLoss) < 1e-9);
            QVERIFY(std::abs(twice.cells[l][o].localMse - once.cells[l][o].localMse) < 1e-12);
        }
    QVERIFY(twice.forwardEquivalents > once.forwardEquivalents);  // the second round's prefix runs
}

void TestSensitivityEstimate::badFirstCells() {
    const Graph g = demoGraph();
    const auto data = train(16);
    SensitivityRequest req;
    req.options = {{4, 8}};
    req.first.assign(3, std::vector<char>(1, 1));  // the model has 22 layers
    try {
        measureSensitivity(g, *data, req);
        QFAIL("a first-cells mask of the wrong size was taken");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString::fromUtf8(e.what()).contains("3 layers"), e.what());
    }
}

void TestSensitivityEstimate::estimateMarkSurvivesTheFile() {
    const Graph g = demoGraph();
    const auto data = train(16);
    SensitivityRequest req;
    req.options = {{4, 8}, {8, 8}};
    SensitivityTable table;
    table.result = estimateSensitivity(g, *data, req);
    table.provenance.modelPath = demo;
    table.provenance.modelSha256 = "x";
    table.provenance.options = {"w4a8", "w8a8"};
    table.provenance.estimate = true;
    QTemporaryDir dir;
    const std::string path = dir.filePath("t.json").toStdString();
    writeSensitivityTable(path, table);
    const SensitivityTable back = readSensitivityTable(path);
    QVERIFY(back.provenance.estimate);
    QCOMPARE(back.result.estimatedCells(), table.result.estimatedCells());
    TableProvenance measured = back.provenance;
    measured.estimate = false;
    QVERIFY(!measured.differenceFrom(back.provenance).empty());  // never reused as a measurement
    QVERIFY(measured.differenceFrom(measured).empty());
}

void TestSensitivityEstimate::cancels() {
    const Graph g = demoGraph();
    const auto data = train(64);
    Progress p;
    int calls = 0;
    p.onProgress = [&](double f, const std::string&) {
        if (f > 0.3 && ++calls == 1) p.cancelRequested = true;
    };
    SensitivityRequest req;
    req.options = {{4, 8}};
    QVERIFY_THROWS_EXCEPTION(Cancelled, estimateSensitivity(g, *data, req, {}, &p));
    QVERIFY(calls >= 1);
}

QTEST_GUILESS_MAIN(TestSensitivityEstimate)
#include "test_sensitivity_estimate.moc"
