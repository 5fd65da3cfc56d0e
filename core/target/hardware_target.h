#pragma once
/// @file
/// The interface a hardware-target plugin implements: the cost of one layer at one
/// quantization option on the accelerator, and optional exporters. What a target supports
/// (bit-widths, granularities, its cost unit, its exporters' names) is declared in the
/// plugin's JSON metadata, read before the library is loaded (core/target/target_registry.h).
///
/// Plain Qt Core, no PTQ Studio types: a plugin includes this header only and links Qt6::Core.
/// A plugin is a QObject that also derives from ptq::HardwareTarget:
/// @code
///   class MyTarget : public QObject, public ptq::HardwareTarget {
///       Q_OBJECT
///       Q_PLUGIN_METADATA(IID PTQ_HARDWARE_TARGET_IID FILE "my_target.json")
///       Q_INTERFACES(ptq::HardwareTarget)
///   public:
///       double layerCost(const ptq::TargetLayer&, const ptq::TargetOption&) const override;
///   };
/// @endcode
/// The IID carries the interface version: a plugin built against another major or minor version
/// is reported and skipped, never loaded. See docs/plugins.md.

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QtPlugin>

namespace ptq {

/// One quantizable layer as a cost model sees it (per input sample).
struct TargetLayer {
    QString name;    ///< the layer's name in the model, e.g. "layer1.0.conv1"
    /// "conv2d", "linear", or "matmul": an attention matmul of two activations (no weights; both
    /// operands take the option's activation bits, its weight bits do not apply)
    QString opKind;
    qint64 params = 0;  ///< weight elements
    qint64 macs = 0;    ///< multiply-accumulates for one input sample
};

/// One quantization option of a layer.
struct TargetOption {
    int weightBits = 8;
    int activationBits = 8;
    int weightPoints = 1;  ///< multipoint weights: how many weightBits-bit tensors sum to the weight
    QString granularity;   ///< "per-tensor", "per-channel" or "shift"
};

/// A hardware target's behaviour. Called from any thread, possibly several at once: keep the
/// implementation free of mutable state (or guard it).
class HardwareTarget {
public:
    virtual ~HardwareTarget() = default;

    /// The cost of @p layer at @p option, in the unit the metadata's "cost_unit" names (e.g.
    /// microseconds of latency, or bit operations). Finite and >= 0. Called only for options the
    /// metadata declares supported.
    virtual double layerCost(const TargetLayer& layer, const TargetOption& option) const = 0;

    /// Empty when the target is ready; otherwise a sentence saying why it cannot work (say, its
    /// lookup table does not parse). The loader reports such a plugin as broken and skips it.
    virtual QString initError() const { return {}; }

    /// The bytes of exporter @p format (one of the metadata's "exporters") for one allocation:
    /// every layer with its chosen option, in execution order. Returns empty and sets @p error
    /// when it cannot.
    virtual QByteArray exportAllocation(const QString& format, const QList<TargetLayer>& /*layers*/,
                                        const QList<TargetOption>& /*options*/, QString* error) const {
        if (error) *error = QStringLiteral("This target has no exporter named '%1'.").arg(format);
        return {};
    }
};

}  // namespace ptq

/// The interface id, with its version. Any change to the classes above changes the version: the
/// loader refuses a plugin whose IID is not exactly this one (its vtable would not match).
#define PTQ_HARDWARE_TARGET_IID "org.ptqstudio.HardwareTarget/1.0"
Q_DECLARE_INTERFACE(ptq::HardwareTarget, PTQ_HARDWARE_TARGET_IID)
