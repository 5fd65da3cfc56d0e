// Models a user trained elsewhere with real PyTorch (tools/make_user_models.py, at test time):
// one on plain [0,1] pixels, one on Normalize(0.5, 0.5), torchvision's resnet18 with a 1-channel
// stem, and the pytorch/examples MNIST network. Each is opened WITHOUT a sidecar through the real
// `ptq`; told its preprocessing with the model card's options it scores what PyTorch measured on
// the same test images within 0.05 pt, and when not told the command says on stderr that pixels
// go in as [0,1]. Also: the model card's bad input (one sentence, exit 2) and `ptq info`'s report.

#include "../ptq_process.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

using ptqtest::ptq;
using ptqtest::Run;

namespace {
const QString kUserDir = QStringLiteral(PTQ_FIXTURE_DIR "/user");
const QString kNotice = QStringLiteral("no normalization is known");

QJsonObject expected() {
    QFile f(QDir(kUserDir).filePath(QStringLiteral("expected.json")));
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

/// The model card options a user gives for @p told ({"preset": ...} or {"mean": [...], "std": [...]}).
QStringList cardOptions(const QJsonObject& told) {
    QStringList out{"--input-shape", "1,28,28"};
    if (told.contains("preset")) return out << "--preset" << told["preset"].toString();
    auto list = [](const QJsonArray& a) {
        QStringList parts;
        for (const auto v : a) parts << QString::number(v.toDouble());
        return parts.join(',');
    };
    return out << "--mean" << list(told["mean"].toArray()) << "--std" << list(told["std"].toArray());
}

QStringList quantize(const QString& model, int testImages) {
    return {"quantize", model, "--calib", "fmnist:train:64", "--eval", "fmnist:test:" + QString::number(testImages),
            "--json"};
}
}  // namespace

class TestUserModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void toldItsNormalizationScoresWhatPyTorchMeasures_data();
    void toldItsNormalizationScoresWhatPyTorchMeasures();
    void notToldSaysSoOnStderr();
    void infoReportsTheCard();
    void badModelCardOptions_data();
    void badModelCardOptions();

private:
    QJsonObject expected_;
};

void TestUserModels::initTestCase() {
    expected_ = expected();
    QVERIFY2(expected_.size() == 4, "the user-model fixture (tools/make_user_models.py) did not run");
    for (const QString& name : expected_.keys()) {
        QVERIFY2(QFile::exists(QDir(kUserDir).filePath(name)), qPrintable(name));
        QVERIFY2(!QFile::exists(QDir(kUserDir).filePath(QFileInfo(name).completeBaseName() + ".json")),
                 "the user models come without a sidecar");
    }
}

void TestUserModels::toldItsNormalizationScoresWhatPyTorchMeasures_data() {
    QTest::addColumn<QString>("name");
    for (const QString& name : expected().keys()) QTest::newRow(qPrintable(name)) << name;
}

void TestUserModels::toldItsNormalizationScoresWhatPyTorchMeasures() {
    QFETCH(QString, name);
    const QJsonObject e = expected_[name].toObject();
    const int images = e["test_images"].toInt();
    const Run r = ptq(quantize(QDir(kUserDir).filePath(name), images) + cardOptions(e["told"].toObject()));
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(!r.err.contains(kNotice), qPrintable(r.err));  // it was told
    const double ours = r.json()["fp32_top1"].toDouble(-1), pytorch = e["top1"].toDouble();
    qInfo("%s: ptq FP32 top-1 %.2f %%, PyTorch %.2f %% on %d images", qPrintable(name), ours, pytorch, images);
    QVERIFY2(std::abs(ours - pytorch) <= 0.05 + 1e-9,
             qPrintable(QStringLiteral("ptq %1 %, PyTorch %2 %").arg(ours).arg(pytorch)));
}

