// ptq-bench-gui [--json] [--positions N] [--model MODEL] [--calib SRC] [--adaquant-iters N]:
// slider-to-repaint latency of the budget panel, p50 / p99 over N compression-slider positions,
// on the demo model's sensitivity table and on a synthetic 54-layer table. What one sample
// spans: the slider's value changes on the UI thread, the solve runs on the solve thread, the
// graph, table, plots and figures update, and the window's pending repaint has been painted.
// Then, on the demo model, the longest UI-thread stall while AdaQuant runs in the background
// with its live plots shown and the slider dragged (a 5 ms timer on the UI thread: a stall is
// how much later than due a tick came), and how fast a running AdaQuant stops when cancelled.
// Figures, never pass/fail. `ptq bench gui` runs this program.

#include "bench/harness/synthetic.h"
#include "core/model/model_card.h"
#include "core/workflow/budget.h"
#include "core/util/percentile.h"
#include "core/util/runtime.h"
#include "ui/graph/graph_view.h"
#include "ui/mainwindow/main_window.h"
#include "ui/panels/budget_panel.h"
#include "ui/panels/graph_panel.h"
#include "ui/plots/progress_plots.h"
#include "ui/session/session_controller.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtWidgets/QApplication>
#include <QtWidgets/QDockWidget>
#include <QtWidgets/QSlider>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

/// Counts paint events of any widget (and of the graph viewport), so a sample can say what
/// it repainted.
class PaintCounter : public QObject {
public:
    int paints = 0, graphPaints = 0;
    QObject* graph = nullptr;
    bool eventFilter(QObject* o, QEvent* e) override {
        if (e->type() == QEvent::Paint) {
            ++paints;
            if (o == graph) ++graphPaints;
        }
        return false;
    }
};

bool spinUntil(const std::function<bool()>& done, int timeoutMs) {
    QDeadlineTimer deadline(timeoutMs);
    while (!done()) {
        if (deadline.hasExpired()) return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 5);
    }
    return true;
}

struct Figures {
    std::string name;
    int layers = 0, samples = 0, repainted = 0, graphRepainted = 0, infeasible = 0;
    double p50 = 0, p99 = 0, max = 0, solverP50 = 0, solverMax = 0;
};

Figures sweep(ptq::ui::MainWindow& window, const std::string& name, int positions) {
    Figures f;
    f.name = name;
    f.layers = window.controller()->session().problem->layerCount();
    QSlider* slider = window.budgetPanel()->compressionSlider();
    PaintCounter counter;
    counter.graph = window.graphPanel()->view()->viewport();
    qApp->installEventFilter(&counter);
    std::vector<double> ms, solver;
    for (int i = 0; i < positions; ++i) {
        // Sweep down and back up, so neighbouring positions differ as a drag does.
        const int k = i < positions / 2 ? i : positions - 1 - i;
        const int value = ptq::ui::BudgetPanel::kSteps - k * (ptq::ui::BudgetPanel::kSteps / std::max(1, positions / 2));
        bool shown = false, infeasible = false;
        auto c1 = QObject::connect(&window, &ptq::ui::MainWindow::allocationShown, [&] { shown = true; });
        auto c2 = QObject::connect(window.controller()->budgetState(), &ptq::ui::BudgetController::solveInfeasible,
                                   [&] { infeasible = true; });
        const int paintsBefore = counter.paints, graphBefore = counter.graphPaints;
        QElapsedTimer clock;
        clock.start();
        slider->setValue(value == slider->value() ? value - 1 : value);
        spinUntil([&] { return (shown || infeasible) && window.controller()->isIdle(); }, 10000);
        // Let queued replots run, then paint what is dirty, as the next frame would.
        QCoreApplication::processEvents();
        QCoreApplication::sendPostedEvents(nullptr, QEvent::UpdateRequest);
        ms.push_back(double(clock.nsecsElapsed()) / 1e6);
        solver.push_back(window.controller()->session().allocation.solverMs);
        f.repainted += counter.paints > paintsBefore ? 1 : 0;
        f.graphRepainted += counter.graphPaints > graphBefore ? 1 : 0;
        f.infeasible += infeasible ? 1 : 0;
        QObject::disconnect(c1);
        QObject::disconnect(c2);
    }
    qApp->removeEventFilter(&counter);
    f.samples = int(ms.size());
    f.p50 = ptq::percentile(ms, 0.5);
    f.p99 = ptq::percentile(ms, 0.99);
    f.max = ptq::percentile(ms, 1.0);
    f.solverP50 = ptq::percentile(solver, 0.5);
    f.solverMax = ptq::percentile(solver, 1.0);
    return f;
}

struct StallFigures {
    bool ran = false;
    int ticks = 0, sliderMoves = 0, redraws = 0, layers = 0;
    double jobSeconds = 0, maxStallMs = 0, p99StallMs = 0, p50StallMs = 0;
    double cancelWorkerMs = -1, cancelUiMs = -1;
};

