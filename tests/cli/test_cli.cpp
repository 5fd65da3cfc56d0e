// Runs the real `ptq` executable: exit codes, stderr sentences, JSON output.
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include "../ptq_process.h"

namespace {

using ptqtest::Run;
using ptqtest::ptq;

const QString demo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");
QString bad(const QString& name) { return QStringLiteral(PTQ_FIXTURE_DIR "/bad/") + name; }

}  // namespace

class TestCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void versionAndHelp();
    void usageErrors_data();
    void usageErrors();
    void infoJsonListsEveryConvAndLinear();
    void infoText();
    void badModelFiles_data();
    void badModelFiles();
};

void TestCli::versionAndHelp() {
    Run v = ptq({"--version"});
    QCOMPARE(v.exitCode, 0);
    QVERIFY2(v.out.startsWith("ptq " PTQ_VERSION), qPrintable(v.out));
    Run h = ptq({"--help"});
    QCOMPARE(h.exitCode, 0);
    QVERIFY(h.out.contains("info MODEL"));
    QVERIFY(h.out.contains("Exit codes"));
}

void TestCli::usageErrors_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("no command") << QStringList{} << "Usage: ptq";
    QTest::newRow("unknown command") << QStringList{"quantise"} << "unknown command 'quantise'";
    QTest::newRow("unknown option") << QStringList{"info", demo, "--colour"} << "Unknown option --colour";
    QTest::newRow("no model") << QStringList{"info"} << "takes one model file";
    QTest::newRow("bad shape") << QStringList{"info", demo, "--input-shape", "1,x,28"} << "whole numbers";
    QTest::newRow("shape rank") << QStringList{"info", demo, "--input-shape", "28,28"} << "channels,height,width";
    const QStringList q{"quantize", demo, "--calib", "fmnist:train:20", "--eval", "fmnist:test:20"};
    QTest::newRow("quantize without data") << QStringList{"quantize", demo} << "needs --calib SRC (or --data-free) and --eval SRC";
    QTest::newRow("quantize bits 9") << q + QStringList{"--w", "9"} << "allowed bit-widths";
    QTest::newRow("quantize bits 1") << q + QStringList{"--a", "1"} << "allowed bit-widths";
    QTest::newRow("quantize empty calibration") << QStringList{"quantize", demo, "--calib", "fmnist:train:0", "--eval",
                                                               "fmnist:test:20"} << "asks for 0 samples";
    QTest::newRow("quantize bad source") << QStringList{"quantize", demo, "--calib", "fmnist:valid", "--eval",
                                                        "fmnist:test:20"} << "fmnist:valid";
    QTest::newRow("quantize unknown pipeline") << q + QStringList{"--pipeline", "heavy"} << "Unknown pipeline";
    QTest::newRow("quantize bad granularity") << q + QStringList{"--granularity", "per-row"} << "per-row";
    // The model imported for 32x32 inputs; Fashion-MNIST is 28x28.
    QTest::newRow("quantize calibration shape") << q + QStringList{"--input-shape", "1,32,32"}
                                                << "gives samples of shape 1x28x28 but the model expects 1x32x32";
    static QTemporaryDir emptyDir;  // a calibration folder without a single image
    QTest::newRow("quantize empty calibration folder")
        << QStringList{"quantize", demo, "--calib", "folder:" + emptyDir.path(), "--eval", "fmnist:test:20"}
        << "is empty";
    QTest::newRow("bench quant bits") << QStringList{"bench", "quant", demo, "--w", "17"} << "allowed bit-widths";
    QTest::newRow("bench unknown") << QStringList{"bench", "speed"} << "adaquant, forward, gui, import, ip, quant";
}

void TestCli::usageErrors() {
    QFETCH(QStringList, args);
    QFETCH(QString, phrase);
    const Run r = ptq(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(phrase), qPrintable(r.err));
}

void TestCli::infoJsonListsEveryConvAndLinear() {
    if (!QFileInfo::exists(demo)) QSKIP("demo model missing");
    const Run r = ptq({"info", demo, "--json"});
    QCOMPARE(r.exitCode, 0);
    QJsonParseError err;
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8(), &err).object();
    QCOMPARE(err.error, QJsonParseError::NoError);
    QStringList mine;
    qint64 macs = 0;
    for (const auto v : o["layers"].toArray()) {
        mine << v.toObject()["name"].toString();
        QVERIFY(v.toObject()["macs"].toInteger() > 0);
        macs += v.toObject()["macs"].toInteger();
    }
    QCOMPARE(o["total_macs"].toInteger(), macs);

    // PyTorch's own view of the same file: every Conv2d and Linear submodule.
    QProcess py;
    py.start("/usr/bin/python3", {"-c",
        "import sys, torch\n"
        "m = torch.jit.load(sys.argv[1])\n"
        "for name, sub in m.named_modules():\n"
        "    if sub.original_name in ('Conv2d', 'Linear'): print(name)\n", demo});
    QVERIFY(py.waitForFinished(120000));
    QCOMPARE(py.exitCode(), 0);
    QStringList theirs = QString::fromUtf8(py.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
    mine.sort();
    theirs.sort();
    QCOMPARE(mine, theirs);
    QCOMPARE(o["input_shape"].toArray(), QJsonArray({1, 28, 28}));
}

void TestCli::infoText() {
    if (!QFileInfo::exists(demo)) QSKIP("demo model missing");
    const Run r = ptq({"info", demo});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(r.out.contains("layer1.0.conv1"));
    QVERIFY(r.out.contains("MACs"));
}

void TestCli::badModelFiles_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("missing") << bad("missing.pt") << "No model file";
    QTest::newRow("empty") << bad("bad_empty.pt") << "is empty";
    QTest::newRow("random bytes") << bad("bad_random.pt") << "not a TorchScript file";
    QTest::newRow("truncated 10%") << bad("bad_truncated_10.pt") << "truncated or damaged";
    QTest::newRow("truncated 50%") << bad("bad_truncated_50.pt") << "truncated or damaged";
    QTest::newRow("truncated 90%") << bad("bad_truncated_90.pt") << "truncated or damaged";
    QTest::newRow("state_dict") << bad("bad_state_dict.pt") << "state_dict";
    QTest::newRow("unknown op") << bad("bad_unknown_op.pt") << "aten::cumsum";
    QTest::newRow("two inputs") << bad("bad_two_inputs.pt") << "2 inputs";
}

void TestCli::badModelFiles() {
    QFETCH(QString, file);
    QFETCH(QString, phrase);
    for (const QStringList extra : {QStringList{}, QStringList{"--json"}}) {
        const Run r = ptq(QStringList{"info", file} + extra);
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(phrase), qPrintable(r.err));
        QCOMPARE(r.err.trimmed().count('\n'), 0);  // one sentence, one line
        QVERIFY2(r.out.isEmpty(), qPrintable(r.out));
    }
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
