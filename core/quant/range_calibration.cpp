#include "core/quant/range_calibration.h"
#include "core/quant/quantizer_settings.h"

#include "core/quant/quant_ops.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#ifdef __SSE2__
#include <immintrin.h>
#endif
#include <utility>

namespace ptq {
namespace {

/// Points per histogram bin in the MSE search: enough to see the rounding error inside a bin.
constexpr int kPointsPerBin = 4;
/// Narrowest histogram bin: keeps 1 / width finite in float32.
const double kMinBinWidth = std::ldexp(1.0, -120);

void checkOptions(RangeMethod method, const RangeOptions& options) {
    if (method == RangeMethod::Percentile && !(options.percentile > 50.0 && options.percentile <= 100.0))
        throw invalidInput("The percentile must be above 50 and at most 100 (e.g. 99.99), not " +
                           std::to_string(options.percentile) + ".");
    if (method == RangeMethod::Mse && (options.clipCandidates < 1 || options.clipCandidates > 10000))
        throw invalidInput("The MSE range search needs 1 to 10000 clip candidates, not " +
                           std::to_string(options.clipCandidates) + ".");
    if (method == RangeMethod::Mse && !(options.minClipRatio > 0.0 && options.minClipRatio <= 1.0))
        throw invalidInput("The smallest clip ratio of the MSE range search must be in (0, 1], not " +
                           std::to_string(options.minClipRatio) + ".");
}

/// Clip ratios from 1 down to minClipRatio: first is no clipping, so ties keep the full range.
at::Tensor clipRatios(const RangeOptions& options) {
    if (options.clipCandidates == 1) return at::ones({1}, at::kFloat);
    return at::linspace(1.0, options.minClipRatio, options.clipCandidates, at::kFloat);
}

std::vector<float> toVector(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kFloat).contiguous().reshape({-1});
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t binOf(double value, double width) { return int64_t(std::floor(value / width)); }

bool histogramFits(double width, float lo, float hi) {
    return binOf(hi, width) - binOf(lo, width) < RangeObserver::kMaxHistogramBins;
}

/// The narrowest power-of-two width >= @p from (0: no lower bound) whose bins cover [lo, hi]
/// with at most kMaxHistogramBins bins. Depends only on lo, hi and from, which is what makes
/// the histogram independent of how the data was batched.
double fittingBinWidth(float lo, float hi, double from) {
    double width = from;
    if (width == 0.0) {
        // A width <= (hi - lo) / (bins + 1) never fits, so starting there finds the narrowest.
        const double bound = (double(hi) - double(lo)) / (RangeObserver::kMaxHistogramBins + 1);
        width = std::max(std::ldexp(1.0, std::ilogb(bound)), kMinBinWidth);
    }
    while (!histogramFits(width, lo, hi)) width *= 2.0;
    return width;
}

/// Counts every value into @p counts (bin floor(x / width) - firstBin; all values inside).
/// Dividing by a power of two is exact, so these bins agree with binOf on the bounds.
/// Multi-threaded with one private histogram per thread, merged at the end.
void addToHistogram(const float* x, int64_t n, double width, int64_t firstBin, std::vector<int64_t>& counts) {
    const float inverse = float(1.0 / width);  // a power of two too: exact
    const size_t bins = counts.size();
    // Four interleaved histograms per thread: runs of one value (the zeros after a ReLU) would
    // otherwise wait on the same counter's previous increment value by value.
    constexpr size_t kWays = 4;
    std::vector<std::vector<int32_t>> perThread(static_cast<size_t>(at::get_num_threads()));
    std::vector<std::vector<int64_t>> totals(perThread.size());
    const auto binOfValue = [inverse, firstBin](float value) {
        const float v = value * inverse;
        int64_t k = int64_t(v);
        k -= (float(k) > v);  // truncation toward zero, then down for negatives: floor
        return size_t(k - firstBin);
    };
    at::parallel_for(0, n, int64_t(1) << 16, [&](int64_t begin, int64_t end) {
        const size_t t = size_t(at::get_thread_num());
        std::vector<int32_t>& local = perThread.at(t);
        if (local.empty()) local.assign(bins * kWays, 0);
        if (totals[t].empty()) totals[t].assign(bins, 0);
        // int32 counters, emptied into the totals at most every 2^30 values per way.
        for (int64_t chunk = begin; chunk < end; chunk += int64_t(1) << 30) {
            const int64_t stop = std::min(end, chunk + (int64_t(1) << 30));
            int64_t i = chunk;
            for (; i + 4 <= stop; i += 4) {
                ++local[binOfValue(x[i]) * kWays];
                ++local[binOfValue(x[i + 1]) * kWays + 1];
                ++local[binOfValue(x[i + 2]) * kWays + 2];
                ++local[binOfValue(x[i + 3]) * kWays + 3];
            }
            for (; i < stop; ++i) ++local[binOfValue(x[i]) * kWays];
            for (size_t b = 0; b < bins; ++b) {
                int64_t sum = 0;
                for (size_t w = 0; w < kWays; ++w) sum += std::exchange(local[b * kWays + w], 0);
                totals[t][b] += sum;
            }
        }
    });
    for (const auto& local : totals)
        for (size_t b = 0; b < local.size(); ++b) counts[b] += local[b];
}

/// Smallest and largest of @p n floats (n > 0), in one multi-threaded pass (SSE min and max:
/// GCC leaves a plain min loop scalar, as NaN rules forbid reordering it); NaN for both when any
/// value is NaN or infinite.
std::pair<float, float> minMaxOf(const float* x, int64_t n) {
    constexpr int64_t kGrain = 1 << 16;
    const int64_t chunks = (n + kGrain - 1) / kGrain;
    std::vector<float> lo(static_cast<size_t>(chunks)), hi(static_cast<size_t>(chunks));
    std::vector<char> bad(static_cast<size_t>(chunks), 0);
    at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
        for (int64_t c = cb; c < ce; ++c) {
            const int64_t begin = c * kGrain, end = std::min(n, begin + kGrain);
            const float first = x[begin];
            float l = first, h = first, poison = first * 0.0f;  // NaN once a value is NaN or infinite
            int64_t i = begin;
#ifdef __SSE2__
            __m128 lo0 = _mm_set1_ps(first), lo1 = lo0, hi0 = lo0, hi1 = lo0, p = _mm_setzero_ps();
            const __m128 zero = _mm_setzero_ps();
            for (; i + 8 <= end; i += 8) {
                const __m128 a = _mm_loadu_ps(x + i), b = _mm_loadu_ps(x + i + 4);
                lo0 = _mm_min_ps(lo0, a);
                lo1 = _mm_min_ps(lo1, b);
                hi0 = _mm_max_ps(hi0, a);
                hi1 = _mm_max_ps(hi1, b);
                p = _mm_add_ps(p, _mm_add_ps(_mm_mul_ps(a, zero), _mm_mul_ps(b, zero)));
            }
            float lanes[5][4];
            _mm_storeu_ps(lanes[0], lo0);
            _mm_storeu_ps(lanes[1], lo1);
            _mm_storeu_ps(lanes[2], hi0);
            _mm_storeu_ps(lanes[3], hi1);
            _mm_storeu_ps(lanes[4], p);
            for (int k = 0; k < 4; ++k) {
                l = std::min({l, lanes[0][k], lanes[1][k]});
                h = std::max({h, lanes[2][k], lanes[3][k]});
                poison += lanes[4][k];
            }
#endif
            for (; i < end; ++i) {
                l = std::min(l, x[i]);
                h = std::max(h, x[i]);
                poison += x[i] * 0.0f;
            }
            lo[size_t(c)] = l;
            hi[size_t(c)] = h;
            bad[size_t(c)] = poison != 0.0f;
        }
    });
    float l = lo[0], h = hi[0];
    for (int64_t c = 0; c < chunks; ++c) {
        if (bad[size_t(c)]) return {NAN, NAN};
        l = std::min(l, lo[size_t(c)]);
        h = std::max(h, hi[size_t(c)]);
    }
    return {l, h};
}

