#pragma once
/// @file
/// The state a user works on in the GUI, as plain C++ (no LibTorch types): the open model
/// (its graph, summary and a drawable description of the graph), the calibration source, the
/// sensitivity table, the current allocation and the layers pinned by hand.
///
/// The calls that make its parts are the workflow's (core/workflow: openModel, sensitivityFor,
/// BudgetProblem, the tuned model's steps); a Session value is owned and changed by one thread
/// (the UI thread in ptq-studio).

#include "core/analysis/sensitivity.h"
#include "core/workflow/model.h"
#include "core/workflow/budget.h"
#include "core/util/progress.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

class AdaQuantStore;

/// The real accuracy of one allocation, measured on an evaluation set (a point beside the
/// predicted frontier).
struct MeasuredAllocation {
    std::vector<int> choice;             ///< option index per layer, as BudgetAllocation::choice
    std::string pipeline;                ///< "none", "light" or "advanced"
    std::string evaluationSource;        ///< data source name, e.g. "fmnist:test"
    int64_t evaluationSamples = 0;       ///< images of it measured on (0: not known, older projects)
    double top1 = 0;                     ///< percent
    double fp32Top1 = 0;                 ///< percent, the FP model on the same set
    double loss = 0;                     ///< mean cross-entropy
    double fp32Loss = 0;                 ///< mean cross-entropy of the FP model on the same set
    double predictedDeltaTop1 = 0;       ///< the table's prediction for this choice (points)
    double sizeBytes = 0, bops = 0;
    double seconds = 0;                  ///< quantizing, tuning and evaluating
};

/// What the user works on. Plain data with a few helpers; one thread.
struct Session {
    std::shared_ptr<const LoadedModel> model;
    DataSourceSpec calibrationSource;    ///< the table's calibration data; not given() before one
    std::shared_ptr<const SensitivityResult> sensitivity;
    /// Built from sensitivity: the costs and degradations the solver reads.
    std::shared_ptr<const BudgetProblem> problem;
    BudgetAllocation allocation;               ///< current; empty choice before the first solve
    std::map<int, int> pins;             ///< layer index -> option index chosen by hand
    DataSourceSpec evaluationSource;     ///< labelled set for measuring allocations
    /// Parallel AdaQuant results by (layer, weight bits, activation bits); null before any run.
    std::shared_ptr<const AdaQuantStore> adaquant;
    /// Allocations measured on evaluationSource, oldest first.
    std::vector<MeasuredAllocation> measured;

    bool hasTable() const { return sensitivity != nullptr; }
    /// Installs a new table (and problem); forgets the allocation and pins.
    void setSensitivity(std::shared_ptr<const SensitivityResult> table);
    /// Replaces the table by @p table of the same layers and options (cells measured since an
    /// estimate): keeps the allocation, the pins and the measured points; a table of another
    /// shape is installed as setSensitivity does.
    void updateSensitivity(std::shared_ptr<const SensitivityResult> table);
};

}  // namespace ptq
