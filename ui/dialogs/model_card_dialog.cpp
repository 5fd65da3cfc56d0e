#include "ui/dialogs/model_card_dialog.h"

#include "core/util/error.h"

#include <QtConcurrent/QtConcurrentRun>
#include <QtCore/QFileInfo>
#include <QtCore/QFutureWatcher>
#include <QtCore/QTimer>
#include <QtGui/QImage>
#include <QtGui/QPixmap>
#include <QtWidgets/QCheckBox>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QDialogButtonBox>
#include <QtWidgets/QDoubleSpinBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QFormLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QSpinBox>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {

constexpr int kPreviewImages = 6;
constexpr int kThumbnail = 84;
const QString kCustom = QStringLiteral("custom");

QString numbers(const std::vector<float>& values) {
    QStringList parts;
    for (float v : values) parts << QString::number(double(v));
    return parts.join(QStringLiteral(", "));
}

/// "0.485, 0.456 0.406" -> values; throws naming @p field for anything else.
std::vector<float> parseNumbers(const QString& text, const QString& field) {
    std::vector<float> out;
    const QStringList parts = QString(text).replace(QLatin1Char(','), QLatin1Char(' ')).split(QLatin1Char(' '), Qt::SkipEmptyParts);
    for (const QString& p : parts) {
        bool ok = false;
        const double v = p.toDouble(&ok);
        if (!ok || !std::isfinite(v))
            throw ptq::invalidInput(QObject::tr("The %1 field has '%2', which is not a number; give one number for "
                                                "every channel or one for all, separated by commas.")
                                        .arg(field, p)
                                        .toStdString());
        out.push_back(float(v));
    }
    return out;
}

/// What the preview thread hands back.
struct PreviewResult {
    std::vector<QImage> images;
    QString error;
    QString description;
};

/// Reads the first images of @p source as the model gets them and turns them back into
/// pictures (normalization undone). Worker thread.
PreviewResult readPreview(const ptq::DataSourceSpec& source, const ptq::ModelCard& card) {
    PreviewResult r;
    try {
        const ptq::Normalization norm = ptq::Normalization::fromModelCard(card).resolvedFor(card.inputShape[0]);
        const std::unique_ptr<ptq::Dataset> data =
            ptq::openDataSource(source, norm, card.inputShape, ptq::ImageTransform{card.effectiveCropRatio()});
        const int64_t n = std::min<int64_t>(kPreviewImages, data->size());
        const int64_t c = card.inputShape[0], h = card.inputShape[1], w = card.inputShape[2];
        std::vector<float> pixels(size_t(n * c * h * w));
        data->read(0, n, pixels.data(), nullptr);
        r.description = QString::fromStdString(data->description());
        if (data->skippedSamples() > 0)
            r.description += QObject::tr(" (%n unreadable image(s) left out)", nullptr, int(data->skippedSamples()));
        for (int64_t i = 0; i < n; ++i) {
            QImage image(int(w), int(h), c == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
            for (int64_t y = 0; y < h; ++y) {
                uchar* line = image.scanLine(int(y));
                for (int64_t x = 0; x < w; ++x)
                    for (int64_t k = 0; k < std::min<int64_t>(c, 3); ++k) {
                        const float v = pixels[size_t(((i * c + k) * h + y) * w + x)] * norm.std[size_t(k)] +
                                        norm.mean[size_t(k)];
                        line[x * std::min<int64_t>(c, 3) + k] = uchar(std::clamp(std::lround(v * 255.0f), 0L, 255L));
                    }
            }
            r.images.push_back(image);
        }
    } catch (const std::exception& e) {
        r.error = QString::fromStdString(e.what());
    }
    return r;
}

}  // namespace