/// Index of the first candidate with the smallest error for each column of @p errors [K x C].
at::Tensor bestCandidate(const at::Tensor& errors) { return at::argmin(errors, 0); }

}  // namespace

// ---- names ----

const char* rangeMethodName(RangeMethod method) {
    switch (method) {
    case RangeMethod::MinMax: return "minmax";
    case RangeMethod::Percentile: return "percentile";
    case RangeMethod::Mse: return "mse";
    }
    return "minmax";
}

RangeMethod rangeMethodFromString(const std::string& name) {
    for (RangeMethod m : {RangeMethod::MinMax, RangeMethod::Percentile, RangeMethod::Mse})
        if (name == rangeMethodName(m)) return m;
    throw invalidInput("Unknown range method \"" + name + "\"; use minmax, percentile or mse.");
}

// ---- weights ----

namespace {

/// The shift scaler's ranges: per channel the largest shift s_c in 0..kMaxShift with
/// 2^s_c * max|W_c| <= the widest channel's max|W|, one clip C for the shifted tensor by
/// @p method (per tensor), and channel c's range +-C / 2^s_c. Powers of two scale exactly, so
/// the params' per-channel scales are the shared scale over 2^s_c to the last bit.
ClipRange shiftRange(const at::Tensor& rows, const ClipRange& minMax, const QuantSpec& spec, RangeMethod method,
                     const RangeOptions& options) {
    const size_t channels = minMax.min.size();
    std::vector<float> reach(channels);
    float widest = 0.0f;
    for (size_t c = 0; c < channels; ++c) {
        reach[c] = std::max(std::abs(minMax.min[c]), std::abs(minMax.max[c]));
        widest = std::max(widest, reach[c]);
    }
    if (widest == 0.0f) return minMax;  // all zero: any scale is exact
    std::vector<float> factor(channels);
    for (size_t c = 0; c < channels; ++c) {
        int shift = 0;
        if (reach[c] == 0.0f) shift = kMaxShift;  // a zero channel is exact at any shift
        while (shift < kMaxShift && std::ldexp(reach[c], shift + 1) <= widest) ++shift;
        factor[c] = std::ldexp(1.0f, shift);
    }
    const at::Tensor f = at::tensor(at::ArrayRef<float>(factor), at::kFloat);
    QuantSpec shared = spec;
    shared.granularity = Granularity::PerTensor;
    const ClipRange clip = weightRange(rows * f.unsqueeze(1), shared, method, options);
    const float c = std::max(std::abs(clip.min[0]), std::abs(clip.max[0]));
    ClipRange out;
    for (size_t k = 0; k < channels; ++k) {
        out.min.push_back(-c / factor[k]);
        out.max.push_back(c / factor[k]);
    }
    return out;
}

}  // namespace

