#pragma once
/// @file
/// Predictions that rest on measurements (core/alloc/prediction.h) as the command line's
/// `ptq anchors` / `ptq allocate --anchors` and the GUI's budget summary use them: which
/// allocations along the Pareto frontier to measure, measuring them with a pipeline (the GUI's
/// tuned-model path, core/workflow/tuned_model.h), the anchors file, and the fitted model of a
/// pipeline's measured allocations.

#include "core/alloc/prediction.h"
#include "core/session/session.h"
#include "core/util/progress.h"
#include "core/workflow/budget.h"
#include "core/workflow/quantize.h"
#include "core/workflow/tuned_model.h"

#include <string>
#include <vector>

namespace ptq {

/// Allocations measured with one pipeline on one evaluation set, for one table. Plain data.
struct AnchorSet {
    std::string pipeline;             ///< pipelineName of the steps ("light", "advanced", ...)
    std::string evaluationSource;
    std::string table;                ///< the table file they were chosen from (informational)
    std::string modelSha256;          ///< the model's content the table was measured on
    std::vector<std::string> layers;  ///< the table's layer names, in order
    std::vector<std::string> options; ///< the table's option names, in order
    std::vector<MeasuredAllocation> measured;
};

/// @p count choices along @p problem's weight-size frontier (of FP32) between @p fromRatio and
/// @p toRatio, spread by load (spreadAnchors): the allocations whose measurement tells most
/// about the frontier's predictions. Throws ptq::Error (InvalidInput) for a count below 1 or
/// a range that is empty or outside (0, 1].
std::vector<std::vector<int>> frontierAnchorChoices(const BudgetProblem& problem, int count, double fromRatio,
                                                    double toRatio);

/// Quantizes each of @p choices as @p spec says (its choice is ignored), runs @p steps with
/// @p tuning, and measures it on @p evaluationSource; predicted figures from @p problem. Long;
/// any thread; progress and cancel through @p progress. @p onMeasured (may be empty) gets each
/// measurement as it is made, on the calling thread.
std::vector<MeasuredAllocation> measureAllocations(const BudgetProblem& problem, AllocationSpec spec,
                                                   const std::vector<std::vector<int>>& choices,
                                                   const std::vector<TuningStep>& steps, const TuningOptions& tuning,
                                                   const DataSourceSpec& evaluationSource,
                                                   const std::function<void(const MeasuredAllocation&)>& onMeasured,
                                                   const Progress* progress = nullptr);

/// The anchors of @p measured (those of pipeline @p pipeline on @p evaluationSource whose
/// choice fits @p problem) and the model fitted to them; empty model when there are none.
DropModel dropModelFor(const BudgetProblem& problem, const std::vector<MeasuredAllocation>& measured,
                       const std::string& pipeline, const std::string& evaluationSource);

/// Writes @p set as JSON (ptq-anchors 1). Throws ptq::Error (Failed) when the file cannot be written.
void writeAnchors(const std::string& path, const AnchorSet& set);
/// Reads an anchors file. Throws ptq::Error (InvalidInput) with a sentence naming the file and
/// what is wrong in it.
AnchorSet readAnchors(const std::string& path);
/// The anchors of @p set as choices of @p problem's table: throws ptq::Error (InvalidInput) when
/// the set was measured on another model or names layers or options the table lacks.
std::vector<MeasuredAllocation> anchorsForTable(const AnchorSet& set, const SensitivityTable& table);

}  // namespace ptq
