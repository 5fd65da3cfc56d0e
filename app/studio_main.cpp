// ptq-studio: the GUI. Thin on purpose: parse the command line, set up logging, open the
// window on a model; everything else is in ptqui.

#include "core/data/data_source.h"
#include "core/model/model_card.h"
#include "core/util/log.h"
#include "core/util/runtime.h"
#include "ui/log/log_bridge.h"
#include "ui/mainwindow/main_window.h"
#include "ui/project/project_manager.h"
#include "ui/session/session_controller.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>
#include <QtCore/QStandardPaths>
#include <QtCore/QTimer>
#include <QtGui/QIcon>
#include <QtGui/QPixmap>
#include <QtGui/QAction>
#include <QtWidgets/QApplication>

#include <cstdio>
#include <map>
#include <optional>

namespace {

enum ExitCode { Done = 0, Failed = 1, BadInput = 2 };

void printError(const QString& sentence) {
    std::fprintf(stderr, "ptq-studio: %s\n", qUtf8Printable(sentence));
}

/// Renders @p window into @p path as PNG, atomically. Returns an error sentence or empty.
QString writeScreenshot(QWidget* window, const QString& path) {
    const QPixmap pixmap = window->grab();
    if (pixmap.isNull()) return QStringLiteral("Could not render the window for the screenshot.");
    const QFileInfo info(path);
    if (!info.absoluteDir().exists() && !QDir().mkpath(info.absolutePath()))
        return QStringLiteral("Cannot create the folder %1 for the screenshot.").arg(info.absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !pixmap.save(&file, "PNG") || !file.commit())
        return QStringLiteral("Cannot write the screenshot %1: %2.").arg(path, file.errorString());
    return {};
}

/// --run names -> the Quantize menu's actions (started as a user would, so their live plots show).
const std::map<QString, QString>& runnableJobs() {
    static const std::map<QString, QString> jobs{
        {QStringLiteral("calibrate"), QStringLiteral("actionCalibrate")},
        {QStringLiteral("evaluate"), QStringLiteral("actionEvaluate")},
        {QStringLiteral("adaquant"), QStringLiteral("actionAdaQuantParallel")},
        {QStringLiteral("adaquant-seq"), QStringLiteral("actionAdaQuantSequential")},
        {QStringLiteral("bn-tuning"), QStringLiteral("actionBnTuning")},
        {QStringLiteral("bias-correction"), QStringLiteral("actionBiasCorrection")},
        {QStringLiteral("bias-tuning"), QStringLiteral("actionBiasTuning")},
        {QStringLiteral("light"), QStringLiteral("actionLightPipeline")},
        {QStringLiteral("advanced"), QStringLiteral("actionAdvancedPipeline")}};
    return jobs;
}

}  // namespace

