// The model card dialog in the main window, offscreen: a model without a sidecar (the demo
// ResNet-20 copied alone) shows the dialog with its input shape suggested from the first layer;
// a bad field is said under the fields and keeps the dialog open; the preview shows the first
// calibration images; Open opens the model with what the dialog says and writes the sidecar,
// which then reopens the model without asking. File > Model card edits the open model's card.
// File > Calibration data and Evaluation data leave a damaged image out when told to (and the
// status says how many), and refuse the folder naming the file when not.

#include "core/model/model_card.h"
#include "core/util/runtime.h"
#include "core/workflow/export.h"
#include "core/workflow/model.h"
#include "ui/dialogs/calibration_dialog.h"
#include "ui/dialogs/model_card_dialog.h"
#include "ui/mainwindow/main_window.h"
#include "ui/session/session_controller.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtGui/QImage>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>
#include <QtWidgets/QApplication>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QSpinBox>

#include <memory>

using namespace ptq::ui;

namespace {
constexpr int kTimeoutMs = 300000;
}

class TestModelCardGui : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void noSidecarShowsTheDialogAndFillingItOpens();
    void theWrittenSidecarReopensWithoutAsking();
    void menuEditsTheOpenModelsCard();
    void unreadableImagesAreLeftOutWhenAsked();
    void onnxExportOpensWithoutAsking();

private:
    template <typename T>
    T* field(const char* name) const {
        return window_->modelCardDialog() ? window_->modelCardDialog()->findChild<T*>(QLatin1String(name)) : nullptr;
    }
    bool waitIdle() {
        return QTest::qWaitFor([&] { return window_->controller()->isIdle(); }, kTimeoutMs);
    }

    QTemporaryDir dir_, cacheDir_;
    QString model_;
    std::unique_ptr<MainWindow> window_;
};

void TestModelCardGui::initTestCase() {
    QVERIFY(dir_.isValid() && cacheDir_.isValid());
    const QString demo = QString::fromStdString(ptq::demoModelPath());
    QVERIFY2(!demo.isEmpty(), "the demo model resources/models/resnet20_fmnist.pt is missing");
    model_ = dir_.filePath(QStringLiteral("user_resnet.pt"));  // no sidecar next to it
    QVERIFY(QFile::copy(demo, model_));
    MainWindow::Options options;
    options.persistLayout = false;
    options.calibrationSource = QStringLiteral("fmnist:train:64");
    options.cacheDirectory = cacheDir_.path();
    window_ = std::make_unique<MainWindow>(options);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
}

void TestModelCardGui::noSidecarShowsTheDialogAndFillingItOpens() {
    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    window_->openModel(model_);
    QVERIFY(QTest::qWaitFor([&] { return window_->modelCardDialog() && window_->modelCardDialog()->isVisible(); },
                            kTimeoutMs));
    QCOMPARE(loaded.count(), 0);  // nothing is imported before the card is known
    // The shape suggested from the first convolution's weight: 1 channel, 28 x 28.
    QCOMPARE(field<QSpinBox>("cardChannels")->value(), 1);
    QCOMPARE(field<QSpinBox>("cardHeight")->value(), 28);
    QVERIFY(field<QLabel>("cardShapeHint")->text().contains(QStringLiteral("suggested")));
    QCOMPARE(field<QComboBox>("cardPreset")->currentText(), QStringLiteral("none"));  // never another model's figures

    // A bad field is said under the fields; the dialog stays and nothing is written.
    auto* preset = field<QComboBox>("cardPreset");
    preset->setCurrentIndex(preset->findText(QStringLiteral("custom")));
    field<QLineEdit>("cardMean")->setText(QStringLiteral("0.5, 0.5"));
    field<QLineEdit>("cardStd")->setText(QStringLiteral("0.5"));
    window_->modelCardDialog()->accept();
    auto* error = field<QLabel>("cardError");
    QVERIFY(error && error->isVisible());
    QVERIFY2(error->text().contains(QStringLiteral("2 mean values for data with 1 channel")), qPrintable(error->text()));
    QVERIFY(window_->modelCardDialog()->isVisible());
    QVERIFY(!QFile::exists(dir_.filePath(QStringLiteral("user_resnet.json"))));

    // The model's own figures, and a preview of the calibration data as the model sees it.
    preset->setCurrentIndex(preset->findText(QStringLiteral("fmnist")));
    QCOMPARE(field<QLineEdit>("cardMean")->text(), QStringLiteral("0.286"));
    QSignalSpy previewed(window_->modelCardDialog(), &ModelCardDialog::previewFinished);
    window_->modelCardDialog()->preview();
    QVERIFY(QTest::qWaitFor([&] { return !previewed.isEmpty(); }, kTimeoutMs));
    QCOMPARE(previewed.last().at(0).toInt(), 6);
    QVERIFY2(previewed.last().at(1).toString().isEmpty(), qPrintable(previewed.last().at(1).toString()));
    auto* status = field<QLabel>("cardPreviewStatus");
    QVERIFY2(status->text().contains(QStringLiteral("Fashion-MNIST train")), qPrintable(status->text()));
    QVERIFY(field<QCheckBox>("cardSave")->isChecked());
    window_->modelCardDialog()->accept();
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
    QVERIFY(waitIdle());
    QVERIFY(!window_->modelCardDialog());
    const auto& model = window_->controller()->session().model;
    QVERIFY(model);
    QCOMPARE(model->normalization().mean, std::vector<float>{0.2860f});
    QCOMPARE(model->normalizationOrigin(), ptq::NormalizationOrigin::Request);
    QVERIFY(window_->controller()->session().hasTable());

    // The sidecar it wrote says the same.
    const std::optional<ptq::ModelCard> card = ptq::loadModelCard(model_.toStdString());
    QVERIFY(card);
    QCOMPARE(card->inputShape, (std::vector<int64_t>{1, 28, 28}));
    QCOMPARE(card->mean, std::vector<float>{0.2860f});
    QCOMPARE(card->preset, std::string("fmnist"));
}

