// The ptq-config file: export -> import runs the same model exactly (mixed bits, shift,
// multipoint, tuned biases), and every kind of bad file is refused naming its JSON path.
#include "core/analysis/evaluate.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/io/quant_config_file.h"
#include "core/methods/bn_tuning.h"
#include "core/model/model_card.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <ATen/ATen.h>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

#include <functional>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

Graph demoGraph() {
    Graph g = importTorchScript(demo, {1, 28, 28});
    foldBatchNorms(g);
    return g;
}
}  // namespace

class TestQuantConfigFile : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void roundTripRunsTheSameModel();
    void changedModelIsNoticed();
    void badFiles_data();
    void badFiles();

private:
    QTemporaryDir dir_;
    QString good_;
};

void TestQuantConfigFile::initTestCase() {
    initRuntime();
    good_ = dir_.filePath("good.json");
}

void TestQuantConfigFile::roundTripRunsTheSameModel() {
    const Graph g = demoGraph();
    const Normalization norm = Normalization::fromModelCard(*loadModelCard(demo));
    const auto calib = openDataSource("fmnist:train:128", norm, {1, 28, 28});
    const auto eval = openDataSource("fmnist:test:1000", norm, {1, 28, 28});
    // Every kind of layer setting the file has to carry.
    QuantConfig c = QuantConfig::uniform(g, 4, 8, Granularity::PerChannel, true);
    c.layers["layer1.0.conv1"] = {4, 8, Granularity::Shift, 1};
    c.layers["layer1.0.conv2"] = {4, 8, Granularity::PerChannel, 2};
    c.layers["layer2.0.conv1"] = {3, 6, Granularity::PerTensor, 3};
    c.layers["layer2.1.conv2"] = {16, 32, Granularity::PerChannel, 1};
    c.layers["layer3.0.conv1"] = {32, 8, Granularity::PerChannel, 1};
    QuantizedModel m(g, c);
    m.calibrate(*calib);
    QVERIFY(correctBiases(m, *calib) > 0);  // tuned biases must travel too
    const Executor ex(g);
    const EvalResult before = evaluate(ex, *eval, m.hooks());

    ConfigProvenance prov;
    prov.modelPath = demo;
    prov.pipeline = "bias-correction";
    prov.calibration = "fmnist:train:128";
    prov.evaluation = "fmnist:test:1000";
    prov.quantTop1 = before.top1();
    writeQuantConfig(good_.toStdString(), m, prov);

    const ImportedConfig imported = readQuantConfig(good_.toStdString(), g);
    QCOMPARE(imported.config.layers.size(), c.layers.size());
    for (const auto& [name, layer] : c.layers) QVERIFY2(imported.config.layers.at(name) == layer, name.c_str());
    QCOMPARE(*imported.provenance.quantTop1, before.top1());
    QVERIFY(modelMismatch(imported, demo).empty());
    const auto restored = restoreQuantizedModel(g, imported);
    for (int id : g.quantizableNodes()) {
        const std::string& name = g.node(id).name;
        QVERIFY2(at::allclose(restored->runWeight(name), m.runWeight(name), 0, 1e-6), name.c_str());
    }
    const EvalResult after = evaluate(ex, *eval, restored->hooks());
    QCOMPARE(after.correct, before.correct);
    QVERIFY(std::abs(after.crossEntropy - before.crossEntropy) < 1e-5);
    // The shift layer's terms carry its shifts.
    QFile f(good_);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonArray layers = QJsonDocument::fromJson(f.readAll()).object()["layers"].toArray();
    bool sawShift = false, sawMultipoint = false;
    for (const QJsonValue& v : layers) {
        const QJsonObject l = v.toObject();
        if (l["granularity"].toString() == "shift")
            sawShift = l["weight"].toObject()["terms"].toArray()[0].toObject()["shift"].toArray().size() == 16;
        if (l["points"].toInt() == 2)
            sawMultipoint = l["weight"].toObject()["terms"].toArray().size() == 4 &&
                            l["weight"].toObject()["points_per_channel"].toArray().size() == 16;
    }
    QVERIFY(sawShift);
    QVERIFY(sawMultipoint);
}

