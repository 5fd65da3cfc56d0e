// Projects in the main window, offscreen, on the demo model: save -> open gives the same
// session (an adopted Pareto point and pins included); a bad project changes nothing and says
// why; a changed model asks whether to measure again; an autosave newer than its project is
// offered at start and restores its content; File > Export writes JSON whose layers carry the
// allocation, and the HTML report. Choices that would be dialogs are injected.
#include "core/workflow/export.h"
#include "core/io/project_file.h"
#include "core/model/model_card.h"
#include "core/onnx/onnx_model.h"
#include "core/util/runtime.h"
#include "ui/mainwindow/main_window.h"
#include "ui/project/export_dialog.h"
#include "ui/project/project_manager.h"
#include "ui/session/session_controller.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QMessageBox>

#include <algorithm>
#include <cmath>

using namespace ptq::ui;

namespace {
constexpr int kTimeoutMs = 300000;

QJsonObject readJson(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}
void writeJson(const QString& path, const QJsonObject& o) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(QJsonDocument(o).toJson());
}
/// Closes the error dialog the window shows, returning its text (empty when none).
QString takeErrorDialog(QWidget* window) {
    QMessageBox* box = nullptr;
    for (int i = 0; i < 100 && !box; ++i) {
        box = window->findChild<QMessageBox*>(QStringLiteral("errorDialog"));
        if (!box) QTest::qWait(20);
    }
    if (!box) return {};
    const QString text = box->text();
    box->close();
    box->deleteLater();
    QTest::qWait(0);
    return text;
}
}  // namespace

class TestProjectGui : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void saveThenOpenGivesTheSameSession();
    void badProjectChangesNothing();
    void changedModelAsksToMeasureAgain();
    void autosaveIsOfferedAndRestores();
    void exportJsonCarriesTheAllocation();
    void exportOnnx();
    void exportHtmlReport();

private:
    std::unique_ptr<MainWindow> makeWindow();
    bool waitIdle(MainWindow* w);

    QTemporaryDir dir_, cacheDir_;
    std::unique_ptr<MainWindow> window_;
    QString saved_;
    std::vector<int> savedChoice_;
    std::map<int, int> savedPins_;
};

std::unique_ptr<MainWindow> TestProjectGui::makeWindow() {
    MainWindow::Options options;
    options.persistLayout = false;
    options.calibrationSource = QStringLiteral("fmnist:train:64");
    options.cacheDirectory = cacheDir_.path();
    auto w = std::make_unique<MainWindow>(options);
    w->projectManager()->setAutosaveInterval(0);  // the tests call autosave() themselves
    w->show();
    return w;
}

bool TestProjectGui::waitIdle(MainWindow* w) {
    QElapsedTimer clock;
    clock.start();
    while (!w->controller()->isIdle() && clock.elapsed() < kTimeoutMs) QTest::qWait(10);
    return w->controller()->isIdle();
}

void TestProjectGui::initTestCase() {
    QVERIFY(dir_.isValid() && cacheDir_.isValid());
    window_ = makeWindow();
    QSignalSpy ready(window_.get(), &MainWindow::initialJobsFinished);
    window_->openModel(QString::fromStdString(ptq::demoModelPath()));
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
    QVERIFY(window_->controller()->session().hasTable());
}

