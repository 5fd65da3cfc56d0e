#pragma once
/// @file
/// Tensor building blocks shared by core/quant's .cpp files (not a public API): the range to
/// (scale, zero point) map and fake-quant, both vectorised over any number of ranges at once,
/// which is what lets the range search evaluate [candidates x channels] in one go.

#include "core/quant/quantizer.h"

#include <cstdint>

namespace at {
class Tensor;
}

namespace ptq::quant_ops {

/// Scale and zero point (float32 tensors of lo's shape) for ranges [lo, hi] elementwise, with
/// the rules of paramsFromRange. Does not validate: callers check spec and ranges first.
void rangeToParams(const at::Tensor& lo, const at::Tensor& hi, const QuantSpec& spec, at::Tensor& scale,
                   at::Tensor& zeroPoint);

/// Quantization error of every candidate for every channel: errors[k][c] is the sum over i of
/// w[i] (fakeQuant(rows[c][i]; scale[k][c], zeroPoint[k][c]) - rows[c][i])^2, as float64
/// [K x C]. @p rows is float32 [C x N]; @p scale and @p zeroPoint are float32 [K x C];
/// @p weights is float32 [N] or nullptr for 1. One fused multi-threaded pass per (k, c): the
/// search costs about a nanosecond per value and candidate, not a chain of tensor ops.
at::Tensor clipErrorTable(const at::Tensor& rows, const at::Tensor& scale, const at::Tensor& zeroPoint,
                          int64_t qmin, int64_t qmax, const at::Tensor* weights);

/// Rows of float32 data as fake-quant sees them: row r of a [rows x rowSize] block is source
/// row rows[r] of @p src (a gather, e.g. a random mini-batch of a cached layer input; rows
/// may be 0, 1, ..., count - 1 for the data as it is). Within a row the quantizer channel of
/// offset i is (i / inner) % channels; @p scale and @p zeroPoint hold one float per channel,
/// the zero points already rounded to integers.
struct FakeQuantRows {
    const float* src = nullptr;
    const int64_t* rows = nullptr;
    int64_t count = 0, rowSize = 0, inner = 1, channels = 1;
    const float* scale = nullptr;
    const float* zeroPoint = nullptr;
    int64_t qmin = 0, qmax = 0;
};

/// out (count x rowSize, contiguous) = fakeQuant of the gathered rows: the arithmetic of the
/// tensor fakeQuantize, so the values are bit-identical to it. One multi-threaded pass.
void fakeQuantizeRows(const FakeQuantRows& a, float* out);

/// The straight-through-estimator backward of fakeQuantizeRows for the gradient @p grad of
/// its output (count x rowSize): per channel, gradScale[c] = sum grad * (q - z - in * x / s)
/// and gradZeroPoint[c] = sum grad * s * (in - 1), the gradients of the scale and of the
/// (unrounded) zero point, where q is the clamped grid value and in is 1 where the rounded
/// value lies inside the grid; @p gradInput (count x rowSize, or nullptr) = grad * in. Sums
/// run in float lanes over blocks and add up in double in a fixed order, so the result does
/// not depend on the number of threads. One multi-threaded pass.
void fakeQuantizeRowsBackward(const FakeQuantRows& a, const float* grad, float* gradInput, double* gradScale,
                              double* gradZeroPoint);

/// @p x with axis @p axis moved first and the rest flattened: [channels, elements per channel].
at::Tensor channelsFirst2d(const at::Tensor& x, int axis);

/// The axis of a per-channel spec for a tensor of @p dims dimensions, made non-negative;
/// throws ptq::Error (InvalidInput) when it is out of range.
int normalizedAxis(const QuantSpec& spec, int64_t dims);

}  // namespace ptq::quant_ops
