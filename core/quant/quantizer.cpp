#include "core/quant/quantizer.h"

#include "core/quant/quant_ops.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ptq {
namespace {

std::string numberText(double v) {
    std::string s = std::to_string(v);
    // std::to_string prints six decimals; trim the zeros so messages read "-0.5", not "-0.500000".
    if (s.find('.') != std::string::npos) {
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
    }
    return s;
}

/// The shape that makes a [channels] tensor broadcast along @p axis of a @p dims-d tensor.
std::vector<int64_t> broadcastShape(int64_t dims, int axis, int64_t channels) {
    std::vector<int64_t> shape(size_t(std::max<int64_t>(dims, 1)), 1);
    shape[size_t(axis)] = channels;
    return shape;
}

/// Checks that @p params fit @p x under @p spec; returns the channel axis (0 per tensor).
int checkParams(const at::Tensor& x, const QuantSpec& spec, const QuantParams& params) {
    validateQuantSpec(spec);
    if (params.scale.empty() || params.scale.size() != params.zeroPoint.size())
        throw invalidInput("Quantization parameters need as many zero points as scales and at least one of "
                           "each; compute them with paramsFromRange or a range method.");
    for (float s : params.scale)
        if (!(s > 0.0f) || !std::isfinite(s))
            throw invalidInput("A quantization scale is " + numberText(s) +
                               "; scales must be positive and finite, so compute them with paramsFromRange.");
    if (spec.granularity == Granularity::PerTensor) {
        if (params.channels() != 1)
            throw invalidInput("A per-tensor quantizer takes one scale, not " + std::to_string(params.channels()) +
                               "; use per-channel granularity or per-tensor parameters.");
        return 0;
    }
    const int axis = quant_ops::normalizedAxis(spec, x.dim());
    if (int64_t(params.channels()) != x.size(axis))
        throw invalidInput("The tensor has " + std::to_string(x.size(axis)) + " channels along axis " +
                           std::to_string(axis) + " but the quantizer has " + std::to_string(params.channels()) +
                           " scales; compute the parameters from this tensor.");
    return axis;
}

at::Tensor floatTensor(const std::vector<float>& values) {
    return at::tensor(at::ArrayRef<float>(values), at::kFloat);
}

/// scale and zero point shaped to broadcast against x (scalars' shape for per-tensor).
void broadcastParams(const at::Tensor& x, const QuantSpec& spec, int axis, const at::Tensor& scale,
                     const at::Tensor& zeroPoint, at::Tensor& s, at::Tensor& z) {
    if (spec.granularity == Granularity::PerTensor) {
        s = scale.reshape({});
        z = zeroPoint.reshape({});
    } else {
        const auto shape = broadcastShape(x.dim(), axis, x.size(axis));
        s = scale.reshape(shape);
        z = zeroPoint.reshape(shape);
    }
}

/// round(v) whose gradient is the identity (straight-through estimator).
at::Tensor roundSte(const at::Tensor& v) { return v + (at::round(v) - v).detach(); }

/// fakeQuant of one value with v already divided by the scale and lo/hi = grid ends minus the
/// zero point, returned in grid steps relative to the zero point. Clamping before rounding is
/// the same as after (the bounds are integers) and keeps |v| small enough for the rounding:
/// adding and subtracting 1.5 * 2^23 rounds a float below 2^22 to the nearest integer, ties to
/// even like at::round, and unlike nearbyintf it vectorises on plain SSE2.
inline float gridSteps(float v, float lo, float hi) {
    constexpr float kRounder = 12582912.0f;
    v = std::min(std::max(v, lo), hi);
    return (v + kRounder) - kRounder;
}

/// gridSteps(x / s) * s over the leading multiple of 8 values of @p src, with the compiler's
/// vector types (packed divide, min, max and add; GCC's -O2 cost model leaves the plain loop
/// scalar, which made fake-quant a third of a quantized model's run). The same arithmetic as
/// gridSteps value by value, so results are bit-identical. Returns how many values it did.
int64_t fakeQuantizeBlocks(const float* src, float* dst, int64_t n, float s, float lo, float hi) {
    typedef float V8 __attribute__((vector_size(32)));
    const V8 vs = {s, s, s, s, s, s, s, s};
    const V8 vlo = {lo, lo, lo, lo, lo, lo, lo, lo};
    const V8 vhi = {hi, hi, hi, hi, hi, hi, hi, hi};
    constexpr float r = 12582912.0f;
    const V8 vr = {r, r, r, r, r, r, r, r};
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        V8 v;
        std::memcpy(&v, src + k, sizeof v);
        v = v / vs;
        v = v < vlo ? vlo : v;  // max, then min: the order of gridSteps
        v = v > vhi ? vhi : v;
        v = ((v + vr) - vr) * vs;
        std::memcpy(dst + k, &v, sizeof v);
    }
    return k;
}

