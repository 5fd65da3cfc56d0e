#pragma once
/// @file
/// Picks the calibration data: a few ready Fashion-MNIST subsets, or any data source name
/// (idx:, folder:, npy:), with a file/folder browser. The name is checked with the core's
/// parser before the dialog accepts. UI thread only.

#include "core/data/data_source.h"

#include <QtWidgets/QDialog>

class QComboBox;
class QLabel;

namespace ptq::ui {

class CalibrationDialog : public QDialog {
    Q_OBJECT
public:
    explicit CalibrationDialog(const QString& current, QWidget* parent = nullptr);

    QString source() const;
    /// The source as accept() parsed it; valid after the dialog was accepted.
    const ptq::DataSourceSpec& spec() const { return spec_; }

    void accept() override;

private:
    void browseFolder();
    void browseFile();

    QComboBox* source_;
    QLabel* error_;
    ptq::DataSourceSpec spec_;
};

}  // namespace ptq::ui
