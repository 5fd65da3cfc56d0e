#pragma once
/// @file
/// PTQ Studio projects (".ptqproj", JSON "ptq-project" version 1; docs/project-format.md): the
/// model (path relative to the project and absolute, and its SHA-256), the calibration and
/// evaluation sources, the sensitivity request, the cached sensitivity table (the
/// "ptq-sensitivity" object of core/alloc/sensitivity_table.h, embedded), the budget, the
/// current allocation, the pins, the measured allocations and the parallel AdaQuant results.
///
/// Reading parses the whole file into a Project value and checks it before anything else sees
/// it, so a bad file changes nothing. Writing goes through QSaveFile: a crash or a kill during a
/// save leaves the previous file as it was. Plain C++ (QtCore only); any one thread per call.

#include "core/analysis/sensitivity.h"
#include "core/workflow/budget.h"
#include "core/session/session.h"

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace ptq {

class AdaQuantStore;

/// Everything a project file holds, as plain values.
struct Project {
    std::string modelPath;        ///< absolute (resolved against the project's folder when read)
    std::string modelSha256;      ///< of the model file when the project was saved
    /// The model card the model was opened with (model.card); absent in older projects, whose
    /// model then opens with its sidecar.
    std::optional<ModelCard> modelCard;
    std::string calibrationSource, evaluationSource;
    /// The sources leave unreadable images out (DataSourceSpec::skipBad); written only when set.
    bool calibrationSkipBad = false, evaluationSkipBad = false;
    SensitivityRequest sensitivityRequest;
    std::shared_ptr<const SensitivityResult> sensitivity;  ///< null when none was measured
    BudgetRequest budget;         ///< its pins are left empty: see pins
    BudgetAllocation allocation;  ///< empty choice when never solved
    std::map<int, int> pins;      ///< layer index -> option index (of the table)
    std::vector<MeasuredAllocation> measured;
    std::shared_ptr<const AdaQuantStore> adaquant;  ///< null when none
};

/// The project of @p session (its model must be loaded) with the options that made it. Hashes
/// the model file. Throws ptq::Error (InvalidInput) when the model file cannot be read.
Project projectFromSession(const Session& session, const SensitivityRequest& request, const BudgetRequest& budget);

/// A session over @p model (loaded from project.modelPath) holding the project's table,
/// allocation, pins, measured allocations and AdaQuant results. Throws ptq::Error
/// (InvalidInput) naming the JSON path when the table's layers are not the model's (for
/// example `sensitivity.layers[3].name: "conv9" is not a layer of the model`).
Session sessionFromProject(const Project& project, std::shared_ptr<const LoadedModel> model);

/// Writes @p project to @p path atomically (QSaveFile); the model path is stored relative to
/// the project's folder and absolute. Throws ptq::Error (Failed) when it cannot write.
void writeProject(const std::string& path, const Project& project);

/// Reads and checks the project at @p path. Throws ptq::Error (InvalidInput) with a sentence
/// naming the file and the offending JSON path (e.g. `pins[3].layer: "conv9" is not a layer
/// of the model`) for malformed JSON, another format or version, unknown layers or options,
/// bits out of range, arrays of the wrong length or missing members.
Project readProject(const std::string& path);

/// Empty when the model file of @p project exists and has the SHA-256 it was saved with;
/// else a sentence saying what changed (missing, or another content).
std::string projectModelChange(const Project& project);

/// The autosave file of the project at @p projectPath: "<projectPath>.autosave".
std::string autosavePathFor(const std::string& projectPath);
/// The autosave of @p projectPath when one exists and is newer than the project (or the project
/// is missing): what a crash left behind that the user may want back. Empty otherwise.
std::string recoverableAutosave(const std::string& projectPath);

}  // namespace ptq
