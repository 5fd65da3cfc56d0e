// ptq targets: the hardware-target plugins found, and the plugin files that could not be used.
#include "cli/commands.h"

#include "cli/common.h"
#include "cli/target_args.h"
#include "core/target/target_costs.h"
#include "core/target/target_registry.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdio>

namespace ptq::cli {

const TargetInfo* targetArg(const Args& a) {
    if (!a.has("target")) return nullptr;
    return &requireTarget(TargetRegistry::shared(), a.value("target"));
}

void requireSupported(const TargetInfo& target, int w, int a, int points, const std::string& granularity) {
    if (target.supports(w, a, points, QString::fromStdString(granularity))) return;
    BitOption option{w, a, points};
    throw invalidInput("Target " + target.name.toStdString() + " does not run " + option.name() + " " + granularity +
                       "; it supports " + describeSupport(target) + ".");
}

namespace {
QJsonArray ints(const QList<int>& v) {
    QJsonArray out;
    for (int i : v) out.append(i);
    return out;
}
}  // namespace

int runTargets(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"}, {}, "targets");
    if (!a.positionals().empty()) throw invalidInput("'ptq targets' takes no arguments.");
    const TargetRegistry& registry = TargetRegistry::shared();
    if (a.flag("json")) {
        QJsonObject o;
        o["search_path"] = QJsonArray::fromStringList(registry.folders());
        QJsonArray targets;
        for (const TargetInfo& t : registry.targets())
            targets.append(QJsonObject{{"name", t.name},
                                       {"version", t.version},
                                       {"description", t.description},
                                       {"weight_bits", ints(t.weightBits)},
                                       {"activation_bits", ints(t.activationBits)},
                                       {"granularities", QJsonArray::fromStringList(t.granularities)},
                                       {"max_weight_points", t.maxWeightPoints},
                                       {"cost_unit", t.costUnit},
                                       {"exporters", QJsonArray::fromStringList(t.exporters)},
                                       {"file", t.file}});
        o["targets"] = targets;
        QJsonArray broken;
        for (const BrokenPlugin& b : registry.broken())
            broken.append(QJsonObject{{"file", b.file}, {"reason", b.reason}});
        o["broken"] = broken;
        printJson(o);
        return 0;
    }
    std::printf("Hardware targets (searched %s):\n",
                registry.folders().isEmpty() ? "no existing plugin folder"
                                             : qPrintable(registry.folders().join(QStringLiteral(", "))));
    if (registry.targets().isEmpty()) std::printf("  none\n");
    for (const TargetInfo& t : registry.targets()) {
        std::printf("  %-14s %-8s %s; cost in %s%s\n", qPrintable(t.name), qPrintable(t.version),
                    describeSupport(t).c_str(), qPrintable(t.costUnit),
                    t.exporters.isEmpty() ? "" : qPrintable(QStringLiteral("; exporters ") + t.exporters.join(QStringLiteral(", "))));
        std::printf("  %-14s %s\n", "", qPrintable(t.file));
    }
    if (!registry.broken().isEmpty()) {
        std::printf("Plugin files skipped:\n");
        for (const BrokenPlugin& b : registry.broken()) std::printf("  %s: %s\n", qPrintable(b.file), qPrintable(b.reason));
    }
    return 0;
}

}  // namespace ptq::cli
