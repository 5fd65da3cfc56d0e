#pragma once
/// @file
/// The Budget dock: what the model costs at FP32, INT8 and INT4, its MACs, its quantizable
/// layers and its FP32 accuracy. Reads a BudgetModel.

#include <QtWidgets/QWidget>

class QTableView;

namespace ptq::ui {

class BudgetModel;

class BudgetPanel : public QWidget {
    Q_OBJECT
public:
    explicit BudgetPanel(QWidget* parent = nullptr);

    void setModel(BudgetModel* model);
    QTableView* tableView() const { return table_; }

private:
    void resizeColumns();

    QTableView* table_;
};

}  // namespace ptq::ui
