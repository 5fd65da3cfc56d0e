#include "ui/panels/jobs_panel.h"

#include "ui/models/job_list_model.h"

#include <QtWidgets/QApplication>
#include <QtWidgets/QHeaderView>
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

JobsPanel::JobsPanel(QWidget* parent) : QWidget(parent), table_(new QTableView(this)) {
    table_->setObjectName(QStringLiteral("jobTable"));
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setWordWrap(false);
    table_->setShowGrid(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 8);
    table_->horizontalHeader()->setHighlightSections(false);
    table_->setItemDelegateForColumn(JobListModel::ProgressColumn, new ProgressDelegate(table_));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(table_);
}

void JobsPanel::setModel(JobListModel* model) {
    table_->setModel(model);
    QHeaderView* header = table_->horizontalHeader();
    header->setSectionResizeMode(JobListModel::NameColumn, QHeaderView::Stretch);
    header->resizeSection(JobListModel::StateColumn, 72);
    header->resizeSection(JobListModel::ProgressColumn, 96);
    header->resizeSection(JobListModel::ElapsedColumn, 64);
}

}  // namespace ptq::ui
