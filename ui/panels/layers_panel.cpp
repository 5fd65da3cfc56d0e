#include "ui/panels/layers_panel.h"

#include "ui/models/layer_table_model.h"

#include <QtCore/QItemSelectionModel>
#include <QtCore/QSortFilterProxyModel>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>

namespace ptq::ui {

LayersPanel::LayersPanel(QWidget* parent)
    : QWidget(parent), filter_(new QLineEdit(this)), table_(new QTableView(this)),
      proxy_(new QSortFilterProxyModel(this)) {
    filter_->setObjectName(QStringLiteral("layerFilter"));
    filter_->setPlaceholderText(tr("Filter layers by name or kind"));
    filter_->setClearButtonEnabled(true);

    proxy_->setSortRole(LayerTableModel::SortRole);
    proxy_->setFilterCaseSensitivity(Qt::CaseInsensitive);
    proxy_->setFilterKeyColumn(-1);  // any column: "linear", "layer2", "3×3" all match
    connect(filter_, &QLineEdit::textChanged, proxy_, &QSortFilterProxyModel::setFilterFixedString);

    table_->setObjectName(QStringLiteral("layerTable"));
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(LayerTableModel::IndexColumn, Qt::AscendingOrder);
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
    QHeaderView* header = table_->horizontalHeader();
    // Names are the widest and most useful column: it takes what is left.
    header->setSectionResizeMode(LayerTableModel::NameColumn, QHeaderView::Stretch);
}

}  // namespace ptq::ui
