// Importing in the helper process (core/graph/import_process.h) against importing here: the same
// graph (nodes, shapes, parameters, executor outputs), the same errors for bad files, a crafted
// file that crashes LibTorch's reader turned into an error, and a cancel that ends the helper.
#include "core/graph/graph.h"
#include "core/graph/import_process.h"
#include "core/graph/torchscript_importer.h"
#include "core/util/error.h"
#include "core/workflow/model.h"

#include "graph_compare.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>
#include <QtTest/QtTest>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

using namespace ptq;

namespace {

const std::string kDemo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";
const QString kCrashing = QStringLiteral(PTQ_FIXTURE_DIR "/crashing/crashing_reader.pt");

struct Outcome {
    bool threw = false;
    Error::Kind kind = Error::Kind::Failed;
    std::string message, setting;
};

template <typename F>
Outcome outcomeOf(F&& f) {
    Outcome o;
    try {
        f();
    } catch (const Error& e) {
        o.threw = true;
        o.kind = e.kind();
        o.message = e.what();
        o.setting = e.setting();
    }
    return o;
}

/// The ids of this process's children that run the helper.
std::vector<int> helperChildren() {
    std::vector<int> pids;
    for (const QString& entry : QDir("/proc").entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        bool ok = false;
        const int pid = entry.toInt(&ok);
        if (!ok) continue;
        QFile stat("/proc/" + entry + "/stat");
        if (!stat.open(QIODevice::ReadOnly)) continue;
        const QByteArray text = stat.readAll();
        const int open = text.indexOf('('), close = text.lastIndexOf(')');
        if (open < 0 || close < open) continue;
        const QByteArray comm = text.mid(open + 1, close - open - 1);
        const QList<QByteArray> rest = text.mid(close + 2).split(' ');
        if (comm == "ptq-import" && rest.size() > 1 && rest[1].toInt() == int(::getpid())) pids.push_back(pid);
    }
    return pids;
}

bool processAlive(int pid) { return QFile::exists(QStringLiteral("/proc/%1").arg(pid)); }

}  // namespace

class TestImportProcess : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void sameGraphAsInProcess_data();
    void sameGraphAsInProcess();
    void sameErrorsAsInProcess_data();
    void sameErrorsAsInProcess();
    void sameShapeGuess();
    void crashingFileCrashesTheReaderInProcess();
    void crashingFileIsAnError();
    void cancelEndsTheHelper();
    void timeoutEndsTheHelper();
    void helperVariableMustNameAnExecutable();

private:
    std::string helper_;
};

void TestImportProcess::initTestCase() {
    helper_ = importHelperPath();
    QVERIFY2(!helper_.empty(), "the import helper ptq-import was not found (build the target ptq-import)");
    QCOMPARE(QFileInfo(QString::fromStdString(helper_)).fileName(), QStringLiteral("ptq-import"));
    QVERIFY(helperChildren().empty());
}

void TestImportProcess::sameGraphAsInProcess_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("allops scripted") << PTQ_FIXTURE_DIR "/basic/allops_scripted.pt";
    QTest::newRow("allops traced") << PTQ_FIXTURE_DIR "/basic/allops_traced.pt";
    QTest::newRow("demo resnet20") << QString::fromStdString(kDemo);
    QTest::newRow("demo mobilenetv2") << PTQ_SOURCE_DIR "/resources/models/mobilenetv2_fmnist.pt";
    QTest::newRow("demo vit") << PTQ_SOURCE_DIR "/resources/models/vit_fmnist.pt";
    QTest::newRow("good_tiny") << PTQ_SOURCE_DIR "/tests/robustness/files/good_tiny.pt";
}

void TestImportProcess::sameGraphAsInProcess() {
    QFETCH(QString, file);
    const std::string path = file.toStdString();
    const Graph here = importTorchScript(path, {1, 28, 28});
    const Graph child = importTorchScriptIsolated(path, {1, 28, 28});
    const std::string diff = ptqtest::firstDifference(here, child);
    QVERIFY2(diff.empty(), diff.c_str());
    const std::string run = ptqtest::firstRunDifference(here, child, 3);
    QVERIFY2(run.empty(), run.c_str());
    QVERIFY(helperChildren().empty());  // the helper was waited for
}