ClipRange weightRange(const at::Tensor& weight, const QuantSpec& spec, RangeMethod method,
                      const RangeOptions& options) {
    validateQuantSpec(spec);
    checkOptions(method, options);
    if (weight.numel() == 0) throw invalidInput("Cannot choose a quantization range for an empty weight tensor.");
    const at::NoGradGuard noGrad;
    const bool perChannel = perChannelParams(spec.granularity);
    const int axis = perChannel ? quant_ops::normalizedAxis(spec, weight.dim()) : 0;
    const at::Tensor w = weight.detach().to(at::kFloat);
    const at::Tensor rows = perChannel ? quant_ops::channelsFirst2d(w, axis) : w.reshape({1, -1});  // [C, N]
    const auto [mins, maxs] = at::aminmax(rows, 1);
    ClipRange minMax{toVector(mins), toVector(maxs)};
    paramsFromRange(minMax.min, minMax.max, spec);  // refuses non-finite data and bad sign/spec mixes
    if (spec.granularity == Granularity::Shift) return shiftRange(rows, minMax, spec, method, options);
    if (method == RangeMethod::MinMax) return minMax;

    const int64_t n = rows.size(1);
    if (method == RangeMethod::Percentile) {
        // Exact order statistics per channel: kthvalue is vectorised over the rows.
        // The same ranks as RangeObserver's: the value with (1 - share) n values at or below it.
        const double share = options.percentile / 100.0;
        const auto rank = [n](double r) { return std::clamp<int64_t>(int64_t(std::ceil(r - 1e-9)), 1, n); };
        const int64_t kLow = rank((1.0 - share) * double(n));
        const int64_t kHigh = rank(share * double(n));
        return {toVector(std::get<0>(at::kthvalue(rows, kLow, 1))), toVector(std::get<0>(at::kthvalue(rows, kHigh, 1)))};
    }

    // MSE: errors of every clip ratio for every channel in one [K x C] table.
    const at::Tensor ratios = clipRatios(options);
    at::Tensor scale, zeroPoint;
    quant_ops::rangeToParams(ratios.unsqueeze(1) * mins.unsqueeze(0), ratios.unsqueeze(1) * maxs.unsqueeze(0),
                             spec, scale, zeroPoint);
    const at::Tensor errors = quant_ops::clipErrorTable(rows, scale, zeroPoint, gridMin(spec), gridMax(spec), nullptr);
    const at::Tensor best = ratios.index_select(0, bestCandidate(errors));
    return {toVector(best * mins), toVector(best * maxs)};
}