void TestModelCardGui::theWrittenSidecarReopensWithoutAsking() {
    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    window_->openModel(model_);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
    QVERIFY(!window_->modelCardDialog());
    QCOMPARE(window_->controller()->session().model->normalizationOrigin(), ptq::NormalizationOrigin::Sidecar);
    QCOMPARE(window_->controller()->session().model->normalization().std, std::vector<float>{0.3530f});
    QVERIFY(waitIdle());
}

void TestModelCardGui::menuEditsTheOpenModelsCard() {
    auto* action = window_->findChild<QAction*>(QStringLiteral("actionModelCard"));
    QVERIFY(action);
    action->trigger();
    QVERIFY(window_->modelCardDialog());
    QCOMPARE(field<QComboBox>("cardPreset")->currentText(), QStringLiteral("fmnist"));
    QCOMPARE(field<QSpinBox>("cardWidth")->value(), 28);
    // Switch to [0,1] pixels without saving: the model reopens with it, the sidecar stays.
    auto* preset = field<QComboBox>("cardPreset");
    preset->setCurrentIndex(preset->findText(QStringLiteral("none")));
    field<QCheckBox>("cardSave")->setChecked(false);
    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    window_->modelCardDialog()->accept();
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
    QCOMPARE(window_->controller()->session().model->normalization().mean, std::vector<float>{0.0f});
    QCOMPARE(ptq::loadModelCard(model_.toStdString())->mean, std::vector<float>{0.2860f});
    QVERIFY(waitIdle());
}

