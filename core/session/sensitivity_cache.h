#pragma once
/// @file
/// Sensitivity tables on disk, so that opening the same model with the same calibration data
/// and options again takes no measurement. One JSON file an entry, keyed by the model file's
/// hash, the data source name and every request field that changes the numbers. Any thread;
/// entries are written atomically (QSaveFile), so concurrent readers see whole files.

#include "core/analysis/sensitivity.h"

#include <optional>
#include <string>

namespace ptq {

class SensitivityCache {
public:
    /// Entries live in @p directory (created on the first store).
    explicit SensitivityCache(std::string directory);

    /// QStandardPaths::AppDataLocation + "/cache" (needs the application name set).
    static std::string defaultDirectory();
    /// The key of an entry: a hex SHA-1 over the model hash, source and request.
    static std::string key(const std::string& modelHash, const std::string& source, const SensitivityRequest& request);

    /// The stored table for @p key; std::nullopt when absent or unreadable (a damaged entry
    /// is treated as absent and measured again).
    std::optional<SensitivityResult> load(const std::string& key) const;
    /// Stores @p table under @p key. Returns false (and logs) when the file cannot be written:
    /// the cache is an optimisation, never a reason to fail.
    bool store(const std::string& key, const SensitivityResult& table) const;

    const std::string& directory() const { return directory_; }

private:
    std::string pathOf(const std::string& key) const;
    std::string directory_;
};

/// The table as JSON (the fields of `ptq sensitivity --json`) and back. fromJson throws
/// ptq::Error (InvalidInput) naming what is missing.
std::string sensitivityToJson(const SensitivityResult& table);
SensitivityResult sensitivityFromJson(const std::string& json);

}  // namespace ptq
