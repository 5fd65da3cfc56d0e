// A target whose metadata is fine but whose library needs a symbol nothing defines (as when a
// plugin is built against a library the user does not have): it must be reported when loading
// and skipped, never abort the process.
#include "core/target/hardware_target.h"

#include <QtCore/QObject>

extern "C" double ptq_symbol_nobody_defines(long long macs);

class HalfLinkedTarget : public QObject, public ptq::HardwareTarget {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID PTQ_HARDWARE_TARGET_IID FILE "missing_symbol.json")
    Q_INTERFACES(ptq::HardwareTarget)
public:
    double layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption&) const override {
        return ptq_symbol_nobody_defines(layer.macs);
    }
};

#include "missing_symbol.moc"
