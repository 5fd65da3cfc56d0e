// `ptq quantize/export --equalize-ranges` as a user runs it: the report, the FP32 figures of the
// user's own model, an exported configuration that scores the same, and the refusals.
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include "../ptq_process.h"

namespace {

using ptqtest::Run;
using ptqtest::ptq;

const QString mobilenet = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt");
const QString resnet = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");
const QString vit = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/vit_fmnist.pt");
const QStringList bits{"--w", "8", "--a", "4", "--keep-first-last-8bit"};

QStringList quantize(const QString& model) {
    return QStringList{"quantize", model, "--calib", "fmnist:train:128", "--eval", "fmnist:test:400"} + bits;
}

}  // namespace

class TestRangeEqualizationCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void reportsTheGroupsAndKeepsTheFp32Model();
    void exportedConfigurationScoresTheSame();
    void modelWithoutGroupsSaysSo();
    void refusals_data();
    void refusals();
};

void TestRangeEqualizationCli::reportsTheGroupsAndKeepsTheFp32Model() {
    const Run plain = ptq(quantize(mobilenet) + QStringList{"--json"});
    QVERIFY2(plain.exitCode == 0, qPrintable(plain.err));
    const Run free = ptq(quantize(mobilenet) + QStringList{"--equalize-ranges", "--json"});
    QVERIFY2(free.exitCode == 0, qPrintable(free.err));
    // By default the depthwise inputs alone: the 10 expand -> ReLU6 -> depthwise pairs.
    const QJsonObject f = free.json()["equalization"].toObject();
    QVERIFY(!f["dense_readers"].toBool());
    QCOMPARE(f["groups"].toArray().size(), 10);
    for (const QJsonValue& v : f["groups"].toArray()) {
        QVERIFY(v.toObject()["dense"].toArray().isEmpty());
        QCOMPARE(v.toObject()["depthwise"].toArray().size(), 1);
    }

    const Run r = ptq(quantize(mobilenet) + QStringList{"--equalize-ranges", "--equalize-dense", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = r.json(), p = plain.json();
    QVERIFY(o["equalize_ranges"].toBool());
    QVERIFY(!p["equalize_ranges"].toBool());
    QVERIFY(!p.contains("equalization"));
    const QJsonObject e = o["equalization"].toObject();
    QVERIFY(e["dense_readers"].toBool());
    const QJsonArray groups = e["groups"].toArray();
    QCOMPARE(groups.size(), 15);
    QCOMPARE(e["samples"].toInt(), 128);
    int depthwise = 0, residual = 0;
    for (const QJsonValue& v : groups) {
        const QJsonObject group = v.toObject();
        QVERIFY(!group["producers"].toArray().isEmpty());
        QVERIFY(!group["depthwise"].toArray().isEmpty() || !group["dense"].toArray().isEmpty());
        for (const QJsonValue& d : group["depthwise"].toArray()) QVERIFY(d.toString().contains("conv."));
        depthwise += int(group["depthwise"].toArray().size());
        residual += group["residual_adds"].toInt() > 0 ? 1 : 0;
        QVERIFY(group["largest_scale"].toDouble() >= 1.0);
        QVERIFY(group["median_range_after"].toDouble() > group["median_range_before"].toDouble());
    }
    QCOMPARE(depthwise, 11);
    QCOMPARE(residual, 5);
    QVERIFY(e["scaled_channels"].toInt() > 0);
    // The FP32 figure is the user's model's, with or without the rescale.
    QCOMPARE(o["fp32_top1"].toDouble(), p["fp32_top1"].toDouble());
    QCOMPARE(o["fp32_cross_entropy"].toDouble(), p["fp32_cross_entropy"].toDouble());
    QVERIFY(o["quant_top1"].toDouble() != p["quant_top1"].toDouble() ||
            o["quant_cross_entropy"].toDouble() != p["quant_cross_entropy"].toDouble());

    const Run text = ptq(quantize(mobilenet) + QStringList{"--equalize-ranges", "--equalize-dense"});
    QVERIFY2(text.exitCode == 0, qPrintable(text.err));
    QVERIFY2(text.out.contains(QRegularExpression("Range equalization: 15 groups \\(5 through residual adds\\) before 11 depthwise and 11 dense "
                                                      "layers, \\d+ of 2920 channels")),
             qPrintable(text.out));
}

void TestRangeEqualizationCli::exportedConfigurationScoresTheSame() {
    QTemporaryDir dir;
    const QString config = dir.filePath("eq.json");
    const Run exported = ptq({"export", mobilenet, "--calib", "fmnist:train:128", "--eval", "fmnist:test:400", "--w", "8",
                              "--a", "4", "--keep-first-last-8bit", "--equalize-ranges", "--format", "json", "-o", config,
                              "--json"});
    QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
    QVERIFY2(exported.json()["pipeline"].toString().startsWith("range equalization"), qPrintable(exported.out));
    // Read back onto the user's model file, the configuration is the rescaled model exactly.
    const Run back = ptq({"evaluate", mobilenet, "--config", config, "--eval", "fmnist:test:400", "--json"});
    QVERIFY2(back.exitCode == 0, qPrintable(back.err));
    QCOMPARE(back.json()["quant_top1"].toDouble(), exported.json()["quant_top1"].toDouble());
    QCOMPARE(back.json()["recorded_top1"].toDouble(), exported.json()["quant_top1"].toDouble());
    QCOMPARE(back.json()["fp32_top1"].toDouble(), exported.json()["fp32_top1"].toDouble());
}

void TestRangeEqualizationCli::modelWithoutGroupsSaysSo() {
    // ResNet-20 has no depthwise layer: by default nothing, and the note names the option that
    // rescales its residual streams.
    const Run plain = ptq(quantize(resnet) + QStringList{"--equalize-ranges", "--json"});
    QVERIFY2(plain.exitCode == 0, qPrintable(plain.err));
    QCOMPARE(plain.json()["equalization"].toObject()["groups"].toArray().size(), 0);
    const QJsonArray plainNotes = plain.json()["notes"].toArray();
    QVERIFY2(!plainNotes.isEmpty() && plainNotes[0].toString().contains("found no depthwise input it can rescale for free") &&
                 plainNotes[0].toString().contains("--equalize-dense"),
             qPrintable(plain.out));
    const Run streams = ptq(quantize(resnet) + QStringList{"--equalize-ranges", "--equalize-dense", "--json"});
    QVERIFY2(streams.exitCode == 0, qPrintable(streams.err));
    QCOMPARE(streams.json()["equalization"].toObject()["groups"].toArray().size(), 2);
    // The ViT's residual adds are of token sequences, not of conv feature maps.
    const Run r = ptq(quantize(vit) + QStringList{"--equalize-ranges", "--equalize-dense", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = r.json();
    QCOMPARE(o["equalization"].toObject()["groups"].toArray().size(), 0);
    const QJsonArray notes = o["notes"].toArray();
    QVERIFY2(!notes.isEmpty() && notes[0].toString().contains("found no depthwise input or residual stream"),
             qPrintable(r.out));
}

void TestRangeEqualizationCli::refusals_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("per-tensor weights") << (quantize(mobilenet) + QStringList{"--equalize-ranges", "--granularity", "per-tensor"})
                                        << "free only with weights quantized per channel";
    QTest::newRow("AIMET encodings") << QStringList{"export", mobilenet, "--calib", "fmnist:train:64", "--w", "8", "--a", "4",
                                                    "--equalize-ranges", "--format", "aimet", "-o", "/tmp/never.encodings"}
                                     << "AIMET encodings describe the tensors of the original model";
    QTest::newRow("dense readers alone") << (quantize(mobilenet) + QStringList{"--equalize-dense"})
                                         << "add --equalize-ranges";
}

void TestRangeEqualizationCli::refusals() {
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Run r = ptq(args);
    QVERIFY(!r.crashed);
    QVERIFY(r.exitCode != 0);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestRangeEqualizationCli)
#include "test_range_equalization_cli.moc"