void TestProjectGui::saveThenOpenGivesTheSameSession() {
    SessionController* c = window_->controller();
    ProjectManager* pm = window_->projectManager();
    // A pin, then a frontier point adopted as it is (not what the budget's solve would give).
    c->budgetState()->setPin(1, 0);
    QVERIFY(waitIdle(window_.get()));
    const auto frontier = c->session().problem->pareto(c->budgetState()->budget());
    QVERIFY(frontier.size() > 3);
    c->budgetState()->adoptChoice(frontier[frontier.size() / 3].choice);
    QVERIFY(pm->isDirty());
    savedChoice_ = c->session().allocation.choice;
    savedPins_ = c->session().pins;
    const ptq::BudgetRequest budget = c->budgetState()->budget();
    const auto table = c->session().sensitivity;
    saved_ = dir_.filePath("demo.ptqproj");
    QSignalSpy savedSpy(pm, &ProjectManager::projectSaved);
    QVERIFY(pm->saveProject(saved_));
    QCOMPARE(savedSpy.count(), 1);
    QVERIFY(!pm->isDirty());
    QCOMPARE(pm->projectPath(), saved_);

    // Change the session, then open the project again.
    c->budgetState()->setPins({});
    QVERIFY(waitIdle(window_.get()));
    QVERIFY(c->session().pins.empty());
    QSignalSpy opened(pm, &ProjectManager::projectOpened);
    pm->openProject(saved_);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeoutMs);
    QVERIFY(waitIdle(window_.get()));
    const ptq::Session& s = c->session();
    QVERIFY(s.allocation.choice == savedChoice_);
    QVERIFY(s.pins == savedPins_);
    QCOMPARE(s.sensitivity->layers.size(), table->layers.size());
    for (size_t i = 0; i < table->layers.size(); ++i)
        for (size_t k = 0; k < table->options.size(); ++k)
            QCOMPARE(s.sensitivity->cells[i][k].deltaLoss, table->cells[i][k].deltaLoss);
    QCOMPARE(c->budgetState()->budget().costRatio, budget.costRatio);
    QCOMPARE(int(c->budgetState()->budget().metric), int(budget.metric));
    QVERIFY(!pm->isDirty());
    QCOMPARE(window_->modelName(), QStringLiteral("resnet20_fmnist"));
}

void TestProjectGui::badProjectChangesNothing() {
    SessionController* c = window_->controller();
    ProjectManager* pm = window_->projectManager();
    const auto model = c->session().model;
    const auto table = c->session().sensitivity;
    const auto choice = c->session().allocation.choice;
    const auto pins = c->session().pins;
    QJsonObject o = readJson(saved_);
    QJsonArray p = o["pins"].toArray();
    p.append(QJsonObject{{"layer", "conv9"}, {"option", "w4a8"}});
    o["pins"] = p;
    const QString bad = dir_.filePath("bad.ptqproj");
    writeJson(bad, o);
    QSignalSpy failed(pm, &ProjectManager::projectOpenFailed);
    pm->openProject(bad);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeoutMs);
    const QString message = failed.at(0).at(0).toString();
    QVERIFY2(message.contains(QStringLiteral("pins[1].layer: \"conv9\" is not a layer of the model")), qPrintable(message));
    QVERIFY(takeErrorDialog(window_.get()).contains(QStringLiteral("conv9")));
    QVERIFY(waitIdle(window_.get()));
    QCOMPARE(c->session().model, model);
    QCOMPARE(c->session().sensitivity, table);
    QVERIFY(c->session().allocation.choice == choice);
    QVERIFY(c->session().pins == pins);
    QCOMPARE(pm->projectPath(), saved_);
}

void TestProjectGui::changedModelAsksToMeasureAgain() {
    ProjectManager* pm = window_->projectManager();
    SessionController* c = window_->controller();
    // The project says the model had another content than it has now.
    QJsonObject o = readJson(saved_);
    QJsonObject m = o["model"].toObject();
    m["sha256"] = QString(64, QLatin1Char('0'));
    o["model"] = m;
    const QString changed = dir_.filePath("changed.ptqproj");
    writeJson(changed, o);
    QStringList asked;
    pm->setModelChangeChooser([&](const QString& sentence) {
        asked << sentence;
        return ProjectManager::ModelChange::KeepTable;
    });
    QSignalSpy opened(pm, &ProjectManager::projectOpened);
    pm->openProject(changed);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeoutMs);
    QCOMPARE(asked.size(), 1);
    QVERIFY2(asked[0].contains(QStringLiteral("has changed since the project was saved")), qPrintable(asked[0]));
    QVERIFY(c->session().allocation.choice == savedChoice_);  // the cached table and allocation kept

    // Measuring again: a sensitivity job runs and installs a new table.
    pm->setModelChangeChooser([&](const QString&) { return ProjectManager::ModelChange::Recompute; });
    QSignalSpy measured(c, &SessionController::sensitivityReady);
    pm->openProject(changed);
    QTRY_VERIFY_WITH_TIMEOUT(measured.count() >= 2, kTimeoutMs);  // the restore's, then the measurement's
    QVERIFY(waitIdle(window_.get()));
    QVERIFY(pm->isDirty());
    QVERIFY(c->session().pins.empty());  // a new table forgets the pins
}