/// One pass over contiguous float32 data: out = (clamp(round(x / s) + z, qmin, qmax) - z) * s,
/// with s and z constant over runs of `inner` elements that cycle through `channels`.
void fakeQuantizeContiguous(const float* in, float* out, int64_t count, int64_t inner, int64_t channels,
                            const float* scale, const int32_t* zeroPoint, int64_t qmin, int64_t qmax) {
    constexpr int64_t kGrain = 1 << 15;
    at::parallel_for(0, count, kGrain, [&](int64_t begin, int64_t end) {
        int64_t i = begin;
        while (i < end) {
            const int64_t block = i / inner;
            const int64_t c = block % channels;
            const int64_t runEnd = std::min(end, (block + 1) * inner);
            const float s = scale[c];
            const float lo = float(qmin - zeroPoint[c]);
            const float hi = float(qmax - zeroPoint[c]);
            const float* __restrict src = in + i;
            float* __restrict dst = out + i;
            const int64_t n = runEnd - i;
            int64_t k = fakeQuantizeBlocks(src, dst, n, s, lo, hi);
            for (; k < n; ++k) dst[k] = gridSteps(src[k] / s, lo, hi) * s;
            i = runEnd;
        }
    });
}

/// One pass over contiguous float32 data: out = clamp(round(x / s) + z, qmin, qmax) as 8-bit
/// integers (T is uint8_t or int8_t), one (s, z) for every value: fakeQuantizeContiguous's
/// arithmetic, so dequantizing gives its values exactly.
template <typename T>
void quantizeContiguous8(const float* in, T* out, int64_t count, float s, int32_t z, int64_t qmin, int64_t qmax) {
    constexpr int64_t kGrain = 1 << 15;
    const float lo = float(qmin - z), hi = float(qmax - z), zf = float(z);
    at::parallel_for(0, count, kGrain, [&](int64_t begin, int64_t end) {
        typedef float V8 __attribute__((vector_size(32)));
        typedef int32_t I8 __attribute__((vector_size(32)));
        const V8 vs = {s, s, s, s, s, s, s, s};
        const V8 vlo = {lo, lo, lo, lo, lo, lo, lo, lo};
        const V8 vhi = {hi, hi, hi, hi, hi, hi, hi, hi};
        const V8 vz = {zf, zf, zf, zf, zf, zf, zf, zf};
        constexpr float r = 12582912.0f;
        const V8 vr = {r, r, r, r, r, r, r, r};
        int64_t k = begin;
        for (; k + 8 <= end; k += 8) {
            V8 v;
            std::memcpy(&v, in + k, sizeof v);
            v = v / vs;
            v = v < vlo ? vlo : v;
            v = v > vhi ? vhi : v;
            const I8 q = __builtin_convertvector(((v + vr) - vr) + vz, I8);
            for (int l = 0; l < 8; ++l) out[k + l] = T(q[l]);
        }
        for (; k < end; ++k) out[k] = T(int32_t(gridSteps(in[k] / s, lo, hi)) + z);
    });
}

