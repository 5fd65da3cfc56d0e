#pragma once
/// @file
/// Per-layer local quantization error: each quantizable layer run on the FP model's own input,
/// once in FP and once under its quantization (input activation and weight), compared.

#include "core/data/dataset.h"
#include "core/quant/quantized_model.h"
#include "core/util/progress.h"

#include <string>
#include <vector>

namespace ptq {

struct LayerError {
    std::string layer;
    double mse = 0.0;      ///< mean squared difference of the layer's outputs
    double snrDb = 0.0;    ///< 10 log10(signal power / error power); +inf when exact
};

/// Local errors of every quantizable layer of @p model over @p data, in execution order. One FP
/// pass; each layer is re-run quantized on the same input, so errors do not accumulate from
/// upstream layers. Long; any one thread; cancel through @p progress.
std::vector<LayerError> layerErrors(const QuantizedModel& model, const Dataset& data, int64_t batchSize = 256,
                                    const Progress* progress = nullptr);

}  // namespace ptq
