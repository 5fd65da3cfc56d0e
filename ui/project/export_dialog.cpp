#include "ui/project/export_dialog.h"

#include "core/workflow/export.h"
#include "core/io/html_report.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "ui/mainwindow/main_window.h"
#include "ui/session/session_controller.h"

#include <QtCore/QFileInfo>
#include <QtCore/QPointer>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QDialogButtonBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

namespace ptq::ui {

namespace {
// The formats' item data: an ExportFormat, or kAimet061 for AIMET's older encodings.
constexpr int kHtml = int(ptq::ExportFormat::Html);
constexpr int kAimet061 = -2;
// The pipeline item that exports the session's tuned model as it was measured.
const QString kTuned = QStringLiteral("tuned");
}

ExportDialog::ExportDialog(MainWindow* window, SessionController* controller)
    : QDialog(window), window_(window), controller_(controller), format_(new QComboBox(this)),
      pipeline_(new QComboBox(this)), file_(new QLineEdit(this)) {
    setObjectName(QStringLiteral("exportDialog"));
    setWindowTitle(tr("Export the allocation"));
    format_->addItem(tr("PTQ Studio configuration (JSON)"), int(ptq::ExportFormat::Json));
    format_->addItem(tr("AIMET encodings 1.0.0"), int(ptq::ExportFormat::Aimet));
    format_->addItem(tr("AIMET encodings 0.6.1"), kAimet061);
    format_->addItem(tr("Per-layer CSV"), int(ptq::ExportFormat::Csv));
    format_->addItem(tr("HTML report"), kHtml);
    format_->addItem(tr("Quantized TorchScript"), int(ptq::ExportFormat::TorchScript));
    format_->addItem(tr("ONNX QDQ (int8 weights, quantized activations)"), int(ptq::ExportFormat::Onnx));
    format_->addItem(tr("ONNX FP32 (the model in float)"), int(ptq::ExportFormat::OnnxFp32));
    // The tuned model the user measured comes first when it is this allocation's: exporting it
    // writes what was measured, not a fresh run.
    if (const ptq::TunedState* tuned = controller_->tuning()->tunedState(); tuned && controller_->tuning()->tunedMatchesAllocation())
        pipeline_->addItem(tr("as measured: the session's tuned model (%1)")
                               .arg(QString::fromStdString(ptq::pipelineName(tuned->steps))),
                           kTuned);
    pipeline_->addItem(tr("none (ranges only)"), QStringLiteral("none"));
    pipeline_->addItem(tr("light (BN tuning, bias correction)"), QStringLiteral("light"));
    pipeline_->addItem(tr("advanced (AdaQuant, BN and bias tuning)"), QStringLiteral("advanced"));
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
    auto* fileRow = new QHBoxLayout;
    fileRow->addWidget(file_, 1);
    fileRow->addWidget(browse);
    auto* form = new QFormLayout(this);
    form->addRow(tr("Format"), format_);
    form->addRow(tr("Pipeline"), pipeline_);
    form->addRow(tr("File"), fileRow);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (startExport()) hide();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
    connect(format_, &QComboBox::currentIndexChanged, this, [this] {
        const int f = format_->currentData().toInt();
        pipeline_->setEnabled(f != kHtml && f != int(ptq::ExportFormat::OnnxFp32));
        const QString path = file_->text();
        if (!path.isEmpty()) file_->setText(QFileInfo(path).path() + "/" + QFileInfo(path).completeBaseName() + suffix());
    });
    const ptq::Session& s = controller_->session();
    if (s.model) {
        const QFileInfo model(QString::fromStdString(s.model->summary().path));
        file_->setText(model.path() + "/" + model.completeBaseName() + "_export" + suffix());
    }
}

QString ExportDialog::suffix() const {
    const int f = format_->currentData().toInt();
    if (f == kHtml) return QStringLiteral(".html");
    if (f == int(ptq::ExportFormat::Csv)) return QStringLiteral(".csv");
    if (f == int(ptq::ExportFormat::TorchScript)) return QStringLiteral(".pt");
    if (f == int(ptq::ExportFormat::Onnx) || f == int(ptq::ExportFormat::OnnxFp32)) return QStringLiteral(".onnx");
    return QStringLiteral(".json");
}

void ExportDialog::browse() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export to"), file_->text());
    if (!path.isEmpty()) file_->setText(path);
}

