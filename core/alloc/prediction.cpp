#include "core/alloc/prediction.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ptq {

namespace {

/// The noise of one top-1 measurement in points (binomial), or 0.1 when not known.
double measurementNoise(const PredictionAnchor& a) {
    const double p = a.measuredTop1 / 100.0;
    if (a.samples <= 0 || !(p > 0.0 && p < 1.0)) return 0.1;
    return std::max(0.02, 100.0 * std::sqrt(p * (1.0 - p) / double(a.samples)));
}

/// Inverts the leading @p n x @p n block of @p a (symmetric positive definite) into @p inv;
/// false when singular.
bool invert(const double a[3][3], int n, double inv[3][3]) {
    double m[3][6] = {};
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            m[i][j] = a[i][j];
            m[i][n + j] = i == j ? 1.0 : 0.0;
        }
    for (int c = 0; c < n; ++c) {
        int pivot = c;
        for (int r = c + 1; r < n; ++r)
            if (std::abs(m[r][c]) > std::abs(m[pivot][c])) pivot = r;
        if (std::abs(m[pivot][c]) < 1e-300) return false;
        for (int j = 0; j < 2 * n; ++j) std::swap(m[c][j], m[pivot][j]);
        const double d = m[c][c];
        for (int j = 0; j < 2 * n; ++j) m[c][j] /= d;
        for (int r = 0; r < n; ++r) {
            if (r == c) continue;
            const double f = m[r][c];
            for (int j = 0; j < 2 * n; ++j) m[r][j] -= f * m[c][j];
        }
    }
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) inv[i][j] = m[i][n + j];
    return true;
}

}  // namespace

DropModel::DropModel(std::vector<PredictionAnchor> anchors, double tableSlope) {
    for (const PredictionAnchor& a : anchors)
        if (std::isfinite(a.load) && std::isfinite(a.measuredDrop)) anchors_.push_back(a);
    std::sort(anchors_.begin(), anchors_.end(),
              [](const PredictionAnchor& x, const PredictionAnchor& y) { return x.load < y.load; });
    if (anchors_.empty()) return;
    minLoad_ = anchors_.front().load;
    maxLoad_ = anchors_.back().load;
    scale_ = maxLoad_ > 0 ? maxLoad_ : 1.0;
    const double slope = std::isfinite(tableSlope) ? std::max(0.0, tableSlope) * scale_ : 0.0;
    // The prior: no offset, the table's slope, no curvature; weak next to three or more
    // measurements. One measurement sets the offset on the table's slope (held to half of it);
    // two set offset and slope; the curvature needs a third.
    const size_t n = anchors_.size();
    const double wide = std::max(1.0, 2.0 * slope);
    const double mu[3] = {0.0, slope, 0.0};
    const double tau[3] = {2.0, n >= 2 ? wide : std::max(0.05, 0.5 * slope), n >= 3 ? wide : 0.05};
    // Normal equations of the weighted least squares with the prior as pseudo-observations.
    double a[3][3] = {}, b[3] = {}, meanNoise = 0;
    for (const PredictionAnchor& p : anchors_) {
        const double s = measurementNoise(p), w = 1.0 / (s * s), x = p.load / scale_;
        const double phi[3] = {1.0, x, x * x};
        for (int i = 0; i < 3; ++i) {
            b[i] += w * phi[i] * p.measuredDrop;
            for (int j = 0; j < 3; ++j) a[i][j] += w * phi[i] * phi[j];
        }
        meanNoise += s / double(anchors_.size());
    }
    for (int i = 0; i < 3; ++i) {
        a[i][i] += 1.0 / (tau[i] * tau[i]);
        b[i] += mu[i] / (tau[i] * tau[i]);
    }
    // More load never predicts less drop: c1, c2 >= 0. The best of the fits with each subset
    // of them held at 0 that keeps the others non-negative (the unconstrained one when it does).
    auto objective = [&](const double c[3]) {
        double chi = 0;
        for (const PredictionAnchor& p : anchors_) {
            const double x = p.load / scale_, r = p.measuredDrop - (c[0] + c[1] * x + c[2] * x * x);
            chi += r * r / (measurementNoise(p) * measurementNoise(p));
        }
        for (int i = 0; i < 3; ++i) chi += (c[i] - mu[i]) * (c[i] - mu[i]) / (tau[i] * tau[i]);
        return chi;
    };
    double best = std::numeric_limits<double>::infinity();
    double bestInv[3][3] = {};
    int bestFree[3] = {0, 1, 2}, bestN = 3;
    for (int mask = 0; mask < 4; ++mask) {
        int free[3], n = 0;
        free[n++] = 0;
        if (!(mask & 1)) free[n++] = 1;
        if (!(mask & 2)) free[n++] = 2;
        double sub[3][3] = {}, inv[3][3];
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) sub[i][j] = a[free[i]][free[j]];
        if (!invert(sub, n, inv)) continue;
        double c[3] = {0, 0, 0};
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) c[free[i]] += inv[i][j] * b[free[j]];
        if (c[1] < 0 || c[2] < 0) continue;
        const double o = objective(c);
        if (o < best) {
            best = o;
            std::copy(c, c + 3, c_);
            std::copy(&inv[0][0], &inv[0][0] + 9, &bestInv[0][0]);
            std::copy(free, free + n, bestFree);
            bestN = n;
        }
    }
    // The anchors' scatter about the fit sets the scale of the errors once there are more of
    // them than coefficients; with fewer, the measurements' own noise does.
    double chi = 0;
    for (const PredictionAnchor& p : anchors_) {
        const double x = p.load / scale_, r = p.measuredDrop - (c_[0] + c_[1] * x + c_[2] * x * x);
        chi += r * r / (measurementNoise(p) * measurementNoise(p));
    }
    const double s2 = int(n) > bestN ? std::max(chi / double(int(n) - bestN), 0.1) : 1.0;
    for (int i = 0; i < bestN; ++i)
        for (int j = 0; j < bestN; ++j) cov_[bestFree[i]][bestFree[j]] = s2 * bestInv[i][j];
    noise_ = std::sqrt(s2) * meanNoise;
    // The measured drops made monotone in load (pool adjacent violators, weighted by the
    // measurements' noise): what interpolation between anchors reads.
    std::vector<double> value, weight;
    std::vector<size_t> size;
    for (const PredictionAnchor& p : anchors_) {
        value.push_back(p.measuredDrop);
        weight.push_back(1.0 / (measurementNoise(p) * measurementNoise(p)));
        size.push_back(1);
        while (value.size() >= 2 && value[value.size() - 2] > value.back()) {
            const size_t k = value.size() - 1;
            const double w = weight[k - 1] + weight[k];
            value[k - 1] = (value[k - 1] * weight[k - 1] + value[k] * weight[k]) / w;
            weight[k - 1] = w;
            size[k - 1] += size[k];
            value.pop_back();
            weight.pop_back();
            size.pop_back();
        }
    }
    for (size_t b = 0; b < value.size(); ++b) monotone_.insert(monotone_.end(), size[b], value[b]);
}

