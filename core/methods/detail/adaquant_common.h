#pragma once
/// @file
/// Private to core/methods (LibTorch types): what per-layer AdaQuant and block reconstruction
/// share, where a layer starts from and which layers are tuned.

#include "core/quant/quantized_model.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace ptq::detail {

/// Where a layer starts from: its float parameters and range-calibrated quantizers.
struct LayerStart {
    int node = -1;
    std::string weightKey, biasKey;
    at::Tensor weight, bias;
    LayerQuant choice;
    QuantSpec weightSpec, activationSpec;
    QuantParams weightParams, activationParams;
    bool quantW() const { return choice.weightBits < 32; }
    bool quantA() const { return choice.activationBits < 32; }
};

/// The layer's float parameters (copies, outside InferenceMode) and its calibrated quantizers.
LayerStart startOf(const QuantizedModel& model, int node);

/// How a quantizer's channels fall on the rows (samples, or the whole weight) of a contiguous
/// tensor of @p sizes: runs of `inner` values that cycle through `channels`, one run of the
/// row's @p rowSize values for per-tensor.
struct QuantLayout {
    int64_t inner = 1, channels = 1;
};
/// Throws ptq::Error (InvalidInput) when @p paramCount does not match the tensor's channels.
QuantLayout layoutOf(const QuantSpec& spec, at::IntArrayRef sizes, int64_t rowSize, int64_t paramCount);

/// A tensor's values as floats, row-major.
std::vector<float> toVector(const at::Tensor& t);

/// Node ids of the layers AdaQuant tunes, in execution order: every quantized layer with a
/// weight or input quantizer, except multipoint ones.
std::vector<int> tunedLayers(const QuantizedModel& model);

}  // namespace ptq::detail
