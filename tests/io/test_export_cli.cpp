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
    QTest::newRow("format") << QStringList{"export", demo, "--calib", "fmnist:train:8", "--format", "onnx", "-o", out}
                            << "--format json, aimet, torchscript, csv or html";
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
