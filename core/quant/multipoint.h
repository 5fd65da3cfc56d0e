#pragma once
/// @file
/// Multipoint weight quantization (Liu et al. 2021): a weight tensor approximated by a sum of
/// low-bit tensors, W ≈ Σ_i s_i Q_i, each point built greedily on what the points before it
/// left over (the residual). The number of points is a complexity-vs-accuracy knob: a layer
/// at "w4x2" stores two 4-bit tensors (8 bits per weight, and twice the 4-bit MACs), and the
/// points are spread over the output channels where they lower the layer's output error most.
///
/// Plain C++ header; the functions taking at::Tensor are for core .cpp files. Pure: any thread.

#include "core/quant/quantizer.h"
#include "core/quant/range_calibration.h"

#include <cstdint>
#include <vector>

namespace at {
class Tensor;
}

namespace ptq {

/// Most points a channel may take.
constexpr int kMaxWeightPoints = 4;

/// How multipoint quantization split one weight tensor (the tensor itself is returned apart).
struct MultipointWeight {
    std::vector<int> pointsPerChannel;   ///< one entry per output channel, 1..kMaxWeightPoints
    std::vector<QuantParams> pointParams;  ///< point i's params; a channel with fewer points ignores the rest
    /// Σ_c pointsPerChannel[c] / channels: what the storage and MACs are multiplied by.
    double meanPoints() const;
};

/// Each output channel's share of the layer's output error: for weight [out, in/groups, ...]
/// and per-input-channel energies E[x_j²] (length in), the weights of the squared weight error
/// element by element, shaped like @p weight. Without energies (empty), all ones: plain weight
/// MSE. Throws ptq::Error (InvalidInput) when the lengths do not fit the weight's shape.
at::Tensor outputErrorWeights(const at::Tensor& weight, const std::vector<double>& inputEnergy);

/// Quantizes @p weight as a sum of points on the grid of @p spec (per output channel along
/// axis 0 for per-channel and shift specs, one scale per point for per-tensor), with on
/// average @p points points per channel: every channel gets one, and the remaining
/// round((points - 1) x channels) go one at a time to the channel whose weighted error
/// (outputErrorWeights) drops most, at most kMaxWeightPoints per channel. Each point's range
/// comes from @p method on its residual. @p points = 1 is plain quantization.
/// Writes Σ_i s_i Q_i (dequantized, the weight's shape and dtype) to @p out. Throws ptq::Error (InvalidInput) for points outside
/// 1..kMaxWeightPoints or a bad spec.
MultipointWeight multipointQuantize(const at::Tensor& weight, const QuantSpec& spec, RangeMethod method,
                                    double points, const std::vector<double>& inputEnergy, at::Tensor& out);

}  // namespace ptq