/// Sum of w[i] (fakeQuant(x[i]) - x[i])^2 over one channel's values, in float64. Sums run in
/// 8 float lanes over blocks of 512 values (vectorisable without reassociating one sum), and
/// blocks add up in double, so long channels keep their precision.
template <bool kWeighted>
double clipError(const float* x, const float* w, int64_t n, float s, float lo, float hi) {
    constexpr int kLanes = 8;
    constexpr int64_t kBlock = 512;
    double total = 0.0;
    for (int64_t b = 0; b < n; b += kBlock) {
        const int64_t e = std::min(n, b + kBlock);
        float lanes[kLanes] = {};
        int64_t i = b;
        for (; i + kLanes <= e; i += kLanes)
            for (int l = 0; l < kLanes; ++l) {
                const float d = gridSteps(x[i + l] / s, lo, hi) * s - x[i + l];
                lanes[l] += (kWeighted ? w[i + l] : 1.0f) * d * d;
            }
        for (; i < e; ++i) {
            const float d = gridSteps(x[i] / s, lo, hi) * s - x[i];
            lanes[0] += (kWeighted ? w[i] : 1.0f) * d * d;
        }
        for (float l : lanes) total += double(l);
    }
    return total;
}

at::ScalarType intTypeFor(const QuantSpec& spec) {
    if (spec.bits <= 8) return spec.signedGrid ? at::kChar : at::kByte;
    return spec.signedGrid ? at::kShort : at::kInt;
}

}  // namespace

// ---- quant_ops: shared tensor building blocks ----

namespace quant_ops {

void rangeToParams(const at::Tensor& lo, const at::Tensor& hi, const QuantSpec& spec, at::Tensor& scale,
                   at::Tensor& zeroPoint) {
    const double qmin = double(gridMin(spec));
    const double qmax = double(gridMax(spec));
    const at::Tensor low = at::clamp_max(lo.to(at::kFloat), 0.0);
    const at::Tensor high = at::clamp_min(hi.to(at::kFloat), 0.0);
    at::Tensor width;
    if (spec.symmetric && spec.signedGrid) {
        width = at::maximum(-low, high);
        scale = width / ((qmax - qmin) / 2.0);
    } else if (spec.symmetric) {
        width = high;  // callers refuse negative minimums for symmetric unsigned
        scale = width / qmax;
    } else {
        width = high - low;
        scale = width / (qmax - qmin);
    }
    // An all-zero range is exact at any scale: 1 reads better in exports than a tiny floor.
    scale = at::where(width > 0, at::clamp_min(scale, double(kMinScale)), at::ones_like(scale));
    if (spec.symmetric)
        zeroPoint = at::zeros_like(scale);
    else  // the integer nearest to where 0 falls, so 0 stays exact
        zeroPoint = at::clamp(at::round(qmin - low / scale), qmin, qmax);
}

at::Tensor clipErrorTable(const at::Tensor& rows, const at::Tensor& scale, const at::Tensor& zeroPoint,
                          int64_t qmin, int64_t qmax, const at::Tensor* weights) {
    const at::Tensor x = rows.to(at::kFloat).contiguous();
    const at::Tensor s = scale.to(at::kFloat).contiguous();
    const at::Tensor z = zeroPoint.to(at::kFloat).contiguous();
    const at::Tensor w = weights ? weights->to(at::kFloat).contiguous() : at::Tensor();
    const int64_t channels = x.size(0), n = x.size(1), pairs = s.numel();
    at::Tensor errors = at::empty({pairs / channels, channels}, at::kDouble);
    const float* xp = x.data_ptr<float>();
    const float* sp = s.data_ptr<float>();
    const float* zp = z.data_ptr<float>();
    const float* wp = weights ? w.data_ptr<float>() : nullptr;
    double* ep = errors.data_ptr<double>();
    // Each (candidate, channel) pair is one task; the grain keeps a task at least ~64k values.
    at::parallel_for(0, pairs, std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(n, 1)),
                     [&](int64_t begin, int64_t end) {
                         for (int64_t p = begin; p < end; ++p) {
                             const int64_t c = p % channels;
                             const float lo = float(qmin) - zp[p], hi = float(qmax) - zp[p];
                             ep[p] = wp ? clipError<true>(xp + c * n, wp, n, sp[p], lo, hi)
                                        : clipError<false>(xp + c * n, nullptr, n, sp[p], lo, hi);
                         }
                     });
    return errors;
}

