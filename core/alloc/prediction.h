#pragma once
/// @file
/// Predictions that rest on measurements. The sensitivity table predicts an allocation's top-1
/// drop from its layers' degradations measured one layer at a time; at tight budgets the layers'
/// errors compound and a pipeline shifts every allocation alike, so the table's sum misses. A
/// DropModel is fitted to allocations measured with one pipeline (anchors, typically a few along
/// the Pareto frontier): drop(load) = c0 + c1 x + c2 x^2 with x the allocation's summed
/// degradation (its load) over the largest anchor load, c1, c2 >= 0 (more load never predicts
/// less drop), weakly held towards the table's own slope. Its prediction comes with an
/// uncertainty from the fit's covariance and the anchors' scatter, which grows away from the
/// anchors. Between anchors the prediction interpolates their measured drops (made monotone)
/// in the square root of the load, its uncertainty the fit's scatter and how far fit and
/// interpolation disagree there. Plain C++; any thread.

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// One measured allocation.
struct PredictionAnchor {
    double load = 0;          ///< Σ degradation of the allocation (the table's measure)
    double measuredDrop = 0;  ///< FP32 top-1 minus the measured top-1 (points)
    double measuredTop1 = 0;  ///< percent, for the measurement's noise
    int64_t samples = 0;      ///< evaluation samples (0: not known)
    double costRatio = 0;     ///< the allocation's size over FP32's, to show where it lies
};

struct CorrectedPrediction {
    bool valid = false;        ///< false without anchors
    double drop = 0;           ///< predicted FP32 top-1 minus top-1 (points)
    double uncertainty = 0;    ///< one standard deviation (points)
    int anchors = 0;
    /// The load lies within the anchors' loads (the prediction interpolates measurements).
    bool interpolated = false;
};

class DropModel {
public:
    DropModel() = default;
    /// Fits @p anchors. @p tableSlope is the table's own drop per unit load (points; from its
    /// fit of top-1 against loss), the value c1 is drawn towards when the anchors say little.
    /// Anchors with a non-finite figure are dropped.
    DropModel(std::vector<PredictionAnchor> anchors, double tableSlope);

    CorrectedPrediction predict(double load) const;
    bool empty() const { return anchors_.empty(); }
    const std::vector<PredictionAnchor>& anchors() const { return anchors_; }
    /// c0, c1, c2 of the fit (x = load / scale()).
    double coefficient(int i) const { return c_[i]; }
    double scale() const { return scale_; }
    /// The smallest and largest anchor load.
    double minLoad() const { return minLoad_; }
    double maxLoad() const { return maxLoad_; }
    /// One line: "fit over N measured allocations: drop = ..., residual ... pt".
    std::string describe() const;

private:
    std::vector<PredictionAnchor> anchors_;
    double c_[3] = {0, 0, 0};
    double cov_[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    double scale_ = 1, minLoad_ = 0, maxLoad_ = 0;
    double noise_ = 0;  ///< a new measurement's scatter about the fit (points)
    std::vector<double> monotone_;  ///< the anchors' drops made monotone in load, anchor order
};

/// Indices into @p loads (loads of candidate allocations, e.g. Pareto points) for @p count
/// anchors: both ends, and between them points evenly spaced in the square root of the load
/// (closer together where the load, and the drop with it, grows fast); distinct, ascending
/// by load. Fewer when there are fewer distinct loads.
std::vector<size_t> spreadAnchors(const std::vector<double>& loads, int count);

}  // namespace ptq
