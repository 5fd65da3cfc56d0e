#include "core/target/target_registry.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QLibrary>
#include <QtCore/QPluginLoader>
#include <QtCore/QSet>

#include <cmath>

namespace ptq {

namespace {

const QSet<QString>& knownGranularities() {
    static const QSet<QString> names{QStringLiteral("per-tensor"), QStringLiteral("per-channel"), QStringLiteral("shift")};
    return names;
}

/// A JSON array of bit-widths in 2..16; empty string when fine.
QString readBits(const QJsonObject& m, const char* key, QList<int>& out) {
    const QJsonValue v = m.value(QLatin1String(key));
    if (!v.isArray() || v.toArray().isEmpty())
        return QStringLiteral("its metadata needs \"%1\", a non-empty array of bit-widths").arg(QLatin1String(key));
    for (const QJsonValue& b : v.toArray()) {
        const double d = b.toDouble(-1);
        if (!b.isDouble() || d != std::floor(d) || d < 2 || d > 16)
            return QStringLiteral("\"%1\" holds %2, not a bit-width from 2 to 16")
                .arg(QLatin1String(key), b.isDouble() ? QString::number(d) : QStringLiteral("a non-number"));
        out.append(int(d));
    }
    return {};
}

QString executableDir() {
    if (QCoreApplication::instance()) return QCoreApplication::applicationDirPath();
    // No application object (a library test): the kernel knows where the executable is.
    return QFileInfo(QStringLiteral("/proc/self/exe")).canonicalFilePath().section(QLatin1Char('/'), 0, -2);
}

}  // namespace

bool TargetInfo::supports(int w, int a, int points, const QString& granularity) const {
    return weightBits.contains(w) && activationBits.contains(a) && points >= 1 && points <= maxWeightPoints &&
           granularities.contains(granularity);
}

QString targetInfoFromMetadata(const QJsonObject& m, TargetInfo& info) {
    info.name = m.value(QLatin1String("name")).toString();
    if (info.name.isEmpty() || info.name.contains(QLatin1Char(' ')))
        return QStringLiteral("its metadata needs \"name\", a non-empty name without spaces");
    info.version = m.value(QLatin1String("version")).toString();
    if (info.version.isEmpty()) return QStringLiteral("its metadata needs \"version\", a string such as \"1.0.0\"");
    info.description = m.value(QLatin1String("description")).toString();
    if (QString e = readBits(m, "weight_bits", info.weightBits); !e.isEmpty()) return e;
    if (QString e = readBits(m, "activation_bits", info.activationBits); !e.isEmpty()) return e;
    const QJsonValue g = m.value(QLatin1String("granularities"));
    if (!g.isArray() || g.toArray().isEmpty())
        return QStringLiteral("its metadata needs \"granularities\", a non-empty array of per-tensor, per-channel, shift");
    for (const QJsonValue& v : g.toArray()) {
        if (!knownGranularities().contains(v.toString()))
            return QStringLiteral("\"granularities\" holds '%1'; use per-tensor, per-channel or shift").arg(v.toString());
        info.granularities.append(v.toString());
    }
    const QJsonValue points = m.value(QLatin1String("max_weight_points"));
    if (!points.isUndefined()) {
        const double p = points.toDouble(-1);
        if (!points.isDouble() || p != std::floor(p) || p < 1 || p > 4)
            return QStringLiteral("\"max_weight_points\" must be a whole number from 1 to 4");
        info.maxWeightPoints = int(p);
    }
    info.costUnit = m.value(QLatin1String("cost_unit")).toString();
    if (info.costUnit.isEmpty())
        return QStringLiteral("its metadata needs \"cost_unit\", the unit of its cost model (e.g. \"latency_us\")");
    const QJsonValue exporters = m.value(QLatin1String("exporters"));
    if (!exporters.isUndefined() && !exporters.isArray())
        return QStringLiteral("\"exporters\" must be an array of format names");
    for (const QJsonValue& v : exporters.toArray()) info.exporters.append(v.toString());
    return {};
}

QStringList TargetRegistry::defaultSearchPaths() {
    QStringList candidates;
    const QString env = qEnvironmentVariable("PTQSTUDIO_PLUGIN_PATH");
    for (const QString& dir : env.split(QLatin1Char(':'), Qt::SkipEmptyParts)) candidates.append(dir);
    const QString installed = executableDir() + QStringLiteral("/../") + QStringLiteral(PTQ_PLUGIN_INSTALL_DIR);
    candidates.append(installed);
    // The build tree's folder only for programs that have no installed one (tests, tools): an
    // installed program on a machine that also holds a build tree must not list its copies.
    if (!QFileInfo(installed).isDir()) candidates.append(QStringLiteral(PTQ_BUILD_PLUGIN_DIR));
    QStringList out;
    QSet<QString> seen;
    for (const QString& dir : candidates) {
        const QString canonical = QFileInfo(dir).canonicalFilePath();
        if (canonical.isEmpty() || !QFileInfo(canonical).isDir() || seen.contains(canonical)) continue;
        seen.insert(canonical);
        out.append(canonical);
    }
    return out;
}

TargetRegistry::TargetRegistry(const QStringList& folders) : folders_(folders) {
    for (const QString& folder : folders_) {
        const QDir dir(folder);
        for (const QFileInfo& entry : dir.entryInfoList(QDir::Files | QDir::NoDotAndDotDot, QDir::Name)) {
            // Lookup tables and notes may sit beside the libraries: only library names count.
            if (!QLibrary::isLibrary(entry.fileName())) continue;
            examine(entry.absoluteFilePath());
        }
    }
}

TargetRegistry::~TargetRegistry() = default;

const TargetRegistry& TargetRegistry::shared() {
    static const TargetRegistry registry;
    return registry;
}

void TargetRegistry::examine(const QString& file) {
    auto loader = std::make_unique<QPluginLoader>(file);
    // Resolve every symbol when loading: a plugin built against something missing is refused
    // here with the symbol's name, instead of aborting the process at its first call.
    loader->setLoadHints(QLibrary::ResolveAllSymbolsHint);
    auto broken = [&](const QString& reason) { broken_.append(BrokenPlugin{file, reason}); };
    const QJsonObject meta = loader->metaData();
    if (meta.isEmpty()) {
        broken(QStringLiteral("not a Qt plugin: no plugin metadata could be read (%1)").arg(loader->errorString()));
        return;
    }
    const QString iid = meta.value(QLatin1String("IID")).toString();
    const QString wanted = QStringLiteral(PTQ_HARDWARE_TARGET_IID);
    if (iid != wanted) {
        if (iid.startsWith(QStringLiteral("org.ptqstudio.HardwareTarget/")))
            broken(QStringLiteral("built for interface version %1; this PTQ Studio loads %2: rebuild the plugin "
                                  "against this version's core/target/hardware_target.h")
                       .arg(iid.section(QLatin1Char('/'), 1), wanted.section(QLatin1Char('/'), 1)));
        else
            broken(QStringLiteral("a Qt plugin of another kind (interface '%1'), not a hardware target").arg(iid));
        return;
    }
    TargetInfo info;
    info.file = file;
    if (const QString why = targetInfoFromMetadata(meta.value(QLatin1String("MetaData")).toObject(), info);
        !why.isEmpty()) {
        broken(why);
        return;
    }
    if (const TargetInfo* earlier = this->info(info.name)) {
        broken(QStringLiteral("a target named '%1' was already found in %2 (earlier in the search order)")
                   .arg(info.name, earlier->file));
        return;
    }
    QObject* root = loader->instance();
    if (!root) {
        broken(QStringLiteral("the library does not load: %1").arg(loader->errorString()));
        return;
    }
    const auto* target = qobject_cast<HardwareTarget*>(root);
    if (!target) {
        broken(QStringLiteral("its plugin object does not implement %1").arg(wanted));
        loader->unload();
        return;
    }
    if (const QString why = target->initError(); !why.isEmpty()) {
        broken(why);
        loader->unload();
        return;
    }
    infos_.append(info);
    targets_.push_back(target);
    loaders_.push_back(std::move(loader));
}

QStringList TargetRegistry::names() const {
    QStringList out;
    for (const TargetInfo& i : infos_) out.append(i.name);
    return out;
}

const TargetInfo* TargetRegistry::info(const QString& name) const {
    for (const TargetInfo& i : infos_)
        if (i.name == name) return &i;
    return nullptr;
}

const HardwareTarget* TargetRegistry::target(const QString& name) const {
    for (int i = 0; i < infos_.size(); ++i)
        if (infos_[i].name == name) return targets_[size_t(i)];
    return nullptr;
}

}  // namespace ptq