void TestUserModels::notToldSaysSoOnStderr() {
    // The [0,1] model is right by default, and the command still says what it assumed.
    const QJsonObject plain = expected_["plain01_traced.pt"].toObject();
    Run r = ptq(quantize(QDir(kUserDir).filePath("plain01_traced.pt"), plain["test_images"].toInt()) +
                QStringList{"--input-shape", "1,28,28"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(kNotice) && r.err.contains("[0,1]") && r.err.count('\n') == 1, qPrintable(r.err));
    QVERIFY(std::abs(r.json()["fp32_top1"].toDouble(-1) - plain["top1"].toDouble()) <= 0.05 + 1e-9);
    // The Normalize(0.5, 0.5) model, not told: the notice, and never another model's figures.
    const QJsonObject half = expected_["halfnorm_scripted.pt"].toObject();
    r = ptq(quantize(QDir(kUserDir).filePath("halfnorm_scripted.pt"), half["test_images"].toInt()) +
            QStringList{"--input-shape", "1,28,28"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(kNotice), qPrintable(r.err));
    // Without a shape the command says how to give one.
    r = ptq({"info", QDir(kUserDir).filePath("plain01_traced.pt")});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("No input shape is known") && r.err.contains("--input-shape"), qPrintable(r.err));
    QCOMPARE(r.err.count('\n'), 1);
}

void TestUserModels::infoReportsTheCard() {
    QTemporaryDir tmp;
    const QString classes = tmp.filePath("classes.txt");
    QFile f(classes);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("# Fashion-MNIST\nT-shirt\nTrouser\nPullover\nDress\nCoat\n\nSandal\nShirt\nSneaker\nBag\nAnkle boot\n");
    f.close();
    const Run r = ptq({"info", QDir(kUserDir).filePath("resnet18_1ch.pt"), "--input-shape", "1,28,28", "--preset",
                       "fmnist", "--classes", classes, "--json"});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    const QJsonObject pre = r.json()["preprocessing"].toObject();
    QCOMPARE(pre["preset"].toString(), QStringLiteral("fmnist"));
    QCOMPARE(pre["mean"].toArray().at(0).toDouble(), double(0.2860f));
    QCOMPARE(r.json()["class_names"].toArray().size(), 10);
    QCOMPARE(r.json()["class_names"].toArray().at(9).toString(), QStringLiteral("Ankle boot"));
}

void TestUserModels::badModelCardOptions_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("phrase");
    const QString model = QDir(kUserDir).filePath("halfnorm_scripted.pt");
    const QStringList q = quantize(model, 100);
    QTest::newRow("negative input shape") << q + QStringList{"--input-shape", "1,-28,28"} << "positive";
    QTest::newRow("mean count") << q + QStringList{"--input-shape", "1,28,28", "--mean", "0.5,0.5", "--std", "0.5"}
                                << "2 mean values for data with 1 channel";
    QTest::newRow("mean without std") << q + QStringList{"--input-shape", "1,28,28", "--mean", "0.5"} << "--std";
    QTest::newRow("mean not a number") << q + QStringList{"--input-shape", "1,28,28", "--mean", "half", "--std", "1"}
                                       << "not 'half'";
    QTest::newRow("preset and mean") << q + QStringList{"--input-shape", "1,28,28", "--preset", "mnist", "--mean", "0",
                                                        "--std", "1"}
                                     << "not both";
    QTest::newRow("unknown preset") << q + QStringList{"--input-shape", "1,28,28", "--preset", "imagenett"}
                                    << "the presets are none, imagenet";
    QTest::newRow("crop ratio") << q + QStringList{"--input-shape", "1,28,28", "--crop-ratio", "1.5"} << "(0, 1]";
    QTest::newRow("classes missing") << q + QStringList{"--input-shape", "1,28,28", "--classes", "/nonexistent.txt"}
                                     << "does not exist";
}

void TestUserModels::badModelCardOptions() {
    QFETCH(QStringList, args);
    QFETCH(QString, phrase);
    const Run r = ptq(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY(!r.crashed);
    QVERIFY2(r.err.contains(phrase), qPrintable(r.err));
    QVERIFY2(r.err.trimmed().count('\n') == 0, qPrintable(r.err));  // one sentence
    QVERIFY(r.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestUserModels)
#include "test_user_models.moc"
