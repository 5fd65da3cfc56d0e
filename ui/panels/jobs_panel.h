#pragma once
/// @file
/// The Jobs dock: background work with its state, progress and elapsed time.

#include <QtWidgets/QWidget>

class QTableView;

namespace ptq::ui {

class JobListModel;

class JobsPanel : public QWidget {
    Q_OBJECT
public:
    explicit JobsPanel(QWidget* parent = nullptr);

    void setModel(JobListModel* model);
    QTableView* tableView() const { return table_; }

private:
    QTableView* table_;
};

}  // namespace ptq::ui
