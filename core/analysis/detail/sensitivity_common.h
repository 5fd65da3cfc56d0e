#pragma once
/// @file
/// Private to core/analysis (sensitivity.cpp, sensitivity_estimate.cpp): what the measured and
/// the estimated table share. LibTorch types.

#include "core/analysis/sensitivity.h"
#include "core/quant/multipoint.h"
#include "core/quant/quantized_model.h"
#include "core/quant/quantizer.h"
#include "core/runtime/cut_cache.h"
#include "core/runtime/executor.h"

#include <ATen/ATen.h>

#include <string>

namespace ptq::detail {

/// @p floatWeight (the weight of layer @p layer) fake-quantized at @p option: its own range at
/// the request's granularity and range method, or multipoint weights spread by the layer's input
/// energy, as @p base (calibrated) observed it.
inline at::Tensor untunedOptionWeight(const QuantizedModel& base, const std::string& layer, const at::Tensor& floatWeight,
                                      const BitOption& option, const QuantizerSettings& quantizer) {
    const QuantSpec wSpec = QuantSpec::weights(option.weightBits, quantizer.granularity);
    if (option.weightPoints > 1) {
        at::Tensor qWeight;
        multipointQuantize(floatWeight, wSpec, quantizer.weightRange, option.weightPoints, base.inputEnergy(layer), qWeight);
        return qWeight;
    }
    return fakeQuantize(floatWeight, wSpec, weightParams(floatWeight, wSpec, quantizer.weightRange));
}

/// Every layer of @p graph at the request's base option, with its granularity and range methods
/// (not yet calibrated): what every other layer keeps while one takes an option.
QuantizedModel baseModel(const Graph& graph, const SensitivityRequest& request);

/// How many of @p samples samples take part when the activations kept at the widest cut before
/// @p layers must stay within @p cacheBytes (with a warning when fewer than all).
int64_t sensitivitySampleBound(const Executor& executor, const std::vector<int>& layers, int64_t samples,
                               int64_t cacheBytes);

/// Calibrates @p base on the samples @p cache holds (the sample bound applies to calibration
/// too), from the cached copies: @p data (for its sample shape) is not read again.
void calibrateOnCache(QuantizedModel& base, const CutCache& cache, const Dataset& data, int64_t batchSize,
                      const Progress* progress);

}  // namespace ptq::detail
