#pragma once
/// @file
/// Order statistics for the benchmarks' figures (p50, p99, max).

#include <algorithm>
#include <cmath>
#include <vector>

namespace ptq {

/// The nearest-rank percentile of @p values: the smallest value with at least a fraction @p p
/// of the values at or below it (p = 0.5 the median, 1 the maximum); 0 for no values.
inline double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const double rank = std::ceil(std::clamp(p, 0.0, 1.0) * double(values.size()));
    return values[size_t(std::max(rank, 1.0)) - 1];
}

}  // namespace ptq
