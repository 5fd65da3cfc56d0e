#pragma once
// generic-int: an integer accelerator whose work grows with the bits multiplied, so its cost is
// the bit operations of a layer (MACs x weight bits x points x activation bits).

#include "core/target/hardware_target.h"

#include <QtCore/QObject>

class GenericIntTarget : public QObject, public ptq::HardwareTarget {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID PTQ_HARDWARE_TARGET_IID FILE "generic_int.json")
    Q_INTERFACES(ptq::HardwareTarget)
public:
    double layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption& option) const override;
};
