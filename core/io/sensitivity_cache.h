#pragma once
/// @file
/// Sensitivity tables on disk, so that opening the same model with the same calibration data
/// and options again takes no measurement. One table file (core/alloc/sensitivity_table.h's
/// format, provenance included) an entry, named by a hash of everything in the provenance but
/// the model's path; an entry is used only when its provenance matches. Any thread; entries
/// are written atomically, so concurrent readers see whole files.

#include "core/alloc/sensitivity_table.h"

#include <optional>
#include <string>

namespace ptq {

class SensitivityCache {
public:
    /// Entries live in @p directory (created on the first store).
    explicit SensitivityCache(std::string directory);

    /// QStandardPaths::AppDataLocation + "/cache" (needs the application name set).
    static std::string defaultDirectory();
    /// The entry's name for @p provenance: a hex SHA-1 over its fields but the model's path.
    static std::string key(const TableProvenance& provenance);

    /// The stored table measured as @p provenance says; std::nullopt when absent, unreadable
    /// or measured otherwise (a damaged entry is treated as absent and measured again).
    std::optional<SensitivityResult> load(const TableProvenance& provenance) const;
    /// Stores @p table. Returns false (and logs) when the file cannot be written: the cache is
    /// an optimisation, never a reason to fail.
    bool store(const TableProvenance& provenance, const SensitivityResult& table) const;

    const std::string& directory() const { return directory_; }

private:
    std::string pathOf(const TableProvenance& provenance) const;
    std::string directory_;
};

}  // namespace ptq
