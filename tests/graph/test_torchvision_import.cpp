// Exactness of the importer + executor on torchvision models (random weights, randomised BN
// statistics), each scripted and traced by real PyTorch at test time.
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <QtTest/QtTest>

using namespace ptq;

class TestTorchvisionImport : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void exact_data();
    void exact();
};

void TestTorchvisionImport::exact_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("fold");
    for (const char* name : {"resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
                             "vgg11_bn", "squeezenet1_1", "shufflenet_v2_x0_5", "densenet121"})
        for (const char* how : {"scripted", "traced"}) {
            const QString file = QString(PTQ_FIXTURE_DIR "/torchvision/%1_%2.pt").arg(name, how);
            QTest::newRow(qPrintable(QString("%1 %2").arg(name, how))) << file << false;
            QTest::newRow(qPrintable(QString("%1 %2 BN folded").arg(name, how))) << file << true;
        }
}

void TestTorchvisionImport::exact() {
    QFETCH(QString, file);
    QFETCH(bool, fold);
    Graph g = importTorchScript(file.toStdString(), {3, 64, 64});
    QVERIFY(!g.quantizableNodes().empty());
    if (fold && !file.contains("squeezenet")) QVERIFY(foldBatchNorms(g) > 0);
    const VerifyResult r = verifyAgainstTorchScript(g, file.toStdString(), 2, 5);
    QVERIFY2(r.maxRelativeDiff <= 1e-4, qPrintable(QString("relative difference %1").arg(r.maxRelativeDiff)));
}

QTEST_GUILESS_MAIN(TestTorchvisionImport)
#include "test_torchvision_import.moc"
