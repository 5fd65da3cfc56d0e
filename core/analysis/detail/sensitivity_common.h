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
/// energy, as @p base (calibrated) observed it. @p params, when given, gets a single-point
/// weight's quantizer params (left empty for multipoint weights, which have no one grid).
inline at::Tensor untunedOptionWeight(const QuantizedModel& base, const std::string& layer, const at::Tensor& floatWeight,
                                      const BitOption& option, const QuantizerSettings& quantizer,
                                      QuantParams* params = nullptr) {
    const QuantSpec wSpec = QuantSpec::weights(option.weightBits, quantizer.granularity);
    if (option.weightPoints > 1) {
        at::Tensor qWeight;
        multipointQuantize(floatWeight, wSpec, quantizer.weightRange, option.weightPoints, base.inputEnergy(layer), qWeight);
        if (params) *params = QuantParams{};
        return qWeight;
    }
    QuantParams p = weightParams(floatWeight, wSpec, quantizer.weightRange);
    at::Tensor qWeight = fakeQuantize(floatWeight, wSpec, p);
    if (params) *params = std::move(p);
    return qWeight;
}

/// Every layer of @p graph at the request's base option, with its granularity and range methods
/// (not yet calibrated): what every other layer keeps while one takes an option.
QuantizedModel baseModel(const Graph& graph, const SensitivityRequest& request);

/// How many of @p samples samples take part when the activations kept at the widest cut before
/// @p layers must stay within @p cacheBytes (with a warning when fewer than all).
int64_t sensitivitySampleBound(const Executor& executor, const std::vector<int>& layers, int64_t samples,
                               int64_t cacheBytes);

/// Calibrates @p base on the samples @p cache holds (the sample bound applies to calibration
/// too), from the cached copies: @p data (for its sample shape) is not read again. @p onBatch
/// gets the FP model's outputs of each calibration batch (QuantizedModel::calibrate).
void calibrateOnCache(QuantizedModel& base, const CutCache& cache, const Dataset& data, int64_t batchSize,
                      const Progress* progress,
                      const std::function<void(const Batch&, const std::vector<at::Tensor>&)>& onBatch = {});

}  // namespace ptq::detail
