#pragma once
// shift-npu: per-tensor weight scales with the 4-bit weight equalizing shift scaler, 4/8-bit
// weights and activations; a layer's latency comes from the lookup table embedded in the plugin
// (shift_npu_latency.json). Exporter "npu-schedule": the per-layer schedule as CSV.

#include "latency_lut.h"

#include "core/target/hardware_target.h"

#include <QtCore/QObject>

class ShiftNpuTarget : public QObject, public ptq::HardwareTarget {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID PTQ_HARDWARE_TARGET_IID FILE "shift_npu.json")
    Q_INTERFACES(ptq::HardwareTarget)
public:
    ShiftNpuTarget();
    double layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption& option) const override;
    QString initError() const override { return error_; }
    QByteArray exportAllocation(const QString& format, const QList<ptq::TargetLayer>& layers,
                                const QList<ptq::TargetOption>& options, QString* error) const override;

private:
    LatencyLut lut_;
    QString error_;
};
