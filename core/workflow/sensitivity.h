#pragma once
/// @file
/// Measuring or reusing a sensitivity table: the one path both front ends take. A table is
/// reused when one measured on the same model content, data and options is at hand (the file
/// `ptq sensitivity --out` names, or the GUI's cache folder); otherwise it is measured, with
/// every cell AdaQuant-tuned first when asked, and stored where it may be reused next time.
/// Long calls for a worker thread; they take the core's progress/cancel object.

#include "core/alloc/sensitivity_table.h"
#include "core/analysis/sensitivity.h"
#include "core/data/data_source.h"
#include "core/methods/adaquant.h"
#include "core/util/progress.h"

#include <optional>
#include <string>

namespace ptq {

class LoadedModel;
class SensitivityCache;

/// What to measure.
struct SensitivityJob {
    DataSourceSpec calibrationSource;    ///< parsed where the user named it (parseDataSource)
    SensitivityRequest request;          ///< options and quantizer settings
    /// Tune every layer at every option with AdaQuant first, then measure each cell with it.
    std::optional<AdaQuantOptions> adaquant;
    uint64_t seed = 0;                   ///< recorded in the table's provenance
    /// Estimate every cell instead of measuring (core/analysis/sensitivity_estimate.h): seconds
    /// instead of minutes on a large model; the table says so and is never reused as measured,
    /// nor kept in the GUI's cache. Not with adaquant.
    bool estimate = false;
};

/// Where a table may be reused from and stored to. Both may be empty (always measure).
struct SensitivityReuse {
    const SensitivityCache* cache = nullptr;  ///< the GUI's cache folder
    std::string file;                         ///< a table file to reuse and to write (ptq sensitivity --out)
    bool force = false;                       ///< measure again even when a match is at hand
};

/// A table and where it came from.
struct SensitivityOutcome {
    SensitivityTable table;
    bool reused = false;
    /// With a reuse file: why it was not reused (it differs, it is damaged); empty otherwise.
    std::string notReusedBecause;
};

/// The provenance @p job gives a table of the model at @p modelPath (its content hashed).
TableProvenance sensitivityProvenance(const std::string& modelPath, const SensitivityJob& job);

/// A stored table measured exactly as @p job says on the model at @p modelPath, found without
/// opening the model: reused is true when there is one; otherwise notReusedBecause says why a
/// reuse file did not match. Throws ptq::Error (InvalidInput) for a malformed data source name.
SensitivityOutcome reusableSensitivity(const std::string& modelPath, const SensitivityJob& job,
                                                      const SensitivityReuse& reuse);

/// Measures (or with job.estimate, estimates) @p job's table on @p model and stores it where
/// @p reuse says. Long; any one thread. Throws ptq::Error (InvalidInput) for a bad source or data
/// of the wrong shape or an estimate asked with AdaQuant, (Failed) when the table file cannot be
/// written, ptq::Cancelled on cancel.
SensitivityTable measureSensitivityTable(const LoadedModel& model, const SensitivityJob& job,
                                         const SensitivityReuse& reuse, const Progress* progress = nullptr);

/// reusableSensitivity, else measureSensitivityTable (with @p reuse's notice kept).
SensitivityOutcome sensitivityFor(const LoadedModel& model, const SensitivityJob& job, const SensitivityReuse& reuse,
                                  const Progress* progress = nullptr);

}  // namespace ptq
