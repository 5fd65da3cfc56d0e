#include "generic_int_target.h"

double GenericIntTarget::layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption& option) const {
    // An attention matmul multiplies two activations: both operands take the activation bits.
    if (layer.opKind == QLatin1String("matmul")) return double(layer.macs) * option.activationBits * option.activationBits;
    return double(layer.macs) * option.weightBits * option.weightPoints * option.activationBits;
}
