// `ptq distill` and `ptq quantize --data-free` as a user runs them; the file they write is read
// by real PyTorch (torch.load), and a file PyTorch wrote is read back as tensor: data.
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QtTest>

#include "../ptq_process.h"

namespace {

using ptqtest::Run;
using ptqtest::ptq;
using ptqtest::run;

const QString demo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");

}  // namespace

class TestDistillCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void distilWriteReadQuantize();
    void dataFreeQuantize();
    void pytorchFileAsTensorSource();
    void badInput_data();
    void badInput();

private:
    QTemporaryDir dir_;
};

void TestDistillCli::distilWriteReadQuantize() {
    const QString out = dir_.filePath("d.pt"), png = dir_.filePath("grid.png");
    const Run r = ptq({"distill", demo, "--count", "4", "--iters", "15", "--out", out, "--png", png, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(o["batch_norms"].toInt(), 21);
    QVERIFY(o["final_loss"].toDouble() < o["first_loss"].toDouble());
    const QImage grid(png);
    QVERIFY(!grid.isNull());
    QVERIFY(grid.width() >= 2 * 28 && grid.height() >= 2 * 28);
    // Real PyTorch reads it.
    const Run py = run(QStringLiteral(PTQ_PYTHON),
                       {"-c", "import torch,sys; d=torch.load(sys.argv[1]); print(tuple(d['images'].shape), "
                              "d['images'].dtype, len(d['loss']))",
                        out});
    QVERIFY2(py.exitCode == 0, qPrintable(py.err));
    QCOMPARE(py.out.trimmed(), QString("(4, 1, 28, 28) torch.float32 15"));
    // And it calibrates a quantized model.
    const Run q = ptq({"quantize", demo, "--calib", "distilled:" + out, "--eval", "fmnist:test:200", "--w", "8", "--a",
                       "8", "--json"});
    QVERIFY2(q.exitCode == 0, qPrintable(q.err));
    const QJsonObject qo = QJsonDocument::fromJson(q.out.toUtf8()).object();
    QCOMPARE(qo["calib_samples"].toInt(), 4);
    QVERIFY2(qo["quant_top1"].toDouble() > 80.0, qPrintable(q.out));
}

void TestDistillCli::dataFreeQuantize() {
    const Run q = ptq({"quantize", demo, "--data-free", "--distill-count", "4", "--distill-iters", "10",
                       "--distill-label-weight", "0.5", "--eval", "fmnist:test:200", "--w", "8", "--a", "8", "--json"});
    QVERIFY2(q.exitCode == 0, qPrintable(q.err));
    const QJsonObject o = QJsonDocument::fromJson(q.out.toUtf8()).object();
    QVERIFY(o["data_free"].toBool());
    QCOMPARE(o["calib_samples"].toInt(), 4);
    QCOMPARE(o["distill_count"].toInt(), 4);
    QVERIFY(o["distill_seconds"].toDouble() > 0);
    // The whole ZeroQ pipeline in one command: distil, KL sensitivity, integer program.
    const Run m = ptq({"quantize", demo, "--data-free", "--distill-count", "4", "--distill-iters", "10",
                       "--max-size-ratio", "0.2", "--options", "w2a8,w4a8,w8a8", "--eval", "fmnist:test:200", "--json"});
    QVERIFY2(m.exitCode == 0, qPrintable(m.err));
    const QJsonObject mo = QJsonDocument::fromJson(m.out.toUtf8()).object();
    QVERIFY(mo["size_ratio"].toDouble() <= 0.2 + 1e-9);
    QVERIFY(mo["size_ratio"].toDouble() > 0.05);
    QCOMPARE(mo["allocation"].toObject().size(), 22);
    QVERIFY(mo["sensitivity_seconds"].toDouble() > 0);
}

void TestDistillCli::pytorchFileAsTensorSource() {
    const QString file = dir_.filePath("real.pt");
    const Run py = run(QStringLiteral(PTQ_PYTHON),
                       {"-c", "import torch,sys; g=torch.Generator().manual_seed(0); "
                              "torch.save({'images': torch.rand(6, 1, 28, 28, generator=g), "
                              "'labels': torch.tensor([0,1,2,3,4,5])}, sys.argv[1])",
                        file});
    QVERIFY2(py.exitCode == 0, qPrintable(py.err));
    const Run q = ptq({"quantize", demo, "--calib", "tensor:" + file, "--eval", "tensor:" + file, "--json"});
    QVERIFY2(q.exitCode == 0, qPrintable(q.err));
    QCOMPARE(QJsonDocument::fromJson(q.out.toUtf8()).object()["eval_samples"].toInt(), 6);
}

void TestDistillCli::badInput_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("phrase");
    const QString noBn = QStringLiteral(PTQ_FIXTURE_DIR "/bad/good_small.pt");
    QTest::newRow("no out") << QStringList{"distill", demo} << "needs --out FILE.pt";
    QTest::newRow("count 0") << QStringList{"distill", demo, "--count", "0", "--out", "x.pt"} << "must be 1 to 4096";
    QTest::newRow("label weight") << QStringList{"distill", demo, "--out", "x.pt", "--label-weight", "-1"}
                                  << "label-loss weight must be 0 or a positive number";
    QTest::newRow("distill label weight alone")
        << QStringList{"quantize", demo, "--calib", "fmnist:train:10", "--eval", "fmnist:test:10",
                       "--distill-label-weight", "0.5"}
        << "add --data-free";
    QTest::newRow("png name") << QStringList{"distill", demo, "--out", "x.pt", "--png", "g.jpg"} << "ending in .png";
    QTest::newRow("no batchnorm") << QStringList{"distill", noBn, "--out", "x.pt", "--iters", "2"} << "no BatchNorm layer";
    QTest::newRow("data-free and calib") << QStringList{"quantize", demo, "--data-free", "--calib", "fmnist:train:10",
                                                        "--eval", "fmnist:test:10"}
                                         << "drop --calib";
    QTest::newRow("distill option alone") << QStringList{"quantize", demo, "--calib", "fmnist:train:10", "--eval",
                                                         "fmnist:test:10", "--distill-iters", "5"}
                                          << "add --data-free";
    QTest::newRow("size ratio 0") << QStringList{"quantize", demo, "--calib", "fmnist:train:10", "--eval",
                                                 "fmnist:test:10", "--max-size-ratio", "0"}
                                  << "in (0, 1]";
    QTest::newRow("infeasible size") << QStringList{"quantize", demo, "--calib", "fmnist:train:10", "--eval",
                                                    "fmnist:test:10", "--max-size-ratio", "0.01"}
                                     << "size";
    QTest::newRow("options alone") << QStringList{"quantize", demo, "--calib", "fmnist:train:10", "--eval",
                                                  "fmnist:test:10", "--options", "w4a8"}
                                   << "add --max-size-ratio";
    QTest::newRow("missing file") << QStringList{"quantize", demo, "--calib", "distilled:/nonexistent/d.pt", "--eval",
                                                 "fmnist:test:10"}
                                  << "does not exist";
}

void TestDistillCli::badInput() {
    QFETCH(QStringList, args);
    QFETCH(QString, phrase);
    const Run r = ptq(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(phrase), qPrintable(r.err));
}

QTEST_MAIN(TestDistillCli)
#include "test_distill_cli.moc"