void TestImportProcess::sameErrorsAsInProcess_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QVector<qint64>>("shape");
    const QVector<qint64> mnist{1, 28, 28};
    const QString bad = PTQ_FIXTURE_DIR "/bad/", files = PTQ_SOURCE_DIR "/tests/robustness/files/";
    QTest::newRow("missing") << bad + "no_such_model.pt" << mnist;
    QTest::newRow("empty") << bad + "bad_empty.pt" << mnist;
    QTest::newRow("random bytes") << bad + "bad_random.pt" << mnist;
    QTest::newRow("truncated") << bad + "bad_truncated_50.pt" << mnist;
    QTest::newRow("state_dict") << bad + "bad_state_dict.pt" << mnist;
    QTest::newRow("two inputs") << bad + "bad_two_inputs.pt" << mnist;
    QTest::newRow("unknown op") << bad + "bad_unknown_op.pt" << mnist;
    QTest::newRow("damaged pickle") << files + "damaged_pickle.pt" << mnist;
    QTest::newRow("CRC damage") << files + "damaged_deflated_code.pt" << mnist;
    QTest::newRow("NaN weight") << files + "nan_weight.pt" << QVector<qint64>{1, 8, 8};
    QTest::newRow("no input shape (a missing setting)") << QString::fromStdString(kDemo) << QVector<qint64>{};
    QTest::newRow("negative input shape") << QString::fromStdString(kDemo) << QVector<qint64>{1, -28, 28};
    QTest::newRow("input shape the model cannot take") << QString::fromStdString(kDemo) << QVector<qint64>{5, 28, 28};
}

void TestImportProcess::sameErrorsAsInProcess() {
    QFETCH(QString, file);
    QFETCH(QVector<qint64>, shape);
    const std::string path = file.toStdString();
    const std::vector<int64_t> s(shape.begin(), shape.end());
    const Outcome here = outcomeOf([&] { importTorchScript(path, s); });
    const Outcome child = outcomeOf([&] { importTorchScriptIsolated(path, s); });
    QVERIFY2(here.threw, "the in-process import accepted the file");
    QVERIFY2(child.threw, "the helper accepted the file");
    QCOMPARE(int(child.kind), int(here.kind));
    QCOMPARE(child.message, here.message);
    QCOMPARE(child.setting, here.setting);
}

void TestImportProcess::sameShapeGuess() {
    for (const std::string& path : {kDemo, std::string(PTQ_FIXTURE_DIR "/basic/allops_traced.pt"),
                                    std::string(PTQ_SOURCE_DIR "/tests/robustness/files/good_tiny.pt")}) {
        const std::vector<int64_t> child = guessInputShapeIsolated(path);
        QCOMPARE(child, guessInputShape(path));
        QVERIFY(!child.empty());
    }
    QCOMPARE(suggestInputShape(kDemo), (std::vector<int64_t>{1, 28, 28}));
    const Outcome bad = outcomeOf([] { guessInputShapeIsolated(PTQ_FIXTURE_DIR "/bad/bad_state_dict.pt"); });
    QVERIFY(bad.threw && bad.kind == Error::Kind::InvalidInput);
    QVERIFY2(bad.message.find("state_dict") != std::string::npos, bad.message.c_str());
}

void TestImportProcess::crashingFileCrashesTheReaderInProcess() {
    // The crafted file really crashes our in-process import: the helper runs exactly that.
    QVERIFY2(QFile::exists(kCrashing), "run the fixture make_fixtures_crashing");
    QProcess p;
    p.start(QString::fromStdString(helper_), {"import", kCrashing, "1,28,28"});
    QVERIFY(p.waitForFinished(300000));
    QCOMPARE(p.exitStatus(), QProcess::CrashExit);
    QCOMPARE(p.exitCode(), 11);  // SIGSEGV
}

