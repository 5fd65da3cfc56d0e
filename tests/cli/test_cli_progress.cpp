// The progress bar and Ctrl-C of the long `ptq` commands, run the way a user runs them: on a
// pseudo-terminal (the bar, ^C typed at it) and through pipes (no bar, a signal sent).
#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <string>
#include <vector>

namespace {

const QString demo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");

/// What a run on a pseudo-terminal left: stderr as the terminal showed it (stdout goes to a file,
/// so the terminal carries stderr alone), the exit code, and how long it ran after ^C.
struct TerminalRun {
    int exitCode = -1;     ///< -1 when it did not exit normally
    QString err, out;      ///< stderr as the terminal got it; stdout
    double afterInterruptSeconds = -1;  ///< from the first ^C to the exit; -1 when none was sent
    int interrupts = 0;
};

/// Runs ptq @p args with stderr on a new pseudo-terminal (80 columns) and stdout in @p outFile.
/// @p interruptWhen is asked with the terminal's text so far; when it says yes, ^C is typed
/// (@p times times, 50 ms apart). Gives up (and fails the caller's checks) after @p limitSeconds.
TerminalRun runOnTerminal(const QStringList& args, const QString& outFile,
                          const std::function<bool(const QString&)>& interruptWhen = {}, int times = 1,
                          int limitSeconds = 300) {
    TerminalRun result;
    termios tio{};
    cfmakeraw(&tio);
    tio.c_lflag |= ISIG;  // ^C raises SIGINT, as on a user's terminal; no output processing
    tio.c_cc[VINTR] = 0x03;
    winsize ws{};
    ws.ws_row = 24;
    ws.ws_col = 80;
    std::vector<std::string> argv{PTQ_EXE};
    for (const QString& a : args) argv.push_back(a.toStdString());
    std::vector<char*> cargv;
    for (std::string& s : argv) cargv.push_back(s.data());
    cargv.push_back(nullptr);
    // Everything the child needs is made before the fork: after it, only exec-safe calls.
    const int outFd = ::open(outFile.toLocal8Bit().constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (outFd < 0) qFatal("cannot open %s", qPrintable(outFile));
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, &tio, &ws);
    if (pid < 0) qFatal("forkpty failed");
    if (pid == 0) {
        ::dup2(outFd, STDOUT_FILENO);  // the duplicate does not inherit O_CLOEXEC
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    ::close(outFd);
    QByteArray seen;
    QElapsedTimer clock, sinceInterrupt;
    clock.start();
    for (;;) {
        pollfd p{master, POLLIN, 0};
        const int ready = ::poll(&p, 1, 50);
        if (ready > 0) {
            char buf[4096];
            const ssize_t n = ::read(master, buf, sizeof buf);
            if (n <= 0) break;  // EIO: the program closed the terminal, it has ended
            seen.append(buf, int(n));
        }
        if (interruptWhen && result.interrupts == 0 && interruptWhen(QString::fromUtf8(seen))) {
            sinceInterrupt.start();
            for (int i = 0; i < times; ++i) {
                if (i) ::usleep(50000);
                const char ctrlC = 0x03;
                if (::write(master, &ctrlC, 1) == 1) ++result.interrupts;
            }
        }
        if (clock.elapsed() > limitSeconds * 1000) {
            ::kill(pid, SIGKILL);
            break;
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (result.interrupts) result.afterInterruptSeconds = double(sinceInterrupt.elapsed()) / 1000.0;
    ::close(master);
    if (WIFEXITED(status)) result.exitCode = WEXITSTATUS(status);
    result.err = QString::fromUtf8(seen);
    QFile f(outFile);
    if (f.open(QIODevice::ReadOnly)) result.out = QString::fromUtf8(f.readAll());
    return result;
}

/// A drawn bar: a percentage and an ETA on a line that a carriage return redraws.
bool hasBar(const QString& err) {
    return err.contains('\r') && err.contains(QRegularExpression("\\d+%")) && err.contains("ETA");
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("(missing)");
}

const QString cancelled = QStringLiteral("ptq: cancelled; no output was written.");

}  // namespace

class TestCliProgress : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void barOnTerminal();
    void noBarThroughPipes();
    void noBarWithJson();
    void ctrlCCancelsQuantize();
    void ctrlCKeepsExistingExport();
    void signalKeepsExistingTable_data();
    void signalKeepsExistingTable();
    void secondCtrlCStopsAtOnce();

private:
    QTemporaryDir dir_;
};

void TestCliProgress::barOnTerminal() {
    const TerminalRun r = runOnTerminal({"quantize", demo, "--calib", "fmnist:train:500", "--eval", "fmnist:test:2000",
                                         "--w", "8", "--a", "8"},
                                        dir_.filePath("bar.out"));
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(hasBar(r.err), qPrintable(r.err));
    QVERIFY2(r.err.contains("Evaluating quantized"), qPrintable(r.err));
    // Redrawn in place: no line feeds, and the last redraw blanks the line for what follows.
    QVERIFY2(!r.err.contains('\n'), qPrintable(r.err));
    QVERIFY2(r.err.split('\r').last().trimmed().isEmpty(), qPrintable(r.err));
    for (const QString& line : r.err.split('\r')) QVERIFY2(line.size() < 80, qPrintable(line));  // never wraps
    QVERIFY2(r.out.contains("quantized top-1"), qPrintable(r.out));
}

void TestCliProgress::noBarThroughPipes() {
    QProcess p;
    p.start(PTQ_EXE, {"quantize", demo, "--calib", "fmnist:train:500", "--eval", "fmnist:test:2000"});
    QVERIFY(p.waitForFinished(300000));
    QCOMPARE(p.exitCode(), 0);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.isEmpty(), qPrintable(err));
}

void TestCliProgress::noBarWithJson() {
    const TerminalRun r = runOnTerminal({"quantize", demo, "--calib", "fmnist:train:500", "--eval", "fmnist:test:2000",
                                         "--json"},
                                        dir_.filePath("json.out"));
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.err.isEmpty(), qPrintable(r.err));
    QVERIFY2(r.out.contains("\"quant_top1\""), qPrintable(r.out));
}