ModelCardDialog::ModelCardDialog(const QString& modelPath, const ptq::ModelCard& card,
                                 const std::vector<int64_t>& suggestedShape, const QString& calibration,
                                 const QString& evaluation, QWidget* parent)
    : QDialog(parent), modelPath_(modelPath) {
    setObjectName(QStringLiteral("modelCardDialog"));
    setWindowTitle(tr("Model card — %1").arg(QFileInfo(modelPath).fileName()));
    auto spin = [this](const char* name, int max) {
        auto* s = new QSpinBox(this);
        s->setObjectName(QLatin1String(name));
        s->setRange(1, max);
        return s;
    };
    channels_ = spin("cardChannels", 4096);
    height_ = spin("cardHeight", 16384);
    width_ = spin("cardWidth", 16384);
    shapeHint_ = new QLabel(this);
    shapeHint_->setObjectName(QStringLiteral("cardShapeHint"));
    shapeHint_->setStyleSheet(QStringLiteral("color: palette(mid);"));

    preset_ = new QComboBox(this);
    preset_->setObjectName(QStringLiteral("cardPreset"));
    for (const ptq::NormalizationPreset& p : ptq::normalizationPresets())
        preset_->addItem(QString::fromStdString(p.name), QString::fromStdString(p.description));
    preset_->addItem(kCustom, tr("per-channel mean and std as typed below"));
    mean_ = new QLineEdit(this);
    mean_->setObjectName(QStringLiteral("cardMean"));
    std_ = new QLineEdit(this);
    std_->setObjectName(QStringLiteral("cardStd"));
    mean_->setPlaceholderText(tr("e.g. 0.485, 0.456, 0.406"));
    std_->setPlaceholderText(tr("e.g. 0.229, 0.224, 0.225"));
    cropRatio_ = new QDoubleSpinBox(this);
    cropRatio_->setObjectName(QStringLiteral("cardCropRatio"));
    cropRatio_->setRange(0.05, 1.0);
    cropRatio_->setDecimals(3);
    cropRatio_->setSingleStep(0.005);
    cropRatio_->setToolTip(tr("Images of another size: the shorter side is resized to the input size / ratio, then "
                              "the centre is cropped (0.875: ImageNet's 224 of 256; 1: the whole shorter side)."));

    classesFile_ = new QLineEdit(this);
    classesFile_->setObjectName(QStringLiteral("cardClassesFile"));
    classesFile_->setPlaceholderText(tr("a text file, one class name a line (optional)"));
    classesLabel_ = new QLabel(this);
    auto* classesBrowse = new QPushButton(tr("Browse…"), this);
    connect(classesBrowse, &QPushButton::clicked, this, &ModelCardDialog::browseClasses);

    calibrationField_ = new QLineEdit(calibration, this);
    calibrationField_->setObjectName(QStringLiteral("cardCalibration"));
    evaluationField_ = new QLineEdit(evaluation, this);
    evaluationField_->setObjectName(QStringLiteral("cardEvaluation"));
    calibrationField_->setPlaceholderText(tr("folder:DIR, list:FILE, npy:FILE.npy, fmnist:train:256 …"));
    evaluationField_->setPlaceholderText(tr("labelled data, e.g. folder:VAL_DIR (optional)"));
    auto* calibrationBrowse = new QPushButton(tr("Folder…"), this);
    auto* evaluationBrowse = new QPushButton(tr("Folder…"), this);
    connect(calibrationBrowse, &QPushButton::clicked, this, [this] { browseData(calibrationField_); });
    connect(evaluationBrowse, &QPushButton::clicked, this, [this] { browseData(evaluationField_); });

    auto* previewButton = new QPushButton(tr("Preview"), this);
    previewButton->setObjectName(QStringLiteral("cardPreviewButton"));
    connect(previewButton, &QPushButton::clicked, this, &ModelCardDialog::preview);
    previewStatus_ = new QLabel(tr("Preview: the first calibration images as the model sees them."), this);
    previewStatus_->setObjectName(QStringLiteral("cardPreviewStatus"));
    previewStatus_->setWordWrap(true);
    auto* thumbs = new QHBoxLayout;
    for (int i = 0; i < kPreviewImages; ++i) {
        auto* label = new QLabel(this);
        label->setFixedSize(kThumbnail, kThumbnail);
        label->setFrameShape(QFrame::StyledPanel);
        label->setAlignment(Qt::AlignCenter);
        thumbnails_.push_back(label);
        thumbs->addWidget(label);
    }
    thumbs->addStretch(1);

    save_ = new QCheckBox(tr("Save as the model's sidecar, %1").arg(QFileInfo(QString::fromStdString(
                                                                              ptq::modelCardPath(modelPath.toStdString())))
                                                                          .fileName()),
                          this);
    save_->setObjectName(QStringLiteral("cardSave"));
    save_->setChecked(true);
    skipBad_ = new QCheckBox(tr("Leave out unreadable images and count them"), this);
    skipBad_->setObjectName(QStringLiteral("cardSkipBad"));
    skipBad_->setToolTip(tr("Without this, a damaged or unreadable image in a folder or list refuses the data, "
                            "naming the file."));
    error_ = new QLabel(this);
    error_->setObjectName(QStringLiteral("cardError"));
    error_->setStyleSheet(QStringLiteral("color: #c62828;"));
    error_->setWordWrap(true);
    error_->hide();
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Open"));
    connect(buttons, &QDialogButtonBox::accepted, this, &ModelCardDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ModelCardDialog::reject);

    auto row = [this](std::initializer_list<QWidget*> widgets) {
        auto* box = new QWidget(this);
        auto* l = new QHBoxLayout(box);
        l->setContentsMargins(0, 0, 0, 0);
        for (QWidget* w : widgets) l->addWidget(w);
        return box;
    };
    auto* form = new QFormLayout;
    auto* times1 = new QLabel(QStringLiteral("×"), this);
    auto* times2 = new QLabel(QStringLiteral("×"), this);
    form->addRow(tr("Input (C × H × W)"), row({channels_, times1, height_, times2, width_, shapeHint_}));
    form->addRow(tr("Normalization"), preset_);
    form->addRow(tr("Mean"), mean_);
    form->addRow(tr("Std"), std_);
    form->addRow(tr("Crop ratio"), cropRatio_);
    form->addRow(tr("Class names"), row({classesFile_, classesBrowse, classesLabel_}));
    form->addRow(tr("Calibration data"), row({calibrationField_, calibrationBrowse}));
    form->addRow(tr("Evaluation data"), row({evaluationField_, evaluationBrowse}));
    form->addRow(QString(), skipBad_);
    auto* help = new QLabel(tr("What the file alone cannot say. Pixels are scaled to [0, 1], then (x − mean) / std "
                               "per channel: choose the preset the model was trained with (none for ToTensor alone)."),
                            this);
    help->setWordWrap(true);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(help);
    layout->addLayout(form);
    previewButton->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    previewStatus_->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    layout->addWidget(row({previewButton, previewStatus_}));
    layout->addLayout(thumbs);
    layout->addWidget(save_);
    layout->addWidget(error_);
    layout->addWidget(buttons);
    setMinimumWidth(620);

    // What is known so far.
    const bool known = card.inputShape.size() == 3, suggested = suggestedShape.size() == 3;
    const std::vector<int64_t> shape = known ? card.inputShape : suggested ? suggestedShape : std::vector<int64_t>{3, 224, 224};
    channels_->setValue(int(shape[0]));
    height_->setValue(int(shape[1]));
    width_->setValue(int(shape[2]));
    const bool onnx = modelPath_.endsWith(QLatin1String(".onnx"), Qt::CaseInsensitive);
    shapeHint_->setText(known       ? QString()
                        : suggested ? (onnx ? tr("read from the ONNX file") : tr("suggested from the first layer: check it"))
                                    : tr("give the size the model was trained on"));
    int presetIndex = preset_->findText(QStringLiteral("none"));
    if (card.hasNormalization()) {
        presetIndex = card.preset.empty() ? preset_->findText(kCustom) : preset_->findText(QString::fromStdString(card.preset));
        if (presetIndex < 0) presetIndex = preset_->findText(kCustom);
        mean_->setText(numbers(card.mean));
        std_->setText(numbers(card.std));
    }
    preset_->setCurrentIndex(presetIndex);
    presetChanged();
    connect(preset_, &QComboBox::currentIndexChanged, this, &ModelCardDialog::presetChanged);
    cropRatio_->setValue(card.effectiveCropRatio());
    classNames_ = card.classNames;
    if (!classNames_.empty()) classesLabel_->setText(tr("%1 names").arg(classNames_.size()));
    // The first look at the data as the model will see it, without a click.
    if (!calibration.trimmed().isEmpty()) QTimer::singleShot(0, this, &ModelCardDialog::preview);
}

