// Quantization of transformers (issue #22) on torchvision's VisionTransformer made by real
// PyTorch at test time (tools/make_fixture_models.py --set transformers): the attention matmuls
// Q·Kᵀ and P·V are layers of their own with a quantizer on each input (P's fixed at [0, 1]), the
// Linear layers take per-channel weights over 3-d inputs, and the sensitivity table, the
// allocation problem, the configuration file and the ONNX QDQ export all cover the matmuls.
#include <ATen/ATen.h>  // before Qt's headers, which define `slots`

#include "core/alloc/sensitivity_table.h"
#include "core/analysis/sensitivity.h"
#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/graph/torchscript_importer.h"
#include "core/io/onnx_export.h"
#include "core/io/quant_config_file.h"
#include "core/methods/bn_tuning.h"
#include "core/quant/quantized_model.h"
#include "core/runtime/executor.h"
#include "core/util/runtime.h"

#include <QtTest/QtTest>

#include <memory>
#include <random>

using namespace ptq;

namespace {

const char* kVit = PTQ_FIXTURE_DIR "/transformers/vit_small_scripted.pt";

std::unique_ptr<InMemoryDataset> randomImages(int64_t count, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> images(size_t(count * 3 * 32 * 32));
    for (float& v : images) v = normal(rng);
    return std::make_unique<InMemoryDataset>(std::vector<int64_t>{3, 32, 32}, std::move(images),
                                             std::vector<int64_t>{}, std::vector<std::string>{}, "random images");
}

at::Tensor batchOf(const Dataset& data, int64_t count) {
    return at::from_blob(const_cast<float*>(data.contiguousImages()), {count, 3, 32, 32}, at::kFloat).clone();
}

std::vector<std::string> matmulNames(const Graph& g) {
    std::vector<std::string> names;
    for (int id : g.allocationNodes())
        if (g.isActivationMatMul(g.node(id))) names.push_back(g.node(id).name);
    return names;
}

QuantConfig uniform(const Graph& g, int w, int a) { return QuantConfig::uniform(g, w, a, Granularity::PerChannel, false); }

double relativeError(const at::Tensor& y, const at::Tensor& ref) {
    return ((y - ref).norm() / ref.norm()).item<double>();
}

}  // namespace

class TestTransformerQuant : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void attentionMatMulsAreLayers();
    void softmaxInputHasFixedRange();
    void matmulBitsChangeTheOutput();
    void linearEnergyIsPerFeature();
    void biasCorrectionOnTokenLinears();
    void sensitivityCoversMatMuls();
    void configRoundTripsMatMuls();
    void onnxHasQdqOnBothMatMulInputs();

private:
    Graph graph_;
    std::unique_ptr<InMemoryDataset> calib_;
};

void TestTransformerQuant::initTestCase() {
    initRuntime();
    graph_ = importTorchScript(kVit, {3, 32, 32});
    calib_ = randomImages(16, 7);
}

void TestTransformerQuant::attentionMatMulsAreLayers() {
    const std::vector<std::string> names = matmulNames(graph_);
    QCOMPARE(int(names.size()), 4);  // two encoder blocks, Q·Kᵀ and P·V each
    int qk = 0, pv = 0;
    for (const std::string& n : names) {
        qk += QString::fromStdString(n).endsWith(".qk");
        pv += QString::fromStdString(n).endsWith(".pv");
    }
    QCOMPARE(qk, 2);
    QCOMPARE(pv, 2);
    const size_t weighted = graph_.quantizableNodes().size();
    QCOMPARE(graph_.allocationNodes().size(), weighted + 4);
    // The configuration covers them; first and last mean the layers with weights.
    const QuantConfig c = QuantConfig::uniform(graph_, 4, 4, Granularity::PerChannel, true);
    QCOMPARE(c.layers.size(), weighted + 4);
    for (const std::string& n : names) QCOMPARE(c.layer(n).activationBits, 4);
    QCOMPARE(c.layer(graph_.node(graph_.quantizableNodes().front()).name).weightBits, 8);
    QCOMPARE(c.layer(graph_.node(graph_.quantizableNodes().back()).name).weightBits, 8);
}

