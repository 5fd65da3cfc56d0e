// The bad-input suite on the GUI's side: bad models and bad calibration sources given to the main
// window through its own code paths (openModel, the calibration source the calibration dialog
// sets). Each must show a modal error dialog with the core's sentence and leave the model and
// session that were open as they were. Offscreen.
#include "core/util/runtime.h"
#include "ui/mainwindow/main_window.h"
#include "ui/models/layer_table_model.h"
#include "ui/session/session_controller.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtGui/QImage>
#include <QtTest/QtTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QMessageBox>

#include <memory>

using ptq::ui::MainWindow;

namespace {
constexpr int kTimeoutMs = 300000;  // the demo's import and 64-sample table; CI is slower
const QString kDemo = QStringLiteral(PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt");
const QString kFiles = QStringLiteral(PTQ_SOURCE_DIR "/tests/robustness/files/");

void writeAll(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write %s", qPrintable(path));
    f.write(bytes);
}

QByteArray readAll(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

/// What the user sees of the open session, to compare before and after a failure.
struct Snapshot {
    QString modelName, title, calibration;
    int rows = 0;
    std::vector<int> choice;
    bool hasTable = false;
    bool operator==(const Snapshot& o) const {
        return modelName == o.modelName && title == o.title && calibration == o.calibration && rows == o.rows &&
               choice == o.choice && hasTable == o.hasTable;
    }
};
}  // namespace

class TestRobustnessGui : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void badModelShowsDialogAndKeepsSession_data();
    void badModelShowsDialogAndKeepsSession();
    void badCalibrationShowsDialogAndKeepsSession_data();
    void badCalibrationShowsDialogAndKeepsSession();
    void cleanupTestCase();

private:
    Snapshot snapshot() const;
    /// Waits for the modal error dialog, returns its text and closes it (empty: none appeared).
    QString takeModalError();

    QTemporaryDir dir_, cacheDir_;
    std::unique_ptr<MainWindow> window_;
};

Snapshot TestRobustnessGui::snapshot() const {
    const ptq::Session& s = window_->controller()->session();
    Snapshot snap;
    snap.modelName = window_->modelName();
    snap.title = window_->windowTitle();
    snap.calibration = QString::fromStdString(s.calibrationSource.text);
    snap.rows = window_->layerModel()->rowCount();
    snap.hasTable = s.hasTable();
    for (auto c : s.allocation.choice) snap.choice.push_back(int(c));
    return snap;
}

QString TestRobustnessGui::takeModalError() {
    QMessageBox* box = nullptr;
    const bool shown = QTest::qWaitFor([&] {
        box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
        return box && box->isVisible();
    }, kTimeoutMs);
    if (!shown) return {};
    const QString text = box->objectName() == QLatin1String("errorDialog") ? box->text() : QString();
    box->close();  // deletes itself
    (void)QTest::qWaitFor([] { return !QApplication::activeModalWidget(); }, 5000);
    return text;
}

void TestRobustnessGui::initTestCase() {
    QVERIFY(dir_.isValid() && cacheDir_.isValid());
    MainWindow::Options options;
    options.persistLayout = false;
    options.calibrationSource = QStringLiteral("fmnist:train:64");
    options.cacheDirectory = cacheDir_.path();
    window_ = std::make_unique<MainWindow>(options);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QSignalSpy ready(window_.get(), &MainWindow::initialJobsFinished);
    window_->openModel(kDemo);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
    QVERIFY(window_->controller()->session().hasTable());
}

void TestRobustnessGui::badModelShowsDialogAndKeepsSession_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("phrase");
    const QByteArray demo = readAll(kDemo);
    writeAll(dir_.filePath("empty.pt"), {});
    writeAll(dir_.filePath("truncated.pt"), demo.left(demo.size() / 2));
    writeAll(dir_.filePath("truncated.json"), readAll(QString(kDemo).replace(".pt", ".json")));
    QTest::newRow("empty") << dir_.filePath("empty.pt") << "is empty";
    QTest::newRow("truncated") << dir_.filePath("truncated.pt") << "truncated or damaged";
    QTest::newRow("zip without a model") << kFiles + "zip_without_model.pt" << "without TorchScript code";
    QTest::newRow("state_dict") << kFiles + "state_dict.pt" << "state_dict";
    QTest::newRow("two-input forward") << kFiles + "two_inputs.pt" << "forward with 2 inputs";
    QTest::newRow("unknown op") << kFiles + "unknown_op.pt" << "aten::cumsum";
    QTest::newRow("NaN weight") << kFiles + "nan_weight.pt" << "in parameter '3.weight'";
    // Crafted so that LibTorch's reader crashes (tools/make_crashing_model.py): the import
    // helper dies, the window does not.
    QTest::newRow("crashes LibTorch's reader") << PTQ_FIXTURE_DIR "/crashing/crashing_reader.pt"
                                              << "crashed the TorchScript reader (signal 11, segmentation fault)";
    QTest::newRow("zero-size layer") << kFiles + "zero_size_layer.pt" << "'conv.weight' has shape 0x1x3x3";
}

