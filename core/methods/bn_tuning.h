#pragma once
/// @file
/// BN tuning (Hubara et al., ICML 2021) and empirical bias correction: two no-backprop repairs
/// of a quantized model, measured on calibration data. Both write tuned float parameters into
/// the QuantizedModel; the FP graph stays the FP reference.

#include "core/data/dataset.h"
#include "core/quant/quantized_model.h"
#include "core/util/progress.h"

#include <functional>
#include <string>

namespace ptq {

/// One BatchNorm re-estimated, for live plots. Plain data.
struct BatchNormTuneTick {
    std::string layer;         ///< the layer the BatchNorm is folded into
    int index = 0, count = 0;  ///< 0-based among the BatchNorms tuned in this call
    /// Mean over channels of |new mean - old mean| / new std: how far quantization moved the
    /// layer's output statistics, in standard deviations.
    double meanShift = 0;
    double stdRatio = 1;       ///< mean over channels of new std / old std
};

/// For every layer with a folded BatchNorm: re-estimates that BatchNorm's mean and variance
/// from the quantized model's own (unfolded) layer outputs over @p calib, folds the new
/// statistics with the BN's affine parameters into the layer, and re-quantizes the weights.
/// Returns the number of BatchNorms tuned. Long; any one thread; cancel through @p progress.
/// @p onLayer, when given, is called on the working thread after each BatchNorm.
int tuneBatchNorms(QuantizedModel& model, const Dataset& calib, int64_t batchSize = 256,
                   const Progress* progress = nullptr,
                   const std::function<void(const BatchNormTuneTick&)>& onLayer = {});

/// For every quantizable layer with a bias: the mean per-channel shift that quantizing the layer
/// (its weight and its input) adds to its output, on its inputs in the quantized model over
/// @p calib, is subtracted from its bias. Returns the number of layers corrected.
int correctBiases(QuantizedModel& model, const Dataset& calib, int64_t batchSize = 256,
                  const Progress* progress = nullptr);

}  // namespace ptq
