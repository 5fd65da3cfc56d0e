// A target whose metadata lacks "cost_unit": the registry must report it and skip it.
#include "core/target/hardware_target.h"

#include <QtCore/QObject>

class NoUnitTarget : public QObject, public ptq::HardwareTarget {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID PTQ_HARDWARE_TARGET_IID FILE "bad_metadata.json")
    Q_INTERFACES(ptq::HardwareTarget)
public:
    double layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption&) const override { return double(layer.macs); }
};

#include "bad_metadata.moc"
