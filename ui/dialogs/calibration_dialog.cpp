#include "ui/dialogs/calibration_dialog.h"

#include "core/data/data_source.h"
#include "core/util/error.h"

#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QDialogButtonBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>

namespace ptq::ui {

CalibrationDialog::CalibrationDialog(const ptq::DataSourceSpec& current, QWidget* parent, Purpose purpose)
    : QDialog(parent), source_(new QComboBox(this)), skipBad_(new QCheckBox(this)), error_(new QLabel(this)) {
    const bool calibration = purpose == Purpose::Calibration;
    setObjectName(calibration ? QStringLiteral("calibrationDialog") : QStringLiteral("evaluationDialog"));
    setWindowTitle(calibration ? tr("Calibration data") : tr("Evaluation data"));
    source_->setObjectName(QStringLiteral("calibrationSource"));
    source_->setEditable(true);
    if (calibration)
        source_->addItems({QStringLiteral("fmnist:train:256"), QStringLiteral("fmnist:train:512"),
                           QStringLiteral("fmnist:train:1000"), QStringLiteral("fmnist:test:1000")});
    else
        source_->addItems({QStringLiteral("fmnist:test"), QStringLiteral("fmnist:test:2000")});
    source_->setCurrentText(QString::fromStdString(current.text));
    source_->setMinimumWidth(360);
    skipBad_->setObjectName(QStringLiteral("skipBadImages"));
    skipBad_->setText(tr("Leave out unreadable images and count them (folder: and list: sources)"));
    skipBad_->setToolTip(tr("Without this, a damaged or unreadable image refuses the whole source, naming the file."));
    skipBad_->setChecked(current.skipBad);
    error_->setStyleSheet(QStringLiteral("color: #c62828;"));
    error_->setWordWrap(true);
    error_->hide();

    auto* folder = new QPushButton(tr("Image folder…"), this);
    auto* file = new QPushButton(tr("IDX / .npy file…"), this);
    connect(folder, &QPushButton::clicked, this, &CalibrationDialog::browseFolder);
    connect(file, &QPushButton::clicked, this, &CalibrationDialog::browseFile);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &CalibrationDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &CalibrationDialog::reject);

    auto* browse = new QHBoxLayout;
    browse->addWidget(folder);
    browse->addWidget(file);
    browse->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    const QString forms = tr("<tt>idx:IMAGES[,LABELS]</tt>, <tt>folder:DIR</tt> (images of any size, a sub-folder per "
                             "class or flat), <tt>list:FILE</tt> (lines of PATH [LABEL]) or <tt>npy:FILE.npy</tt>.");
    auto* help = new QLabel(calibration ? tr("The data the sensitivity table is measured on: a data source name such as "
                                             "<tt>fmnist:train:256</tt>, %1 Fewer samples measure faster.").arg(forms)
                                        : tr("Labelled data to measure allocations on: a data source name such as "
                                             "<tt>fmnist:test</tt>, <tt>fmnist:test:2000</tt>, %1").arg(forms),
                            this);
    help->setWordWrap(true);
    layout->addWidget(help);
    layout->addWidget(source_);
    layout->addLayout(browse);
    layout->addWidget(skipBad_);
    layout->addWidget(error_);
    layout->addWidget(buttons);
}

QString CalibrationDialog::source() const { return source_->currentText().trimmed(); }

void CalibrationDialog::accept() {
    try {
        spec_ = ptq::parseDataSource(source().toStdString());
        spec_.skipBad = skipBad_->isChecked();
    } catch (const ptq::Error& e) {
        error_->setText(QString::fromStdString(e.what()));
        error_->show();
        return;
    }
    QDialog::accept();
}

void CalibrationDialog::browseFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Image folder (one sub-folder a class)"));
    if (!dir.isEmpty()) source_->setCurrentText(QStringLiteral("folder:") + dir);
}

void CalibrationDialog::browseFile() {
    const QString file = QFileDialog::getOpenFileName(this, tr("Calibration images"), {},
                                                      tr("IDX or NumPy files (*.idx3-ubyte *.gz *.npy);;All files (*)"));
    if (file.isEmpty()) return;
    source_->setCurrentText((file.endsWith(QLatin1String(".npy")) ? QStringLiteral("npy:") : QStringLiteral("idx:")) + file);
}

}  // namespace ptq::ui
