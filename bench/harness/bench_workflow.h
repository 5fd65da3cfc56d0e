#pragma once
/// @file
/// `ptq bench workflow`: a real-size session end to end, timed as a user meets it: opening the
/// model, the measured sensitivity table, the first allocation at a size budget, and that
/// allocation through the light and the advanced pipeline, with the process's peak RSS after
/// each. A benchmark prints figures; it never passes or fails. Long; one thread.

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
    std::vector<WorkflowStage> stages;  ///< open, table, first allocation, light, advanced
    int layers = 0, options = 0;
    int64_t samples = 0;                ///< calibration images the table measured on
    std::string allocation;             ///< the first allocation's one-line summary
};

WorkflowBenchResult benchWorkflow(const WorkflowBenchRequest& request, const Progress* progress = nullptr);

}  // namespace ptq
