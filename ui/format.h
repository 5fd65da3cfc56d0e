#pragma once
/// @file
/// How numbers and shapes read in the GUI. Pure functions; any thread.

#include <QtCore/QString>

#include <cstdint>
#include <vector>

namespace ptq::ui {

/// 272474 -> "272,474" (grouped digits, independent of the system locale so screenshots match).
QString formatCount(int64_t value);

/// 40812544 -> "40.8 M", 272474 -> "0.27 M" (two significant decimals below 1 M), 950 -> "950".
QString formatMillions(int64_t value);

/// A byte count in KiB / MiB with three significant digits: "1.04 MiB", "133 KiB".
QString formatBytes(double bytes);

/// {64, 16, 3, 3} -> "64×16×3×3"; empty -> "—".
QString formatShape(const std::vector<int64_t>& shape);

}  // namespace ptq::ui