void TestRobustnessGui::badModelShowsDialogAndKeepsSession() {
    QFETCH(QString, file);
    QFETCH(QString, phrase);
    const Snapshot before = snapshot();
    const QByteArray bytes = readAll(file);
    QSignalSpy failed(window_.get(), &MainWindow::modelLoadFailed);
    window_->openModel(file);
    const QString text = takeModalError();
    QVERIFY2(text.contains(phrase), qPrintable("dialog says: " + text));
    QVERIFY2(text.contains(QFileInfo(file).fileName()), qPrintable(text));
    QCOMPARE(failed.count(), 1);
    QVERIFY(failed.at(0).at(1).toBool());  // bad input, not a failure of the app
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle(), kTimeoutMs);
    QVERIFY(snapshot() == before);
    QCOMPARE(readAll(file), bytes);
}

void TestRobustnessGui::badCalibrationShowsDialogAndKeepsSession_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("phrase");
    const QString fashion = QStringLiteral("/usr/share/datasets/fashion-mnist/");
    writeAll(dir_.filePath("wrong_magic.idx"), QByteArray("GIF89a") + QByteArray(2000, '\0'));
    QTest::newRow("IDX wrong magic") << "idx:" + dir_.filePath("wrong_magic.idx") << "wrong magic";
    QTest::newRow("IDX label count mismatch")
        << "idx:" + fashion + "t10k-images-idx3-ubyte.gz," + fashion + "train-labels-idx1-ubyte.gz" << "60000";
    // Mixed sizes are resized now; a zero-byte image among good ones is what stops a folder.
    QDir().mkpath(dir_.filePath("zero/a"));
    QImage small(28, 28, QImage::Format_Grayscale8);
    small.fill(10);
    small.save(dir_.filePath("zero/a/0.png"));
    writeAll(dir_.filePath("zero/a/1.png"), {});
    QTest::newRow("folder with a zero-byte PNG") << "folder:" + dir_.filePath("zero") << "is empty (0 bytes)";
    QDir().mkpath(dir_.filePath("empty_folder"));
    QTest::newRow("empty folder") << "folder:" + dir_.filePath("empty_folder") << "is empty";
}

void TestRobustnessGui::badCalibrationShowsDialogAndKeepsSession() {
    QFETCH(QString, source);
    QFETCH(QString, phrase);
    const Snapshot before = snapshot();
    window_->controller()->setCalibrationSource(ptq::parseDataSource(source.toStdString()));
    const QString text = takeModalError();
    QVERIFY2(text.contains(phrase), qPrintable("dialog says: " + text));
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle(), kTimeoutMs);
    // The measured table, the allocation and the calibration source in use are the old ones.
    QVERIFY2(snapshot() == before, qPrintable("calibration now " + snapshot().calibration));
}

void TestRobustnessGui::cleanupTestCase() { window_.reset(); }

int main(int argc, char** argv) {
    ptq::initRuntime();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("PTQ Studio Tests"));
    QApplication::setApplicationName(QStringLiteral("test_robustness_gui"));
    QStandardPaths::setTestModeEnabled(true);
    TestRobustnessGui t;
    return QTest::qExec(&t, argc, argv);
}

#include "test_robustness_gui.moc"