void ModelCardDialog::presetChanged() {
    const bool custom = preset_->currentText() == kCustom;
    mean_->setEnabled(custom);
    std_->setEnabled(custom);
    preset_->setToolTip(preset_->currentData().toString());
    if (custom) return;
    const ptq::NormalizationPreset& p = ptq::normalizationPreset(preset_->currentText().toStdString());
    mean_->setText(numbers(p.mean));
    std_->setText(numbers(p.std));
    cropRatio_->setValue(p.cropRatio);
}

void ModelCardDialog::browseClasses() {
    const QString file = QFileDialog::getOpenFileName(this, tr("Class names (one a line)"),
                                                      QFileInfo(modelPath_).absolutePath(),
                                                      tr("Text files (*.txt);;All files (*)"));
    if (file.isEmpty()) return;
    classesFile_->setText(file);
    try {
        classNames_ = ptq::readClassNames(file.toStdString());
        classesLabel_->setText(tr("%1 names").arg(classNames_.size()));
    } catch (const ptq::Error& e) {
        showError(QString::fromStdString(e.what()));
    }
}

void ModelCardDialog::browseData(QLineEdit* field) {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Image folder"), QFileInfo(modelPath_).absolutePath());
    if (!dir.isEmpty()) field->setText(QStringLiteral("folder:") + dir);
}

