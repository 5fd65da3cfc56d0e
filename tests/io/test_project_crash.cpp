// Crash safety of project saves: a helper saves a large project in a loop and is killed with
// SIGKILL in the middle of a save, again and again; every time the file left behind must load,
// whole, as one of the saves that finished (QSaveFile renames only a complete file into place).
#include "project_sample.h"

#include "core/util/error.h"

#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtTest/QtTest>

using namespace ptq;

namespace {
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

/// The iteration N of "fmnist:test:N+1", or -1.
long iterationOf(const Project& p) {
    const std::string prefix = "fmnist:test:";
    if (p.evaluationSource.rfind(prefix, 0) != 0) return -1;
    return std::atol(p.evaluationSource.c_str() + prefix.size()) - 1;  // project_save_loop writes N + 1
}
}  // namespace

class TestProjectCrash : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killDuringSaveLeavesThePreviousFile();
};

void TestProjectCrash::killDuringSaveLeavesThePreviousFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath("big.ptqproj");
    long next = 0, onDisk = -1;  // the iteration the file holds
    int killedMidSave = 0;
    QRandomGenerator rng(20261130);
    const int rounds = 8;
    for (int round = 0; round < rounds; ++round) {
        QProcess helper;
        helper.start(QStringLiteral(PTQ_SAVE_LOOP), {path, QString::fromStdString(demo), QString::number(next)});
        QVERIFY2(helper.waitForStarted(), qPrintable(helper.errorString()));
        // Wait until the helper is inside a save after at least one finished (in round 0) or
        // right away (later rounds: the file from before is there already).
        QString out;
        long lastSaved = onDisk, saving = -1;
        const long wantSaving = round == 0 ? next + 1 : next;
        while (saving < wantSaving) {
            QVERIFY2(helper.waitForReadyRead(300000), "the save loop printed nothing");
            out += QString::fromUtf8(helper.readAllStandardOutput());
            for (const QString& line : out.split('\n', Qt::SkipEmptyParts)) {
                if (line.startsWith("saving ")) saving = line.mid(7).toLong();
                if (line.startsWith("saved ")) lastSaved = line.mid(6).toLong();
            }
        }
        // A random moment inside that save: anywhere in the first ~100 ms of a write of ~30 MB.
        QTest::qWait(int(rng.bounded(100)));
        helper.kill();
        QVERIFY(helper.waitForFinished(60000));
        out += QString::fromUtf8(helper.readAllStandardOutput());
        bool finished = false;
        for (const QString& line : out.split('\n', Qt::SkipEmptyParts)) {
            if (line.startsWith("saved ")) lastSaved = line.mid(6).toLong();
            if (line == QStringLiteral("saved %1").arg(saving)) finished = true;
        }
        if (!finished) ++killedMidSave;
        QCOMPARE(helper.exitStatus(), QProcess::CrashExit);

        // The file there is whole: the last finished save, or the one killed if its rename had
        // already happened when the kill came.
        Project p;
        try {
            p = readProject(path.toStdString());
        } catch (const Error& e) {
            QFAIL(e.what());
        }
        const long n = iterationOf(p);
        QVERIFY2(n == lastSaved || n == saving, qPrintable(QStringLiteral("iteration %1 after saved %2, saving %3")
                                                                .arg(n).arg(lastSaved).arg(saving)));
        QCOMPARE(p.sensitivity->layers.size(), size_t(120));
        QCOMPARE(p.adaquant->size(), size_t(40));
        const Project expected = ptqtest::sampleProject(
            [] {
                std::vector<ptqtest::SampleLayer> layers;
                for (int i = 0; i < 120; ++i)
                    layers.push_back({"block" + std::to_string(i) + ".conv", "conv2d", {128, 128, 3, 3}, 128 * 128 * 9 * 64});
                return layers;
            }(),
            demo, 3, 20);
        for (const auto& [key, r] : expected.adaquant->results())
            QVERIFY(p.adaquant->find(r.layer, r.weightBits, r.activationBits)->weight == r.weight);
        onDisk = n;
        next = saving + 1;
    }
    qInfo("%d of %d kills landed inside a save", killedMidSave, rounds);
    // The test is about kills during a save: most must have landed there (a save takes far
    // longer than reading its "saving" line and killing).
    QVERIFY(killedMidSave > 0);
}

QTEST_GUILESS_MAIN(TestProjectCrash)
#include "test_project_crash.moc"
