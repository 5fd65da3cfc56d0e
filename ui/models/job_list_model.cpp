#include "ui/models/job_list_model.h"

#include <algorithm>

namespace ptq::ui {

JobListModel::JobListModel(QObject* parent) : QAbstractTableModel(parent) {
    tick_.setInterval(500);
    connect(&tick_, &QTimer::timeout, this, &JobListModel::refreshElapsed);
}

int JobListModel::addJob(const QString& name, int id) {
    const int row = int(jobs_.size());
    beginInsertRows({}, row, row);
    Job job;
    job.id = id > 0 ? id : nextId_++;
    nextId_ = std::max(nextId_, job.id + 1);
    job.name = name;
    jobs_.push_back(std::move(job));
    endInsertRows();
    return jobs_.back().id;
}

void JobListModel::setState(int jobId, State state) {
    const int row = rowOf(jobId);
    if (row < 0) return;
    Job& job = jobs_[size_t(row)];
    if (state == State::Running && !job.clock.isValid()) job.clock.start();
    const bool ended = state == State::Finished || state == State::Failed || state == State::Cancelled;
    if (ended && job.finishedMs < 0) job.finishedMs = job.clock.isValid() ? job.clock.elapsed() : 0;
    if (state == State::Finished) job.progress = 1.0;
    job.state = state;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    const bool anyRunning = std::any_of(jobs_.begin(), jobs_.end(),
                                        [](const Job& j) { return j.state == State::Running; });
    if (anyRunning && !tick_.isActive()) tick_.start();
    if (!anyRunning) tick_.stop();
}

void JobListModel::setProgress(int jobId, double fraction) {
    const int row = rowOf(jobId);
    if (row < 0) return;
    jobs_[size_t(row)].progress = std::clamp(fraction, 0.0, 1.0);
    Q_EMIT dataChanged(index(row, ProgressColumn), index(row, EtaColumn));
}

double JobListModel::etaSeconds(int jobId) const {
    const int row = rowOf(jobId);
    return row < 0 ? -1.0 : eta(jobs_[size_t(row)]);
}

double JobListModel::eta(const Job& job) const {
    // Too early a guess swings wildly: wait for 2 % and one second.
    if (job.state != State::Running || job.progress < 0.02) return -1.0;
    const double elapsed = double(elapsedMs(job)) / 1000.0;
    if (elapsed < 1.0) return -1.0;
    return elapsed * (1.0 - job.progress) / job.progress;
}

void JobListModel::clearFinished() {
    for (int row = int(jobs_.size()) - 1; row >= 0; --row) {
        const State s = jobs_[size_t(row)].state;
        if (s == State::Queued || s == State::Running) continue;
        beginRemoveRows({}, row, row);
        jobs_.erase(jobs_.begin() + row);
        endRemoveRows();
    }
}

QString JobListModel::stateName(State state) {
    switch (state) {
    case State::Queued: return tr("queued");
    case State::Running: return tr("running");
    case State::Finished: return tr("finished");
    case State::Failed: return tr("failed");
    case State::Cancelled: return tr("cancelled");
    }
    return {};
}

int JobListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(jobs_.size());
}

int JobListModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant JobListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Job& job = jobs_[size_t(index.row())];
    if (role == JobIdRole) return job.id;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case NameColumn: return job.name;
        case StateColumn: return stateName(job.state);
        case ProgressColumn: return QStringLiteral("%1 %").arg(qRound(job.progress * 100.0));
        case ElapsedColumn: {
            if (job.state == State::Queued) return QStringLiteral("—");
            return QStringLiteral("%1 s").arg(double(elapsedMs(job)) / 1000.0, 0, 'f', 1);
        }
        case EtaColumn: {
            const double left = eta(job);
            if (left < 0) return QStringLiteral("—");
            if (left >= 90) return QStringLiteral("%1 min").arg(left / 60.0, 0, 'f', 1);
            return QStringLiteral("%1 s").arg(qRound(left));
        }
        default: return {};
        }
    }
    if (role == SortRole) {
        switch (index.column()) {
        case NameColumn: return job.name;
        case StateColumn: return int(job.state);
        case ProgressColumn: return job.progress;
        case ElapsedColumn: return elapsedMs(job);
        case EtaColumn: return eta(job);
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole &&
        (index.column() == ProgressColumn || index.column() == ElapsedColumn || index.column() == EtaColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant JobListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return {};
    if (role == Qt::DisplayRole) {
        static const char* titles[] = {"Job", "State", "Progress", "Elapsed", "ETA"};
        return QString::fromLatin1(titles[section]);
    }
    return {};
}

int JobListModel::rowOf(int jobId) const {
    for (size_t i = 0; i < jobs_.size(); ++i)
        if (jobs_[i].id == jobId) return int(i);
    return -1;
}

qint64 JobListModel::elapsedMs(const Job& job) const {
    if (job.finishedMs >= 0) return job.finishedMs;
    return job.clock.isValid() ? job.clock.elapsed() : 0;
}

void JobListModel::refreshElapsed() {
    if (jobs_.empty()) return;
    Q_EMIT dataChanged(index(0, ElapsedColumn), index(int(jobs_.size()) - 1, EtaColumn));
}

}  // namespace ptq::ui
