#include "latency_lut.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <cmath>

namespace {
bool finiteNonNegative(const QJsonValue& v) { return v.isDouble() && std::isfinite(v.toDouble()) && v.toDouble() >= 0; }
}  // namespace

QString LatencyLut::parse(const QByteArray& json) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (!doc.isObject()) return QStringLiteral("the latency table is not a JSON object (%1)").arg(error.errorString());
    const QJsonObject o = doc.object();
    if (o.value(QLatin1String("format")).toString() != QLatin1String("ptq-latency-lut") ||
        o.value(QLatin1String("version")).toInt() != 1)
        return QStringLiteral("the latency table is not a \"ptq-latency-lut\" file of version 1");
    unit_ = o.value(QLatin1String("unit")).toString();
    const QJsonArray macs = o.value(QLatin1String("macs")).toArray();
    if (macs.size() < 2) return QStringLiteral("the latency table's \"macs\" needs at least two samples");
    for (const QJsonValue& m : macs) {
        if (!finiteNonNegative(m)) return QStringLiteral("the latency table's \"macs\" holds a value that is not a number >= 0");
        if (!macs_.isEmpty() && m.toDouble() <= macs_.last())
            return QStringLiteral("the latency table's \"macs\" must increase strictly");
        macs_.append(m.toDouble());
    }
    if (macs_.first() != 0) return QStringLiteral("the latency table's \"macs\" must start at 0");
    const QJsonObject curves = o.value(QLatin1String("latency_us")).toObject();
    if (curves.isEmpty()) return QStringLiteral("the latency table has no \"latency_us\" curves");
    for (auto it = curves.begin(); it != curves.end(); ++it) {
        const QJsonArray values = it.value().toArray();
        if (values.size() != macs_.size())
            return QStringLiteral("the latency curve %1 has %2 values for %3 MAC samples")
                .arg(it.key()).arg(values.size()).arg(macs_.size());
        QVector<double> curve;
        for (const QJsonValue& v : values) {
            if (!finiteNonNegative(v)) return QStringLiteral("the latency curve %1 holds a value that is not a number >= 0").arg(it.key());
            curve.append(v.toDouble());
        }
        curves_.insert(it.key(), curve);
    }
    const QJsonObject overhead = o.value(QLatin1String("overhead_us")).toObject();
    for (auto it = overhead.begin(); it != overhead.end(); ++it) {
        if (!finiteNonNegative(it.value())) return QStringLiteral("the overhead of %1 is not a number >= 0").arg(it.key());
        overhead_.insert(it.key(), it.value().toDouble());
    }
    return {};
}

double LatencyLut::latency(const QString& opKind, qint64 macs, int weightBits, int activationBits) const {
    const auto curve = curves_.constFind(QStringLiteral("w%1a%2").arg(weightBits).arg(activationBits));
    const auto overhead = overhead_.constFind(opKind);
    if (curve == curves_.constEnd() || overhead == overhead_.constEnd() || macs < 0) return -1;
    const double x = double(macs);
    int segment = 0;  // the segment [macs_[segment], macs_[segment + 1]] holding x, or the last one
    while (segment + 2 < macs_.size() && x > macs_[segment + 1]) ++segment;
    const double x0 = macs_[segment], x1 = macs_[segment + 1];
    const double y0 = (*curve)[segment], y1 = (*curve)[segment + 1];
    return *overhead + y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}
