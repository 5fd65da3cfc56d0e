#pragma once
/// @file
/// File > Export…: the current allocation as PTQ Studio's JSON configuration, AIMET encodings
/// (0.6.1 or 1.0.0), the per-layer CSV, the HTML report or quantized TorchScript. Formats that
/// quantize the model run as a job on the SessionController's pool (the UI stays live); the
/// HTML report (core/io/html_report.h, plain text) is written at once. Errors go to a dialog.
/// UI thread only.

#include <QtWidgets/QDialog>

class QComboBox;
class QLineEdit;

namespace ptq::ui {

class SessionController;
class MainWindow;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(MainWindow* window, SessionController* controller);

    QComboBox* formatCombo() const { return format_; }
    QComboBox* pipelineCombo() const { return pipeline_; }
    QLineEdit* fileEdit() const { return file_; }

    /// Exports with the dialog's choices. Returns false (after showing why) when it could not
    /// start; a job's own failure is reported when the job ends.
    bool startExport();

Q_SIGNALS:
    /// The export ended (a job's end for quantizing formats); @p message says what happened.
    void exportFinished(bool ok, const QString& message);

private:
    void browse();
    QString suffix() const;

    MainWindow* window_;
    SessionController* controller_;
    QComboBox* format_;
    QComboBox* pipeline_;
    QLineEdit* file_;
};

}  // namespace ptq::ui