/// AdaQuant (parallel, @p iterations per layer) on the open model's current allocation while a
/// 5 ms probe timer and a slider drag run on the UI thread; then a second AdaQuant cancelled
/// after a second of training.
StallFigures stallDuringAdaQuant(ptq::ui::MainWindow& window, int iterations) {
    StallFigures f;
    ptq::ui::SessionController* controller = window.controller();
    ptq::TuningOptions tuning = controller->tuning()->tuningOptions();
    tuning.adaquant.iterations = iterations;
    controller->tuning()->setTuningOptions(tuning);
    for (QDockWidget* dock : window.docks())
        if (dock->objectName() == QLatin1String("progressDock")) dock->raise();  // its plots redraw live
    const int redrawsBefore = window.progressPlots()->redraws();

    std::vector<double> stalls;
    QElapsedTimer sinceTick;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        if (sinceTick.isValid()) stalls.push_back(std::max(0.0, double(sinceTick.nsecsElapsed()) / 1e6 - 5.0));
        sinceTick.restart();
    });
    QSlider* slider = window.budgetPanel()->compressionSlider();
    QTimer drag;  // a user dragging the compression budget meanwhile
    drag.setInterval(200);
    int step = 0;
    QObject::connect(&drag, &QTimer::timeout, [&] {
        const int span = ptq::ui::BudgetPanel::kSteps / 3;
        slider->setValue(ptq::ui::BudgetPanel::kSteps - (step++ % 20) * span / 20);
        ++f.sliderMoves;
    });

    bool done = false, ok = false;
    auto c = QObject::connect(controller->jobs(), &ptq::ui::JobRunner::jobFinished,
                              [&](int, const QString&, bool good) { done = true; ok = good; });
    QElapsedTimer job;
    job.start();
    if (controller->tuning()->runTuningStep(ptq::TuningStep::AdaQuantParallel) < 0) return f;
    probe.start();
    drag.start();
    spinUntil([&] { return done; }, 3600000);
    probe.stop();
    drag.stop();
    QObject::disconnect(c);
    f.jobSeconds = double(job.nsecsElapsed()) / 1e9;
    if (!ok) return f;
    f.ran = true;
    f.ticks = int(stalls.size());
    f.maxStallMs = ptq::percentile(stalls, 1.0);
    f.p99StallMs = ptq::percentile(stalls, 0.99);
    f.p50StallMs = ptq::percentile(stalls, 0.5);
    f.redraws = window.progressPlots()->redraws() - redrawsBefore;
    f.layers = int(controller->tuning()->tunedState() ? controller->tuning()->tunedState()->adaquantLayers.size() : 0);

    // Cancel: a long AdaQuant, cancelled once it has trained for a second.
    tuning.adaquant.iterations = 100000;
    controller->tuning()->setTuningOptions(tuning);
    done = false;
    c = QObject::connect(controller->jobs(), &ptq::ui::JobRunner::jobFinished, [&] { done = true; });
    const int id = controller->tuning()->runTuningStep(ptq::TuningStep::AdaQuantParallel);
    spinUntil([&] { return !controller->tuning()->liveFeed()->figures().adaquantLoss.empty(); }, 600000);
    spinUntil([] { return false; }, 1000);
    QElapsedTimer ui;
    ui.start();
    controller->jobs()->cancel(id);
    spinUntil([&] { return done; }, 600000);
    f.cancelUiMs = double(ui.nsecsElapsed()) / 1e6;
    f.cancelWorkerMs = controller->jobs()->lastCancelLatencyMs();
    QObject::disconnect(c);
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    ptq::preferPassiveOpenMpWait(argv);
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM") && !qEnvironmentVariableIsSet("DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    ptq::initRuntime();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("PTQ Studio"));
    QApplication::setApplicationName(QStringLiteral("PTQ Studio"));

    bool json = false;
    int positions = 100;
    QString model = QString::fromStdString(ptq::demoModelPath());
    QString calib = QStringLiteral("fmnist:train:256");
    int adaquantIterations = 100;
    const QStringList args = QApplication::arguments();
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--json")) json = true;
        else if (args[i] == QLatin1String("--positions") && i + 1 < args.size()) positions = std::max(2, args[++i].toInt());
        else if (args[i] == QLatin1String("--model") && i + 1 < args.size()) model = args[++i];
        else if (args[i] == QLatin1String("--calib") && i + 1 < args.size()) calib = args[++i];
        else if (args[i] == QLatin1String("--adaquant-iters") && i + 1 < args.size())
            adaquantIterations = std::max(1, args[++i].toInt());
        else {
            std::fprintf(stderr, "usage: ptq bench gui [--json] [--positions N] [--model MODEL] [--calib SRC] "
                                 "[--adaquant-iters N]\n");
            return 2;
        }
    }

    ptq::ui::MainWindow::Options options;
    options.persistLayout = false;
    ptq::ui::MainWindow window(options);
    window.resize(ptq::ui::MainWindow::defaultSize());
    window.show();

    std::vector<Figures> results;
    StallFigures stall;
    if (!model.isEmpty()) {
        bool ready = false, failed = false;
        QObject::connect(&window, &ptq::ui::MainWindow::initialJobsFinished, [&] { ready = true; });
        QObject::connect(window.controller(), &ptq::ui::SessionController::jobFinished,
                         [&](const QString&, bool ok) { failed = failed || !ok; });
        window.openModel(model, calib);
        if (!spinUntil([&] { return ready || failed; }, 600000) || failed) {
            std::fprintf(stderr, "ptq bench gui: the demo model's table could not be made; see the log.\n");
            return 1;
        }
        results.push_back(sweep(window, window.modelName().toStdString(), positions));
        stall = stallDuringAdaQuant(window, adaquantIterations);
    }
    bool ready = false;
    auto c = QObject::connect(&window, &ptq::ui::MainWindow::allocationShown, [&] { ready = true; });
    window.controller()->installTable(std::make_shared<const ptq::SensitivityResult>(ptq::syntheticSensitivity(54)));
    spinUntil([&] { return ready && window.controller()->isIdle(); }, 60000);
    QObject::disconnect(c);
    results.push_back(sweep(window, "synthetic-54", positions));

    if (json) {
        QJsonArray rows;
        for (const Figures& f : results)
            rows.append(QJsonObject{{"problem", QString::fromStdString(f.name)}, {"layers", f.layers},
                                    {"positions", f.samples}, {"p50_ms", f.p50}, {"p99_ms", f.p99}, {"max_ms", f.max},
                                    {"solver_p50_ms", f.solverP50}, {"solver_max_ms", f.solverMax}, {"repainted", f.repainted}, {"graph_repainted", f.graphRepainted},
                                    {"infeasible", f.infeasible}});
        const QJsonObject stallJson{{"ran", stall.ran},
                                    {"adaquant_iterations", adaquantIterations},
                                    {"layers", stall.layers},
                                    {"job_s", stall.jobSeconds},
                                    {"probe_ticks", stall.ticks},
                                    {"slider_moves", stall.sliderMoves},
                                    {"max_stall_ms", stall.maxStallMs},
                                    {"p99_stall_ms", stall.p99StallMs},
                                    {"p50_stall_ms", stall.p50StallMs},
                                    {"plot_redraws", stall.redraws},
                                    {"plot_redraws_per_s", stall.jobSeconds > 0 ? stall.redraws / stall.jobSeconds : 0.0},
                                    {"cancel_worker_ms", stall.cancelWorkerMs},
                                    {"cancel_ui_ms", stall.cancelUiMs},
                                    {"goal_max_stall_ms", 50},
                                    {"goal_cancel_ms", 500}};
        std::printf("%s\n", QJsonDocument(QJsonObject{{"slider_to_repaint", rows}, {"goal_p99_ms", 33},
                                                      {"ui_stall_during_adaquant", stallJson}})
                                .toJson(QJsonDocument::Compact)
                                .constData());
    } else {
        std::printf("slider-to-repaint latency over %d compression-slider positions (goal p99 <= 33 ms)\n", positions);
        for (const Figures& f : results)
            std::printf("  %-16s %3d layers: p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (solver p50 %.2f, max %.1f ms; window "
                        "repainted %d/%d, graph %d/%d; infeasible %d)\n",
                        f.name.c_str(), f.layers, f.p50, f.p99, f.max, f.solverP50, f.solverMax, f.repainted, f.samples,
                        f.graphRepainted, f.samples, f.infeasible);
        if (stall.ran) {
            std::printf("UI thread while AdaQuant runs (%d iterations x %d layers, %.1f s; live plots shown, slider "
                        "moved %d times): longest stall %.1f ms, p99 %.1f ms, p50 %.2f ms over %d probe ticks "
                        "(goal <= 50 ms); live plots redrew %d times (%.1f a second, at most 10)\n",
                        adaquantIterations, stall.layers, stall.jobSeconds, stall.sliderMoves, stall.maxStallMs,
                        stall.p99StallMs, stall.p50StallMs, stall.ticks, stall.redraws,
                        stall.jobSeconds > 0 ? stall.redraws / stall.jobSeconds : 0.0);
            std::printf("cancel of a running AdaQuant: the worker stopped %.1f ms after the request, the UI heard of it "
                        "after %.1f ms (goal <= 500 ms)\n", stall.cancelWorkerMs, stall.cancelUiMs);
        } else if (!model.isEmpty()) {
            std::printf("UI stall during AdaQuant: not measured (the AdaQuant job did not finish; see the log)\n");
        }
    }
    return 0;
}
