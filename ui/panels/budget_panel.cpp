#include "ui/panels/budget_panel.h"

#include <QtCore/QSignalBlocker>

#include "ui/models/budget_model.h"

#include <QtWidgets/QComboBox>
#include <QtWidgets/QGridLayout>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSlider>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
QSlider* makeSlider(const QString& name, QWidget* parent) {
    auto* s = new QSlider(Qt::Horizontal, parent);
    s->setObjectName(name);
    s->setRange(0, BudgetPanel::kSteps);
    s->setPageStep(BudgetPanel::kSteps / 20);
    return s;
}
}  // namespace

BudgetPanel::BudgetPanel(QWidget* parent)
    : QWidget(parent), accuracy_(makeSlider(QStringLiteral("accuracySlider"), this)),
      compression_(makeSlider(QStringLiteral("compressionSlider"), this)), accuracyValue_(new QLabel(this)),
      compressionValue_(new QLabel(this)), accuracyTitle_(new QLabel(tr("Accuracy budget"), this)),
      compressionTitle_(new QLabel(tr("Compression budget"), this)), metric_(new QComboBox(this)),
      reference_(new QComboBox(this)), message_(new QLabel(this)), table_(new QTableView(this)) {
    metric_->setObjectName(QStringLiteral("costMetricCombo"));
    metric_->addItem(tr("Size"), int(ptq::CostMetric::Size));
    metric_->addItem(tr("BOPs"), int(ptq::CostMetric::Bops));
    reference_->setObjectName(QStringLiteral("costReferenceCombo"));
    reference_->addItem(tr("of FP32"), int(ptq::CostReference::Fp32));
    reference_->addItem(tr("of INT8"), int(ptq::CostReference::Int8));
    accuracy_->setToolTip(tr("Allowed predicted degradation (Σ Δloss of the chosen options): the solver "
                             "picks the cheapest allocation within it"));
    compression_->setToolTip(tr("Allowed size or BOPs as a fraction of the FP32 or INT8 model: the solver "
                                "picks the allocation with the least predicted degradation within it"));
    accuracy_->setValue(kSteps / 4);
    compression_->setValue(kSteps / 2);
    for (QLabel* l : {accuracyValue_, compressionValue_}) {
        l->setMinimumWidth(l->fontMetrics().horizontalAdvance(QStringLiteral("≤ 100.0 % (10.00×)  ")));
        l->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    message_->setObjectName(QStringLiteral("budgetMessage"));
    message_->setWordWrap(true);
    message_->setStyleSheet(QStringLiteral("color: #c62828;"));
    message_->hide();

    table_->setObjectName(QStringLiteral("budgetTable"));
    table_->setSelectionMode(QAbstractItemView::NoSelection);
    table_->setFocusPolicy(Qt::NoFocus);
    table_->setShowGrid(false);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setHighlightSections(false);

    // Each budget: a title line (title, its choices, its value) above a full-width slider.
    auto* grid = new QGridLayout;
    grid->setContentsMargins(6, 4, 6, 0);
    grid->setVerticalSpacing(2);
    grid->addWidget(accuracyTitle_, 0, 0, 1, 3);
    grid->addWidget(accuracyValue_, 0, 3);
    grid->addWidget(accuracy_, 1, 0, 1, 4);
    grid->addWidget(compressionTitle_, 2, 0);
    grid->addWidget(metric_, 2, 1);
    grid->addWidget(reference_, 2, 2);
    grid->addWidget(compressionValue_, 2, 3);
    grid->addWidget(compression_, 3, 0, 1, 4);
    grid->setColumnStretch(3, 1);
    grid->setRowMinimumHeight(2, metric_->sizeHint().height() + 6);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(3);
    setUpTargetSelector(layout);
    layout->addLayout(grid);
    layout->addWidget(message_);
    layout->addWidget(table_, 1);

    connect(accuracy_, &QSlider::valueChanged, this, [this] {
        kind_ = ptq::BudgetKind::Degradation;
        emitBudget();
    });
    connect(compression_, &QSlider::valueChanged, this, [this] {
        kind_ = ptq::BudgetKind::Cost;
        emitBudget();
    });
    auto metricChanged = [this] {
        updateLabels();
        Q_EMIT costMetricChanged();
    };
    connect(metric_, &QComboBox::currentIndexChanged, this, metricChanged);
    connect(reference_, &QComboBox::currentIndexChanged, this, metricChanged);
    updateLabels();
}

void BudgetPanel::setModel(BudgetModel* model) {
    table_->setModel(model);
    connect(model, &QAbstractItemModel::modelReset, this, &BudgetPanel::resizeColumns);
    resizeColumns();
}

void BudgetPanel::resizeColumns() {
    table_->resizeColumnToContents(BudgetModel::FigureColumn);
    table_->setColumnWidth(BudgetModel::ValueColumn,
                           std::max(table_->columnWidth(BudgetModel::ValueColumn),
                                    table_->fontMetrics().horizontalAdvance(QStringLiteral("0000.00 KiB  "))));
}

void BudgetPanel::setLimits(double maxDegradation, double minRatio, double maxRatio) {
    maxDegradation_ = std::max(maxDegradation, 1e-9);
    minRatio_ = minRatio;
    maxRatio_ = std::max(maxRatio, minRatio + 1e-9);
    updateLabels();
}

void BudgetPanel::setMessage(const QString& sentence) {
    message_->setText(sentence);
    message_->setVisible(!sentence.isEmpty());
}

double BudgetPanel::degradationAt(int position) const {
    const double t = double(position) / kSteps;
    return maxDegradation_ * t * t;  // finer steps where budgets are tight
}

double BudgetPanel::ratioAt(int position) const {
    return minRatio_ + (maxRatio_ - minRatio_) * double(position) / kSteps;
}

ptq::BudgetRequest BudgetPanel::request() const {
    ptq::BudgetRequest r;
    r.kind = kind_;
    r.metric = ptq::CostMetric(metric_->currentData().toInt());
    r.reference = ptq::CostReference(reference_->currentData().toInt());
    r.costRatio = ratioAt(compression_->value());
    r.maxDegradation = degradationAt(accuracy_->value());
    return r;
}

void BudgetPanel::setCostRatio(double ratio) {
    const int position = int(std::lround((ratio - minRatio_) / (maxRatio_ - minRatio_) * kSteps));
    kind_ = ptq::BudgetKind::Cost;
    if (compression_->value() == std::clamp(position, 0, kSteps)) emitBudget();
    compression_->setValue(std::clamp(position, 0, kSteps));
}

void BudgetPanel::setMaxDegradation(double degradation) {
    const int position = int(std::lround(std::sqrt(std::max(0.0, degradation) / maxDegradation_) * kSteps));
    kind_ = ptq::BudgetKind::Degradation;
    if (accuracy_->value() == std::clamp(position, 0, kSteps)) emitBudget();
    accuracy_->setValue(std::clamp(position, 0, kSteps));
}

void BudgetPanel::showBudget(const ptq::BudgetRequest& budget) {
    const QSignalBlocker blockPanel(this), blockMetric(metric_), blockReference(reference_);
    const QSignalBlocker blockAccuracy(accuracy_), blockCompression(compression_);
    if (const int m = metric_->findData(int(budget.metric)); m >= 0) metric_->setCurrentIndex(m);
    if (const int r = reference_->findData(int(budget.reference)); r >= 0) reference_->setCurrentIndex(r);
    compression_->setValue(std::clamp(int(std::lround((budget.costRatio - minRatio_) / (maxRatio_ - minRatio_) * kSteps)), 0, kSteps));
    accuracy_->setValue(std::clamp(int(std::lround(std::sqrt(std::max(0.0, budget.maxDegradation) / maxDegradation_) * kSteps)), 0, kSteps));
    kind_ = budget.kind;
    updateLabels();
}

void BudgetPanel::emitBudget() {
    updateLabels();
    Q_EMIT budgetChanged(request());
}

void BudgetPanel::updateLabels() {
    const ptq::BudgetRequest r = request();
    accuracyValue_->setText(QStringLiteral("Δloss ≤ %1").arg(r.maxDegradation, 0, 'g', 3));
    // A target's cost has one reference (its widest option), whatever the reference combo says.
    const double fp32Factor = r.reference == ptq::CostReference::Fp32 || r.metric == ptq::CostMetric::Target
                                  ? 1.0
                                  : (r.metric == ptq::CostMetric::Size ? 4.0 : 16.0);
    compressionValue_->setText(QStringLiteral("≤ %1 % (%2×)")
                                   .arg(r.costRatio * 100, 0, 'f', 1)
                                   .arg(r.costRatio > 0 ? fp32Factor / r.costRatio : 0.0, 0, 'f', 2));
    compressionValue_->setToolTip(tr("The budget, and the compression it means against FP32"));
    reference_->setEnabled(r.metric != ptq::CostMetric::Target);  // a target's cost has one reference
    QFont active = font(), inactive = font();
    active.setBold(true);
    accuracyTitle_->setFont(r.kind == ptq::BudgetKind::Degradation ? active : inactive);
    compressionTitle_->setFont(r.kind == ptq::BudgetKind::Cost ? active : inactive);
}

}  // namespace ptq::ui
