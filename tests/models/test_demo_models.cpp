// Each committed demo model reaches, through LibTorch's own forward on the 10k Fashion-MNIST
// test set, the top-1 its sidecar records (within 0.1 pt), and meets the target.
#include "core/data/data_source.h"
#include "core/model/model_card.h"
#include "core/model/torchscript_eval.h"
#include "core/util/runtime.h"

#include <QtTest/QtTest>

using namespace ptq;

class TestDemoModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { initRuntime(); }
    void sidecarAccuracyHolds_data();
    void sidecarAccuracyHolds();
    void demoModelIsFound();
};

void TestDemoModels::sidecarAccuracyHolds_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<double>("target");
    QTest::newRow("resnet20") << QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt") << 92.0;
    QTest::newRow("mobilenetv2") << QStringLiteral(PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt") << 91.0;
    QTest::newRow("vit") << QStringLiteral(PTQ_SOURCE_DIR "/resources/models/vit_fmnist.pt") << 89.0;
}

void TestDemoModels::sidecarAccuracyHolds() {
    QFETCH(QString, file);
    QFETCH(double, target);
    QVERIFY2(QFileInfo::exists(file), qPrintable(file + " is missing: run tools/train_demo_models.py"));
    const auto card = loadModelCard(file.toStdString());
    QVERIFY(card.has_value());
    QCOMPARE(card->inputShape, std::vector<int64_t>({1, 28, 28}));
    QCOMPARE(int(card->classNames.size()), 10);
    QVERIFY(card->fp32Top1 >= target);

    const auto test = openDataSource("fmnist:test", Normalization::fromModelCard(*card), card->inputShape);
    QCOMPARE(test->size(), int64_t(10000));
    const Top1Result r = torchScriptTop1(file.toStdString(), *test, 1000);
    QCOMPARE(r.total, int64_t(10000));
    qInfo("%s: %.2f %% measured, %.2f %% in the sidecar (%.1f s)", qPrintable(file), r.percent(), card->fp32Top1,
          r.seconds);
    QVERIFY2(std::abs(r.percent() - card->fp32Top1) <= 0.1,
             qPrintable(QString("measured %1, sidecar %2").arg(r.percent()).arg(card->fp32Top1)));
}

void TestDemoModels::demoModelIsFound() {
    const QString path = QString::fromStdString(demoModelPath());
    QVERIFY(path.endsWith("resnet20_fmnist.pt"));
    QVERIFY(QFileInfo::exists(path));
}

QTEST_GUILESS_MAIN(TestDemoModels)
#include "test_demo_models.moc"
