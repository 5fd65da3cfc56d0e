#pragma once
/// @file
/// A self-contained HTML report of one bit allocation, for hardware teams: a summary (model,
/// hash, options, predicted and measured top-1, size, BOPs, compression), the per-layer table,
/// and two plots drawn offscreen with QCustomPlot and embedded as PNG data URIs (the Pareto
/// frontier with the chosen and the measured points, and the per-layer sensitivity bars). One
/// file, inline CSS, no external links. Needs a QApplication (QCustomPlot is a widget); UI
/// thread only.

#include "core/analysis/sensitivity.h"
#include "core/workflow/budget.h"
#include "core/session/session.h"

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptq::ui {

/// What the report shows, as plain values (made from a GUI session or from `ptq export`'s files).
struct ReportData {
    std::string modelPath, modelSha256;
    /// Settings shown in the summary as label/value rows (calibration, pipeline, budget, ...).
    std::vector<std::pair<std::string, std::string>> settings;
    SensitivityResult table;          ///< layers, options and the measured cells
    std::vector<int> choice;          ///< option index per table layer
    std::map<int, int> pins;          ///< layers chosen by hand
    CostMetric metric = CostMetric::Size;
    CostReference reference = CostReference::Fp32;
    std::optional<double> fp32Top1, measuredTop1;  ///< measured on evaluationSource
    std::string evaluationSource;
    struct MeasuredPoint {
        std::vector<int> choice;
        double top1 = 0, loss = 0;
        double referenceLoss = 0;  ///< what loss is compared with: the FP32 model's on the same set
        std::string label;
    };
    std::vector<MeasuredPoint> measured;  ///< shown on the Pareto plot at loss - referenceLoss
};

/// The report of the current allocation of @p session under @p budget's metric and reference;
/// the newest measurement of that allocation (if any) gives the measured top-1.
ReportData reportFromSession(const ptq::Session& session, const ptq::BudgetRequest& budget,
                             const ptq::SensitivityRequest& request);

/// The PNG of the Pareto plot and of the sensitivity bars (exposed for tests).
QByteArray paretoPng(const ReportData& data, int width = 900, int height = 480);
QByteArray sensitivityPng(const ReportData& data, int width = 900, int height = 420);

/// The whole page.
QString renderHtmlReport(const ReportData& data);
/// Writes renderHtmlReport atomically (QSaveFile). Throws ptq::Error (Failed) when it cannot.
void writeHtmlReport(const std::string& path, const ReportData& data);

}  // namespace ptq::ui
