#include "ui/format.h"

#include <QtCore/QLocale>
#include <QtCore/QStringList>

#include <cmath>

namespace ptq::ui {

QString formatCount(int64_t value) {
    return QLocale(QLocale::English, QLocale::UnitedStates).toString(qlonglong(value));
}

QString formatMillions(int64_t value) {
    if (std::llabs(value) < 1000) return QString::number(qlonglong(value));
    const double millions = double(value) / 1e6;
    // Three significant digits: 0.272 M reads as 0.27 M, 40.81 M as 40.8 M, 1234.5 M as 1235 M.
    const int decimals = millions < 1.0 ? 2 : (millions < 10.0 ? 2 : (millions < 100.0 ? 1 : 0));
    return QString::number(millions, 'f', decimals) + QStringLiteral(" M");
}

QString formatBytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB"};
    int unit = 0;
    while (bytes >= 1024.0 && unit < 3) {
        bytes /= 1024.0;
        ++unit;
    }
    const int decimals = unit == 0 ? 0 : (bytes < 10.0 ? 2 : (bytes < 100.0 ? 1 : 0));
    return QString::number(bytes, 'f', decimals) + QLatin1Char(' ') + QLatin1String(units[unit]);
}

QString formatShape(const std::vector<int64_t>& shape) {
    if (shape.empty()) return QStringLiteral("—");
    QStringList parts;
    for (int64_t d : shape) parts << QString::number(qlonglong(d));
    return parts.join(QChar(0x00D7));
}

}  // namespace ptq::ui
