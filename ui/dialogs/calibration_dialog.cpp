#include "ui/dialogs/calibration_dialog.h"

#include "core/data/data_source.h"
#include "core/util/error.h"

#include <QtWidgets/QComboBox>
#include <QtWidgets/QDialogButtonBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QVBoxLayout>

namespace ptq::ui {

CalibrationDialog::CalibrationDialog(const QString& current, QWidget* parent)
    : QDialog(parent), source_(new QComboBox(this)), error_(new QLabel(this)) {
    setObjectName(QStringLiteral("calibrationDialog"));
    setWindowTitle(tr("Calibration data"));
    source_->setObjectName(QStringLiteral("calibrationSource"));
    source_->setEditable(true);
    source_->addItems({QStringLiteral("fmnist:train:256"), QStringLiteral("fmnist:train:512"),
                       QStringLiteral("fmnist:train:1000"), QStringLiteral("fmnist:test:1000")});
    source_->setCurrentText(current);
    source_->setMinimumWidth(360);
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
    auto* help = new QLabel(tr("The data the sensitivity table is measured on: a data source name such as "
                               "<tt>fmnist:train:256</tt>, <tt>idx:IMAGES[,LABELS]</tt>, <tt>folder:DIR</tt> (images of any "
                               "size, a sub-folder per class or flat), <tt>list:FILE</tt> (lines of PATH [LABEL]) or "
                               "<tt>npy:FILE.npy</tt>. Fewer samples measure faster."),
                            this);
    help->setWordWrap(true);
    layout->addWidget(help);
    layout->addWidget(source_);
    layout->addLayout(browse);
    layout->addWidget(error_);
    layout->addWidget(buttons);
}

QString CalibrationDialog::source() const { return source_->currentText().trimmed(); }

void CalibrationDialog::accept() {
    try {
        spec_ = ptq::parseDataSource(source().toStdString());
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
