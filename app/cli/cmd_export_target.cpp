// ptq export --target NAME --format F: a hardware target's own exporter (core/target), over an
// allocation and the sensitivity table it was made from.
#include "cli/target_args.h"

#include "core/alloc/allocation.h"
#include "core/target/target_costs.h"
#include "core/util/error.h"

#include <QtCore/QSaveFile>

#include <algorithm>
#include <cstdio>

namespace ptq::cli {

int runTargetExport(const Args& a, const std::string& format, const std::string& out) {
    const TargetInfo& info = *targetArg(a);
    const QString name = QString::fromStdString(format);
    if (!info.exporters.contains(name))
        throw invalidInput("Target " + info.name.toStdString() + " has no exporter '" + format + "'; it has: " +
                           (info.exporters.isEmpty() ? std::string("none")
                                                     : info.exporters.join(QStringLiteral(", ")).toStdString()) +
                           ".");
    if (!a.has("alloc"))
        throw invalidInput("'ptq export --target' exports an allocation: give --alloc ALLOC.json (ptq allocate "
                           "--target " + info.name.toStdString() + " writes one).");
    if (out.empty()) throw invalidInput("'ptq export' needs -o OUT, the file to write.");
    const AllocationFile alloc = readAllocation(a.value("alloc"));
    const SensitivityTable table = readSensitivityTable(alloc.tablePath);
    const std::string granularity = alloc.table.granularity;
    QList<TargetLayer> layers;
    QList<TargetOption> options;
    for (const AllocatedLayer& l : alloc.layers) {
        const auto it = std::find_if(table.result.layers.begin(), table.result.layers.end(),
                                     [&](const SensitivityLayer& s) { return s.name == l.name; });
        if (it == table.result.layers.end())
            throw invalidInput("The allocation's layer " + l.name + " is not in its table " + alloc.tablePath +
                               ": allocate again.");
        requireSupported(info, l.option.weightBits, l.option.activationBits, l.option.weightPoints, granularity);
        layers.append(TargetLayer{QString::fromStdString(it->name), QString::fromStdString(it->kind), it->params, it->macs});
        options.append(TargetOption{l.option.weightBits, l.option.activationBits, l.option.weightPoints,
                        QString::fromStdString(granularity)});
    }
    QString error;
    const QByteArray bytes =
        TargetRegistry::shared().target(info.name)->exportAllocation(name, layers, options, &error);
    if (bytes.isEmpty()) throw failed("Target " + info.name.toStdString() + " could not export: " + error.toStdString());
    QSaveFile file(QString::fromStdString(out));
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        throw failed("Could not write " + out + ": check that its folder exists and is writable.");
    std::printf("wrote %s (%s for %s, %lld layers)\n", out.c_str(), format.c_str(), info.name.toStdString().c_str(),
                (long long)layers.size());
    return 0;
}

}  // namespace ptq::cli
