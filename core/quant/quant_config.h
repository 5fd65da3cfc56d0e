#pragma once
/// @file
/// What a user chose for each quantizable layer: weight and activation bits, weight
/// granularity, and how ranges are calibrated. Plain data; any thread.

#include "core/quant/quantizer.h"
#include "core/quant/range_calibration.h"

#include <map>
#include <string>

namespace ptq {

class Graph;

/// One layer's choice. Bits of 32 mean "leave in floating point".
struct LayerQuant {
    int weightBits = 8;
    int activationBits = 8;
    Granularity granularity = Granularity::PerChannel;
    /// Multipoint weights (core/quant/multipoint.h): points per output channel on average; 1 is
    /// plain quantization. Whole numbers only here: the option names "w4x2a8".
    int weightPoints = 1;
    bool operator==(const LayerQuant& o) const {
        return weightBits == o.weightBits && activationBits == o.activationBits && granularity == o.granularity &&
               weightPoints == o.weightPoints;
    }
};

struct QuantConfig {
    std::map<std::string, LayerQuant> layers;  ///< by node name (the module path)
    RangeMethod weightMethod = RangeMethod::MinMax;
    RangeMethod activationMethod = RangeMethod::MinMax;

    /// Every layer of @p graph (Graph::allocationNodes: attention matmuls included) at the same
    /// setting; with @p keepFirstLast8bit the first and last layers with weights stay at 8/8
    /// (the usual practice for low bit-widths). Throws
    /// ptq::Error (InvalidInput) for bits outside 2..8 and 16.
    static QuantConfig uniform(const Graph& graph, int weightBits, int activationBits, Granularity granularity,
                               bool keepFirstLast8bit);
    /// The setting of @p layer; throws ptq::Error (InvalidInput) naming the layer when absent.
    const LayerQuant& layer(const std::string& name) const;
};

}  // namespace ptq
