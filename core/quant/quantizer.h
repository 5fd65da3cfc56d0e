#pragma once
/// @file
/// Uniform affine quantization: q = clamp(round(x / scale) + zeroPoint, qmin, qmax) and back,
/// x' = (q - zeroPoint) * scale. Bits 2..8 and 16; symmetric or asymmetric; signed or unsigned
/// integer grid; one (scale, zero point) for the tensor or one per channel along any axis.
///
/// Rounding is to nearest, ties to even (as at::round). Zero is always exactly representable:
/// every range is widened to include 0 and the zero point is an integer on the grid.
///
/// This header is plain C++; the functions taking at::Tensor need LibTorch and are for core
/// .cpp files. Every function here is pure (no shared state): any thread may call it.

#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace ptq {

/// One (scale, zero point) for the whole tensor, or one per slice along QuantSpec::channelAxis.
/// Shift is the weight equalizing shift scaler (Oh et al., arXiv 2008.05767): per channel a
/// shift s_c in 0..kMaxShift scales the channel by 2^s_c toward the widest channel's range, the
/// shifted channels share one scale S, and the channel's effective scale is S / 2^s_c (the
/// inverse shift folds into the output rescale). Its params are per channel, with the shifts.
enum class Granularity { PerTensor, PerChannel, Shift };

/// Largest shift of the shift scaler: 4 bits per channel.
constexpr int kMaxShift = 15;

/// Whether params hold one entry per channel (per-channel and shift).
inline bool perChannelParams(Granularity granularity) { return granularity != Granularity::PerTensor; }

/// "per-tensor", "per-channel" or "shift" (the command line's spelling). Any thread.
const char* granularityName(Granularity granularity);
/// Parses granularityName's spelling; throws ptq::Error (InvalidInput) listing the valid names.
Granularity granularityFromString(const std::string& name);

/// How a tensor is quantized. Plain data.
///
/// The rules (checked by validateQuantSpec):
/// - bits is 2..8 or 16.
/// - A signed grid is [-2^(b-1), 2^(b-1) - 1]; an unsigned grid is [0, 2^b - 1].
/// - symmetric: the zero point is fixed (0 on a signed grid, so the range is +-max|x|).
///   symmetric with an unsigned grid means "non-negative data on [0, max]" (e.g. after ReLU):
///   zero point 0, and a range with a negative minimum is refused, not silently clipped.
/// - asymmetric: the range [min, max] (widened to include 0) is mapped onto the whole grid
///   with an integer zero point; works on either grid.
/// - channelAxis is used only per channel; negative values count from the last axis.
/// - shift granularity needs a symmetric signed grid (weights).
struct QuantSpec {
    int bits = 8;
    bool symmetric = true;
    bool signedGrid = true;
    Granularity granularity = Granularity::PerTensor;
    int channelAxis = 0;

    /// The usual weight quantizer: symmetric, signed, per output channel (axis 0) by default.
    static QuantSpec weights(int bits, Granularity granularity = Granularity::PerChannel);
    /// The usual activation quantizer: asymmetric, unsigned grid, per tensor.
    static QuantSpec activations(int bits);

    bool operator==(const QuantSpec& o) const {
        return bits == o.bits && symmetric == o.symmetric && signedGrid == o.signedGrid &&
               granularity == o.granularity && channelAxis == o.channelAxis;
    }
    bool operator!=(const QuantSpec& o) const { return !(*this == o); }
};

/// Throws ptq::Error (InvalidInput) with a sentence naming the allowed values when @p spec
/// breaks a rule of QuantSpec (e.g. bits 9: "must be 2, 3, 4, 5, 6, 7, 8 or 16"). Any thread.
void validateQuantSpec(const QuantSpec& spec);

/// Smallest integer of the grid (-2^(b-1) signed, 0 unsigned). Validates @p spec.
int64_t gridMin(const QuantSpec& spec);
/// Largest integer of the grid (2^(b-1) - 1 signed, 2^b - 1 unsigned). Validates @p spec.
int64_t gridMax(const QuantSpec& spec);

/// Scale and zero point: one entry for the tensor, or one per channel. Plain data.
struct QuantParams {
    std::vector<float> scale;
    std::vector<int32_t> zeroPoint;
    /// Shift granularity only: each channel's shift (scale[c] = sharedScale() / 2^shift[c]).
    std::vector<int32_t> shift;

