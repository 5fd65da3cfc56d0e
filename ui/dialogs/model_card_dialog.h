#pragma once
/// @file
/// The model card dialog: what a model file alone cannot say — the input shape, the
/// normalization (a preset or per-channel values), the centre-crop ratio, the class names — and
/// the calibration and evaluation data, with a preview of a few calibration images as the
/// model will see them. Opens when a model has no sidecar, and from File > Model card. Can save
/// the card as the model's sidecar (atomically). UI thread only; the preview is read on a
/// worker thread.

#include "core/data/data_source.h"
#include "core/model/model_card.h"
#include "core/workflow/model.h"

#include <QtCore/QString>
#include <QtWidgets/QDialog>

#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace ptq::ui {

class ModelCardDialog : public QDialog {
    Q_OBJECT
public:
    /// @p card: what is known so far (the sidecar's, the open model's, or empty);
    /// @p suggestedShape: a guess shown when the card gives no input shape (suggestInputShape);
    /// @p calibration and @p evaluation: the data source names to start from.
    ModelCardDialog(const QString& modelPath, const ptq::ModelCard& card, const std::vector<int64_t>& suggestedShape,
                    const QString& calibration, const QString& evaluation, QWidget* parent = nullptr);

    /// The model request the dialog makes (the file and every field over its sidecar); valid
    /// after accept().
    const ptq::ModelRequest& request() const { return request_; }
    const ptq::DataSourceSpec& calibration() const { return calibration_; }
    /// Not given() when the evaluation field was left empty.
    const ptq::DataSourceSpec& evaluation() const { return evaluation_; }
    /// The card as filled in; valid after accept().
    const ptq::ModelCard& card() const { return card_; }

    /// Checks every field, writes the sidecar when asked; on a problem says it under the
    /// fields and stays open.
    void accept() override;

Q_SIGNALS:
    /// The preview's images are shown (@p count of them) or its error is; for tests.
    void previewFinished(int count, const QString& error);

public Q_SLOTS:
    /// Reads the first few calibration images as the model will get them and shows them.
    void preview();

private:
    /// The card the fields say; throws ptq::Error (InvalidInput) naming the field that is wrong.
    ptq::ModelCard cardFromFields() const;
    void presetChanged();
    void browseClasses();
    void browseData(QLineEdit* field);
    void showError(const QString& message);

    QString modelPath_;
    QSpinBox *channels_, *height_, *width_;
    QComboBox* preset_;
    QLineEdit *mean_, *std_;
    QDoubleSpinBox* cropRatio_;
    QLineEdit* classesFile_;
    QLabel* classesLabel_;
    std::vector<std::string> classNames_;
    QLineEdit *calibrationField_, *evaluationField_;
    QCheckBox* save_;
    QCheckBox* skipBad_;  ///< both data sources leave out unreadable images
    QLabel* shapeHint_;
    QLabel* error_;
    QLabel* previewStatus_;
    std::vector<QLabel*> thumbnails_;

    ptq::ModelRequest request_;
    ptq::DataSourceSpec calibration_, evaluation_;
    ptq::ModelCard card_;
};

}  // namespace ptq::ui