void TestQuantConfigFile::changedModelIsNoticed() {
    const Graph g = demoGraph();
    const ImportedConfig imported = readQuantConfig(good_.toStdString(), g);
    const QString copy = dir_.filePath("changed.pt");
    QFile::copy(QString::fromStdString(demo), copy);
    QFile f(copy);
    QVERIFY(f.open(QIODevice::Append));
    f.write("x");
    f.close();
    QVERIFY(QString::fromStdString(modelMismatch(imported, copy.toStdString())).contains("the model changed"));
}

void TestQuantConfigFile::badFiles_data() {
    QTest::addColumn<QString>("edit");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("not json") << "text:{ not json" << "is not valid JSON";
    QTest::newRow("format") << "format=other" << "format is not \"ptq-config\"";
    QTest::newRow("version") << "version=2" << "version is 2; this PTQ Studio reads version 1";
    QTest::newRow("unknown layer") << "layer0.name=nosuch" << "layers[0].name is 'nosuch', which is not a conv";
    QTest::newRow("bits 9") << "layer3.w_bits=9" << "layers[3].w_bits is 9";
    QTest::newRow("activation bits 1") << "layer3.a_bits=1" << "layers[3].a_bits is 1";
    QTest::newRow("points 5") << "layer3.points=5" << "layers[3].points is 5";
    QTest::newRow("granularity") << "layer3.granularity=per-row" << "layers[3].granularity is not";
    QTest::newRow("missing layer") << "drop-last-layer" << "misses the model's layer 'fc'";
    QTest::newRow("short scales") << "layer3.short-scale" << "layers[3].weight.terms[0].scale has 15 entries where 16";
    QTest::newRow("bad payload") << "layer3.int=AAAA" << "layers[3].weight.terms[0].int holds 3 bytes";
}

void TestQuantConfigFile::badFiles() {
    QFETCH(QString, edit);
    QFETCH(QString, phrase);
    QFile f(good_);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QByteArray bytes = f.readAll();
    QJsonObject root = QJsonDocument::fromJson(bytes).object();
    QJsonArray layers = root["layers"].toArray();
    auto editLayer = [&](int i, const std::function<void(QJsonObject&)>& change) {
        QJsonObject l = layers[i].toObject();
        change(l);
        layers[i] = l;
    };
    if (edit.startsWith("text:")) {
        bytes = edit.mid(5).toUtf8();
    } else {
        if (edit == "format=other") root["format"] = "other";
        if (edit == "version=2") root["version"] = 2;
        if (edit == "layer0.name=nosuch") editLayer(0, [](QJsonObject& l) { l["name"] = "nosuch"; });
        if (edit == "layer3.w_bits=9") editLayer(3, [](QJsonObject& l) { l["w_bits"] = 9; });
        if (edit == "layer3.a_bits=1") editLayer(3, [](QJsonObject& l) { l["a_bits"] = 1; });
        if (edit == "layer3.points=5") editLayer(3, [](QJsonObject& l) { l["points"] = 5; });
        if (edit == "layer3.granularity=per-row") editLayer(3, [](QJsonObject& l) { l["granularity"] = "per-row"; });
        if (edit == "drop-last-layer") layers.removeLast();
        auto editTerm = [&](const std::function<void(QJsonObject&)>& change) {
            editLayer(3, [&](QJsonObject& l) {
                QJsonObject w = l["weight"].toObject();
                QJsonArray terms = w["terms"].toArray();
                QJsonObject t = terms[0].toObject();
                change(t);
                terms[0] = t;
                w["terms"] = terms;
                l["weight"] = w;
            });
        };
        if (edit == "layer3.short-scale") editTerm([](QJsonObject& t) {
            QJsonArray s = t["scale"].toArray();
            s.removeLast();
            t["scale"] = s;
        });
        if (edit == "layer3.int=AAAA") editTerm([](QJsonObject& t) { t["int"] = "AAAA"; });
        root["layers"] = layers;
        bytes = QJsonDocument(root).toJson();
    }
    const QString bad = dir_.filePath("bad.json");
    QFile out(bad);
    QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
    out.write(bytes);
    out.close();
    const Graph g = demoGraph();
    try {
        readQuantConfig(bad.toStdString(), g);
        QFAIL("no error");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains(phrase), e.what());
        QVERIFY2(QString(e.what()).contains("bad.json"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestQuantConfigFile)
#include "test_quant_config_file.moc"