void TestCliProgress::ctrlCCancelsQuantize() {
    // ^C once AdaQuant is at work: the longest stretch of the advanced pipeline.
    const TerminalRun r = runOnTerminal({"quantize", demo, "--calib", "fmnist:train:1000", "--eval", "fmnist:test",
                                         "--w", "4", "--a", "8", "--pipeline", "advanced"},
                                        dir_.filePath("quantize.out"),
                                        [](const QString& err) { return err.contains("AdaQuant 2/"); });
    QCOMPARE(r.interrupts, 1);
    QCOMPARE(r.exitCode, 130);
    QVERIFY2(r.afterInterruptSeconds < 10.0, qPrintable(QString::number(r.afterInterruptSeconds)));
    QCOMPARE(r.err.count(cancelled), 1);
    // The sentence starts a line of its own: the bar was cleared first.
    QVERIFY2(r.err.contains(QRegularExpression("\\r +\\r" + QRegularExpression::escape(cancelled))), qPrintable(r.err));
    QVERIFY2(!r.out.contains("top-1"), qPrintable(r.out));
}

void TestCliProgress::ctrlCKeepsExistingExport() {
    const QString out = dir_.filePath("existing-config.json");
    const QByteArray old = "{\"an\": \"older export, kept as it is\"}\n";
    {
        QFile f(out);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(old);
    }
    const TerminalRun r = runOnTerminal({"export", demo, "--calib", "fmnist:train:1000", "--w", "4", "--a", "8",
                                         "--pipeline", "advanced", "--format", "json", "-o", out},
                                        dir_.filePath("export.out"),
                                        [](const QString& err) { return err.contains("AdaQuant 3/"); });
    QCOMPARE(r.exitCode, 130);
    QVERIFY2(r.afterInterruptSeconds < 10.0, qPrintable(QString::number(r.afterInterruptSeconds)));
    QCOMPARE(r.err.count(cancelled), 1);
    QCOMPARE(readAll(out), old);
    QVERIFY(QDir(dir_.path()).entryList({"existing-config.json?*"}, QDir::Files | QDir::Hidden).isEmpty());
}

void TestCliProgress::signalKeepsExistingTable_data() {
    QTest::addColumn<int>("signal");
    QTest::newRow("SIGINT") << int(SIGINT);
    QTest::newRow("SIGTERM") << int(SIGTERM);
}

void TestCliProgress::signalKeepsExistingTable() {
    QFETCH(int, signal);
    const QString out = dir_.filePath(QString("existing-table-%1.json").arg(signal));
    const QByteArray old = "{\"an\": \"older table, kept as it is\"}\n";
    {
        QFile f(out);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(old);
    }
    // No terminal: nothing shows how far it got, so the signal goes after a while that the
    // import and the data take, well before the table is done (tens of seconds).
    QProcess p;
    p.start(PTQ_EXE, {"sensitivity", demo, "--calib", "fmnist:train:2000", "--options", "w2a8,w4a4,w4a8,w8a8",
                      "--force", "--out", out});
    QVERIFY(p.waitForStarted());
    QTest::qWait(3000);
    QCOMPARE(p.state(), QProcess::Running);
    QElapsedTimer t;
    t.start();
    ::kill(pid_t(p.processId()), signal);
    QVERIFY(p.waitForFinished(60000));
    QVERIFY2(t.elapsed() < 10000, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    // The one sentence and nothing else: no bar without a terminal.
    QCOMPARE(QString::fromUtf8(p.readAllStandardError()), cancelled + "\n");
    QVERIFY(p.readAllStandardOutput().isEmpty());
    QCOMPARE(readAll(out), old);
}

void TestCliProgress::secondCtrlCStopsAtOnce() {
    const TerminalRun r = runOnTerminal({"quantize", demo, "--calib", "fmnist:train:1000", "--eval", "fmnist:test",
                                         "--w", "4", "--a", "8", "--pipeline", "advanced"},
                                        dir_.filePath("twice.out"),
                                        [](const QString& err) { return err.contains("AdaQuant 1/"); }, 2);
    QCOMPARE(r.interrupts, 2);
    QCOMPARE(r.exitCode, 130);
    QVERIFY2(r.afterInterruptSeconds < 10.0, qPrintable(QString::number(r.afterInterruptSeconds)));
    // The second ^C ended it at once (or, had the first one's cancel been quicker, that one).
    QVERIFY2(r.err.contains("ptq: stopped at once.") || r.err.contains(cancelled), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestCliProgress)
#include "test_cli_progress.moc"
