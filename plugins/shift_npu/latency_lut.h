#pragma once
// The shift-npu latency lookup table ("ptq-latency-lut" JSON, version 1; docs/plugins.md):
// per (weight bits, activation bits) a latency curve sampled at increasing MAC counts starting
// at 0, plus a fixed overhead per op kind. A layer's latency is its op's overhead plus the
// curve linearly interpolated at its MACs (past the last sample, the last segment extended).

#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QString>
#include <QtCore/QVector>

class LatencyLut {
public:
    /// Parses @p json; returns an empty string on success, else what is wrong (one sentence).
    QString parse(const QByteArray& json);
    /// Microseconds for @p macs MACs of an @p opKind layer at wWaA; -1 when the table has no
    /// curve for those bits or no overhead for the op kind.
    double latency(const QString& opKind, qint64 macs, int weightBits, int activationBits) const;
    QString unit() const { return unit_; }

private:
    QString unit_;
    QVector<double> macs_;
    QHash<QString, QVector<double>> curves_;  ///< "w4a8" -> latency at each macs_ sample
    QHash<QString, double> overhead_;         ///< op kind -> microseconds
};