    size_t channels() const { return scale.size(); }
    /// The one scale the shifted channels share (shift granularity; scale[0] otherwise).
    float sharedScale() const;
    bool operator==(const QuantParams& o) const {
        return scale == o.scale && zeroPoint == o.zeroPoint && shift == o.shift;
    }
};

/// Scales below this are raised to it, so x / scale stays finite for tiny ranges.
constexpr float kMinScale = 1e-12f;

/// Params mapping each channel's range [min[c], max[c]] onto the grid of @p spec. Each range is
/// widened to include 0. An all-zero range gets scale 1 (any scale represents it exactly).
/// Symmetric signed uses scale = max|x| / ((qmax - qmin) / 2), as PyTorch does, so every value
/// of [-max|x|, max|x|] is within scale / 2 of the grid. One entry per range given (one range
/// for per-tensor). Any thread. Throws ptq::Error (InvalidInput) for a bad spec, different
/// lengths, min > max, a non-finite bound, or a negative min with symmetric unsigned.
QuantParams paramsFromRange(const std::vector<float>& min, const std::vector<float>& max, const QuantSpec& spec);
/// paramsFromRange for one range (per-tensor params).
QuantParams paramsFromRange(float min, float max, const QuantSpec& spec);

/// dequantize(quantize(x)): the float values @p x takes on the grid, same shape and dtype.
/// Per channel, @p params has one entry per slice of @p x along spec.channelAxis.
/// Without autograd, float32 runs one fused pass over the data (multi-threaded, no per-channel
/// tensor ops). When @p x requires grad (and grad mode is on) it runs as differentiable ops
/// with a straight-through estimator: d out / d x = 1 where x is inside the clamp range, 0
/// outside. Any thread. Throws ptq::Error (InvalidInput) when params do not fit x or spec.
at::Tensor fakeQuantize(const at::Tensor& x, const QuantSpec& spec, const QuantParams& params);

/// Differentiable fake-quant with learnable parameters (AdaQuant, LSQ-style): @p scale is a
/// float tensor of one element (per tensor) or of x.size(axis) elements (per channel),
/// @p zeroPoint likewise (any dtype; a float tensor may require grad, it is rounded with the
/// straight-through estimator). Built from ordinary differentiable tensor ops with round(v) replaced by
/// v + (round(v) - v).detach(), so gradients reach x (1 inside the clamp range, 0 outside),
/// the scale and the zero point. Any thread.
at::Tensor fakeQuantize(const at::Tensor& x, const QuantSpec& spec, const at::Tensor& scale,
                        const at::Tensor& zeroPoint);

/// The integer form q = clamp(round(x / scale) + zeroPoint, qmin, qmax), in the smallest
/// integer dtype that holds the grid: int8 / uint8 up to 8 bits, int16 for signed 16 bits,
/// int32 for unsigned 16 bits. dequantize(quantizeToInt(x)) equals fakeQuantize(x) exactly.
/// Get @p params from paramsFromRange or core/quant/range_calibration.h. Any thread.
at::Tensor quantizeToInt(const at::Tensor& x, const QuantSpec& spec, const QuantParams& params);
/// (q - zeroPoint) * scale as float32; @p q is any integer tensor of quantizeToInt's shape.
at::Tensor dequantize(const at::Tensor& q, const QuantSpec& spec, const QuantParams& params);

/// The scale of @p params as a float32 tensor of channels() elements (e.g. to learn it with
/// the tensor overload of fakeQuantize). Any thread.
at::Tensor scaleTensor(const QuantParams& params);
/// The zero point of @p params as a float32 tensor of channels() elements.
at::Tensor zeroPointTensor(const QuantParams& params);
/// Params back from (possibly learned) tensors: scale raised to kMinScale, zero point rounded
/// and clamped onto the grid of @p spec. Any thread.
QuantParams paramsFromTensors(const at::Tensor& scale, const at::Tensor& zeroPoint, const QuantSpec& spec);

/// Mean squared error between @p x and fakeQuantize(x): the figure range methods minimise.
double quantizationMse(const at::Tensor& x, const QuantSpec& spec, const QuantParams& params);

}  // namespace ptq
