#pragma once
/// @file
/// A self-contained HTML report of one bit allocation, for hardware teams: a summary (model,
/// hash, settings, the top-1 predicted through the loss, measured top-1, size, BOPs,
/// compression), the per-layer table, and two plots drawn as inline SVG (the Pareto frontier
/// with the chosen and the measured points; every layer's Δloss at every option). One file,
/// inline CSS, no scripts, no external links. Plain text building: no widgets, no
/// QGuiApplication; any thread (one ReportData per thread).

#include "core/analysis/sensitivity.h"
#include "core/workflow/budget.h"

#include <QtCore/QString>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

struct Session;

/// What the report shows, as plain values (made from a GUI session or from `ptq export`'s files).
struct ReportData {
    std::string modelPath, modelSha256;
    /// Settings shown in the summary as label/value rows (calibration, pipeline, budget, ...).
    std::vector<std::pair<std::string, std::string>> settings;
    SensitivityResult table;          ///< layers, options and the measured cells
    std::vector<int> choice;          ///< option index per table layer
    std::map<int, int> pins;          ///< layers chosen by hand
    CostMetric metric = CostMetric::Size;  ///< Size or Bops (the report has no hardware target)
    CostReference reference = CostReference::Fp32;
    /// The top-1 predicted through the loss (percent, on the table's samples), as the allocation
    /// file states it; when absent it is computed from the table (BudgetProblem::evaluate's
    /// deltaTop1FromLoss over the table's FP32 top-1), and NaN there means the table has no fit.
    std::optional<double> predictedTop1FromLoss;
    std::optional<double> fp32Top1, measuredTop1;  ///< measured on evaluationSource
    /// The prediction fitted to measured allocations (core/alloc/prediction.h), when there is one.
    struct FitPrediction {
        double drop = 0, uncertainty = 0;   ///< points from FP32; one standard deviation
        int anchors = 0;
        bool interpolated = false;
        std::string pipeline, evaluation;
    };
    std::optional<FitPrediction> measuredFit;
    std::string evaluationSource;
    struct MeasuredPoint {
        std::vector<int> choice;
        double top1 = 0, loss = 0;
        double referenceLoss = 0;  ///< what loss is compared with: the FP32 model's on the same set
        std::string label;
    };
    std::vector<MeasuredPoint> measured;  ///< shown on the Pareto plot at loss - referenceLoss
};

/// The report of the current allocation of @p session under @p budget's metric and reference
/// (a hardware target's cost is plotted as size: the report knows no target); the newest
/// measurement of that allocation (if any) gives the measured top-1. Throws ptq::Error
/// (InvalidInput) when the session has no allocation yet.
ReportData reportFromSession(const Session& session, const BudgetRequest& budget, const SensitivityRequest& request);

/// The top-1 the report leads with: @ref ReportData::predictedTop1FromLoss, or the table's
/// figure through the loss for the chosen allocation; NaN when neither is known.
double reportPredictedTop1FromLoss(const ReportData& data);

/// The Pareto plot and the sensitivity bars as standalone SVG elements (<svg xmlns=...>...</svg>,
/// well-formed XML; exposed for tests). Frontier points are <circle class="frontier-point">,
/// the chosen allocation one <polygon class="chosen">, measured points
/// <polygon class="measured">, bars <rect class="bar"> (one a table cell; the chosen option's
/// also class "chosen").
QString paretoSvg(const ReportData& data, int width = 900, int height = 480);
QString sensitivitySvg(const ReportData& data, int height = 440);

/// The whole page.
QString renderHtmlReport(const ReportData& data);
/// Writes renderHtmlReport atomically (QSaveFile). Throws ptq::Error (Failed) when it cannot.
void writeHtmlReport(const std::string& path, const ReportData& data);

}  // namespace ptq
