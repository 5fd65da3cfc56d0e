#pragma once
/// @file
/// Background jobs (imports, sensitivity sweeps, AdaQuant runs) as a table for the Jobs dock.
/// The model only records what the job runners report; it runs nothing. UI thread only.

#include <QtCore/QAbstractTableModel>
#include <QtCore/QElapsedTimer>
#include <QtCore/QString>
#include <QtCore/QTimer>

#include <vector>

namespace ptq::ui {

class JobListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { NameColumn, StateColumn, ProgressColumn, ElapsedColumn, EtaColumn, ColumnCount };
    enum class State { Queued, Running, Finished, Failed, Cancelled };
    enum Role {
        SortRole = Qt::UserRole + 1,  ///< state as int, progress as double, elapsed in ms
        JobIdRole,                    ///< the id addJob() returned
    };

    explicit JobListModel(QObject* parent = nullptr);

    /// Appends a queued job and returns its id (stable while the job is listed): @p id when
    /// given (a JobRunner's id), else a new one.
    int addJob(const QString& name, int id = 0);
    /// Seconds left, from the progress so far at the pace so far; negative when unknown.
    double etaSeconds(int jobId) const;
    /// Running starts the elapsed clock; Finished, Failed and Cancelled stop it.
    void setState(int jobId, State state);
    /// @p fraction in [0, 1]; out-of-range values are clamped.
    void setProgress(int jobId, double fraction);
    /// Removes every job that is no longer queued or running.
    void clearFinished();

    static QString stateName(State state);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Job {
        int id = 0;
        QString name;
        State state = State::Queued;
        double progress = 0.0;
        QElapsedTimer clock;
        qint64 finishedMs = -1;  ///< frozen elapsed time once the job ended
    };
    int rowOf(int jobId) const;
    qint64 elapsedMs(const Job& job) const;
    double eta(const Job& job) const;
    void refreshElapsed();

    std::vector<Job> jobs_;
    int nextId_ = 1;
    QTimer tick_;  ///< repaints the elapsed column while something runs
};

}  // namespace ptq::ui