void fakeQuantizeRows(const FakeQuantRows& a, float* out) {
    // A layer's weight (tens of thousands of values) runs on the calling thread alone.
    constexpr int64_t kGrain = 1 << 16;
    const int64_t inner = a.inner, rowSize = a.rowSize;
    at::parallel_for(0, a.count * rowSize, kGrain, [&](int64_t begin, int64_t end) {
        int64_t i = begin;
        while (i < end) {
            const int64_t row = i / rowSize, offset = i % rowSize;
            const int64_t block = offset / inner;
            const int64_t c = block % a.channels;
            const int64_t n = std::min(end, row * rowSize + (block + 1) * inner) - i;
            const float s = a.scale[c];
            const float lo = float(a.qmin) - a.zeroPoint[c];
            const float hi = float(a.qmax) - a.zeroPoint[c];
            const float* __restrict src = a.src + a.rows[row] * rowSize + offset;
            float* __restrict dst = out + i;
            int64_t k = fakeQuantizeBlocks(src, dst, n, s, lo, hi);
            for (; k < n; ++k) dst[k] = gridSteps(src[k] / s, lo, hi) * s;
            i += n;
        }
    });
}

namespace {
/// Over n values of one quantizer channel: adds grad * (q - z - in * x / s) to *sumScale and
/// grad * (1 - in) to *sumOut, and writes grad * in to gradInput (when not null). Eight float
/// lanes (two vectors of four: comparisons on 128-bit vectors stay vector code on plain SSE2,
/// wider ones GCC splits into scalars) over blocks of 512 values, blocks added in double.
void steBackwardRun(const float* __restrict x, const float* __restrict g, float* __restrict gradInput, int64_t n,
                    float s, float lo, float hi, double* sumScale, double* sumOut) {
    typedef float V4 __attribute__((vector_size(16)));
    typedef int32_t I4 __attribute__((vector_size(16)));
    constexpr float r = 12582912.0f;
    const V4 vs = {s, s, s, s};
    const V4 vlo = {lo, lo, lo, lo};
    const V4 vhi = {hi, hi, hi, hi};
    const V4 below = vlo - 1.0f, above = vhi + 1.0f;
    const V4 vr = {r, r, r, r};
    // Four values at @p i into the lanes of accScale and accOut.
    auto four = [&](int64_t i, V4& accScale, V4& accOut) {
        V4 v, gv;
        std::memcpy(&v, x + i, sizeof v);
        std::memcpy(&gv, g + i, sizeof gv);
        const V4 u = v / vs;
        // Clamped one step past the grid first, so the rounding trick stays exact and a value
        // rounding onto either end still counts as inside.
        V4 c = u < below ? below : u;
        c = c > above ? above : c;
        const V4 rounded = (c + vr) - vr;
        const I4 in = (rounded >= vlo) & (rounded <= vhi);
        V4 q = rounded < vlo ? vlo : rounded;
        q = q > vhi ? vhi : q;
        // Selects by bit masks.
        accScale += gv * (q - (V4)((I4)u & in));
        accOut += (V4)((I4)gv & ~in);
        if (gradInput) {
            const V4 gi = (V4)((I4)gv & in);
            std::memcpy(gradInput + i, &gi, sizeof gi);
        }
    };
    constexpr int64_t kBlock = 512;
    double totalScale = 0.0, totalOut = 0.0;
    for (int64_t b = 0; b < n; b += kBlock) {
        const int64_t e = std::min(n, b + kBlock);
        V4 scale0 = {}, scale1 = {}, out0 = {}, out1 = {};
        int64_t i = b;
        for (; i + 8 <= e; i += 8) {
            four(i, scale0, out0);
            four(i + 4, scale1, out1);
        }
        float laneScale = 0.0f, laneOut = 0.0f;
        for (; i < e; ++i) {
            const float u = x[i] / s;
            const float rounded = gridSteps(u, lo - 1.0f, hi + 1.0f);
            const bool in = rounded >= lo && rounded <= hi;
            const float q = std::min(std::max(rounded, lo), hi);
            laneScale += g[i] * (q - (in ? u : 0.0f));
            laneOut += in ? 0.0f : g[i];
            if (gradInput) gradInput[i] = in ? g[i] : 0.0f;
        }
        double blockScale = double(laneScale), blockOut = double(laneOut);
        for (int l = 0; l < 4; ++l) {
            blockScale += double(scale0[l]) + double(scale1[l]);
            blockOut += double(out0[l]) + double(out1[l]);
        }
        totalScale += blockScale;
        totalOut += blockOut;
    }
    *sumScale += totalScale;
    *sumOut += totalOut;
}
}  // namespace

