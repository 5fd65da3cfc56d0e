// MainWindow: opening models (dialog, recent files, drag and drop) and picking calibration data.

#include "ui/mainwindow/main_window.h"

#include "core/data/data_source.h"
#include "core/util/error.h"
#include "core/workflow/model.h"
#include "ui/dialogs/calibration_dialog.h"
#include "ui/dialogs/model_card_dialog.h"
#include "ui/session/session_controller.h"

#include <QtCore/QFileInfo>
#include <QtCore/QMimeData>
#include <QtCore/QSettings>
#include <QtGui/QDragEnterEvent>
#include <QtGui/QDropEvent>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenu>

namespace ptq::ui {

namespace {
const char* kLastDirKey = "files/lastModelDir";
const char* kRecentKey = "files/recent";
const char* kCalibrationKey = "files/calibration";
constexpr int kMaxRecent = 8;

/// The model file (.pt, .pth or .onnx) among dropped URLs, or empty.
QString droppedModel(const QMimeData* mime) {
    if (!mime || !mime->hasUrls()) return {};
    for (const QUrl& url : mime->urls()) {
        const QString suffix = QFileInfo(url.toLocalFile()).suffix().toLower();
        if (url.isLocalFile() && (suffix == "pt" || suffix == "pth" || suffix == "onnx")) return url.toLocalFile();
    }
    return {};
}
}  // namespace

void MainWindow::openModel(const QString& path, const QString& calibrationSource) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QString source = calibrationSource;
    if (source.isEmpty() && options_.persistLayout) source = QSettings().value(kCalibrationKey).toString();
    if (source.isEmpty()) source = options_.calibrationSource;
    ptq::DataSourceSpec spec;
    try {
        spec = ptq::parseDataSource(source.toStdString());
    } catch (const ptq::Error& e) {
        reportError(tr("Calibration data"), QString::fromStdString(e.what()));
        return;  // the current model stays
    }
    pendingPath_ = absolute;
    if (!ptq::carriesModelCard(absolute.toStdString())) {
        pendingCalibration_ = source;
        controller_->probeModel(absolute);  // modelNeedsCard, or modelLoadFailed
        return;
    }
    ptq::ModelRequest request;
    request.path = absolute.toStdString();
    controller_->openModel(request, spec);
}

void MainWindow::askModelCard(const QString& path, const ptq::ModelCard& card,
                              const std::vector<int64_t>& suggestedShape, const QString& calibration) {
    if (cardDialog_) cardDialog_->close();
    cardDialog_ = new ModelCardDialog(path, card, suggestedShape, calibration, controller_->tuning()->evaluationSource(),
                                      this);
    cardDialog_->setAttribute(Qt::WA_DeleteOnClose);
    ModelCardDialog* dialog = cardDialog_;
    connect(dialog, &QObject::destroyed, this, [this, dialog] {
        if (cardDialog_ == dialog) cardDialog_ = nullptr;
    });
    connect(dialog, &QDialog::accepted, this, [this, dialog, path] {
        if (dialog->evaluation().given()) controller_->tuning()->setEvaluationSource(dialog->evaluation());
        pendingPath_ = path;
        controller_->openModel(dialog->request(), dialog->calibration());
    });
    connect(dialog, &QDialog::rejected, this, [this, path] {
        statusLabel_->setText(modelName_.isEmpty() ? tr("%1 not opened: it needs a model card").arg(QFileInfo(path).fileName())
                                                   : tr("%1 not opened; still showing %2")
                                                         .arg(QFileInfo(path).fileName(), modelName_));
    });
    dialog->open();
}

void MainWindow::editModelCard() {
    const auto& model = controller_->session().model;
    if (!model) {
        reportError(tr("Model card"), tr("Open a model first (File > Open model)."));
        return;
    }
    askModelCard(QString::fromStdString(model->path()), model->card(), {},
                 QString::fromStdString(controller_->session().calibrationSource.text));
}

bool MainWindow::isLoading() const { return controller_->isJobRunning(); }

void MainWindow::openModelDialog() {
    QSettings settings;
    const QString dir = settings.value(kLastDirKey, QFileInfo(modelPath_).absolutePath()).toString();
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open model"), dir, tr("Models (*.pt *.pth *.onnx);;TorchScript models (*.pt *.pth);;ONNX models (*.onnx);;All files (*)"));
    if (path.isEmpty()) return;
    settings.setValue(kLastDirKey, QFileInfo(path).absolutePath());
    openModel(path);
}

void MainWindow::chooseCalibrationData() {
    auto* dialog = new CalibrationDialog(controller_->session().calibrationSource, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QString source = dialog->source();
        if (options_.persistLayout) QSettings().setValue(kCalibrationKey, source);
        if (controller_->session().model) controller_->setCalibrationSource(dialog->spec());
    });
    dialog->open();
}

void MainWindow::addRecentFile(const QString& path) {
    recentFiles_.removeAll(path);
    recentFiles_.prepend(path);
    while (recentFiles_.size() > kMaxRecent) recentFiles_.removeLast();
    if (options_.persistLayout) QSettings().setValue(kRecentKey, recentFiles_);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    recentMenu_->clear();
    for (const QString& path : recentFiles_) {
        QAction* action = recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] { openModel(path); });
        action->setToolTip(path);
        action->setEnabled(QFileInfo::exists(path));
    }
    recentMenu_->setEnabled(!recentFiles_.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (!droppedModel(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QString path = droppedModel(event->mimeData());
    if (path.isEmpty()) return;
    event->acceptProposedAction();
    openModel(path);
}

}  // namespace ptq::ui
