#pragma once
/// @file
/// Picks the calibration data (or, as Purpose::Evaluation, the labelled data allocations are
/// measured on): a few ready Fashion-MNIST subsets, or any data source name (idx:, folder:,
/// list:, npy:), with a file/folder browser, and whether unreadable images of a folder or list
/// are left out (and counted) instead of refusing the source. The name is checked with the
/// core's parser before the dialog accepts. UI thread only.

#include "core/data/data_source.h"

#include <QtWidgets/QDialog>

class QCheckBox;
class QComboBox;
class QLabel;

namespace ptq::ui {

class CalibrationDialog : public QDialog {
    Q_OBJECT
public:
    enum class Purpose { Calibration, Evaluation };

    /// @p current: the source in use (its name and whether it skips bad images).
    explicit CalibrationDialog(const ptq::DataSourceSpec& current, QWidget* parent = nullptr,
                               Purpose purpose = Purpose::Calibration);

    QString source() const;
    /// The source as accept() parsed it; valid after the dialog was accepted.
    const ptq::DataSourceSpec& spec() const { return spec_; }

    void accept() override;

private:
    void browseFolder();
    void browseFile();

    QComboBox* source_;
    QCheckBox* skipBad_;
    QLabel* error_;
    ptq::DataSourceSpec spec_;
};

}  // namespace ptq::ui