void fakeQuantizeRowsBackward(const FakeQuantRows& a, const float* grad, float* gradInput, double* gradScale,
                              double* gradZeroPoint) {
    // Work units are pieces of at most kPiece values of one channel run; each sums on its own
    // and the partial sums add up in unit order afterwards.
    constexpr int64_t kPiece = 1 << 14;
    const int64_t inner = a.inner, rowSize = a.rowSize;
    const int64_t runsPerRow = rowSize / inner;
    const int64_t piecesPerRun = (inner + kPiece - 1) / kPiece;
    const int64_t units = a.count * runsPerRow * piecesPerRun;
    std::vector<double> partScale(size_t(units), 0.0), partOut(size_t(units), 0.0);
    const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / std::min(inner, kPiece));
    at::parallel_for(0, units, grain, [&](int64_t begin, int64_t end) {
        for (int64_t u = begin; u < end; ++u) {
            const int64_t run = u / piecesPerRun, piece = u % piecesPerRun;
            const int64_t row = run / runsPerRow, block = run % runsPerRow;
            const int64_t c = block % a.channels;
            const int64_t offset = block * inner + piece * kPiece;
            const int64_t n = std::min(kPiece, inner - piece * kPiece);
            const int64_t i = row * rowSize + offset;
            steBackwardRun(a.src + a.rows[row] * rowSize + offset, grad + i, gradInput ? gradInput + i : nullptr, n,
                           a.scale[c], float(a.qmin) - a.zeroPoint[c], float(a.qmax) - a.zeroPoint[c],
                           &partScale[size_t(u)], &partOut[size_t(u)]);
        }
    });
    std::fill(gradScale, gradScale + a.channels, 0.0);
    std::fill(gradZeroPoint, gradZeroPoint + a.channels, 0.0);
    for (int64_t u = 0; u < units; ++u) {
        const int64_t c = (u / piecesPerRun % runsPerRow) % a.channels;
        gradScale[c] += partScale[size_t(u)];
        gradZeroPoint[c] += partOut[size_t(u)];
    }
    for (int64_t c = 0; c < a.channels; ++c) gradZeroPoint[c] *= -double(a.scale[c]);
}

at::Tensor channelsFirst2d(const at::Tensor& x, int axis) {
    const int64_t channels = x.dim() == 0 ? 1 : x.size(axis);
    return (x.dim() == 0 ? x.reshape({1, 1}) : x.movedim(axis, 0).reshape({channels, -1}));
}

int normalizedAxis(const QuantSpec& spec, int64_t dims) {
    const int64_t axis = spec.channelAxis < 0 ? spec.channelAxis + dims : spec.channelAxis;
    if (axis < 0 || axis >= dims)
        throw invalidInput("The channel axis " + std::to_string(spec.channelAxis) + " does not exist in a tensor of " +
                           std::to_string(dims) + " dimensions; use an axis from " + std::to_string(-dims) +
                           " to " + std::to_string(dims - 1) + ".");
    return int(axis);
}

}  // namespace quant_ops

// ---- names and specs ----

const char* granularityName(Granularity granularity) {
    switch (granularity) {
    case Granularity::PerTensor: return "per-tensor";
    case Granularity::PerChannel: return "per-channel";
    case Granularity::Shift: return "shift";
    }
    return "per-channel";
}

Granularity granularityFromString(const std::string& name) {
    if (name == "per-tensor") return Granularity::PerTensor;
    if (name == "per-channel") return Granularity::PerChannel;
    if (name == "shift") return Granularity::Shift;
    throw invalidInput("Unknown granularity \"" + name + "\"; use per-tensor, per-channel or shift.");
}

QuantSpec QuantSpec::weights(int bits, Granularity granularity) {
    QuantSpec spec;
    spec.bits = bits;
    spec.granularity = granularity;
    return spec;
}

QuantSpec QuantSpec::activations(int bits) {
    QuantSpec spec;
    spec.bits = bits;
    spec.symmetric = false;
    spec.signedGrid = false;
    return spec;
}

