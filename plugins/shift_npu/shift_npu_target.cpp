#include "shift_npu_target.h"

#include <QtCore/QFile>

ShiftNpuTarget::ShiftNpuTarget() {
    QFile table(QStringLiteral(":/ptq-target-shift-npu/shift_npu_latency.json"));
    if (!table.open(QIODevice::ReadOnly)) {
        error_ = QStringLiteral("the embedded latency table could not be read");
        return;
    }
    if (const QString why = lut_.parse(table.readAll()); !why.isEmpty())
        error_ = QStringLiteral("shift-npu: %1").arg(why);
}

double ShiftNpuTarget::layerCost(const ptq::TargetLayer& layer, const ptq::TargetOption& option) const {
    // Weights are stored per tensor with a per-channel 4-bit shift folded into requantisation:
    // the shift costs no cycles of its own, so both granularities read the same curve.
    // An attention matmul multiplies two activations: both operands run at the activation bits.
    const int otherOperandBits = layer.opKind == QLatin1String("matmul") ? option.activationBits : option.weightBits;
    return lut_.latency(layer.opKind, layer.macs, otherOperandBits, option.activationBits);
}

QByteArray ShiftNpuTarget::exportAllocation(const QString& format, const QList<ptq::TargetLayer>& layers,
                                            const QList<ptq::TargetOption>& options, QString* error) const {
    if (format != QLatin1String("npu-schedule") || layers.size() != options.size()) {
        if (error) *error = QStringLiteral("shift-npu exports npu-schedule only, with one option a layer.");
        return {};
    }
    QByteArray out("layer,op,macs,weight_bits,activation_bits,granularity,latency_us\n");
    double total = 0;
    for (int i = 0; i < layers.size(); ++i) {
        const double us = layerCost(layers[i], options[i]);
        if (us < 0) {
            if (error) *error = QStringLiteral("shift-npu has no latency for layer %1 at w%2a%3.")
                                    .arg(layers[i].name).arg(options[i].weightBits).arg(options[i].activationBits);
            return {};
        }
        total += us;
        out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
                   .arg(layers[i].name, layers[i].opKind)
                   .arg(layers[i].macs)
                   .arg(options[i].weightBits)
                   .arg(options[i].activationBits)
                   .arg(options[i].granularity)
                   .arg(us, 0, 'f', 3)
                   .toUtf8();
    }
    out += QStringLiteral("total,,,,,,%1\n").arg(total, 0, 'f', 3).toUtf8();
    return out;
}