CorrectedPrediction DropModel::predict(double load) const {
    CorrectedPrediction p;
    if (anchors_.empty() || !std::isfinite(load)) return p;
    const double x = load / scale_, phi[3] = {1.0, x, x * x};
    double var = noise_ * noise_;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) var += phi[i] * cov_[i][j] * phi[j];
    p.valid = true;
    p.drop = c_[0] + c_[1] * x + c_[2] * x * x;
    p.uncertainty = std::sqrt(std::max(var, 0.0));
    p.anchors = int(anchors_.size());
    const double slack = 1e-9 + 1e-6 * std::abs(maxLoad_);
    p.interpolated = anchors_.size() >= 2 && load >= minLoad_ - slack && load <= maxLoad_ + slack;
    if (p.interpolated) {
        // Between measurements: their monotone sequence, interpolated in the square root of
        // the load (drops rise fastest at the first loads). Its uncertainty: the measurements'
        // scatter about the smooth fit, and how far the two readings of them disagree here.
        const double t = std::sqrt(std::max(0.0, load));
        size_t i = 0;
        while (i + 2 < anchors_.size() && std::sqrt(std::max(0.0, anchors_[i + 1].load)) < t) ++i;
        const double t0 = std::sqrt(std::max(0.0, anchors_[i].load)), t1 = std::sqrt(std::max(0.0, anchors_[i + 1].load));
        const double f = t1 > t0 ? std::clamp((t - t0) / (t1 - t0), 0.0, 1.0) : 0.5;
        const double between = monotone_[i] + f * (monotone_[i + 1] - monotone_[i]);
        const double disagreement = between - p.drop;
        p.uncertainty = std::sqrt(noise_ * noise_ + disagreement * disagreement);
        p.drop = between;
    } else if (!monotone_.empty()) {
        // Beyond the anchors: the nearest one's measured drop and the fit's change from it
        // (continuous with the interpolation, and never less drop for more load).
        const bool below = load < minLoad_;
        const double edge = below ? minLoad_ : maxLoad_, xe = edge / scale_;
        p.drop = (below ? monotone_.front() : monotone_.back()) + p.drop - (c_[0] + c_[1] * xe + c_[2] * xe * xe);
    }
    return p;
}

std::string DropModel::describe() const {
    if (anchors_.empty()) return "no measured allocations";
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "fit over %zu measured allocation%s (loads %.4g to %.4g): drop = %.3f + %.3f x + %.3f x^2 pt, "
                  "x = load / %.4g; scatter %.2f pt",
                  anchors_.size(), anchors_.size() == 1 ? "" : "s", minLoad_, maxLoad_, c_[0], c_[1], c_[2], scale_,
                  noise_);
    return buf;
}

std::vector<size_t> spreadAnchors(const std::vector<double>& loads, int count) {
    std::vector<size_t> order(loads.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    order.erase(std::remove_if(order.begin(), order.end(), [&](size_t i) { return !std::isfinite(loads[i]); }),
                order.end());
    std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return loads[x] < loads[y]; });
    std::vector<size_t> picked;
    if (order.empty() || count < 1) return picked;
    const double lo = std::sqrt(std::max(0.0, loads[order.front()]));
    const double hi = std::sqrt(std::max(0.0, loads[order.back()]));
    for (int k = 0; k < count; ++k) {
        const double target = count == 1 ? hi : lo + (hi - lo) * double(k) / double(count - 1);
        size_t best = order.front();
        double bestGap = std::numeric_limits<double>::infinity();
        for (size_t i : order) {
            const double gap = std::abs(std::sqrt(std::max(0.0, loads[i])) - target);
            bool taken = false;  // one anchor a load: equal loads measure the same prediction
            for (size_t j : picked) taken = taken || j == i || std::abs(loads[j] - loads[i]) <= 1e-12;
            if (!taken && gap < bestGap) {
                best = i;
                bestGap = gap;
            }
        }
        if (std::isfinite(bestGap)) picked.push_back(best);
    }
    std::sort(picked.begin(), picked.end(), [&](size_t x, size_t y) { return loads[x] < loads[y]; });
    return picked;
}

}  // namespace ptq
