// The TorchScript importer and the executor on small real TorchScript files made by PyTorch
// (tools/make_fixture_models.py), and every kind of bad model file.
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/pickle_scan.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/model/model_summary.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"

#include <QtTest/QtTest>

using namespace ptq;

namespace {
QString fixture(const QString& set, const QString& name) {
    return QStringLiteral(PTQ_FIXTURE_DIR "/") + set + "/" + name;
}
}  // namespace

class TestImporter : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pickleWalk();
    void exactOnAllOps_data();
    void exactOnAllOps();
    void layerNamesAndMacs();
    void demoModels_data();
    void demoModels();
    void badFiles_data();
    void badFiles();
    void wrongInputShapeIsRefused();
};

void TestImporter::exactOnAllOps_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("scripted") << fixture("basic", "allops_scripted.pt");
    QTest::newRow("traced") << fixture("basic", "allops_traced.pt");
}

void TestImporter::exactOnAllOps() {
    QFETCH(QString, file);
    const Graph g = importTorchScript(file.toStdString(), {1, 28, 28});
    QVERIFY(g.nodes().size() > 20);
    for (int64_t batch : {1, 3}) {
        const VerifyResult r = verifyAgainstTorchScript(g, file.toStdString(), batch, 7);
        QVERIFY2(r.maxRelativeDiff <= 1e-4, qPrintable(QString("batch %1: relative difference %2")
                                                           .arg(batch).arg(r.maxRelativeDiff)));
    }
}

void TestImporter::layerNamesAndMacs() {
    for (const QString file : {fixture("basic", "allops_scripted.pt"), fixture("basic", "allops_traced.pt")}) {
        const ModelSummary s = summarizeModel(file.toStdString(), {1, 28, 28});
        QStringList names;
        for (const auto& l : s.layers) names << QString::fromStdString(l.name);
        QCOMPARE(names, QStringList({"conv", "dw", "pw", "fc1", "fc2"}));
        // conv: 8 output channels x 28 x 28, each 1 x 3 x 3 MACs
        QCOMPARE(s.layers[0].macs, int64_t(8 * 28 * 28 * 9));
        QCOMPARE(s.layers[0].params, int64_t(8 * 9 + 8));
        QCOMPARE(QString::fromStdString(s.layers[1].kind), QString("depthwise-conv2d"));
        QCOMPARE(s.layers[1].macs, int64_t(8 * 28 * 28 * 9));
        QCOMPARE(s.layers[2].outputShape, std::vector<int64_t>({16, 14, 14}));
        QCOMPARE(s.layers[4].params, int64_t(32 * 10));  // fc2 has no bias
        QCOMPARE(s.layers[3].macs, int64_t(32 * 16 * 7 * 7));
    }
}

void TestImporter::demoModels_data() {
    QTest::addColumn<QString>("file");
    for (const char* name : {"resnet20_fmnist.pt", "mobilenetv2_fmnist.pt"})
        QTest::newRow(name) << QStringLiteral(PTQ_SOURCE_DIR "/resources/models/") + name;
}

void TestImporter::demoModels() {
    QFETCH(QString, file);
    if (!QFileInfo::exists(file)) QSKIP("demo model not trained yet");
    const auto card = loadModelCard(file.toStdString());
    QVERIFY(card.has_value());
    Graph g = importTorchScript(file.toStdString(), card->inputShape);
    const VerifyResult r = verifyAgainstTorchScript(g, file.toStdString(), 8, 11);
    QVERIFY2(r.maxRelativeDiff <= 1e-4, qPrintable(QString::number(r.maxRelativeDiff)));
    QVERIFY(foldBatchNorms(g) >= 21);
    const VerifyResult folded = verifyAgainstTorchScript(g, file.toStdString(), 8, 11);
    QVERIFY2(folded.maxRelativeDiff <= 1e-4, qPrintable(QString::number(folded.maxRelativeDiff)));
}

void TestImporter::badFiles_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("phrases");
    QTest::newRow("missing") << fixture("bad", "no_such_file.pt") << QStringList{"No model file", "check the path"};
    QTest::newRow("empty") << fixture("bad", "bad_empty.pt") << QStringList{"empty (0 bytes)"};
    QTest::newRow("random bytes") << fixture("bad", "bad_random.pt") << QStringList{"not a TorchScript file"};
    for (const char* t : {"10", "50", "90"})
        QTest::newRow(qPrintable(QString("truncated %1%").arg(t)))
            << fixture("bad", QString("bad_truncated_%1.pt").arg(t)) << QStringList{"truncated or damaged"};
    QTest::newRow("state_dict") << fixture("bad", "bad_state_dict.pt") << QStringList{"torch.save", "state_dict"};
    QTest::newRow("two inputs") << fixture("bad", "bad_two_inputs.pt") << QStringList{"2 inputs"};
    QTest::newRow("unknown op") << fixture("bad", "bad_unknown_op.pt")
                                << QStringList{"aten::cumsum x1", "aten::erf x1", "aten::conv_transpose2d",
                                               "refused before any data"};
    QTest::newRow("folder") << fixture("bad", "") << QStringList{"is a folder"};
}

void TestImporter::badFiles() {
    QFETCH(QString, file);
    QFETCH(QStringList, phrases);
    try {
        importTorchScript(file.toStdString(), {1, 8, 8});
        QFAIL("the bad file was imported");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        const QString message = QString::fromStdString(e.what());
        for (const QString& p : phrases) QVERIFY2(message.contains(p), qPrintable(message));
        QVERIFY2(!message.contains('\n'), qPrintable(message));
    }
}

void TestImporter::wrongInputShapeIsRefused() {
    try {
        importTorchScript(fixture("basic", "allops_scripted.pt").toStdString(), {3, 28, 28});
        QFAIL("an input of 3 channels was accepted by a 1-channel model");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains("3x28x28"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestImporter)
// The walk that runs on every pickle of an archive before LibTorch: silent on a well-formed
// stream (Python's pickle.dumps('abc', protocol=2)), a sentence for a length or memo index the
// stream cannot hold.
void TestImporter::pickleWalk() {
    auto damage = [](std::initializer_list<int> bytes) {
        std::vector<uint8_t> v;
        for (int b : bytes) v.push_back(uint8_t(b));
        return ptq::findPickleDamage(v.data(), v.size());
    };
    QCOMPARE(damage({0x80, 2, 'X', 3, 0, 0, 0, 'a', 'b', 'c', 'q', 0, '.'}), std::string());
    const std::string longString = damage({0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'a', 'b', 'c', 'q', 0, '.'});
    QVERIFY2(longString.find("a record of 2147483647 bytes where 6 remain (byte 2)") != std::string::npos,
             longString.c_str());
    const std::string memo = damage({0x80, 2, 'N', 'r', 0x65, 0x6e, 0x6f, 0x6e, '.'});
    QVERIFY2(memo.find("a memo index of 1852796517") != std::string::npos, memo.c_str());
    QVERIFY(!damage({0x80, 2, 0x8c}).empty());                    // a length cut off
    QCOMPARE(damage({0x80, 2, 0xfe, 0xff, 0xff}), std::string());  // unknown opcode: LibTorch decides
}

#include "test_importer.moc"
