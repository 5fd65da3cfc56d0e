// The smallest useful hardware target (docs/plugins.md walks through it): what the DSP runs is
// in example_target.json; the cost model is energy, a fixed figure per MAC that grows with the
// bits multiplied, plus a fixed cost to fetch each weight.
#include "core/target/hardware_target.h"

#include <QtCore/QObject>

class ExampleTarget : public QObject, public ptq::HardwareTarget {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID PTQ_HARDWARE_TARGET_IID FILE "example_target.json")
    Q_INTERFACES(ptq::HardwareTarget)
public:
    double layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption& option) const override {
        const double macEnergyNj = 0.0002 * option.weightBits * option.activationBits / 64.0;
        const double fetchEnergyNj = 0.001 * option.weightBits / 8.0;
        return double(layer.macs) * macEnergyNj + double(layer.params) * fetchEnergyNj;
    }
};

#include "example_target.moc"
