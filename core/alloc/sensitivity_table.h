#pragma once
/// @file
/// The sensitivity table as a file ("ptq-sensitivity" JSON, version 1): the measurement of
/// core/analysis/sensitivity.h plus where it came from, so that `ptq sensitivity --out` can
/// reuse a file measured on the same model, data and options instead of measuring again, and
/// the conversion of a table into an allocation problem. Plain C++ (the GUI includes it); any
/// thread, one object per thread.

#include "core/alloc/problem.h"
#include "core/analysis/sensitivity.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// What a table was measured on. Two tables answer the same question when every field but the
/// model path matches (the model is identified by its content's SHA-256).
struct TableProvenance {
    std::string modelPath;
    std::string modelSha256;
    int64_t modelBytes = 0;
    std::string data;                  ///< the data source string, e.g. fmnist:train:1000
    std::vector<std::string> options;  ///< option names, in table order
    std::string base = "w8a8";
    std::string granularity = "per-channel";
    std::string weightRange = "minmax";
    std::string activationRange = "minmax";
    int64_t batch = 256;
    uint64_t seed = 0;
    /// Adam steps of the AdaQuant results the table was measured with (`--adaquant`); 0: none.
    int adaQuantIterations = 0;
    /// An estimate (ptq sensitivity --estimate), not a measurement: never reused for one.
    bool estimate = false;

    /// Empty when @p other describes the same measurement, else the first difference as a
    /// phrase ("the model file's content differs", "the data differs: ...").
    std::string differenceFrom(const TableProvenance& other) const;
};

/// The provenance of measuring @p request on @p modelPath with @p data: hashes the model
/// file. Throws ptq::Error (InvalidInput) when the model cannot be read.
TableProvenance provenanceFor(const std::string& modelPath, const std::string& data,
                              const SensitivityRequest& request, uint64_t seed);

struct SensitivityTable {
    TableProvenance provenance;
    SensitivityResult result;
};

/// The table's layers as JSON: name, kind, params, macs and one {delta_loss, delta_top1,
/// local_mse} cell an option, with "adaquant": true on cells measured with AdaQuant parameters
/// and "estimated": true on estimated ones (the file's "layers" and `ptq sensitivity --json`'s).
QJsonArray sensitivityLayersToJson(const SensitivityResult& result);
/// The table's summary figures as JSON members of @p out: metric, samples, FP32 and base loss
/// and top-1, seconds, forward equivalents, and "adaquant": {iterations, samples} when cells used
/// AdaQuant results (older files lack it: no cell did) (shared by the file and `ptq sensitivity --json`).
void addSensitivitySummary(QJsonObject& out, const SensitivityResult& result);

/// The whole table file's JSON object ("ptq-sensitivity" v1), for embedding (project files).
QJsonObject sensitivityTableToJson(const SensitivityTable& table);
/// Reads what sensitivityTableToJson wrote; throws ptq::Error (InvalidInput) with a sentence
/// that starts with @p what (e.g. "The sensitivity table t.json") and says what is wrong.
SensitivityTable sensitivityTableFromJson(const QJsonObject& object, const std::string& what);

/// Writes @p table atomically (QSaveFile). Throws ptq::Error (Failed) when it cannot.
void writeSensitivityTable(const std::string& path, const SensitivityTable& table);
/// Reads a table; throws ptq::Error (InvalidInput) naming the file and what is wrong with it.
SensitivityTable readSensitivityTable(const std::string& path);

/// Top-1 points per unit of loss, fitted over the table's cells (least squares through the
/// origin, Δtop-1 against Δloss; negative: more loss, less top-1); 0 when no cell moved the loss.
/// It turns a summed degradation into a top-1 prediction: a cell's Δloss averages over every
/// sample, where its Δtop-1 counts a few flipped ones (steps of 100 / samples points), so the fit
/// over all cells is far less noisy than a sum of per-layer Δtop-1.
double top1PerLoss(const SensitivityResult& result);

/// The summed tie-break of problemFromTable over all layers, at most: far below the noise of any
/// measured loss or top-1 change.
constexpr double kTieBreak = 1e-7;

/// What the allocation sums as a layer's degradation.
enum class DegradationMeasure {
    DeltaLoss,  ///< the measured loss increase (cross-entropy or KL), the paper's delta L
    DeltaTop1   ///< the measured top-1 decrease in points
};
const char* degradationMeasureName(DegradationMeasure m);
DegradationMeasure degradationMeasureFromString(const std::string& text);

/// The allocation problem of @p table: one row a layer, one column an option; size = params x
/// stored weight bits, BOPs = MACs x stored weight bits x activation bits (x activation bits
/// twice for an attention matmul, kind "matmul", which has no weights); references are the
/// FP32 model's (x 32, and x 32 x 32 for BOPs). Degradation is max(0, measured): a negative
/// measured delta is noise around the base model, and counting it would let the program buy
/// budget with noise (and make "degradation <= D" mean less than it says). Clamping makes many
/// options tie at 0, so each also gets a tie-break of at most kTieBreak / layers in
/// proportion to the layer's local output MSE (relative to its worst option): among equally
/// degrading allocations the program prefers smaller local errors, and a larger budget is used.
AllocationProblem problemFromTable(const SensitivityTable& table, DegradationMeasure measure);

}  // namespace ptq
