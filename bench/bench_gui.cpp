// ptq-bench-gui [--json] [--positions N] [--model MODEL] [--calib SRC]: slider-to-repaint
// latency of the budget panel, p50 / p99 over N compression-slider positions, on the demo model's
// sensitivity table and on a synthetic 54-layer table. What one sample spans: the slider's
// value changes on the UI thread, the solve runs on the solve thread, the graph, table, plots
// and figures update, and the window's pending repaint has been painted. Figures, never
// pass/fail. `ptq bench gui` runs this program.

#include "core/model/model_card.h"
#include "core/session/allocation.h"
#include "core/util/percentile.h"
#include "core/util/runtime.h"
#include "ui/graph/graph_view.h"
#include "ui/mainwindow/main_window.h"
#include "ui/panels/budget_panel.h"
#include "ui/panels/graph_panel.h"
#include "ui/session/session_controller.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtWidgets/QApplication>
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
        auto c2 = QObject::connect(window.controller(), &ptq::ui::SessionController::solveInfeasible,
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

}  // namespace

int main(int argc, char** argv) {
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
    const QStringList args = QApplication::arguments();
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--json")) json = true;
        else if (args[i] == QLatin1String("--positions") && i + 1 < args.size()) positions = std::max(2, args[++i].toInt());
        else if (args[i] == QLatin1String("--model") && i + 1 < args.size()) model = args[++i];
        else if (args[i] == QLatin1String("--calib") && i + 1 < args.size()) calib = args[++i];
        else {
            std::fprintf(stderr, "usage: ptq bench gui [--json] [--positions N] [--model MODEL] [--calib SRC]\n");
            return 2;
        }
    }

    ptq::ui::MainWindow::Options options;
    options.persistLayout = false;
    ptq::ui::MainWindow window(options);
    window.resize(ptq::ui::MainWindow::defaultSize());
    window.show();

    std::vector<Figures> results;
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
        std::printf("%s\n", QJsonDocument(QJsonObject{{"slider_to_repaint", rows}, {"goal_p99_ms", 33}})
                                .toJson(QJsonDocument::Compact)
                                .constData());
    } else {
        std::printf("slider-to-repaint latency over %d compression-slider positions (goal p99 <= 33 ms)\n", positions);
        for (const Figures& f : results)
            std::printf("  %-16s %3d layers: p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (solver p50 %.2f, max %.1f ms; window "
                        "repainted %d/%d, graph %d/%d; infeasible %d)\n",
                        f.name.c_str(), f.layers, f.p50, f.p99, f.max, f.solverP50, f.solverMax, f.repainted, f.samples,
                        f.graphRepainted, f.samples, f.infeasible);
    }
    return 0;
}
