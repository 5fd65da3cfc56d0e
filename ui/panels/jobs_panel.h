#pragma once
/// @file
/// The Jobs dock: background work with its state, progress, elapsed time and ETA, a Run menu
/// of the quantization jobs, and buttons to cancel the selected (or running) job, cancel all
/// and clear the finished ones.

#include <QtWidgets/QWidget>

class QMenu;
class QTableView;
class QToolButton;

namespace ptq::ui {

class JobListModel;

class JobsPanel : public QWidget {
    Q_OBJECT
public:
    explicit JobsPanel(QWidget* parent = nullptr);

    void setModel(JobListModel* model);
    /// The jobs the Run button offers (the main window's Quantize menu).
    void setRunMenu(QMenu* menu);
    QTableView* tableView() const { return table_; }
    /// The id of the selected job, else of the first running or queued one; -1 when none.
    int jobToCancel() const;

Q_SIGNALS:
    void cancelRequested(int jobId);
    void cancelAllRequested();

private:
    QTableView* table_;
    QToolButton* run_;
    QToolButton* cancel_;
    QToolButton* cancelAll_;
    QToolButton* clear_;
    JobListModel* model_ = nullptr;
};

}  // namespace ptq::ui
