#include "ui/panels/budget_panel.h"

#include "ui/models/budget_model.h"

#include <QtWidgets/QHeaderView>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

namespace ptq::ui {

BudgetPanel::BudgetPanel(QWidget* parent) : QWidget(parent), table_(new QTableView(this)) {
    table_->setObjectName(QStringLiteral("budgetTable"));
    table_->setSelectionMode(QAbstractItemView::NoSelection);
    table_->setFocusPolicy(Qt::NoFocus);
    table_->setShowGrid(false);
    table_->setAlternatingRowColors(true);
    table_->setWordWrap(false);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 8);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setHighlightSections(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(table_);
}

void BudgetPanel::setModel(BudgetModel* model) {
    table_->setModel(model);
    connect(model, &QAbstractItemModel::modelReset, this, &BudgetPanel::resizeColumns);
    resizeColumns();
}

void BudgetPanel::resizeColumns() {
    table_->resizeColumnToContents(BudgetModel::FigureColumn);
    table_->resizeColumnToContents(BudgetModel::ValueColumn);
}

}  // namespace ptq::ui
