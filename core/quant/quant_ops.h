#pragma once
/// @file
/// Tensor building blocks shared by core/quant's .cpp files (not a public API): the range to
/// (scale, zero point) map and fake-quant, both vectorised over any number of ranges at once,
/// which is what lets the range search evaluate [candidates x channels] in one go.

#include "core/quant/quantizer.h"

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

/// @p x with axis @p axis moved first and the rest flattened: [channels, elements per channel].
at::Tensor channelsFirst2d(const at::Tensor& x, int axis);

/// The axis of a per-channel spec for a tensor of @p dims dimensions, made non-negative;
/// throws ptq::Error (InvalidInput) when it is out of range.
int normalizedAxis(const QuantSpec& spec, int64_t dims);

}  // namespace ptq::quant_ops
