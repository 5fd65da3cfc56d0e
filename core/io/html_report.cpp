#include "core/io/html_report.h"

#include "core/alloc/sensitivity_table.h"
#include "core/session/session.h"
#include "core/util/error.h"
#include "core/workflow/prediction.h"

#include <QtCore/QDateTime>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

namespace ptq {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
QString esc(const QString& s) { return s.toHtmlEscaped(); }
QString esc(const std::string& s) { return q(s).toHtmlEscaped(); }

QString number(double v, int decimals) { return QString::number(v, 'f', decimals); }
QString percent(double v) { return number(v, 2) + QStringLiteral(" %"); }
QString points(double v) { return (v > 0 ? QStringLiteral("+") : QString()) + number(v, 2) + QStringLiteral(" pt"); }

QString megabytes(double bytes) { return QStringLiteral("%1 MB").arg(bytes / 1e6, 0, 'f', 3); }

const char* kCss = R"(
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 24px 40px; color: #1d2733; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #c9d2dc; }
.sub { color: #5a6776; font-size: 12px; }
table { border-collapse: collapse; font-size: 12.5px; }
td, th { border: 1px solid #d5dce4; padding: 3px 8px; text-align: right; }
th { background: #eef2f6; } td.l, th.l { text-align: left; }
tr.pinned td { background: #fff7e0; }
.summary td:first-child { text-align: left; color: #5a6776; }
.summary td.l { max-width: 62em; }
tr.prediction td:first-child { color: #1d2733; font-weight: bold; }
.note { color: #5a6776; }
.not-a-prediction { color: #8a5a00; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 11.5px; }
.plot { overflow-x: auto; margin: 6px 0; }
.plot svg { border: 1px solid #d5dce4; max-width: none; }
)";

/// The summary's prediction rows: the top-1 through the loss first, then the per-layer Δtop-1
/// sum as a labelled second figure. A top-1 above FP32's is never quoted as a prediction.
void predictionRows(const ReportData& d, const BudgetAllocation& a, const std::function<void(QString, QString, QString)>& row) {
    const double fp32 = d.table.fp32Top1;
    const bool agreement = d.table.metric == "kl";
    const QString top1 = agreement ? QStringLiteral("top-1 agreement with FP32") : QStringLiteral("top-1");
    const double fromLoss = reportPredictedTop1FromLoss(d);
    QString value;
    if (!std::isfinite(fromLoss)) {
        value = QStringLiteral("<span class=\"not-available\">not available</span> <span class=\"note\">(the table gives no "
                               "fit of top-1 against loss: no cell of it moved the loss)</span>");
    } else if (fromLoss > fp32) {
        value = QStringLiteral("<span class=\"predicted-top1\">%1</span> <span class=\"note\">(no drop predicted: the "
                               "loss fit gives %2, above FP32's, which is not a prediction; the figure is capped at "
                               "FP32's)</span>")
                    .arg(percent(fp32), percent(fromLoss));
    } else {
        value = QStringLiteral("<span class=\"predicted-top1\">%1</span> <span class=\"note\">(%2 from FP32's %3: the loss "
                               "this allocation adds over FP32, the base model's %4 plus Σ Δloss %5, at the table's "
                               "fitted %6 pt per unit of loss)</span>")
                    .arg(percent(fromLoss), points(fromLoss - fp32), percent(fp32),
                         QString::number(d.table.baseLoss - d.table.fp32Loss, 'g', 3), QString::number(a.deltaLoss, 'g', 4),
                         number(top1PerLoss(d.table), 2));
    }
    row(QStringLiteral("predicted %1, through the loss").arg(top1), value, QStringLiteral("prediction"));
    if (const auto& f = d.measuredFit) {
        const QString value = QStringLiteral("<span class=\"measured-fit\">%1 ± %2</span> <span class=\"note\">(%3 from "
                                             "FP32's %4 ± one standard deviation, fitted to %5 allocations measured "
                                             "with the %6 pipeline on %7, %8 them)</span>")
                                  .arg(percent(fp32 - f->drop), points(f->uncertainty).remove(QLatin1Char('+')),
                                       points(-f->drop), percent(fp32), QString::number(f->anchors),
                                       QString::fromStdString(f->pipeline).toHtmlEscaped(),
                                       QString::fromStdString(f->evaluation).toHtmlEscaped(),
                                       f->interpolated ? QStringLiteral("between") : QStringLiteral("outside the range of"));
        row(QStringLiteral("predicted %1, from measured allocations").arg(top1), value, QStringLiteral("prediction"));
    }

    const double summed = d.table.baseTop1 + a.deltaTop1;
    if (summed > fp32) {
        value = QStringLiteral("<span class=\"not-a-prediction\">%1 (%2 over the base model's %3): above FP32's %4, so the "
                               "per-layer sum is not a prediction</span> <span class=\"note\">(each layer's Δtop-1 counts "
                               "a few flipped samples, and the changes do not add up)</span>")
                    .arg(percent(summed), points(a.deltaTop1), percent(d.table.baseTop1), percent(fp32));
    } else {
        value = QStringLiteral("<span class=\"summed-top1\">%1</span> <span class=\"note\">(%2 over the base model's %3; "
                               "noisier than the figure through the loss)</span>")
                    .arg(percent(summed), points(a.deltaTop1), percent(d.table.baseTop1));
    }
    row(QStringLiteral("per-layer Δ%1 summed (secondary)").arg(top1), value, QString());
}

}  // namespace

double reportPredictedTop1FromLoss(const ReportData& d) {
    if (d.predictedTop1FromLoss && std::isfinite(*d.predictedTop1FromLoss)) return *d.predictedTop1FromLoss;
    return d.table.fp32Top1 + BudgetProblem(d.table).evaluate(d.choice).deltaTop1FromLoss;  // NaN without a fit
}

ReportData reportFromSession(const Session& session, const BudgetRequest& budget, const SensitivityRequest& request) {
    if (!session.sensitivity || !session.problem || session.allocation.choice.empty())
        throw invalidInput("There is no allocation to report yet: wait for the sensitivity table and the first "
                           "allocation.");
    ReportData d;
    if (session.model) d.modelPath = session.model->summary().path;
    d.table = *session.sensitivity;
    d.choice = session.allocation.choice;
    d.pins = session.pins;
    // The report knows no hardware target: a target's cost is plotted as the weight size.
    d.metric = budget.metric == CostMetric::Target ? CostMetric::Size : budget.metric;
    d.reference = budget.reference;
    d.settings.push_back({"calibration data", session.calibrationSource.text});
    std::string options;
    for (const BitOption& o : session.sensitivity->options) options += (options.empty() ? "" : ", ") + o.name();
    d.settings.push_back({"options", options});
    d.settings.push_back({"granularity", granularityName(request.quantizer.granularity)});
    d.settings.push_back({"budget", budget.kind == BudgetKind::Cost
                                        ? std::string(costMetricName(budget.metric)) + " ≤ " +
                                              QString::number(budget.costRatio * 100, 'f', 1).toStdString() + " % of " +
                                              costReferenceName(budget.reference)
                                        : "Σ Δloss ≤ " + QString::number(budget.maxDegradation, 'g', 4).toStdString()});
    d.settings.push_back({"pinned layers", std::to_string(session.pins.size())});
    // The fit to the measured allocations of the pipeline measured most, on its evaluation data.
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const MeasuredAllocation& m : session.measured) ++counts[{m.pipeline, m.evaluationSource}];
    if (!counts.empty()) {
        const auto most = std::max_element(counts.begin(), counts.end(),
                                           [](const auto& x, const auto& y) { return x.second < y.second; });
        const DropModel model = dropModelFor(*session.problem, session.measured, most->first.first, most->first.second);
        const CorrectedPrediction p = model.predict(session.problem->deltaLossOf(d.choice));
        if (p.valid)
            d.measuredFit = ReportData::FitPrediction{p.drop, p.uncertainty, p.anchors, p.interpolated,
                                                      most->first.first, most->first.second};
    }
    for (const MeasuredAllocation& m : session.measured) {
        // Against the FP model's loss on the same set when it was measured (GUI jobs measure
        // it); else the table's base loss (on the calibration samples), the nearest reference.
        d.measured.push_back({m.choice, m.top1, m.loss, m.fp32Loss > 0 ? m.fp32Loss : d.table.baseLoss,
                              m.pipeline + " on " + m.evaluationSource});
        if (m.choice == session.allocation.choice) {
            d.measuredTop1 = m.top1;
            d.fp32Top1 = m.fp32Top1;
            d.evaluationSource = m.evaluationSource + " (pipeline " + m.pipeline + ")";
        }
    }
    return d;
}

QString renderHtmlReport(const ReportData& d) {
    if (d.choice.size() != d.table.layers.size())
        throw invalidInput("The allocation has " + std::to_string(d.choice.size()) + " layers and its table " +
                           std::to_string(d.table.layers.size()) + ": allocate again from the table.");
    const BudgetProblem problem(d.table);
    const BudgetAllocation a = problem.evaluate(d.choice);
    const double fp32Size = problem.referenceCost(CostMetric::Size, CostReference::Fp32);  // bytes
    const double fp32Bops = problem.referenceCost(CostMetric::Bops, CostReference::Fp32);
    const QString model = d.modelPath.empty() ? QStringLiteral("(no model file)") : QFileInfo(q(d.modelPath)).fileName();

    QString h;
    h += QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h += QStringLiteral("<title>PTQ Studio report: %1</title><style>%2</style></head><body>\n").arg(esc(model), kCss);
    h += QStringLiteral("<h1>Bit allocation of %1</h1>\n<div class=\"sub\">PTQ Studio report, %2</div>\n")
             .arg(esc(model), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    h += QStringLiteral("<h2>Summary</h2>\n<table class=\"summary\">\n");
    const auto row = [&](const QString& label, const QString& value, const QString& cls = QString()) {
        h += QStringLiteral("<tr%1><td>%2</td><td class=\"l\">%3</td></tr>\n")
                 .arg(cls.isEmpty() ? QString() : QStringLiteral(" class=\"%1\"").arg(cls), esc(label), value);
    };
    row(QStringLiteral("model"), esc(d.modelPath));
    if (!d.modelSha256.empty())
        row(QStringLiteral("SHA-256"), QStringLiteral("<span class=\"hash\">%1</span>").arg(esc(d.modelSha256)));
    for (const auto& [label, value] : d.settings) row(q(label), esc(value));
    row(QStringLiteral("layers"), QString::number(d.table.layers.size()));
    row(QStringLiteral("FP32 top-1 (table samples)"), percent(d.table.fp32Top1));
    predictionRows(d, a, row);
    row(QStringLiteral("predicted Δloss"), QString::number(a.deltaLoss, 'g', 4));
    if (d.measuredTop1) {
        row(QStringLiteral("measured top-1"), percent(*d.measuredTop1) + " on " + esc(d.evaluationSource));
        if (d.fp32Top1) row(QStringLiteral("measured FP32 top-1"), percent(*d.fp32Top1));
    } else {
        row(QStringLiteral("measured top-1"), QStringLiteral("not measured"));
    }
    row(QStringLiteral("weight size"), megabytes(a.sizeBytes) + QStringLiteral(" (FP32 %1)").arg(megabytes(fp32Size)));
    row(QStringLiteral("compression"), QStringLiteral("%1× smaller than FP32 (%2 % of its size)")
                                           .arg(fp32Size / std::max(a.sizeBytes, 1e-9), 0, 'f', 2)
                                           .arg(a.sizeBytes / fp32Size * 100, 0, 'f', 1));
    row(QStringLiteral("BOPs per sample"), QStringLiteral("%1 G (%2 % of FP32)")
                                               .arg(a.bops / 1e9, 0, 'f', 3)
                                               .arg(a.bops / fp32Bops * 100, 0, 'f', 2));
    h += QStringLiteral("</table>\n");

    h += QStringLiteral("<h2>Pareto frontier</h2>\n<div class=\"plot\">%1</div>\n").arg(paretoSvg(d));
    h += QStringLiteral("<h2>Sensitivity</h2>\n<div class=\"plot\">%1</div>\n").arg(sensitivitySvg(d));

    h += QStringLiteral("<h2>Layers</h2>\n<table class=\"layers\">\n<tr><th>#</th><th class=\"l\">layer</th><th class=\"l\">kind"
                        "</th><th>params</th><th>MACs</th><th class=\"l\">option</th><th>weight bits</th><th>act. bits</th>"
                        "<th>Δloss</th><th>Δtop-1</th><th>size (KB)</th><th>pinned</th></tr>\n");
    for (size_t i = 0; i < d.table.layers.size(); ++i) {
        const SensitivityLayer& l = d.table.layers[i];
        const int option = d.choice[i];
        const BitOption& o = d.table.options[size_t(option)];
        const SensitivityCell& c = d.table.cells[i][size_t(option)];
        const bool pinned = d.pins.count(int(i)) > 0;
        h += QStringLiteral("<tr%1><td>%2</td><td class=\"l\">%3</td><td class=\"l\">%4</td><td>%5</td><td>%6</td>"
                            "<td class=\"l\">%7</td><td>%8</td><td>%9</td><td>%10</td><td>%11</td><td>%12</td><td>%13</td></tr>\n")
                 .arg(pinned ? QStringLiteral(" class=\"pinned\"") : QString())
                 .arg(i)
                 .arg(esc(l.name), esc(l.kind))
                 .arg(l.params)
                 .arg(l.macs)
                 .arg(esc(o.name()))
                 .arg(o.weightPoints > 1 ? QStringLiteral("%1×%2").arg(o.weightBits).arg(o.weightPoints)
                                         : QString::number(o.weightBits))
                 .arg(o.activationBits)
                 .arg(QString::number(c.deltaLoss, 'g', 4), number(c.deltaTop1, 2))
                 .arg(double(l.params) * o.weightBitsTotal() / 8 / 1024, 0, 'f', 2)
                 .arg(pinned ? QStringLiteral("yes") : QString());
    }
    h += QStringLiteral("</table>\n</body></html>\n");
    return h;
}

void writeHtmlReport(const std::string& path, const ReportData& data) {
    const QByteArray html = renderHtmlReport(data).toUtf8();
    QSaveFile file(q(path));
    if (!file.open(QIODevice::WriteOnly) || file.write(html) < 0 || !file.commit())
        throw failed("Could not write the report " + path + ": check that its folder exists and is writable.");
}

}  // namespace ptq