void TestTransformerQuant::softmaxInputHasFixedRange() {
    QuantizedModel m(graph_, uniform(graph_, 8, 8));
    m.calibrate(*calib_, 8);
    for (const std::string& n : matmulNames(graph_)) {
        QVERIFY(m.isActivationLayer(n));
        QVERIFY_THROWS_EXCEPTION(Error, m.runWeight(n));
        const QuantParams& p0 = m.activationParams(n, 0);
        const QuantParams& p1 = m.activationParams(n, 1);
        QCOMPARE(p0.scale.size(), size_t(1));
        QCOMPARE(p1.scale.size(), size_t(1));
        QVERIFY(p1.scale[0] > 0);
        if (QString::fromStdString(n).endsWith(".pv")) {
            // P = softmax(...): [0, 1] on the unsigned grid, whatever the data
            QCOMPARE(p0.scale[0], 1.0f / 255.0f);
            QCOMPARE(p0.zeroPoint[0], 0);
            QCOMPARE(m.observedActivationParams(n, 4, 0).scale[0], 1.0f / 15.0f);
        } else {
            QVERIFY(p0.scale[0] != 1.0f / 255.0f);  // Q is observed
        }
    }
    const std::string first = graph_.node(graph_.quantizableNodes().front()).name;
    QVERIFY(!m.isActivationLayer(first));
}

void TestTransformerQuant::matmulBitsChangeTheOutput() {
    c10::InferenceMode guard;
    const at::Tensor x = batchOf(*calib_, 8);
    const Executor ex(graph_);
    const at::Tensor fp = ex.run(x).at(0);
    // Only the matmuls quantized (everything else in float): their bits alone move the output.
    auto onlyMatMuls = [&](int bits) {
        QuantConfig c = uniform(graph_, 8, 8);
        for (auto& [name, layer] : c.layers) layer = LayerQuant{32, 32};
        for (const std::string& n : matmulNames(graph_)) c.layers[n] = LayerQuant{32, bits};
        QuantizedModel m(graph_, c);
        m.calibrate(*calib_, 8);
        return relativeError(ex.run(x, m.hooks()).at(0), fp);
    };
    const double e8 = onlyMatMuls(8), e4 = onlyMatMuls(4), e2 = onlyMatMuls(2);
    QVERIFY2(e8 > 0 && e8 < 0.05, qPrintable(QString::number(e8)));
    QVERIFY2(e4 > e8 && e2 > e4, qPrintable(QString("8: %1, 4: %2, 2: %3").arg(e8).arg(e4).arg(e2)));
}

void TestTransformerQuant::linearEnergyIsPerFeature() {
    QuantizedModel m(graph_, uniform(graph_, 8, 8));
    m.calibrate(*calib_, 8);
    int checked = 0;
    for (int id : graph_.quantizableNodes()) {
        const Node& n = graph_.node(id);
        if (n.op != OpKind::Linear || graph_.sampleShape(n.inputs[0]).size() != 2) continue;  // tokens x features
        const int64_t features = graph_.value(n.inputs[1]).shape.at(1);
        QCOMPARE(int64_t(m.inputEnergy(n.name).size()), features);
        ++checked;
    }
    QVERIFY(checked >= 4);
}

void TestTransformerQuant::biasCorrectionOnTokenLinears() {
    // Linear layers over tokens x features: the bias is per feature (the last dimension).
    QuantizedModel m(graph_, uniform(graph_, 4, 8));
    m.calibrate(*calib_, 8);
    int withBias = 0;
    for (int id : graph_.quantizableNodes()) withBias += graph_.node(id).inputs.size() >= 3;
    QCOMPARE(correctBiases(m, *calib_, 8), withBias);
    c10::InferenceMode guard;
    const std::string key = graph_.paramOf(graph_.node(graph_.quantizableNodes().at(1)), 2);
    QVERIFY(!at::equal(m.floatParam(key), graph_.param(key)));
    QCOMPARE(m.floatParam(key).sizes(), graph_.param(key).sizes());
}

