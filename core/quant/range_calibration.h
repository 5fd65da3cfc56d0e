#pragma once
/// @file
/// Choosing quantization ranges. Weights: from the tensor itself (min-max, percentile, or the
/// MSE-optimal clip per channel). Activations: a RangeObserver fed the calibration batches one
/// by one, then asked for the range of any method, so one calibration pass serves them all.
///
/// Plain C++ header; the functions taking at::Tensor are for core .cpp files.

#include "core/quant/quantizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace ptq {

/// How a range is chosen from observed values.
enum class RangeMethod {
    MinMax,      ///< the observed [min, max]
    Percentile,  ///< each tail clipped at (100 - percentile) % of the values
    Mse          ///< the clip of the observed range that minimises the quantization MSE
};

/// "minmax", "percentile" or "mse". Any thread.
const char* rangeMethodName(RangeMethod method);
/// Parses rangeMethodName's spelling; throws ptq::Error (InvalidInput) listing the valid names.
RangeMethod rangeMethodFromString(const std::string& name);

/// Knobs of the range methods. Plain data; the defaults are the usual choices.
struct RangeOptions {
    double percentile = 99.99;  ///< Percentile: kept share of each tail, in (50, 100]
    int clipCandidates = 100;   ///< Mse: clip ratios tried, evenly spaced from minClipRatio to 1
    double minClipRatio = 0.3;  ///< Mse: smallest ratio of the observed range tried, in (0, 1]
};

/// A chosen range per channel (one entry per tensor for per-tensor specs). Plain data.
struct ClipRange {
    std::vector<float> min;
    std::vector<float> max;
};

/// The range of weight tensor @p weight for @p spec (per channel along spec.channelAxis, or
/// one for the tensor). Vectorised over channels: Mse evaluates every clip ratio of every
/// channel in one [candidates x channels] error table (one fused pass per entry); Percentile
/// takes exact order statistics per channel. Each candidate clips both ends of [min, max] by
/// the same ratio, so for symmetric specs it clips max|w|. Any thread.
/// Throws ptq::Error (InvalidInput) for a bad spec or options, an empty or non-finite tensor.
ClipRange weightRange(const at::Tensor& weight, const QuantSpec& spec, RangeMethod method,
                      const RangeOptions& options = {});
/// paramsFromRange(weightRange(...)): the params to quantize @p weight with. Any thread.
QuantParams weightParams(const at::Tensor& weight, const QuantSpec& spec, RangeMethod method,
                         const RangeOptions& options = {});

/// A histogram of observed values: bin i counts values in [firstEdge + i w, firstEdge + (i+1) w).
struct ValueHistogram {
    double firstEdge = 0.0;
    double binWidth = 0.0;
    std::vector<int64_t> counts;
};

/// Collects the statistics of one activation tensor over the calibration set, batch by batch,
/// for per-tensor ranges: the exact min and max, and a histogram for Percentile and Mse.
///
/// The histogram has between kMaxHistogramBins / 2 and kMaxHistogramBins bins (memory is
/// bounded whatever the data). Bin width is a power of two and edges are multiples of it;
/// when a batch widens the range, the width doubles as often as needed and bins merge in
/// pairs. Because of that alignment the histogram, and so every range it gives, is exactly the
/// same however the data is split into batches (and in whatever order they come). Percentile
/// interpolates linearly inside a bin (error below one bin, i.e. < 1/2048 of the range); Mse
/// evaluates each candidate on 4 points per non-empty bin weighted by its count.
///
/// Thread-compatible: observe from one thread at a time; const calls may run concurrently.
class RangeObserver {
public:
    static constexpr int kMaxHistogramBins = 4096;

    /// Adds every element of @p batch (any shape, any float dtype). Empty batches are ignored.
    /// Throws ptq::Error (InvalidInput) when the batch holds NaN or infinite values.
    void observe(const at::Tensor& batch);

    /// Values observed so far.
    int64_t count() const { return count_; }
    /// Smallest and largest value observed (0 before any).
    float min() const { return min_; }
    float max() const { return max_; }

    /// The range @p method chooses for @p spec (a per-tensor spec; its bits matter for Mse).
    /// Throws ptq::Error (InvalidInput) before any value was observed, for a per-channel spec
    /// and for bad options.
    ClipRange range(const QuantSpec& spec, RangeMethod method, const RangeOptions& options = {}) const;
    /// paramsFromRange(range(...)).
    QuantParams params(const QuantSpec& spec, RangeMethod method, const RangeOptions& options = {}) const;

    /// The histogram (e.g. for a plot). Empty while every value observed is the same.
    ValueHistogram histogram() const;

    /// Forgets everything observed.
    void reset() { *this = RangeObserver(); }

private:
    void rebin(double newWidth, int64_t newFirstBin, int64_t newLastBin);

    int64_t count_ = 0;
    float min_ = 0.0f;
    float max_ = 0.0f;
    // While min_ == max_ there is no histogram (no width fits a single value best); it is built
    // when a second distinct value arrives, and the earlier values go into their bin then.
    double binWidth_ = 0.0;
    int64_t firstBin_ = 0;  ///< bin index (edge / width) of counts_[0]
    std::vector<int64_t> counts_;
};

}  // namespace ptq
