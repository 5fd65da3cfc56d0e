// Load: ten real sensitivity measurements queued on the GUI's job runner and cancelled at random
// points (some while queued, most while running, at a seeded random delay after they start).
// Nothing may crash, every job must end (finished or cancelled, never lost), the runner must go
// idle, and the process's resident memory must come back to within 10 % of where it stood
// before the ten jobs (after one warm-up job, so that LibTorch's and Qt's one-time allocations
// are already in the baseline; malloc_trim hands freed heap back to the system before each
// reading, so the figure is live memory, not what the allocator keeps cached).
#include "core/session/session.h"
#include "core/workflow/sensitivity.h"
#include "core/util/runtime.h"
#include "ui/session/job_runner.h"

#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <malloc.h>
#include <unistd.h>

#include <map>
#include <memory>

using ptq::ui::JobRunner;

namespace {
constexpr int kJobs = 10;
constexpr int kHangGuardMs = 600000;  // not a speed check: a hang must fail, not block ctest

/// Resident set size in bytes, after returning freed heap to the system.
qint64 residentBytes() {
    malloc_trim(0);
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly)) return -1;
    const QList<QByteArray> fields = statm.readAll().split(' ');
    return fields.size() > 1 ? fields[1].toLongLong() * sysconf(_SC_PAGESIZE) : -1;
}
}  // namespace

class TestJobLoad : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void randomCancelsLoseNothingAndFreeMemory();

private:
    JobRunner::Work measurement() const;

    std::shared_ptr<const ptq::LoadedModel> model_;
    ptq::SensitivityRequest request_;
};

void TestJobLoad::initTestCase() {
    model_ = ptq::openModel({PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt", {}});
    QVERIFY(model_);
    request_.options = ptq::BitOption::parseList("w4a8,w2a8");
    request_.quantizer.batchSize = 32;
}

JobRunner::Work TestJobLoad::measurement() const {
    const auto model = model_;
    const auto request = request_;
    return [model, request](const ptq::Progress& progress) -> JobRunner::Apply {
        ptq::SensitivityJob job;
        job.calibrationSource = ptq::parseDataSource("fmnist:train:96");
        job.request = request;
        auto table = std::make_shared<ptq::SensitivityResult>(
            ptq::measureSensitivityTable(*model, job, {}, &progress).result);
        return [table] { QVERIFY(!table->layers.empty()); };
    };
}

void TestJobLoad::randomCancelsLoseNothingAndFreeMemory() {
    JobRunner runner;
    std::map<int, QString> outcome;  // job id -> "ok" / "cancelled" / the error
    connect(&runner, &JobRunner::jobFinished, this,
            [&](int id, const QString&, bool ok, bool cancelled, const QString& message, bool) {
                outcome[id] = ok ? QStringLiteral("ok") : cancelled ? QStringLiteral("cancelled") : message;
            });

    // Warm-up: one job to the end, so thread pools, kernels and caches exist before the baseline.
    const int warm = runner.submit(JobRunner::Kind::Sensitivity, QStringLiteral("warm-up"), measurement());
    QVERIFY(QTest::qWaitFor([&] { return !runner.isBusy(); }, kHangGuardMs));
    QCOMPARE(outcome[warm], QStringLiteral("ok"));
    const qint64 before = residentBytes();
    QVERIFY(before > 0);

    QRandomGenerator random(20261201);
    std::map<int, int> cancelAfterMs;  // for jobs to cancel once running
    std::vector<int> ids;
    for (int i = 0; i < kJobs; ++i) {
        const int id = runner.submit(JobRunner::Kind::Sensitivity, QStringLiteral("load %1").arg(i), measurement());
        ids.push_back(id);
        if (i % 4 == 3)
            runner.cancel(id);  // cancelled while still queued
        else
            cancelAfterMs[id] = int(random.bounded(1500));
    }
    connect(&runner, &JobRunner::jobStarted, this, [&](int id, const QString&) {
        if (auto it = cancelAfterMs.find(id); it != cancelAfterMs.end())
            QTimer::singleShot(it->second, &runner, [&runner, id] { runner.cancel(id); });
    });
    QVERIFY(QTest::qWaitFor([&] { return !runner.isBusy() && outcome.size() == size_t(kJobs + 1); }, kHangGuardMs));

    int cancelled = 0;
    for (int i = 0; i < kJobs; ++i) {
        const int id = ids[size_t(i)];
        QVERIFY2(outcome.count(id), qPrintable(QStringLiteral("job %1 never ended").arg(id)));
        // A job cancelled after it started may still have finished first; one cancelled while
        // queued never runs.
        if (i % 4 == 3) QCOMPARE(outcome[id], QStringLiteral("cancelled"));
        QVERIFY2(outcome[id] == QLatin1String("ok") || outcome[id] == QLatin1String("cancelled"), qPrintable(outcome[id]));
        cancelled += outcome[id] == QLatin1String("cancelled");
    }
    QCoreApplication::processEvents();  // deliver the deferred deletes of the finished jobs
    const qint64 after = residentBytes();
    qInfo("resident memory: %.1f MiB before the %d jobs, %.1f MiB after (%d cancelled)", before / 1048576.0, kJobs,
          after / 1048576.0, cancelled);
    QVERIFY2(after <= before * 11 / 10, qPrintable(QStringLiteral("memory grew from %1 to %2 bytes").arg(before).arg(after)));
}

int main(int argc, char** argv) {
    ptq::initRuntime();
    QCoreApplication app(argc, argv);
    TestJobLoad t;
    return QTest::qExec(&t, argc, argv);
}

#include "test_job_load.moc"
