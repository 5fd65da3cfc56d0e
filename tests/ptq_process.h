#pragma once
// Runs a program the way a user does and keeps what it printed: the `ptq` executable of the
// build (PTQ_EXE, defined by the test's CMake) or any other program (Python for cross-checks).
// Header-only, for the command-line tests.

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QStringList>

namespace ptqtest {

struct Run {
    int exitCode = -1;
    QString out, err;
    bool crashed = false;  ///< ended by a signal (a crash, an abort) rather than exiting
    /// stdout parsed as one JSON object (empty when it is not one).
    QJsonObject json() const { return QJsonDocument::fromJson(out.toUtf8()).object(); }
};

/// Runs @p program to the end (at most ten minutes; a hang fails the test run loudly).
inline Run run(const QString& program, const QStringList& args) {
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(600000)) qFatal("%s did not finish", qPrintable(program));
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError()),
            p.exitStatus() == QProcess::CrashExit};
}

#ifdef PTQ_EXE
inline Run ptq(const QStringList& args) { return run(QStringLiteral(PTQ_EXE), args); }
#endif

}  // namespace ptqtest