void validateQuantSpec(const QuantSpec& spec) {
    if (!((spec.bits >= 2 && spec.bits <= 8) || spec.bits == 16))
        throw invalidInput("A quantizer cannot use " + std::to_string(spec.bits) +
                           " bits; the allowed bit-widths are 2, 3, 4, 5, 6, 7, 8 and 16.");
    if (spec.granularity == Granularity::Shift && !(spec.symmetric && spec.signedGrid))
        throw invalidInput("The shift scaler quantizes weights on a symmetric signed grid; use per-tensor or "
                           "per-channel for an asymmetric or unsigned quantizer.");
}

float QuantParams::sharedScale() const {
    if (scale.empty()) return 0.0f;
    return shift.empty() ? scale[0] : std::ldexp(scale[0], shift[0]);
}

int64_t gridMin(const QuantSpec& spec) {
    validateQuantSpec(spec);
    return spec.signedGrid ? -(int64_t(1) << (spec.bits - 1)) : 0;
}

int64_t gridMax(const QuantSpec& spec) {
    validateQuantSpec(spec);
    return spec.signedGrid ? (int64_t(1) << (spec.bits - 1)) - 1 : (int64_t(1) << spec.bits) - 1;
}

// ---- parameters ----

QuantParams paramsFromRange(const std::vector<float>& min, const std::vector<float>& max, const QuantSpec& spec) {
    validateQuantSpec(spec);
    if (min.empty() || min.size() != max.size())
        throw invalidInput("A quantization range needs as many minimums as maximums and at least one of each.");
    for (size_t c = 0; c < min.size(); ++c) {
        if (!std::isfinite(min[c]) || !std::isfinite(max[c]) || min[c] > max[c])
            throw invalidInput("The range [" + numberText(min[c]) + ", " + numberText(max[c]) +
                               "] cannot be quantized; a range needs finite bounds with min <= max, so check "
                               "the data for NaN or infinite values.");
        if (spec.symmetric && !spec.signedGrid && min[c] < 0.0f)
            throw invalidInput("A symmetric unsigned quantizer holds only non-negative values but the range's "
                               "minimum is " + numberText(min[c]) +
                               "; use a signed grid or an asymmetric quantizer for this tensor.");
    }
    at::Tensor scale, zeroPoint;
    quant_ops::rangeToParams(floatTensor(min), floatTensor(max), spec, scale, zeroPoint);
    return paramsFromTensors(scale, zeroPoint, spec);
}

QuantParams paramsFromRange(float min, float max, const QuantSpec& spec) {
    return paramsFromRange(std::vector<float>{min}, std::vector<float>{max}, spec);
}

at::Tensor scaleTensor(const QuantParams& params) { return floatTensor(params.scale); }

at::Tensor zeroPointTensor(const QuantParams& params) {
    return floatTensor(std::vector<float>(params.zeroPoint.begin(), params.zeroPoint.end()));
}

