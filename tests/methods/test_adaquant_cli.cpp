// `ptq quantize --pipeline advanced` as a user runs it: JSON figures, the layer CSV, bad options.
#include <QtCore/QFile>
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
const QStringList quick{"quantize", demo, "--calib", "fmnist:train:64", "--eval", "fmnist:test:300", "--w", "4",
                        "--a", "8", "--keep-first-last-8bit"};

}  // namespace

class TestAdaQuantCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void advancedPipelineReportsEveryStep();
    void sequentialTextOutput();
    void blocksInTheAdvancedPipeline();
    void badOptions_data();
    void badOptions();
};

void TestAdaQuantCli::advancedPipelineReportsEveryStep() {
    QTemporaryDir dir;
    const QString csv = dir.filePath("layers.csv");
    const Run r = ptq(quick + QStringList{"--pipeline", "advanced", "--adaquant-iters", "4", "--bias-iters", "3",
                                          "--layer-csv", csv, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(o["pipeline"].toString(), QString("advanced"));
    QVERIFY2(o["quant_top1"].toDouble() > 80.0, qPrintable(r.out));  // W4A8 on the demo stays near FP32
    const QJsonObject ada = o["adaquant"].toObject();
    QCOMPARE(ada["layers"].toArray().size(), 22);
    QCOMPARE(ada["iterations"].toInt(), 4);
    QCOMPARE(o["bn_tuned"].toInt(), 21);
    QCOMPARE(o["bias_tuning"].toObject()["biases"].toInt(), 22);
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 23);
    QVERIFY(lines[0].startsWith("model,layer,w_bits,a_bits"));
    QVERIFY(lines[1].contains(",parallel,64,4,"));
}

void TestAdaQuantCli::sequentialTextOutput() {
    const Run r = ptq(quick + QStringList{"--adaquant", "--sequential", "--adaquant-iters", "2", "--eval-each-step"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.out.contains("AdaQuant (sequential) on 64 samples"), qPrintable(r.out));
    QVERIFY(r.out.contains("top-1 after adaquant"));
    QVERIFY(r.out.contains(QRegularExpression("quantized top-1 +\\d+\\.\\d\\d %")));
}

void TestAdaQuantCli::blocksInTheAdvancedPipeline() {
    const Run r = ptq(quick + QStringList{"--pipeline", "advanced", "--adaquant-blocks", "--block-iters", "3",
                                          "--bias-iters", "2", "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(o["pipeline"].toString(), QString("advanced-blocks"));
    const QJsonObject ada = o["adaquant"].toObject();
    QCOMPARE(ada["flavour"].toString(), QString("blocks"));
    QCOMPARE(ada["layers"].toArray().size(), 22);
    const QJsonArray blocks = ada["blocks"].toArray();
    QCOMPARE(blocks.size(), 10);  // the stem with the first residual block, 8 more, the classifier
    int layers = 0;
    for (const QJsonValue& b : blocks) {
        layers += b.toObject()["layers"].toArray().size();
        QVERIFY(b.toObject()["mse_after"].toDouble() <= b.toObject()["mse_before"].toDouble());
        QCOMPARE(b.toObject()["iterations"].toInt(), 3);
    }
    QCOMPARE(layers, 22);
    QVERIFY2(o["quant_top1"].toDouble() > 80.0, qPrintable(r.out));
    // Text output: one line for the blocks.
    const Run t = ptq(quick + QStringList{"--adaquant-blocks", "--block-iters", "2"});
    QVERIFY2(t.exitCode == 0, qPrintable(t.err));
    QVERIFY2(t.out.contains("block reconstruction on 64 samples, 2 iterations x batch 64 a block: 10 blocks (22 layers)"),
             qPrintable(t.out));
}

void TestAdaQuantCli::badOptions_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("iterations 0") << QStringList{"--pipeline", "advanced", "--adaquant-iters", "0"}
                                  << "at least 1 iteration";
    QTest::newRow("lr 0") << QStringList{"--pipeline", "advanced", "--adaquant-lr-w", "0"} << "positive number";
    QTest::newRow("lr negative") << QStringList{"--adaquant", "--adaquant-lr-a", "-0.1"} << "positive number";
    QTest::newRow("lr not a number") << QStringList{"--adaquant", "--adaquant-lr-b", "fast"} << "takes a number";
    QTest::newRow("bias lr") << QStringList{"--pipeline", "advanced", "--bias-lr", "0"} << "learning rate";
    QTest::newRow("csv without adaquant") << QStringList{"--layer-csv", "x.csv"} << "--layer-csv";
    QTest::newRow("unknown pipeline") << QStringList{"--pipeline", "heavy"} << "advanced";
    QTest::newRow("blocks and sequential") << QStringList{"--adaquant-blocks", "--sequential"} << "give one of them";
    QTest::newRow("blocks and adaquant") << QStringList{"--adaquant-blocks", "--adaquant"} << "give one of them";
    QTest::newRow("block iters without blocks") << QStringList{"--pipeline", "advanced", "--block-iters", "5"}
                                                << "add --adaquant-blocks";
    QTest::newRow("block iters 0") << QStringList{"--adaquant-blocks", "--block-iters", "0"} << "at least 1 iteration";
    QTest::newRow("block layers 0") << QStringList{"--adaquant-blocks", "--block-layers", "0"} << "at least 1 layer";
}

void TestAdaQuantCli::badOptions() {
    QFETCH(QStringList, args);
    QFETCH(QString, phrase);
    const Run r = ptq(quick + args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(phrase), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestAdaQuantCli)
#include "test_adaquant_cli.moc"
