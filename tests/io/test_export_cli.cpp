// ptq export and ptq evaluate --config as a user runs them: export -> import gives the same
// top-1; the CSV and TorchScript files are written; bad requests and bad files exit 2.
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include "../ptq_process.h"

namespace {

using ptqtest::Run;
using ptqtest::ptq;

QJsonObject json(const Run& r) { return QJsonDocument::fromJson(r.out.toUtf8()).object(); }

const QString demo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");
const QString other = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt");

}  // namespace

class TestExportCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void exportThenImportGivesTheSameTop1();
    void csvAndTorchScript();
    void quantizeWritesTheMeasuredModel();
    void badInput_data();
    void badInput();

private:
    QTemporaryDir dir_;
};

void TestExportCli::exportThenImportGivesTheSameTop1() {
    const QString config = dir_.filePath("c.json");
    const Run e = ptq({"export", demo, "--calib", "fmnist:train:128", "--w", "4", "--a", "8", "--granularity", "shift",
                       "--pipeline", "light", "--keep-first-last-8bit", "--eval", "fmnist:test:500", "--format", "json",
                       "-o", config, "--json"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    const double exported = json(e)["quant_top1"].toDouble();
    QVERIFY(exported > 80.0);
    const Run i = ptq({"evaluate", demo, "--config", config, "--eval", "fmnist:test:500", "--json"});
    QVERIFY2(i.exitCode == 0, qPrintable(i.err));
    QCOMPARE(json(i)["quant_top1"].toDouble(), exported);
    QCOMPARE(json(i)["recorded_top1"].toDouble(), exported);
    QVERIFY(!json(i)["model_changed"].toBool());
}

// ptq quantize -o writes the model it measured, tuning included: evaluating the file gives the
// same correct count on the same images, and a format is taken from the extension.
void TestExportCli::quantizeWritesTheMeasuredModel() {
    const QString config = dir_.filePath("measured.json"), encodings = dir_.filePath("measured.encodings");
    const Run q = ptq({"quantize", demo, "--calib", "fmnist:train:128", "--eval", "fmnist:test:400", "--w", "4", "--a",
                       "8", "--pipeline", "advanced", "--adaquant-iters", "20", "--bias-iters", "20", "-o", config,
                       "--json"});
    QVERIFY2(q.exitCode == 0, qPrintable(q.err));
    QCOMPARE(json(q)["out_format"].toString(), QString("json"));
    QCOMPARE(json(q)["pipeline"].toString(), QString("advanced"));
    const int correct = json(q)["quant_correct"].toInt();
    QVERIFY(correct > 300);
    const Run e = ptq({"evaluate", demo, "--config", config, "--eval", "fmnist:test:400", "--json"});
    QVERIFY2(e.exitCode == 0, qPrintable(e.err));
    QCOMPARE(json(e)["quant_correct"].toInt(), correct);
    QCOMPARE(json(e)["recorded_top1"].toDouble(), json(q)["quant_top1"].toDouble());
    // The configuration records what ran.
    QFile f(config);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.readAll().contains("\"advanced\""));

    const Run a = ptq({"quantize", demo, "--calib", "fmnist:train:64", "--eval", "fmnist:test:50", "-o", encodings,
                       "--json"});
    QVERIFY2(a.exitCode == 0, qPrintable(a.err));
    QCOMPARE(json(a)["out_format"].toString(), QString("aimet"));
    QVERIFY(QFileInfo(encodings).size() > 1000);
}

void TestExportCli::csvAndTorchScript() {
    const QString csv = dir_.filePath("layers.csv"), ts = dir_.filePath("q.pt");
    Run r = ptq({"export", demo, "--calib", "fmnist:train:64", "--w", "4", "--format", "csv", "-o", csv});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 23);
    QVERIFY(lines[0].startsWith("layer,op,option,w_bits"));
    QVERIFY(lines[1].startsWith("conv1,conv2d,w4a8,4,8,per-channel,1,144,"));
    r = ptq({"export", demo, "--calib", "fmnist:train:64", "--w", "4", "--format", "torchscript", "-o", ts});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY(QFileInfo(ts).size() > 100000);
    // It is still TorchScript this program imports.
    r = ptq({"info", ts, "--input-shape", "1,28,28", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
}

void TestExportCli::badInput_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("phrase");
    const QString out = dir_.filePath("x.json");
    QTest::newRow("format") << QStringList{"export", demo, "--calib", "fmnist:train:8", "--format", "tflite", "-o", out}
                            << "the formats are json, aimet, torchscript, onnx, onnx-fp32, csv and html";
    QTest::newRow("quantize out without format") << QStringList{"quantize", demo, "--calib", "fmnist:train:8", "--eval",
                                                                "fmnist:test:8", "-o", dir_.filePath("x.txt")}
                                                 << "does not say which format";
    QTest::newRow("quantize format without out") << QStringList{"quantize", demo, "--calib", "fmnist:train:8", "--eval",
                                                                "fmnist:test:8", "--format", "csv"}
                                                 << "add -o FILE";
    QTest::newRow("quantize html") << QStringList{"quantize", demo, "--calib", "fmnist:train:8", "--eval",
                                                  "fmnist:test:8", "-o", dir_.filePath("r.html")}
                                   << "ptq export --alloc";
    QTest::newRow("no out") << QStringList{"export", demo, "--calib", "fmnist:train:8", "--format", "json"} << "needs -o OUT";
    QTest::newRow("no calib") << QStringList{"export", demo, "--format", "json", "-o", out} << "needs --calib SRC";
    QTest::newRow("alloc and bits") << QStringList{"export", demo, "--alloc", out, "--w", "4", "--format", "json", "-o", out}
                                    << "drop --w";
    QTest::newRow("missing config") << QStringList{"evaluate", demo, "--config", "/nonexistent.json", "--eval",
                                                   "fmnist:test:10"}
                                    << "Cannot read the configuration";
}

void TestExportCli::badInput() {
    QFETCH(QStringList, args);
    QFETCH(QString, phrase);
    const Run r = ptq(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(phrase), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestExportCli)
#include "test_export_cli.moc"