void TestTransformerQuant::sensitivityCoversMatMuls() {
    SensitivityRequest req;
    req.options = BitOption::parseList("w4a8,w8a8,w8a4");
    req.quantizer.batchSize = 8;
    const SensitivityResult r = measureSensitivity(graph_, *calib_, req);
    QCOMPARE(r.layers.size(), graph_.allocationNodes().size());
    SensitivityTable table;
    table.result = r;
    const AllocationProblem p = problemFromTable(table, DegradationMeasure::DeltaLoss);
    int matmuls = 0;
    for (size_t l = 0; l < r.layers.size(); ++l) {
        if (r.layers[l].kind != "matmul") continue;
        ++matmuls;
        QCOMPARE(r.layers[l].params, int64_t(0));
        QVERIFY(r.layers[l].macs > 0);
        const auto& row = r.cells[l];
        // w4a8 and w8a8 are the same for a layer without weights, and both are the base's a8
        QCOMPARE(row[0].deltaLoss, 0.0);
        QCOMPARE(row[1].deltaLoss, 0.0);
        QCOMPARE(row[0].localMse, row[1].localMse);
        QVERIFY(row[2].localMse > row[1].localMse);  // a4 errs more than a8
        QVERIFY(row[2].deltaLoss != 0.0);
        for (size_t o = 0; o < 3; ++o) QCOMPARE(p.size[l][o], 0.0);
        QCOMPARE(p.bops[l][2], double(r.layers[l].macs) * 4 * 4);
        QCOMPARE(p.bops[l][1], double(r.layers[l].macs) * 8 * 8);
    }
    QCOMPARE(matmuls, 4);
}

void TestTransformerQuant::configRoundTripsMatMuls() {
    QuantConfig c = uniform(graph_, 4, 8);
    for (const std::string& n : matmulNames(graph_)) c.layers[n].activationBits = 6;
    QuantizedModel m(graph_, c);
    m.calibrate(*calib_, 8);
    QTemporaryDir dir;
    const std::string path = dir.filePath("vit.json").toStdString();
    ConfigProvenance prov;
    prov.modelPath = kVit;
    writeQuantConfig(path, m, prov);
    const ImportedConfig imported = readQuantConfig(path, graph_);
    for (const std::string& n : matmulNames(graph_)) QCOMPARE(imported.config.layer(n).activationBits, 6);
    const std::unique_ptr<QuantizedModel> restored = restoreQuantizedModel(graph_, imported);
    for (const std::string& n : matmulNames(graph_)) {
        QCOMPARE(restored->activationParams(n, 0), m.activationParams(n, 0));
        QCOMPARE(restored->activationParams(n, 1), m.activationParams(n, 1));
    }
    c10::InferenceMode guard;
    const at::Tensor x = batchOf(*calib_, 4);
    const Executor ex(graph_);
    QVERIFY(at::equal(ex.run(x, m.hooks()).at(0), ex.run(x, restored->hooks()).at(0)));
}

void TestTransformerQuant::onnxHasQdqOnBothMatMulInputs() {
    QuantizedModel m(graph_, uniform(graph_, 8, 8));
    m.calibrate(*calib_, 8);
    QTemporaryDir dir;
    const OnnxExportReport report = exportQuantizedOnnx(m, dir.filePath("vit.onnx").toStdString());
    const int layers = int(graph_.quantizableNodes().size());
    QCOMPARE(report.quantizedLayers, layers);
    QCOMPARE(report.qdqPairs, layers + 2 * 4);  // one per Linear/conv input, two per attention matmul
}

QTEST_GUILESS_MAIN(TestTransformerQuant)
#include "test_transformer_quant.moc"