int main(int argc, char** argv) {
    ptq::preferPassiveOpenMpWait(argv);
    ptq::initRuntime();
    QElapsedTimer startClock;
    startClock.start();

    QApplication app(argc, argv);
    // QSettings and the data folder are both named after the product.
    QApplication::setOrganizationName(QStringLiteral("PTQ Studio"));
    QApplication::setApplicationName(QStringLiteral("PTQ Studio"));
    QApplication::setApplicationDisplayName(QStringLiteral("PTQ Studio"));
    QApplication::setApplicationVersion(QStringLiteral(PTQ_VERSION));
    // The installed desktop entry and icon (packaging/): lets the desktop match the window to them.
    QGuiApplication::setDesktopFileName(QStringLiteral("org.ptqstudio.PTQStudio"));
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("ptq-studio")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Interactive post-training quantization of neural networks."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("MODEL"),
                                 QStringLiteral("TorchScript model (.pt) or project (.ptqproj) to open; the bundled demo when omitted."),
                                 QStringLiteral("[MODEL]"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Render the main window to FILE (PNG) once the initial jobs (import, sensitivity, first allocation) finish, then exit."),
        QStringLiteral("FILE"));
    parser.addOption(screenshotOption);
    const QCommandLineOption calibOption(
        QStringLiteral("calib"),
        QStringLiteral("Calibration data source for the sensitivity table (default fmnist:train:256)."),
        QStringLiteral("SRC"));
    parser.addOption(calibOption);
    const QCommandLineOption budgetSizeOption(
        QStringLiteral("budget-size"),
        QStringLiteral("Initial compression budget: quantizable weight size as a fraction R of FP32 (e.g. 0.15)."),
        QStringLiteral("R"));
    parser.addOption(budgetSizeOption);
    const QCommandLineOption evalOption(
        QStringLiteral("eval"),
        QStringLiteral("Labelled evaluation data for Evaluate and the pipelines (default fmnist:test)."),
        QStringLiteral("SRC"));
    parser.addOption(evalOption);
    QStringList runNames;
    for (const auto& [name, action] : runnableJobs()) runNames << name;
    const QCommandLineOption runOption(
        QStringLiteral("run"),
        QStringLiteral("Start JOB once the initial jobs finish, as the Quantize menu does: %1. With --screenshot, the "
                       "window is rendered when JOB ends (or, with --screenshot-at, while it runs).")
            .arg(runNames.join(QStringLiteral(", "))),
        QStringLiteral("JOB"));
    parser.addOption(runOption);
    const QCommandLineOption screenshotAtOption(
        QStringLiteral("screenshot-at"),
        QStringLiteral("With --run and --screenshot: render once the job's progress reaches F (0 < F < 1)."),
        QStringLiteral("F"));
    parser.addOption(screenshotAtOption);
    parser.process(app);  // --help and --version print and exit here

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        printError(QStringLiteral("Give at most one model file (got %1); see --help.").arg(positional.size()));
        return BadInput;
    }
    const QString screenshotPath = parser.value(screenshotOption);
    const bool screenshot = parser.isSet(screenshotOption);
    if (screenshot && screenshotPath.isEmpty()) {
        printError(QStringLiteral("--screenshot needs a file name, e.g. --screenshot window.png."));
        return BadInput;
    }

    std::optional<double> budgetSize;
    if (parser.isSet(budgetSizeOption)) {
        bool ok = false;
        const double r = parser.value(budgetSizeOption).toDouble(&ok);
        if (!ok || r <= 0 || r > 1) {
            printError(QStringLiteral("--budget-size needs a fraction of the FP32 size in (0, 1], e.g. --budget-size 0.15."));
            return BadInput;
        }
        budgetSize = r;
    }

    const QString runJob = parser.value(runOption);
    if (parser.isSet(runOption) && !runnableJobs().count(runJob)) {
        printError(QStringLiteral("--run takes one of %1, not \"%2\".").arg(runNames.join(QStringLiteral(", ")), runJob));
        return BadInput;
    }
    std::optional<double> screenshotAt;
    if (parser.isSet(screenshotAtOption)) {
        bool ok = false;
        const double f = parser.value(screenshotAtOption).toDouble(&ok);
        if (!ok || f <= 0 || f >= 1 || !parser.isSet(runOption) || !screenshot) {
            printError(QStringLiteral("--screenshot-at needs --run and --screenshot and a fraction between 0 and 1, e.g. "
                                      "--screenshot-at 0.5."));
            return BadInput;
        }
        screenshotAt = f;
    }

    const QString dataDir = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation);
    const QString logPath = QDir(dataDir).filePath(QStringLiteral("ptq-studio.log"));
    ptq::setConsoleLogLevel(spdlog::level::off);  // errors reach stderr once, as a sentence
    ptq::addLogFile(logPath.toStdString());
    ptq::ui::LogBridge::instance();  // before any worker thread logs

    ptq::ui::MainWindow::Options options;
    options.persistLayout = !screenshot;  // screenshots show the default layout
    options.initialSizeRatio = budgetSize;
    // The data source names are parsed here, once: a bad one stops before any window opens.
    std::optional<ptq::DataSourceSpec> evaluation;
    try {
        if (parser.isSet(calibOption)) {
            ptq::parseDataSource(parser.value(calibOption).toStdString());
            options.calibrationSource = parser.value(calibOption);
        }
        if (parser.isSet(evalOption)) evaluation = ptq::parseDataSource(parser.value(evalOption).toStdString());
    } catch (const ptq::Error& e) {
        printError(QString::fromStdString(e.what()));
        return BadInput;
    }
    ptq::ui::MainWindow window(options);
    if (screenshot) window.resize(ptq::ui::MainWindow::defaultSize());
    if (evaluation) window.controller()->tuning()->setEvaluationSource(*evaluation);

    auto log = ptq::logger();
    log->info("PTQ Studio {} starting: Qt {}, platform {}, {} compute threads", PTQ_VERSION, qVersion(),
              QGuiApplication::platformName().toStdString(), ptq::runtimeThreads());
    log->info("Log file {}", logPath.toStdString());

    QString modelPath = positional.value(0);
    if (modelPath.isEmpty()) modelPath = QString::fromStdString(ptq::demoModelPath());

    int exitCode = Done;
    auto shoot = [&] {
        // Let queued layout, replots and paint requests settle before rendering.
        QTimer::singleShot(300, &app, [&] {
            const QString error = writeScreenshot(&window, screenshotPath);
            if (!error.isEmpty()) {
                printError(error);
                log->error("{}", error.toStdString());
                app.exit(Failed);
                return;
            }
            log->info("Wrote the screenshot {}", screenshotPath.toStdString());
            app.exit(Done);
        });
    };
    int runId = -1;
    bool shot = false;
    if (!runJob.isEmpty()) {
        QObject::connect(&window, &ptq::ui::MainWindow::initialJobsFinished, &app, [&, started = false]() mutable {
            if (started) return;
            started = true;
            auto c = QObject::connect(window.controller()->jobs(), &ptq::ui::JobRunner::jobQueued, &app,
                                      [&](int id) { runId = id; });
            auto* action = window.findChild<QAction*>(runnableJobs().at(runJob));
            if (action) action->trigger();
            QObject::disconnect(c);
        });
        if (screenshot) {
            QObject::connect(window.controller()->jobs(), &ptq::ui::JobRunner::jobProgress, &app,
                             [&](int id, double fraction) {
                                 if (id != runId || shot || !screenshotAt || fraction < *screenshotAt) return;
                                 shot = true;
                                 shoot();
                             });
            QObject::connect(window.controller()->jobs(), &ptq::ui::JobRunner::jobFinished, &app,
                             [&](int id, const QString&, bool ok) {
                                 if (id != runId || shot || !ok) return;
                                 shot = true;
                                 shoot();
                             });
        }
    }
    if (screenshot) {
        if (runJob.isEmpty()) QObject::connect(&window, &ptq::ui::MainWindow::initialJobsFinished, &app, shoot);
        QObject::connect(&window, &ptq::ui::MainWindow::modelLoadFailed, &app,
                         [&](const QString& message, bool invalidInput) {
                             printError(message);
                             app.exit(invalidInput ? BadInput : Failed);
                         });
        QObject::connect(window.controller(), &ptq::ui::SessionController::jobFinished, &app,
                         [&](const QString& title, bool ok, const QString& message, bool invalidInput) {
                             if (ok || title.startsWith(QStringLiteral("Import"))) return;
                             printError(QStringLiteral("%1: %2").arg(title, message));
                             app.exit(invalidInput ? BadInput : Failed);
                         });
    }
    QObject::connect(&window, &ptq::ui::MainWindow::modelLoaded, &app, [&, first = true](const QString& name) mutable {
        if (!first) return;
        first = false;
        log->info("Window ready with {} after {:.2f} s", name.toStdString(), double(startClock.elapsed()) / 1000.0);
    });

    window.show();
    if (modelPath.isEmpty()) {
        const QString sentence = QStringLiteral(
            "The bundled demo model resnet20_fmnist.pt was not found; open a model with File > Open model.");
        log->error("{}", sentence.toStdString());
        if (screenshot) {
            printError(sentence);
            return Failed;
        }
        window.reportError(QStringLiteral("No model"), sentence);
    } else if (modelPath.endsWith(QLatin1String(".ptqproj"))) {
        window.projectManager()->openProject(modelPath);
    } else if (screenshot || !window.projectManager()->offerRecovery()) {
        window.openModel(modelPath);  // unless unsaved work from a crash was recovered instead
    }
    exitCode = app.exec();
    log->info("PTQ Studio exiting with code {}", exitCode);
    return exitCode;
}
