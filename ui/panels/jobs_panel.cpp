#include "ui/panels/jobs_panel.h"

#include "ui/models/job_list_model.h"

#include <QtWidgets/QApplication>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QMenu>
#include <QtWidgets/QToolButton>
#include <QtWidgets/QStyledItemDelegate>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

namespace ptq::ui {

namespace {
/// Draws the progress column as a progress bar with the model's text on it.
class ProgressDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        QStyleOptionViewItem item = option;
        initStyleOption(&item, index);
        const QWidget* widget = option.widget;
        QStyle* style = widget ? widget->style() : QApplication::style();
        // Background (selection, alternate rows) first, without the text.
        item.text.clear();
        style->drawControl(QStyle::CE_ItemViewItem, &item, painter, widget);

        QStyleOptionProgressBar bar;
        bar.rect = option.rect.adjusted(2, 2, -2, -2);
        bar.minimum = 0;
        bar.maximum = 1000;
        bar.progress = int(index.data(JobListModel::SortRole).toDouble() * 1000.0);
        bar.text = index.data(Qt::DisplayRole).toString();
        bar.textVisible = true;
        bar.textAlignment = Qt::AlignCenter;
        bar.state = option.state | QStyle::State_Horizontal;
        style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
    }
};
}  // namespace

namespace {
QToolButton* makeButton(const QString& text, const QString& name, QWidget* parent) {
    auto* b = new QToolButton(parent);
    b->setText(text);
    b->setObjectName(name);
    b->setAutoRaise(true);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    return b;
}
}  // namespace

JobsPanel::JobsPanel(QWidget* parent)
    : QWidget(parent), table_(new QTableView(this)), run_(makeButton(tr("Run ▾"), QStringLiteral("runJobButton"), this)),
      cancel_(makeButton(tr("Cancel"), QStringLiteral("cancelJobButton"), this)),
      cancelAll_(makeButton(tr("Cancel all"), QStringLiteral("cancelAllJobsButton"), this)),
      clear_(makeButton(tr("Clear finished"), QStringLiteral("clearJobsButton"), this)) {
    run_->setPopupMode(QToolButton::InstantPopup);
    run_->setEnabled(false);
    cancel_->setToolTip(tr("Cancel the selected job, or the running one"));
    connect(cancel_, &QToolButton::clicked, this, [this] {
        const int id = jobToCancel();
        if (id > 0) Q_EMIT cancelRequested(id);
    });
    connect(cancelAll_, &QToolButton::clicked, this, &JobsPanel::cancelAllRequested);
    connect(clear_, &QToolButton::clicked, this, [this] {
        if (model_) model_->clearFinished();
    });
    table_->setObjectName(QStringLiteral("jobTable"));
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setWordWrap(false);
    table_->setShowGrid(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 8);
    table_->horizontalHeader()->setHighlightSections(false);
    table_->setItemDelegateForColumn(JobListModel::ProgressColumn, new ProgressDelegate(table_));

    auto* buttons = new QHBoxLayout;
    buttons->setContentsMargins(2, 0, 2, 0);
    buttons->setSpacing(2);
    buttons->addWidget(run_);
    buttons->addStretch(1);
    buttons->addWidget(cancel_);
    buttons->addWidget(cancelAll_);
    buttons->addWidget(clear_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(buttons);
    layout->addWidget(table_);
}

void JobsPanel::setRunMenu(QMenu* menu) {
    run_->setMenu(menu);
    run_->setEnabled(menu != nullptr);
}

int JobsPanel::jobToCancel() const {
    if (!model_) return -1;
    const QModelIndexList selected = table_->selectionModel() ? table_->selectionModel()->selectedRows() : QModelIndexList{};
    for (const QModelIndex& index : selected) {
        const auto state = JobListModel::State(index.siblingAtColumn(JobListModel::StateColumn)
                                                   .data(JobListModel::SortRole).toInt());
        if (state == JobListModel::State::Running || state == JobListModel::State::Queued)
            return index.data(JobListModel::JobIdRole).toInt();
    }
    for (int row = 0; row < model_->rowCount(); ++row) {
        const QModelIndex index = model_->index(row, JobListModel::StateColumn);
        if (JobListModel::State(index.data(JobListModel::SortRole).toInt()) == JobListModel::State::Running)
            return index.data(JobListModel::JobIdRole).toInt();
    }
    return -1;
}

void JobsPanel::setModel(JobListModel* model) {
    model_ = model;
    table_->setModel(model);
    QHeaderView* header = table_->horizontalHeader();
    header->setSectionResizeMode(JobListModel::NameColumn, QHeaderView::Stretch);
    header->resizeSection(JobListModel::StateColumn, 72);
    header->resizeSection(JobListModel::ProgressColumn, 96);
    header->resizeSection(JobListModel::ElapsedColumn, 64);
    header->resizeSection(JobListModel::EtaColumn, 56);
}

}  // namespace ptq::ui