// A folder of eight 28 x 28 grey PNGs (two classes) and one damaged JPEG.
void TestModelCardGui::unreadableImagesAreLeftOutWhenAsked() {
    const QString root = dir_.filePath(QStringLiteral("photos"));
    for (int c = 0; c < 2; ++c) {
        const QString cls = root + QStringLiteral("/class%1").arg(c);
        QVERIFY(QDir().mkpath(cls));
        for (int i = 0; i < 4; ++i) {
            QImage image(28, 28, QImage::Format_Grayscale8);
            image.fill(uint(40 * i + 100 * c));
            QVERIFY(image.save(cls + QStringLiteral("/%1.png").arg(i)));
        }
    }
    QFile bad(root + QStringLiteral("/class1/damaged.jpg"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("\xff\xd8\xff\xe0 not a JPEG past its first bytes");
    bad.close();
    const QString source = QStringLiteral("folder:") + root;

    auto chooseCalibration = [&](bool skip) -> CalibrationDialog* {
        window_->chooseCalibrationData();
        auto* dialog = window_->findChild<CalibrationDialog*>(QStringLiteral("calibrationDialog"));
        if (!dialog) return nullptr;
        dialog->findChild<QComboBox*>(QStringLiteral("calibrationSource"))->setCurrentText(source);
        dialog->findChild<QCheckBox*>(QStringLiteral("skipBadImages"))->setChecked(skip);
        dialog->accept();
        return dialog;
    };
    // Not asked: the sensitivity job refuses the folder, naming the damaged file; nothing changes.
    const std::string before = window_->controller()->session().calibrationSource.text;
    QVERIFY(chooseCalibration(false));
    QVERIFY(QTest::qWaitFor([&] { return window_->findChild<QMessageBox*>(QStringLiteral("errorDialog")); }, kTimeoutMs));
    auto* box = window_->findChild<QMessageBox*>(QStringLiteral("errorDialog"));
    QVERIFY2(box->text().contains(QStringLiteral("damaged.jpg")), qPrintable(box->text()));
    box->close();
    QVERIFY(waitIdle());
    QCOMPARE(window_->controller()->session().calibrationSource.text, before);

    // Asked: the table is measured on the eight good images and the status counts the one left out.
    QTRY_VERIFY(!window_->findChild<CalibrationDialog*>(QStringLiteral("calibrationDialog")));
    QVERIFY(chooseCalibration(true));
    QVERIFY(waitIdle());
    const auto& session = window_->controller()->session();
    QCOMPARE(session.calibrationSource.text, source.toStdString());
    QVERIFY(session.calibrationSource.skipBad);
    QCOMPARE(session.sensitivity->samples, int64_t(8));
    auto* status = window_->findChild<QLabel*>(QStringLiteral("statusLabel"));
    QVERIFY(status);
    QVERIFY2(status->text().contains(QStringLiteral("1 unreadable image(s) left out")), qPrintable(status->text()));

    // The evaluation data dialog carries the choice too.
    window_->chooseEvaluationData();
    auto* eval = window_->findChild<CalibrationDialog*>(QStringLiteral("evaluationDialog"));
    QVERIFY(eval);
    eval->findChild<QComboBox*>(QStringLiteral("calibrationSource"))->setCurrentText(source);
    eval->findChild<QCheckBox*>(QStringLiteral("skipBadImages"))->setChecked(true);
    eval->accept();
    QCOMPARE(session.evaluationSource.text, source.toStdString());
    QVERIFY(session.evaluationSource.skipBad);
}

// An ONNX file this app exported carries its normalization and input shape in its metadata: it
// opens like a model with a sidecar, with the same layers as its source.
void TestModelCardGui::onnxExportOpensWithoutAsking() {
    ptq::ModelRequest request;
    request.path = ptq::demoModelPath();
    const auto source = ptq::openModel(request);
    const QString onnx = dir_.filePath(QStringLiteral("exported.onnx"));
    ptq::exportFloatModel(*source, onnx.toStdString());
    QVERIFY(ptq::carriesModelCard(onnx.toStdString()));
    QSignalSpy loaded(window_.get(), &MainWindow::modelLoaded);
    window_->openModel(onnx);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeoutMs);
    QVERIFY(!window_->modelCardDialog());
    const auto& model = window_->controller()->session().model;
    QCOMPARE(QString::fromStdString(model->path()), onnx);
    QCOMPARE(model->normalizationOrigin(), ptq::NormalizationOrigin::FileMetadata);
    QCOMPARE(model->normalization().mean, source->normalization().mean);
    QCOMPARE(model->normalization().std, source->normalization().std);
    QCOMPARE(model->inputShape(), source->inputShape());
    QCOMPARE(model->summary().layers.size(), source->summary().layers.size());
    for (size_t i = 0; i < model->summary().layers.size(); ++i)
        QCOMPARE(model->summary().layers[i].name, source->summary().layers[i].name);
    QVERIFY(waitIdle());
    QVERIFY(window_->controller()->session().hasTable());
}

int main(int argc, char** argv) {
    ptq::initRuntime();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("PTQ Studio Tests"));
    QApplication::setApplicationName(QStringLiteral("test_model_card_gui"));
    QStandardPaths::setTestModeEnabled(true);
    TestModelCardGui t;
    return QTest::qExec(&t, argc, argv);
}

#include "test_model_card_gui.moc"

