#include "generic_int_target.h"

double GenericIntTarget::layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption& option) const {
    return double(layer.macs) * option.weightBits * option.weightPoints * option.activationBits;
}
