// The desktop files the package installs, checked in the source tree: the desktop entry and
// the AppStream metainfo pass desktop-file-validate and appstreamcli (tools/install-deps.sh
// installs both), name each other, and the man page of ptq lists every sub-command of
// `ptq --help`.
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QRegularExpression>
#include <QtCore/QSettings>
#include <QtCore/QStandardPaths>
#include <QtTest/QtTest>

#include "../ptq_process.h"

namespace {

const QString appId = QStringLiteral("org.ptqstudio.PTQStudio");
const QString packagingDir = QStringLiteral(PTQ_SOURCE_DIR "/packaging/");
QString desktopFile() { return packagingDir + appId + QStringLiteral(".desktop"); }
QString metainfoFile() { return packagingDir + appId + QStringLiteral(".metainfo.xml"); }

QString readText(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(path));
    return QString::fromUtf8(file.readAll());
}

/// The value of @p key in the [Desktop Entry] group (the format is simple enough for a scan).
QString desktopValue(const QString& key) {
    const QRegularExpression re(QStringLiteral("^%1=(.*)$").arg(key), QRegularExpression::MultilineOption);
    return re.match(readText(desktopFile())).captured(1).trimmed();
}

/// The text of the first <tag> element of the metainfo.
QString metainfoElement(const QString& tag) {
    const QRegularExpression re(QStringLiteral("<%1[^>]*>([^<]*)</%1>").arg(tag));
    return re.match(readText(metainfoFile())).captured(1).trimmed();
}

/// Runs a validator; skips (visibly) when it is not installed.
ptqtest::Run validate(const QString& program, const QStringList& args) {
    const QString exe = QStandardPaths::findExecutable(program);
    if (exe.isEmpty()) return {-2, {}, program + QStringLiteral(" is not installed")};
    return ptqtest::run(exe, args);
}

}  // namespace

class TestPackaging : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void desktopFileValidates();
    void metainfoValidates();
    void desktopFileAndMetainfoAgree();
    void manPageListsEveryCommand();
    void studioManPageListsEveryOption();
};

void TestPackaging::desktopFileValidates() {
    const ptqtest::Run r = validate(QStringLiteral("desktop-file-validate"), {desktopFile()});
    if (r.exitCode == -2) QSKIP("desktop-file-validate is not installed (Debian: desktop-file-utils)");
    QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
    // desktop-file-validate exits 0 on warnings and hints too: the shipped file has none.
    QVERIFY2(r.out.trimmed().isEmpty(), qPrintable(r.out));
}

void TestPackaging::metainfoValidates() {
    const ptqtest::Run r =
        validate(QStringLiteral("appstreamcli"), {QStringLiteral("validate"), QStringLiteral("--no-net"), metainfoFile()});
    if (r.exitCode == -2) QSKIP("appstreamcli is not installed (Debian: appstream)");
    QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));
}

void TestPackaging::desktopFileAndMetainfoAgree() {
    QCOMPARE(metainfoElement(QStringLiteral("id")), appId);
    QCOMPARE(metainfoElement(QStringLiteral("launchable")), QFileInfo(desktopFile()).fileName());
    QCOMPARE(metainfoElement(QStringLiteral("name")), desktopValue(QStringLiteral("Name")));
    QVERIFY2(readText(metainfoFile()).contains(QStringLiteral("<release version=\"" PTQ_VERSION "\"")),
             "the metainfo lists no release for the project's version");
    // The icon the desktop entry names is the one packaging/ renders and installs.
    const QString icon = desktopValue(QStringLiteral("Icon"));
    QVERIFY2(QFileInfo::exists(packagingDir + QStringLiteral("icons/") + icon + QStringLiteral(".svg")),
             qPrintable(QStringLiteral("no packaging/icons/%1.svg").arg(icon)));
    QCOMPARE(desktopValue(QStringLiteral("Exec")).section(QLatin1Char(' '), 0, 0), QStringLiteral("ptq-studio"));
}

void TestPackaging::manPageListsEveryCommand() {
    const ptqtest::Run help = ptqtest::ptq({QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    // Commands are the lines indented by exactly two spaces between "Commands:" and the
    // options; `bench` takes its mode as part of the command.
    const QString commandsPart = help.out.section(QStringLiteral("Commands:"), 1).section(QStringLiteral("\nOptions"), 0, 0);
    const QRegularExpression commandLine(QStringLiteral("^  ([a-z]+)(?: ([a-z]+))?"), QRegularExpression::MultilineOption);
    QStringList commands;
    for (auto it = commandLine.globalMatch(commandsPart); it.hasNext();) {
        const QRegularExpressionMatch m = it.next();
        const QString command = m.captured(1) == QStringLiteral("bench")
                                    ? QStringLiteral("bench ") + m.captured(2)
                                    : m.captured(1);
        if (!commands.contains(command)) commands << command;
    }
    QVERIFY2(commands.size() >= 10, qPrintable(commands.join(QStringLiteral(", "))));
    QVERIFY(commands.contains(QStringLiteral("quantize")));
    QVERIFY(commands.contains(QStringLiteral("bench gui")));

    const QString man = readText(packagingDir + QStringLiteral("man/ptq.1"));
    for (const QString& command : commands) {
        // A command's entry is a .B, .BI or .BR line that starts with its name.
        const QRegularExpression entry(
            QStringLiteral("^\\.B[IR]? \"?%1( |\"|$)").arg(QRegularExpression::escape(command)),
            QRegularExpression::MultilineOption);
        QVERIFY2(entry.match(man).hasMatch(),
                 qPrintable(QStringLiteral("packaging/man/ptq.1 does not describe `ptq %1`").arg(command)));
    }
}

void TestPackaging::studioManPageListsEveryOption() {
    const ptqtest::Run help = ptqtest::run(QStringLiteral(PTQ_STUDIO_EXE), {QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    const QRegularExpression optionLine(QStringLiteral("^  (?:-[a-zA-Z?], )?--([a-z-]+)"), QRegularExpression::MultilineOption);
    QStringList options;
    for (auto it = optionLine.globalMatch(help.out); it.hasNext();) options << it.next().captured(1);
    QVERIFY2(options.contains(QStringLiteral("screenshot")), qPrintable(help.out));
    const QString man = readText(packagingDir + QStringLiteral("man/ptq-studio.1"));
    for (const QString& option : options) {
        // troff spells a dash \-: "--budget-size" is \-\-budget\-size in the page.
        const QString troff = QStringLiteral("\\-\\-") + QString(option).replace(QLatin1Char('-'), QStringLiteral("\\-"));
        QVERIFY2(man.contains(troff), qPrintable(QStringLiteral("packaging/man/ptq-studio.1 does not describe --%1").arg(option)));
    }
}

QTEST_GUILESS_MAIN(TestPackaging)
#include "test_packaging.moc"