QuantParams weightParams(const at::Tensor& weight, const QuantSpec& spec, RangeMethod method,
                         const RangeOptions& options) {
    const ClipRange range = weightRange(weight, spec, method, options);
    QuantParams p = paramsFromRange(range.min, range.max, spec);
    if (spec.granularity == Granularity::Shift) {
        // The widest scale is the shared one; every other is it over an exact power of two.
        const float shared = *std::max_element(p.scale.begin(), p.scale.end());
        for (float sc : p.scale) {
            int e = 0;
            const float m = std::frexp(shared / sc, &e);  // shared / sc = 2^(e-1) exactly
            p.shift.push_back(m == 0.5f ? std::clamp(e - 1, 0, kMaxShift) : 0);
        }
    }
    return p;
}

// ---- activations ----

void RangeObserver::observe(const at::Tensor& batch) {
    if (batch.numel() == 0) return;
    const at::NoGradGuard noGrad;
    // Ranges and histograms do not depend on the order of the values: a dense tensor in any
    // layout (a channels-last activation) is read in its memory order, without a copy.
    at::Tensor x = batch.detach().to(at::kFloat);
    if (!x.is_non_overlapping_and_dense()) x = x.contiguous();
    const auto [batchMin, batchMax] = minMaxOf(x.data_ptr<float>(), x.numel());
    if (!std::isfinite(batchMin) || !std::isfinite(batchMax))
        throw invalidInput("The calibration data gives NaN or infinite values in the model; check the data "
                           "source's normalization and the model.");
    const float newMin = count_ == 0 ? batchMin : std::min(min_, batchMin);
    const float newMax = count_ == 0 ? batchMax : std::max(max_, batchMax);

    if (newMin != newMax) {
        if (counts_.empty()) {
            // First spread of values: every earlier value equals min_ and goes into its bin now.
            binWidth_ = fittingBinWidth(newMin, newMax, 0.0);
            firstBin_ = binOf(newMin, binWidth_);
            counts_.assign(size_t(binOf(newMax, binWidth_) - firstBin_ + 1), 0);
            if (count_ > 0) counts_[size_t(binOf(min_, binWidth_) - firstBin_)] += count_;
        } else {
            const double width = fittingBinWidth(newMin, newMax, binWidth_);
            rebin(width, binOf(newMin, width), binOf(newMax, width));
        }
        addToHistogram(x.data_ptr<float>(), x.numel(), binWidth_, firstBin_, counts_);
    }
    min_ = newMin;
    max_ = newMax;
    count_ += x.numel();
}