void TestProjectGui::autosaveIsOfferedAndRestores() {
    ProjectManager* pm = window_->projectManager();
    SessionController* c = window_->controller();
    QSignalSpy opened(pm, &ProjectManager::projectOpened);
    pm->openProject(saved_);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeoutMs);
    QVERIFY(waitIdle(window_.get()));
    // Unsaved work: other pins, then an autosave (as the timer would), then a "crash".
    c->budgetState()->setPins({{0, 1}, {3, 2}});
    QVERIFY(waitIdle(window_.get()));
    const auto autosavedPins = c->session().pins;
    const auto autosavedChoice = c->session().allocation.choice;
    QVERIFY(pm->autosave());
    const QString autosave = saved_ + QStringLiteral(".autosave");
    QCOMPARE(pm->autosavePath(), autosave);
    QVERIFY(QFileInfo::exists(autosave));
    {
        QFile f(autosave);  // newer than the project, whatever the clock's resolution
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.setFileTime(QDateTime::currentDateTime().addSecs(30), QFileDevice::FileModificationTime));
    }

    // The next start: offered, accepted, restored, still unsaved.
    auto next = makeWindow();
    QStringList offered;
    next->projectManager()->setRecoveryChooser([&](const QString& path) {
        offered << path;
        return true;
    });
    QSignalSpy recovered(next->projectManager(), &ProjectManager::projectOpened);
    QVERIFY(next->projectManager()->offerRecovery(saved_));
    QCOMPARE(offered, QStringList{autosave});
    QTRY_COMPARE_WITH_TIMEOUT(recovered.count(), 1, kTimeoutMs);
    QVERIFY(waitIdle(next.get()));
    QVERIFY(next->controller()->session().pins == autosavedPins);
    QVERIFY(next->controller()->session().allocation.choice == autosavedChoice);
    QCOMPARE(next->projectManager()->projectPath(), saved_);
    QVERIFY(next->projectManager()->isDirty());
    // Saving it makes the autosave obsolete.
    QVERIFY(next->projectManager()->save());
    QVERIFY(!QFileInfo::exists(autosave));
    QVERIFY(!next->projectManager()->offerRecovery(saved_));
}

void TestProjectGui::exportJsonCarriesTheAllocation() {
    SessionController* c = window_->controller();
    ExportDialog dialog(window_.get(), c);
    dialog.formatCombo()->setCurrentIndex(dialog.formatCombo()->findData(int(ptq::ExportFormat::Json)));
    const QString out = dir_.filePath("export.json");
    dialog.fileEdit()->setText(out);
    QSignalSpy finished(&dialog, &ExportDialog::exportFinished);
    QVERIFY(dialog.startExport());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
    QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
    const QJsonObject o = readJson(out);
    QCOMPARE(o["format"].toString(), QStringLiteral("ptq-config"));
    const ptq::Session& s = c->session();
    // The recorded prediction is the one through the loss (never above FP32's), as ptq export's.
    const QJsonObject metrics = o["metrics"].toObject();
    QCOMPARE(metrics.contains("predicted_top1"), bool(std::isfinite(s.allocation.deltaTop1FromLoss)));
    if (metrics.contains("predicted_top1"))
        QCOMPARE(metrics["predicted_top1"].toDouble(),
                 s.sensitivity->fp32Top1 + std::min(0.0, s.allocation.deltaTop1FromLoss));
    const QJsonArray layers = o["layers"].toArray();
    QCOMPARE(size_t(layers.size()), s.sensitivity->layers.size());
    for (const QJsonValue& v : layers) {
        const QJsonObject l = v.toObject();
        const std::string name = l["name"].toString().toStdString();
        size_t i = 0;
        while (i < s.sensitivity->layers.size() && s.sensitivity->layers[i].name != name) ++i;
        QVERIFY2(i < s.sensitivity->layers.size(), name.c_str());
        const ptq::BitOption& option = s.sensitivity->options[size_t(s.allocation.choice[i])];
        QCOMPARE(l["w_bits"].toInt(), option.weightBits);
        QCOMPARE(l["a_bits"].toInt(), option.activationBits);
    }
}

