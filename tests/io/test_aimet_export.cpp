// AIMET encodings in both documented layouts against golden files (the demo ResNet-20 at W4A8,
// first and last layer 8-bit, calibrated on the first 64 training images), AIMET's offset
// convention, and the refusals. PTQ_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/io/aimet_export.h"
#include "core/model/model_card.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QtTest>

#include <cmath>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";
const QString golden = PTQ_SOURCE_DIR "/tests/io/golden/";

QJsonDocument readJson(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll());
}

/// Same structure, strings, booleans and integers; floats within a relative 1e-5 (activation
/// ranges come from float convolutions).
bool same(const QJsonValue& a, const QJsonValue& b, const QString& where, QString& why) {
    if (a.type() != b.type()) return why = where + ": types differ", false;
    if (a.isObject()) {
        const QJsonObject x = a.toObject(), y = b.toObject();
        if (x.keys() != y.keys()) return why = where + ": keys differ", false;
        for (const QString& k : x.keys())
            if (!same(x[k], y[k], where + "." + k, why)) return false;
        return true;
    }
    if (a.isArray()) {
        const QJsonArray x = a.toArray(), y = b.toArray();
        if (x.size() != y.size()) return why = where + ": lengths differ", false;
        for (int i = 0; i < x.size(); ++i)
            if (!same(x[i], y[i], where + "[" + QString::number(i) + "]", why)) return false;
        return true;
    }
    if (a.isDouble()) {
        const double x = a.toDouble(), y = b.toDouble();
        if (std::abs(x - y) <= 1e-5 * std::max(std::abs(x), std::abs(y)) + 1e-12) return true;
        return why = where + QString(": %1 vs %2").arg(x, 0, 'g', 17).arg(y, 0, 'g', 17), false;
    }
    if (a != b) return why = where + ": values differ", false;
    return true;
}
}  // namespace

class TestAimetExport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void matchesGolden_data();
    void matchesGolden();
    void offsetConvention();
    void refusals();

private:
    std::unique_ptr<Graph> graph_;
    std::unique_ptr<QuantizedModel> model_;
    QTemporaryDir dir_;
};

void TestAimetExport::initTestCase() {
    initRuntime();
    graph_ = std::make_unique<Graph>(importTorchScript(demo, {1, 28, 28}));
    foldBatchNorms(*graph_);
    const auto calib = openDataSource("fmnist:train:64", Normalization::fromModelCard(*loadModelCard(demo)), {1, 28, 28});
    model_ = std::make_unique<QuantizedModel>(*graph_, QuantConfig::uniform(*graph_, 4, 8, Granularity::PerChannel, true));
    model_->calibrate(*calib, 64);
}

void TestAimetExport::matchesGolden_data() {
    QTest::addColumn<QString>("version");
    QTest::newRow("0.6.1") << "0.6.1";
    QTest::newRow("1.0.0") << "1.0.0";
}

void TestAimetExport::matchesGolden() {
    QFETCH(QString, version);
    const QString out = dir_.filePath("enc_" + version + ".json");
    writeAimetEncodings(out.toStdString(), *model_, aimetVersionFromString(version.toStdString()));
    const QString expected = golden + "aimet_" + version + "_resnet20_w4a8.json";
    if (qEnvironmentVariableIsSet("PTQ_UPDATE_GOLDEN")) {
        QFile::remove(expected);
        QFile f(expected);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(readJson(out).toJson(QJsonDocument::Compact));
        QSKIP("golden file rewritten");
    }
    const QJsonDocument want = readJson(expected);
    QVERIFY2(!want.isNull(), qPrintable("missing golden file " + expected));
    QString why;
    QVERIFY2(same(readJson(out).object(), want.object(), "", why), qPrintable(why));
}

void TestAimetExport::offsetConvention() {
    const QString out = dir_.filePath("conv.json");
    writeAimetEncodings(out.toStdString(), *model_, AimetVersion::V1_0_0);
    const QJsonObject root = readJson(out).object();
    QCOMPARE(root["version"].toString(), QString("1.0.0"));
    const QJsonArray params = root["param_encodings"].toArray();
    QCOMPARE(params.size(), 22);
    for (const QJsonValue& v : params) {
        const QJsonObject e = v.toObject();
        const int bw = e["bw"].toInt();
        QVERIFY(e["is_sym"].toBool());
        QCOMPARE(e["enc_type"].toString(), QString("PER_CHANNEL"));
        for (const QJsonValue& o : e["offset"].toArray()) QCOMPARE(o.toDouble(), -double(1 << (bw - 1)));
    }
    // Named by the TorchScript parameter: the first conv's weight, not the folded copy.
    QCOMPARE(params[0].toObject()["name"].toString(), QString("conv1.weight"));
    QCOMPARE(params[0].toObject()["bw"].toInt(), 8);
    QCOMPARE(params[1].toObject()["bw"].toInt(), 4);
    // Activations: min = scale * offset <= 0 (the range holds zero), one entry per tensor.
    const QJsonArray acts = root["activation_encodings"].toArray();
    QVERIFY(acts.size() < 22);  // a block's conv and its shortcut read one tensor
    QCOMPARE(acts[0].toObject()["name"].toString(), QString("input"));
    for (const QJsonValue& v : acts) {
        const QJsonObject e = v.toObject();
        QVERIFY(!e["is_sym"].toBool());
        const double offset = e["offset"].toArray()[0].toDouble();
        QVERIFY(offset <= 0 && offset >= -255);
    }
}

void TestAimetExport::refusals() {
    const auto calib = openDataSource("fmnist:train:16", Normalization::fashionMnist(), {1, 28, 28});
    auto refused = [&](QuantConfig c, const QString& phrase) {
        QuantizedModel m(*graph_, c);
        m.calibrate(*calib);
        try {
            writeAimetEncodings(dir_.filePath("x.json").toStdString(), m, AimetVersion::V1_0_0);
        } catch (const Error& e) {
            return e.kind() == Error::Kind::InvalidInput && QString(e.what()).contains(phrase);
        }
        return false;
    };
    QuantConfig multipoint = QuantConfig::uniform(*graph_, 4, 8, Granularity::PerChannel, false);
    multipoint.layers["layer1.0.conv1"].weightPoints = 2;
    QVERIFY(refused(multipoint, "multipoint weights, which AIMET encodings cannot express"));
    // layer2.0.conv1 and its shortcut read the same tensor.
    QuantConfig shared = QuantConfig::uniform(*graph_, 8, 8, Granularity::PerChannel, false);
    shared.layers["layer2.0.conv1"].activationBits = 4;
    QVERIFY(refused(shared, "read the same tensor"));
    QVERIFY(!QFile::exists(dir_.filePath("x.json")));
    QVERIFY_THROWS_EXCEPTION(Error, aimetVersionFromString("2.0"));
}

QTEST_GUILESS_MAIN(TestAimetExport)
#include "test_aimet_export.moc"