bool ExportDialog::startExport() {
    const ptq::Session& s = controller_->session();
    const QString out = file_->text();
    const auto fail = [&](const QString& sentence) {
        window_->reportError(tr("Cannot export"), sentence);
        Q_EMIT exportFinished(false, sentence);
        return false;
    };
    if (out.isEmpty()) return fail(tr("Choose the file to export to."));
    if (!s.model || !s.sensitivity || s.allocation.choice.empty())
        return fail(tr("There is no allocation to export yet: open a model and wait for its first allocation."));
    const int format = format_->currentData().toInt();
    if (format == kHtml) {
        try {
            ptq::writeHtmlReport(out.toStdString(),
                                 ptq::reportFromSession(s, controller_->budgetState()->budget(), controller_->sensitivityRequest()));
        } catch (const ptq::Error& e) {
            return fail(QString::fromStdString(e.what()));
        }
        const QString message = tr("Wrote the HTML report to %1.").arg(out);
        ptq::logger()->info("{}", message.toStdString());
        Q_EMIT exportFinished(true, message);
        return true;
    }
    ptq::ExportRequest destination;
    destination.path = file_->text().toStdString();
    destination.format = format == kAimet061 ? ptq::ExportFormat::Aimet : ptq::ExportFormat(format);
    destination.aimetVersion = format == kAimet061 ? ptq::AimetVersion::V0_6_1 : ptq::AimetVersion::V1_0_0;
    // The prediction through the loss, as the budget panel and `ptq export` record it; none
    // without the table's fit, and never above FP32's (no drop predicted is FP32's figure).
    if (std::isfinite(s.allocation.deltaTop1FromLoss))
        destination.provenance.predictedTop1 = s.sensitivity->fp32Top1 + std::min(0.0, s.allocation.deltaTop1FromLoss);
    std::function<std::string(const ptq::Progress&)> work;
    if (destination.format == ptq::ExportFormat::OnnxFp32) {  // the model in float: nothing to calibrate
        const std::shared_ptr<const ptq::LoadedModel> model = s.model;
        const std::string path = destination.path;
        work = [model, path](const ptq::Progress&) {
            return "Wrote the " + ptq::exportFloatModel(*model, path) + " to " + path + ".";
        };
    } else if (pipeline_->currentData().toString() == kTuned) {
        const std::shared_ptr<const ptq::TunedModel> tuned = controller_->tuning()->tunedModel();
        if (!tuned || !controller_->tuning()->tunedMatchesAllocation())
            return fail(tr("The tuned model no longer matches the allocation: choose a pipeline to run."));
        work = [tuned, destination](const ptq::Progress&) { return ptq::exportTuned(*tuned, destination); };
    } else {
        ptq::AllocationExport request;
        request.model = s.model;
        request.calibrationSource = s.calibrationSource;
        for (size_t i = 0; i < s.sensitivity->layers.size(); ++i)
            request.layers[s.sensitivity->layers[i].name] = s.sensitivity->options[size_t(s.allocation.choice[i])];
        request.quantizer = controller_->sensitivityRequest().quantizer;
        request.steps = ptq::pipelineSteps(ptq::pipelineKindFromString(pipeline_->currentData().toString().toStdString()));
        request.tuning = controller_->tuning()->tuningOptions();
        request.equalizeRanges = controller_->tuning()->equalizeRanges();
        request.predictedTop1 = destination.provenance.predictedTop1;
        request.out = destination;
        work = [request](const ptq::Progress& progress) { return ptq::exportAllocation(request, &progress); };
    }
    auto message = std::make_shared<std::string>();
    // The controller outlives the job's callbacks; this dialog may be closed before the end.
    QPointer<ExportDialog> self(this);
    controller_->runJob(JobRunner::Kind::Export,
        tr("Export %1").arg(QFileInfo(out).fileName()),
        [work, message](const ptq::Progress& progress) { *message = work(progress); },
        [self, message](bool ok, const QString& error) {
            const QString text = ok ? QString::fromStdString(*message) : error;
            if (ok) ptq::logger()->info("{}", *message);
            if (self) Q_EMIT self->exportFinished(ok, text);
        });
    return true;
}

}  // namespace ptq::ui
