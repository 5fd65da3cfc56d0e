#pragma once
/// @file
/// `ptq bench workflow`: a real-size session end to end, timed as a user meets it: opening the
/// model, the estimated sensitivity table and the first allocation on it at a size budget, the
/// measured table and its allocation, and that allocation through the light and the advanced
/// pipeline, with the process's peak RSS after each; and how well the estimate ranked the cells
/// and chose (its allocation scored on the measured table against the measured optimum). A benchmark prints figures; it never passes or fails. Long; one thread.

#include "core/analysis/sensitivity.h"
#include "core/data/data_source.h"
#include "core/util/progress.h"
#include "core/workflow/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

struct WorkflowBenchRequest {
    ModelRequest model;
    DataSourceSpec calibration;
    SensitivityRequest sensitivity;  ///< options and quantizer settings of the table
    double sizeRatio = 0.16;         ///< the first allocation's weight-size budget, of FP32
    bool pipelines = true;           ///< also run the light and the advanced pipeline
};

/// One stage: its own seconds, the seconds since the model began to open, and the peak RSS so far.
struct WorkflowStage {
    std::string name;
    double seconds = 0, sinceOpenS = 0;
    int64_t peakRssKb = 0;
};

struct WorkflowBenchResult {
    /// open, estimate, first allocation, table, measured allocation, light, advanced
    std::vector<WorkflowStage> stages;
    int layers = 0, options = 0;
    int64_t samples = 0;                ///< calibration images the table measured on
    std::string firstAllocation;        ///< the allocation on the estimate, one line
    std::string allocation;             ///< the allocation on the measured table, one line
    double rankCorrelation = 0;         ///< Spearman, estimated vs measured delta loss (cellRankCorrelation)
    double firstMeasuredDeltaLoss = 0;  ///< the first allocation's sum of max(0, measured delta loss)
    double optimalDeltaLoss = 0;        ///< the measured table's optimum at the same budget
    int sameChoices = 0;                ///< layers where both allocations chose the same option
};

WorkflowBenchResult benchWorkflow(const WorkflowBenchRequest& request, const Progress* progress = nullptr);

}  // namespace ptq
