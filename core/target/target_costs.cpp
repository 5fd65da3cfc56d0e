#include "core/target/target_costs.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>

namespace ptq {

namespace {

std::string joinInts(const QList<int>& v) {
    std::string out;
    for (int i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
    return out;
}

TargetLayer targetLayer(const SensitivityLayer& l) {
    TargetLayer t;
    t.name = QString::fromStdString(l.name);
    t.opKind = QString::fromStdString(l.kind);
    t.params = l.params;
    t.macs = l.macs;
    return t;
}

double checkedCost(const HardwareTarget& target, const TargetInfo& info, const TargetLayer& layer,
                   const TargetOption& option) {
    const double c = target.layerCost(layer, option);
    if (!std::isfinite(c) || c < 0)
        throw failed("The cost model of target '" + info.name.toStdString() + "' returned " + std::to_string(c) +
                     " for layer " + layer.name.toStdString() + "; a cost must be a finite number >= 0 (a bug in "
                     "the plugin " + info.file.toStdString() + ").");
    return c;
}

}  // namespace

double TargetCosts::costOf(const std::vector<int>& choice) const {
    double total = 0;
    for (size_t l = 0; l < choice.size(); ++l) total += cost.at(l).at(size_t(choice[l]));
    return total;
}

std::string describeSupport(const TargetInfo& info) {
    std::string out = "weights " + joinInts(info.weightBits) + " bits";
    if (info.maxWeightPoints > 1) out += " (up to " + std::to_string(info.maxWeightPoints) + " points)";
    out += "; activations " + joinInts(info.activationBits) + " bits; " +
           info.granularities.join(QStringLiteral(", ")).toStdString();
    return out;
}

std::vector<BitOption> targetOptions(const TargetInfo& info) {
    std::vector<BitOption> out;
    for (int w : info.weightBits)
        for (int a : info.activationBits) out.push_back({w, a, 1});
    return out;
}

TargetCosts targetCosts(const TargetInfo& info, const HardwareTarget& target, const SensitivityResult& table,
                        const std::string& tableGranularity) {
    TargetCosts out;
    out.target = info.name.toStdString();
    out.unit = info.costUnit.toStdString();
    const QString measured = QString::fromStdString(tableGranularity);
    if (info.granularities.contains(measured)) {
        out.granularity = tableGranularity;
    } else {
        out.granularity = info.granularities.first().toStdString();
        out.granularityWarning = "The sensitivity table was measured " + tableGranularity + "; target " + out.target +
                                 " quantizes weights " + out.granularity + ", so predicted degradations are of " +
                                 tableGranularity + " (measure the table with --target " + out.target + ").";
    }
    const QString granularity = QString::fromStdString(out.granularity);
    for (const BitOption& o : table.options)
        out.allowed.push_back(info.supports(o.weightBits, o.activationBits, o.weightPoints, granularity));
    if (std::none_of(out.allowed.begin(), out.allowed.end(), [](bool b) { return b; })) {
        std::string names;
        for (const BitOption& o : table.options) names += (names.empty() ? "" : ", ") + o.name();
        throw invalidInput("Target " + out.target + " runs none of the table's options (" + names + "); it supports " +
                           describeSupport(info) + ". Measure a table for it with ptq sensitivity --target " +
                           out.target + ".");
    }
    const int widestW = *std::max_element(info.weightBits.begin(), info.weightBits.end());
    const int widestA = *std::max_element(info.activationBits.begin(), info.activationBits.end());
    for (const SensitivityLayer& layer : table.layers) {
        const TargetLayer tl = targetLayer(layer);
        std::vector<double> row;
        // A cost model answers only for what its target runs; the other options are excluded
        // from every allocation for the target, and their 0 is never counted.
        for (size_t o = 0; o < table.options.size(); ++o) {
            const BitOption& opt = table.options[o];
            row.push_back(out.allowed[o] ? checkedCost(target, info, tl, {opt.weightBits, opt.activationBits,
                                                                          opt.weightPoints, granularity})
                                         : 0.0);
        }
        out.cost.push_back(std::move(row));
        out.reference += checkedCost(target, info, tl, {widestW, widestA, 1, granularity});
    }
    return out;
}

const TargetInfo& requireTarget(const TargetRegistry& registry, const std::string& name) {
    if (const TargetInfo* info = registry.info(QString::fromStdString(name))) return *info;
    std::string known = registry.names().join(QStringLiteral(", ")).toStdString();
    if (known.empty()) known = "none";
    std::string broken;
    if (!registry.broken().isEmpty())
        broken = " (" + std::to_string(registry.broken().size()) + " plugin file(s) could not be used: ptq targets "
                 "says why)";
    throw invalidInput("Unknown hardware target '" + name + "'; known targets: " + known + broken + ".");
}

}  // namespace ptq