void RangeObserver::rebin(double newWidth, int64_t newFirstBin, int64_t newLastBin) {
    const int64_t factor = int64_t(std::llround(newWidth / binWidth_));  // a power of two
    std::vector<int64_t> merged(size_t(newLastBin - newFirstBin + 1), 0);
    for (size_t i = 0; i < counts_.size(); ++i)
        if (counts_[i] != 0) merged[size_t(floorDiv(firstBin_ + int64_t(i), factor) - newFirstBin)] += counts_[i];
    counts_ = std::move(merged);
    binWidth_ = newWidth;
    firstBin_ = newFirstBin;
}

ValueHistogram RangeObserver::histogram() const {
    return {double(firstBin_) * binWidth_, binWidth_, counts_};
}

ClipRange RangeObserver::range(const QuantSpec& spec, RangeMethod method, const RangeOptions& options) const {
    validateQuantSpec(spec);
    checkOptions(method, options);
    if (count_ == 0)
        throw invalidInput("No calibration data reached this layer; give a calibration set with at least one sample.");
    if (spec.granularity != Granularity::PerTensor)
        throw invalidInput("Activation ranges are observed per tensor; use a per-tensor quantizer for activations.");
    paramsFromRange(min_, max_, spec);  // refuses e.g. negative data for a symmetric unsigned grid
    if (method == RangeMethod::MinMax || counts_.empty()) return {{min_}, {max_}};

    if (method == RangeMethod::Percentile) {
        // The value below which `rank` of the count_ values lie, linear inside its bin.
        const auto valueAtRank = [&](double rank) {
            double before = 0.0;
            for (size_t i = 0; i < counts_.size(); ++i) {
                if (counts_[i] == 0) continue;
                if (before + double(counts_[i]) >= rank) {
                    const double edge = double(firstBin_ + int64_t(i)) * binWidth_;
                    const double v = edge + std::max(0.0, rank - before) / double(counts_[i]) * binWidth_;
                    return std::clamp(float(v), min_, max_);
                }
                before += double(counts_[i]);
            }
            return max_;
        };
        const double share = options.percentile / 100.0;
        return {{valueAtRank((1.0 - share) * double(count_))}, {valueAtRank(share * double(count_))}};
    }

    // MSE on the histogram: kPointsPerBin evenly spread points per non-empty bin, each weighted
    // by its share of the bin's count; all candidates at once in a [K x points] table.
    std::vector<float> points;
    std::vector<float> weights;
    for (size_t i = 0; i < counts_.size(); ++i) {
        if (counts_[i] == 0) continue;
        for (int j = 0; j < kPointsPerBin; ++j) {
            const double v = (double(firstBin_ + int64_t(i)) + (j + 0.5) / kPointsPerBin) * binWidth_;
            points.push_back(std::clamp(float(v), min_, max_));
            weights.push_back(float(double(counts_[i]) / kPointsPerBin));
        }
    }
    const at::NoGradGuard noGrad;
    const at::Tensor values = at::tensor(at::ArrayRef<float>(points), at::kFloat).unsqueeze(0);
    const at::Tensor weight = at::tensor(at::ArrayRef<float>(weights), at::kFloat);
    const at::Tensor ratios = clipRatios(options);
    at::Tensor scale, zeroPoint;
    quant_ops::rangeToParams(ratios * min_, ratios * max_, spec, scale, zeroPoint);
    const at::Tensor errors = quant_ops::clipErrorTable(values, scale.unsqueeze(1), zeroPoint.unsqueeze(1),
                                                        gridMin(spec), gridMax(spec), &weight);  // [K x 1]
    const float best = ratios[bestCandidate(errors).item<int64_t>()].item<float>();
    return {{best * min_}, {best * max_}};
}

QuantParams RangeObserver::params(const QuantSpec& spec, RangeMethod method, const RangeOptions& options) const {
    const ClipRange r = range(spec, method, options);
    return paramsFromRange(r.min, r.max, spec);
}

void QuantizerSettings::validate() const {
    if (batchSize < 1)
        throw invalidInput("The batch size must be at least 1, not " + std::to_string(batchSize) + ".");
}

}  // namespace ptq
