#include "ui/panels/layers_panel.h"

#include "ui/models/layer_table_model.h"

#include <QtCore/QItemSelectionModel>
#include <QtCore/QSortFilterProxyModel>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QStyledItemDelegate>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>

namespace ptq::ui {

namespace {
/// A combo box of the table's options for the Chosen column; committing one pins it.
class OptionDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem&, const QModelIndex& index) const override {
        auto* combo = new QComboBox(parent);
        combo->setObjectName(QStringLiteral("optionEditor"));
        combo->addItems(index.data(LayerTableModel::OptionNamesRole).toStringList());
        connect(combo, &QComboBox::activated, this, [this, combo] {
            auto* self = const_cast<OptionDelegate*>(this);
            Q_EMIT self->commitData(combo);
            Q_EMIT self->closeEditor(combo);
        });
        return combo;
    }
    void setEditorData(QWidget* editor, const QModelIndex& index) const override {
        static_cast<QComboBox*>(editor)->setCurrentIndex(index.data(LayerTableModel::OptionIndexRole).toInt());
    }
    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override {
        model->setData(index, static_cast<QComboBox*>(editor)->currentIndex(), Qt::EditRole);
    }
};
}  // namespace

LayersPanel::LayersPanel(QWidget* parent)
    : QWidget(parent), filter_(new QLineEdit(this)), table_(new QTableView(this)),
      proxy_(new QSortFilterProxyModel(this)) {
    filter_->setObjectName(QStringLiteral("layerFilter"));
    filter_->setPlaceholderText(tr("Filter layers by name or op · double-click Chosen to pin an option"));
    filter_->setClearButtonEnabled(true);

    proxy_->setSortRole(LayerTableModel::SortRole);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    proxy_->setFilterKeyColumn(-1);  // any column: "linear", "layer2", "3×3" all match
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);

    table_->setObjectName(QStringLiteral("layerTable"));
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(-1, Qt::AscendingOrder);  // execution order until a header is clicked
    table_->setItemDelegateForColumn(LayerTableModel::ChosenColumn, new OptionDelegate(table_));
    table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked |
                            QAbstractItemView::EditKeyPressed);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
    table_->horizontalHeader()->setHighlightSections(false);
    table_->horizontalHeader()->setStretchLastSection(false);
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &LayersPanel::onSelectionChanged);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(filter_);
    layout->addWidget(table_, 1);
}

void LayersPanel::setModel(LayerTableModel* model) {
    if (model_) disconnect(model_, nullptr, this, nullptr);
    model_ = model;
    proxy_->setSourceModel(model);
    if (model_) connect(model_, &QAbstractItemModel::modelReset, this, &LayersPanel::resizeColumns);
    resizeColumns();
}

QList<int> LayersPanel::selectedRows() const {
    QList<int> rows;
    for (const QModelIndex& index : table_->selectionModel()->selectedRows())
        rows << proxy_->mapToSource(index).row();
    std::sort(rows.begin(), rows.end());
    return rows;
}

void LayersPanel::selectRows(const QList<int>& rows) {
    if (!model_) return;
    QItemSelection selection;
    for (int row : rows) {
        const QModelIndex index = proxy_->mapFromSource(model_->index(row, 0));
        if (index.isValid()) selection.select(index, index);
    }
    settingSelection_ = true;
    table_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect |
                                                    QItemSelectionModel::Rows);
    if (!selection.isEmpty()) {
        const QModelIndex first = selection.indexes().first();
        table_->selectionModel()->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
        table_->scrollTo(first);
    }
    settingSelection_ = false;
}

void LayersPanel::onSelectionChanged() {
    if (!settingSelection_) Q_EMIT selectedRowsChanged(selectedRows());
}

void LayersPanel::resizeColumns() {
    table_->resizeColumnsToContents();
    table_->setColumnWidth(LayerTableModel::ChosenColumn,
                           std::max(table_->columnWidth(LayerTableModel::ChosenColumn),
                                    table_->fontMetrics().horizontalAdvance(QStringLiteral("w4x2a8")) + 40));
}

}  // namespace ptq::ui
