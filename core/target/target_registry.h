#pragma once
/// @file
/// Finds hardware-target plugins (core/target/hardware_target.h) and loads them. Search order:
/// the folders of PTQSTUDIO_PLUGIN_PATH (colon-separated), the installed plugin folder
/// (`<bin>/../lib/ptq-studio/plugins`), then the build tree's plugin folder. Every library-named
/// file in those folders is examined: its metadata is read before the library is loaded, the
/// interface id and version are checked, then it is loaded and cast to the interface. A file
/// that fails any step is listed as broken with the reason and skipped; the first target of a
/// name wins. Pure Qt Core (the GUI includes it). Scanning happens in the constructor; the
/// const accessors may then be called from any thread.

#include "core/target/hardware_target.h"

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <memory>
#include <vector>

class QPluginLoader;

namespace ptq {

/// What a target declares in its metadata (the "MetaData" object of its JSON file).
struct TargetInfo {
    QString name;         ///< e.g. "shift-npu"; how --target names it
    QString version;      ///< the plugin's own version
    QString description;
    QList<int> weightBits;      ///< supported weight bit-widths
    QList<int> activationBits;  ///< supported activation bit-widths
    QStringList granularities;  ///< "per-tensor", "per-channel", "shift"; the first is preferred
    int maxWeightPoints = 1;    ///< multipoint weights allowed up to this many points
    QString costUnit;           ///< what layerCost returns, e.g. "latency_us" or "bops"
    QStringList exporters;      ///< exporter format names
    QString file;               ///< the plugin library

    /// True when the target runs weights of @p weightBits x @p points and activations of
    /// @p activationBits at @p granularity.
    bool supports(int weightBits, int activationBits, int points, const QString& granularity) const;
};

/// A plugin file that could not be used, and why (one sentence).
struct BrokenPlugin {
    QString file;
    QString reason;
};

class TargetRegistry {
public:
    /// PTQSTUDIO_PLUGIN_PATH's folders, the installed folder next to the executable, else (when
    /// there is none) the build tree's folder; existing folders only, each once.
    static QStringList defaultSearchPaths();

    /// Scans @p folders in order (see the file comment). Never throws for a bad plugin.
    explicit TargetRegistry(const QStringList& folders = defaultSearchPaths());
    ~TargetRegistry();
    TargetRegistry(const TargetRegistry&) = delete;
    TargetRegistry& operator=(const TargetRegistry&) = delete;

    /// The registry of the default search paths, scanned on first use (thread-safe).
    static const TargetRegistry& shared();

    const QStringList& folders() const { return folders_; }
    const QList<TargetInfo>& targets() const { return infos_; }
    const QList<BrokenPlugin>& broken() const { return broken_; }
    QStringList names() const;
    /// The target named @p name, or nullptr.
    const TargetInfo* info(const QString& name) const;
    const HardwareTarget* target(const QString& name) const;

private:
    void examine(const QString& file);

    QStringList folders_;
    QList<TargetInfo> infos_;
    QList<BrokenPlugin> broken_;
    std::vector<const HardwareTarget*> targets_;          ///< parallel to infos_
    std::vector<std::unique_ptr<QPluginLoader>> loaders_;  ///< keeps the libraries loaded
};

/// Reads a target's metadata object (the "MetaData" member of QPluginLoader::metaData()).
/// Returns an empty string and fills @p info, or the sentence saying what is wrong.
QString targetInfoFromMetadata(const QJsonObject& metadata, TargetInfo& info);

}  // namespace ptq