void ModelCardDialog::showError(const QString& message) {
    error_->setText(message);
    error_->show();
}

ptq::ModelCard ModelCardDialog::cardFromFields() const {
    ptq::ModelCard card;
    if (const std::optional<ptq::ModelCard> sidecar = ptq::loadModelCard(modelPath_.toStdString())) card = *sidecar;
    card.inputShape = {channels_->value(), height_->value(), width_->value()};
    card.mean = parseNumbers(mean_->text(), tr("mean"));
    card.std = parseNumbers(std_->text(), tr("std"));
    card.preset = preset_->currentText() == kCustom ? std::string() : preset_->currentText().toStdString();
    card.cropRatio = cropRatio_->value();
    if (!classesFile_->text().trimmed().isEmpty())
        card.classNames = ptq::readClassNames(classesFile_->text().trimmed().toStdString());
    else
        card.classNames = classNames_;
    ptq::validateModelCard(card, tr("The model card").toStdString());
    ptq::Normalization{card.mean, card.std}.resolvedFor(card.inputShape[0]);  // one value or one per channel
    return card;
}

void ModelCardDialog::preview() {
    ptq::ModelCard card;
    ptq::DataSourceSpec source;
    try {
        card = cardFromFields();
        if (calibrationField_->text().trimmed().isEmpty())
            throw ptq::invalidInput(tr("Name the calibration data to preview it.").toStdString());
        source = ptq::parseDataSource(calibrationField_->text().trimmed().toStdString());
        source.skipBad = skipBad_->isChecked();
    } catch (const ptq::Error& e) {
        previewStatus_->setText(QString::fromStdString(e.what()));
        Q_EMIT previewFinished(0, previewStatus_->text());
        return;
    }
    previewStatus_->setText(tr("Reading %1…").arg(QString::fromStdString(source.text)));
    for (QLabel* t : thumbnails_) t->clear();
    auto* watcher = new QFutureWatcher<PreviewResult>(this);
    connect(watcher, &QFutureWatcher<PreviewResult>::finished, this, [this, watcher] {
        watcher->deleteLater();
        const PreviewResult r = watcher->result();
        if (!r.error.isEmpty()) {
            previewStatus_->setText(r.error);
            Q_EMIT previewFinished(0, r.error);
            return;
        }
        for (size_t i = 0; i < thumbnails_.size(); ++i)
            thumbnails_[i]->setPixmap(i < r.images.size() ? QPixmap::fromImage(r.images[i].scaled(
                                                                kThumbnail, kThumbnail, Qt::KeepAspectRatio,
                                                                Qt::SmoothTransformation))
                                                          : QPixmap());
        previewStatus_->setText(tr("%1: the first %2 as the model gets them (resized, cropped, normalized; the "
                                   "normalization undone for display).")
                                    .arg(r.description, r.images.size() == 1 ? tr("image")
                                                                             : tr("%1 images").arg(r.images.size())));
        Q_EMIT previewFinished(int(r.images.size()), {});
    });
    watcher->setFuture(QtConcurrent::run(readPreview, source, card));
}

void ModelCardDialog::accept() {
    try {
        card_ = cardFromFields();
        if (calibrationField_->text().trimmed().isEmpty())
            throw ptq::invalidInput(
                tr("Name the calibration data: the sensitivity table is measured on it (e.g. folder:DIR).").toStdString());
        calibration_ = ptq::parseDataSource(calibrationField_->text().trimmed().toStdString());
        const QString evaluation = evaluationField_->text().trimmed();
        evaluation_ = evaluation.isEmpty() ? ptq::DataSourceSpec{} : ptq::parseDataSource(evaluation.toStdString());
        calibration_.skipBad = skipBad_->isChecked();
        if (evaluation_.given()) evaluation_.skipBad = skipBad_->isChecked();
        request_ = ptq::requestWithCard(modelPath_.toStdString(), card_);
        if (save_->isChecked()) ptq::writeModelCard(request_.path, card_);
    } catch (const ptq::Error& e) {
        showError(QString::fromStdString(e.what()));
        return;
    }
    QDialog::accept();
}

}  // namespace ptq::ui