QuantParams paramsFromTensors(const at::Tensor& scale, const at::Tensor& zeroPoint, const QuantSpec& spec) {
    if (scale.numel() == 0 || scale.numel() != zeroPoint.numel())
        throw invalidInput("Quantization parameters need as many zero points as scales and at least one of each.");
    const at::NoGradGuard noGrad;
    const at::Tensor s = at::clamp_min(scale.detach().to(at::kFloat).reshape({-1}), double(kMinScale)).contiguous();
    const at::Tensor z = at::clamp(at::round(zeroPoint.detach().to(at::kFloat).reshape({-1})), double(gridMin(spec)),
                                   double(gridMax(spec)))
                             .to(at::kInt)
                             .contiguous();
    QuantParams params;
    params.scale.assign(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
    params.zeroPoint.assign(z.data_ptr<int32_t>(), z.data_ptr<int32_t>() + z.numel());
    return params;
}

// ---- fake-quant and the integer form ----

at::Tensor fakeQuantize(const at::Tensor& x, const QuantSpec& spec, const QuantParams& params) {
    const int axis = checkParams(x, spec, params);
    const bool needsGrad = x.requires_grad() && at::GradMode::is_enabled();
    if (needsGrad || x.scalar_type() != at::kFloat)
        return fakeQuantize(x, spec, scaleTensor(params).to(x.scalar_type()),
                            zeroPointTensor(params).to(x.scalar_type()));
    const bool perChannel = perChannelParams(spec.granularity);
    // One scale for every element: any dense order will do (channels-last activations stay so).
    const at::Tensor in = !perChannel && x.is_non_overlapping_and_dense() ? x : x.contiguous();
    at::Tensor out = at::empty_like(in);
    if (in.numel() == 0) return out;
    const int64_t channels = perChannel ? in.size(axis) : 1;
    int64_t inner = in.numel();
    if (perChannel) {
        inner = 1;
        for (int64_t d = axis + 1; d < in.dim(); ++d) inner *= in.size(d);
    }
    fakeQuantizeContiguous(in.data_ptr<float>(), out.data_ptr<float>(), in.numel(), inner, channels,
                           params.scale.data(), params.zeroPoint.data(), gridMin(spec), gridMax(spec));
    return out;
}

at::Tensor fakeQuantize(const at::Tensor& x, const QuantSpec& spec, const at::Tensor& scale,
                        const at::Tensor& zeroPoint) {
    validateQuantSpec(spec);
    const bool perChannel = perChannelParams(spec.granularity);
    const int axis = perChannel ? quant_ops::normalizedAxis(spec, x.dim()) : 0;
    const int64_t expected = perChannel ? x.size(axis) : 1;
    if (scale.numel() != expected || zeroPoint.numel() != expected)
        throw invalidInput("The quantizer has " + std::to_string(scale.numel()) + " scales and " +
                           std::to_string(zeroPoint.numel()) + " zero points but the tensor needs " +
                           std::to_string(expected) + " of each for " + granularityName(spec.granularity) +
                           " quantization.");
    at::Tensor s, z;
    broadcastParams(x, spec, axis, scale.to(x.scalar_type()), zeroPoint.to(x.scalar_type()), s, z);
    z = roundSte(z);
    const at::Tensor q = at::clamp(roundSte(x / s) + z, double(gridMin(spec)), double(gridMax(spec)));
    return (q - z) * s;
}

at::Tensor quantizeToInt(const at::Tensor& x, const QuantSpec& spec, const QuantParams& params) {
    const int axis = checkParams(x, spec, params);
    const at::NoGradGuard noGrad;
    if (spec.bits <= 8 && !perChannelParams(spec.granularity) && x.scalar_type() == at::kFloat) {
        // One scale: one pass in the input's own dense order (channels-last stays channels-last).
        const at::Tensor in = x.is_non_overlapping_and_dense() ? x.detach() : x.detach().contiguous();
        at::Tensor out = at::empty_like(in, in.options().dtype(intTypeFor(spec)));
        if (in.numel() == 0) return out;
        if (spec.signedGrid)
            quantizeContiguous8(in.data_ptr<float>(), out.data_ptr<int8_t>(), in.numel(), params.scale[0],
                                params.zeroPoint[0], gridMin(spec), gridMax(spec));
        else
            quantizeContiguous8(in.data_ptr<float>(), out.data_ptr<uint8_t>(), in.numel(), params.scale[0],
                                params.zeroPoint[0], gridMin(spec), gridMax(spec));
        return out;
    }
    at::Tensor s, z;
    broadcastParams(x, spec, axis, scaleTensor(params), zeroPointTensor(params), s, z);
    const at::Tensor q = at::round(x.detach().to(at::kFloat) / s) + z;
    return at::clamp(q, double(gridMin(spec)), double(gridMax(spec))).to(intTypeFor(spec));
}

at::Tensor dequantize(const at::Tensor& q, const QuantSpec& spec, const QuantParams& params) {
    const int axis = checkParams(q, spec, params);
    at::Tensor s, z;
    broadcastParams(q, spec, axis, scaleTensor(params), zeroPointTensor(params), s, z);
    return (q.to(at::kFloat) - z) * s;
}

double quantizationMse(const at::Tensor& x, const QuantSpec& spec, const QuantParams& params) {
    const at::NoGradGuard noGrad;
    return (fakeQuantize(x, spec, params) - x).pow(2).mean().item<double>();
}

}  // namespace ptq