void TestProjectGui::exportOnnx() {
    // File > Export's two ONNX formats: the QDQ file of the allocation and the FP32 model, each
    // named .onnx and accepted by libonnx's checker.
    for (const auto format : {ptq::ExportFormat::Onnx, ptq::ExportFormat::OnnxFp32}) {
        ExportDialog dialog(window_.get(), window_->controller());
        dialog.fileEdit()->setText(dir_.filePath("model.json"));
        dialog.formatCombo()->setCurrentIndex(dialog.formatCombo()->findData(int(format)));
        const QString out = dialog.fileEdit()->text();
        QVERIFY2(out.endsWith(".onnx"), qPrintable(out));
        QFile::remove(out);
        QSignalSpy finished(&dialog, &ExportDialog::exportFinished);
        QVERIFY(dialog.startExport());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(finished.at(0).at(1).toString()));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        const ptq::onnx::FileSummary summary = ptq::onnx::checkBytes(std::string(bytes.constData(), size_t(bytes.size())));
        QCOMPARE(summary.opCounts.count("QuantizeLinear") > 0, format == ptq::ExportFormat::Onnx);
    }
}

void TestProjectGui::exportHtmlReport() {
    ExportDialog dialog(window_.get(), window_->controller());
    dialog.formatCombo()->setCurrentIndex(dialog.formatCombo()->findText(QStringLiteral("HTML report")));
    const QString out = dir_.filePath("report.html");
    dialog.fileEdit()->setText(out);
    QSignalSpy finished(&dialog, &ExportDialog::exportFinished);
    QVERIFY(dialog.startExport());
    QCOMPARE(finished.count(), 1);
    QVERIFY(finished.at(0).at(0).toBool());
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString html = QString::fromUtf8(f.readAll());
    // The core's report: two inline SVG plots, the prediction through the loss first.
    QCOMPARE(html.count(QStringLiteral("<svg ")), 2);
    QVERIFY(!html.contains(QStringLiteral("data:image/png")));
    const ptq::Session& s = window_->controller()->session();
    const qsizetype throughLoss = html.indexOf(QStringLiteral("predicted top-1, through the loss"));
    QVERIFY(throughLoss > 0);
    QVERIFY(throughLoss < html.indexOf(QStringLiteral("per-layer Δtop-1 summed")));
    if (std::isfinite(s.allocation.deltaTop1FromLoss))
        QVERIFY(html.contains(QStringLiteral("<span class=\"predicted-top1\">%1 %</span>")
                                  .arg(s.sensitivity->fp32Top1 + std::min(0.0, s.allocation.deltaTop1FromLoss), 0, 'f', 2)));
    for (const auto& l : s.sensitivity->layers)
        QVERIFY(html.contains(QString::fromStdString(l.name)));
}

int main(int argc, char** argv) {
    ptq::initRuntime();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("PTQ Studio Tests"));
    QApplication::setApplicationName(QStringLiteral("test_project_gui"));
    QStandardPaths::setTestModeEnabled(true);
    TestProjectGui t;
    return QTest::qExec(&t, argc, argv);
}
#include "test_project_gui.moc"