void TestImportProcess::crashingFileIsAnError() {
    const std::string path = kCrashing.toStdString();
    for (int i = 0; i < 2; ++i) {  // and the program goes on: again
        const Outcome o = outcomeOf([&] { importTorchScriptIsolated(path, {1, 28, 28}); });
        QVERIFY(o.threw);
        QCOMPARE(int(o.kind), int(Error::Kind::InvalidInput));
        QCOMPARE(o.message, "Reading '" + path + "' crashed the TorchScript reader (signal 11, segmentation fault): "
                            "the file is damaged or was crafted; export the model again.");
    }
    const Outcome open = outcomeOf([&] { openModel({path, {1, 28, 28}}); });
    QVERIFY(open.threw && open.kind == Error::Kind::InvalidInput);
    QVERIFY2(open.message.find("crashed the TorchScript reader") != std::string::npos, open.message.c_str());
    const Outcome guess = outcomeOf([&] { suggestInputShape(path); });
    QVERIFY2(guess.threw && guess.message.find("crashed the TorchScript reader") != std::string::npos,
             guess.message.c_str());
    QVERIFY(helperChildren().empty());
}

void TestImportProcess::cancelEndsTheHelper() {
    // The demo at 1x1200x1200: the helper's shape inference runs for seconds, time to cancel.
    Progress progress;
    std::atomic<int> seen{-1};
    std::thread canceller([&] {
        for (int i = 0; i < 6000 && seen < 0; ++i) {
            const std::vector<int> children = helperChildren();
            if (!children.empty()) seen = children.front();
            else std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        progress.cancelRequested = true;
    });
    const Outcome o = outcomeOf([&] { importTorchScriptIsolated(kDemo, {1, 1200, 1200}, &progress); });
    canceller.join();
    QVERIFY2(seen > 0, "the helper never ran");
    QVERIFY2(o.threw && o.kind == Error::Kind::Cancelled, o.message.c_str());
    QVERIFY2(!processAlive(seen), "the helper still runs after the cancel");
    QVERIFY(helperChildren().empty());
    // openModel passes its progress on: the same cancel through the workflow.
    Progress again;
    again.cancelRequested = false;
    std::thread later([&] {
        for (int i = 0; i < 6000 && helperChildren().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        again.cancelRequested = true;
    });
    const Outcome opened = outcomeOf([&] { openModel({kDemo, {1, 1200, 1200}}, &again); });
    later.join();
    QVERIFY2(opened.threw && opened.kind == Error::Kind::Cancelled, opened.message.c_str());
    QVERIFY(helperChildren().empty());
}

void TestImportProcess::timeoutEndsTheHelper() {
    const Outcome o = outcomeOf([&] { importTorchScriptIsolated(kDemo, {1, 1200, 1200}, nullptr, 1); });
    QVERIFY(o.threw);
    QCOMPARE(int(o.kind), int(Error::Kind::Failed));
    QVERIFY2(o.message.find("took longer than 1 s") != std::string::npos, o.message.c_str());
    QVERIFY(helperChildren().empty());
}

void TestImportProcess::helperVariableMustNameAnExecutable() {
    qputenv("PTQ_IMPORT_HELPER", PTQ_SOURCE_DIR "/README.md");
    const Outcome o = outcomeOf([] { importHelperPath(); });
    qputenv("PTQ_IMPORT_HELPER", QByteArray::fromStdString(helper_));
    const bool named = importHelperPath() == helper_;
    qunsetenv("PTQ_IMPORT_HELPER");
    QVERIFY(o.threw && o.kind == Error::Kind::Failed);
    QVERIFY2(o.message.find("PTQ_IMPORT_HELPER") != std::string::npos, o.message.c_str());
    QVERIFY(named);
}

QTEST_GUILESS_MAIN(TestImportProcess)
#include "test_import_process.moc"
