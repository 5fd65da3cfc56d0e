#include "core/alloc/lagrangian.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ptq {

namespace {

double priced(const OneHotColumn& c, const double lambda[3]) {
    return c.objective + lambda[0] * c.row[0] + lambda[1] * c.row[1] + lambda[2] * c.row[2];
}

/// L(lambda) = sum over layers of min (objective + lambda . row) - lambda . rhs.
double lagrangian(const std::vector<OneHotColumn>& cols, const double lambda[3], const double rhs[3]) {
    double total = 0, layerMin = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < cols.size(); ++j) {
        const OneHotColumn& c = cols[j];
        layerMin = std::min(layerMin, c.objective + lambda[0] * c.row[0] + lambda[1] * c.row[1] + lambda[2] * c.row[2]);
        if (j + 1 == cols.size() || cols[j + 1].layer != c.layer) {
            total += layerMin;
            layerMin = std::numeric_limits<double>::infinity();
        }
    }
    return total - lambda[0] * rhs[0] - lambda[1] * rhs[1] - lambda[2] * rhs[2];
}

/// Golden-section search of the concave L along one price, after bracketing by doubling.
void ascend(const std::vector<OneHotColumn>& cols, double lambda[3], const double rhs[3], int q) {
    auto at = [&](double v) {
        const double keep = lambda[q];
        lambda[q] = v;
        const double f = lagrangian(cols, lambda, rhs);
        lambda[q] = keep;
        return f;
    };
    double hi = std::max(1.0, 2 * lambda[q]);
    double fPrev = at(0.0);
    for (int i = 0; i < 60; ++i) {
        const double f = at(hi);
        if (f < fPrev) break;
        fPrev = f;
        hi *= 2;
    }
    double a = 0, b = hi;
    const double g = (std::sqrt(5.0) - 1) / 2;
    double x1 = b - g * (b - a), x2 = a + g * (b - a), f1 = at(x1), f2 = at(x2);
    for (int i = 0; i < 80 && b - a > 1e-12 * std::max(1.0, b); ++i) {
        if (f1 < f2) {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = at(x2);
        } else {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = at(x1);
        }
    }
    const double best = f1 > f2 ? x1 : x2;
    if (at(best) > at(lambda[q])) lambda[q] = best;
}

}  // namespace


LagrangianPrices maximiseLagrangian(const std::vector<OneHotColumn>& cols, const bool constrained[3],
                                    const double rhs[3]) {
    LagrangianPrices out;
    double r[3];
    int rows = 0;
    for (int q = 0; q < 3; ++q) {
        r[q] = constrained[q] ? rhs[q] : 0.0;
        rows += constrained[q] ? 1 : 0;
    }
    for (int round = 0; round < (rows > 1 ? 4 : 1); ++round)
        for (int q = 0; q < 3; ++q)
            if (constrained[q]) ascend(cols, out.lambda, r, q);
    out.bound = lagrangian(cols, out.lambda, r);
    return out;
}

std::vector<int> lagrangianChoice(const std::vector<OneHotColumn>& cols, const double lambda[3]) {
    std::vector<int> out;
    for (size_t j = 0; j < cols.size(); ++j) {
        if (j == 0 || cols[j].layer != cols[j - 1].layer) {
            out.push_back(int(j));
            continue;
        }
        const OneHotColumn& best = cols[size_t(out.back())];
        const double a = priced(cols[j], lambda), b = priced(best, lambda);
        const double usageA = cols[j].row[0] + cols[j].row[1] + cols[j].row[2];
        const double usageB = best.row[0] + best.row[1] + best.row[2];
        if (a < b || (a == b && usageA < usageB)) out.back() = int(j);
    }
    return out;
}

std::vector<char> columnsThatCannotBeat(const std::vector<OneHotColumn>& cols, const LagrangianPrices& prices,
                                        double incumbent) {
    std::vector<char> out(cols.size(), 0);
    const double tolerance = 1e-9 * std::max(1.0, std::abs(incumbent));
    if (!std::isfinite(incumbent) || prices.bound > incumbent + tolerance) return out;  // inconsistent: keep all
    // A column forced to 1 raises its layer's term from the layer minimum to its own value.
    size_t first = 0;
    for (size_t j = 1; j <= cols.size(); ++j) {
        if (j < cols.size() && cols[j].layer == cols[first].layer) continue;
        double layerMin = std::numeric_limits<double>::infinity();
        for (size_t k = first; k < j; ++k) layerMin = std::min(layerMin, priced(cols[k], prices.lambda));
        for (size_t k = first; k < j; ++k)
            if (prices.bound + (priced(cols[k], prices.lambda) - layerMin) > incumbent + tolerance) out[k] = 1;
        first = j;
    }
    return out;
}

}  // namespace ptq
