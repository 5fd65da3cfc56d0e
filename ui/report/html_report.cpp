#include "ui/report/html_report.h"

#include "core/util/error.h"
#include "ui/plots/pareto_plot.h"

#include <qcustomplot.h>

#include <QtCore/QBuffer>
#include <QtCore/QDateTime>
#include <QtCore/QFileInfo>
#include <QtCore/QSaveFile>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }
QString esc(const QString& s) { return s.toHtmlEscaped(); }
QString esc(const std::string& s) { return q(s).toHtmlEscaped(); }

QByteArray pngOf(QCustomPlot& plot, int width, int height) {
    plot.resize(width, height);
    plot.replot(QCustomPlot::rpImmediateRefresh);
    const QPixmap pixmap = plot.toPixmap(width, height, 1.0);
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    pixmap.save(&buffer, "PNG");
    return bytes;
}

QString dataUri(const QByteArray& png) {
    return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(png.toBase64());
}

QString number(double v, int decimals) { return QString::number(v, 'f', decimals); }

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
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 11.5px; }
img { border: 1px solid #d5dce4; margin: 6px 0; max-width: 100%; }
)";

}  // namespace

ReportData reportFromSession(const ptq::Session& session, const ptq::BudgetRequest& budget,
                             const ptq::SensitivityRequest& request) {
    if (!session.sensitivity || !session.problem || session.allocation.choice.empty())
        throw invalidInput("There is no allocation to report yet: wait for the sensitivity table and the first "
                           "allocation.");
    ReportData d;
    if (session.model) d.modelPath = session.model->summary().path;
    d.table = *session.sensitivity;
    d.choice = session.allocation.choice;
    d.pins = session.pins;
    d.metric = budget.metric;
    d.reference = budget.reference;
    d.settings.push_back({"calibration data", session.calibrationSource});
    std::string options;
    for (const BitOption& o : session.sensitivity->options) options += (options.empty() ? "" : ", ") + o.name();
    d.settings.push_back({"options", options});
    d.settings.push_back({"granularity", granularityName(request.granularity)});
    d.settings.push_back({"budget", budget.kind == BudgetKind::Cost
                                        ? std::string(costMetricName(budget.metric)) + " ≤ " +
                                              QString::number(budget.costRatio * 100, 'f', 1).toStdString() + " % of " +
                                              costReferenceName(budget.reference)
                                        : "Σ Δloss ≤ " + QString::number(budget.maxDegradation, 'g', 4).toStdString()});
    d.settings.push_back({"pinned layers", std::to_string(session.pins.size())});
    for (const MeasuredAllocation& m : session.measured) {
        // No FP32 loss on the evaluation set is kept with a measurement: the table's base loss
        // (on the calibration samples) is the nearest reference.
        // Against the FP model's loss on the same set when it was measured (GUI jobs measure it).
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

QByteArray paretoPng(const ReportData& d, int width, int height) {
    const BudgetProblem problem(d.table);
    BudgetRequest request;
    request.metric = d.metric;
    request.reference = d.reference;
    ParetoPlot view;  // the GUI's plot, drawn offscreen
    view.setFrontier(problem.pareto(request), d.metric, d.reference);
    const double reference = problem.referenceCost(d.metric, d.reference);
    const BudgetAllocation chosen = problem.evaluate(d.choice);
    view.setCurrent(problem.costOf(d.metric, d.choice) / reference, chosen.deltaLoss);
    QCustomPlot& plot = *view.plot();
    if (!d.measured.empty()) {
        QCPGraph* measured = plot.addGraph();
        measured->setName(QObject::tr("measured Δloss (evaluation set)"));
        measured->setLineStyle(QCPGraph::lsNone);
        measured->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, QPen(QColor(0x2e, 0x7d, 0x32), 1.5),
                                                  QColor(0xa5, 0xd6, 0xa7), 10));
        double yMax = plot.yAxis->range().upper;
        for (const ReportData::MeasuredPoint& m : d.measured) {
            if (m.choice.size() != d.choice.size()) continue;
            const double y = m.loss - m.referenceLoss;
            measured->addData(problem.costOf(d.metric, m.choice) / reference * 100, y);
            yMax = std::max(yMax, y * 1.06);
        }
        plot.yAxis->setRange(plot.yAxis->range().lower, yMax);
    }
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, QObject::tr("Pareto frontier: cost against predicted Δloss")));
    return pngOf(plot, width, height);
}

QByteArray sensitivityPng(const ReportData& d, int width, int height) {
    QCustomPlot plot;
    const auto bars = [&](const QString& name, const QColor& colour, double barWidth) {
        auto* b = new QCPBars(plot.xAxis, plot.yAxis);
        b->setName(name);
        b->setPen(QPen(colour.darker(130)));
        b->setBrush(colour);
        b->setWidth(barWidth);
        return b;
    };
    QCPBars* worst = bars(QObject::tr("worst option"), QColor(0xc6, 0xd3, 0xe1), 0.8);
    QCPBars* chosen = bars(QObject::tr("chosen option"), QColor(0xe5, 0x73, 0x3b), 0.5);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double yMax = 0;
    for (size_t i = 0; i < d.table.layers.size(); ++i) {
        double w = 0;
        for (const SensitivityCell& c : d.table.cells[i]) w = std::max(w, c.deltaLoss);
        const double c = std::max(0.0, d.table.cells[i][size_t(d.choice[i])].deltaLoss);
        worst->addData(double(i), w);
        chosen->addData(double(i), c);
        ticker->addTick(double(i), q(d.table.layers[i].name));
        yMax = std::max(yMax, w);
    }
    plot.xAxis->setTicker(ticker);
    plot.xAxis->setTickLabelRotation(60);
    plot.xAxis->setRange(-0.8, double(d.table.layers.size()) - 0.2);
    plot.yAxis->setRange(0, yMax * 1.08 + 1e-9);
    plot.yAxis->setLabel(QObject::tr("Δloss when only this layer is quantized"));
    plot.legend->setVisible(true);
    plot.axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, QObject::tr("Per-layer sensitivity")));
    return pngOf(plot, width, height);
}

QString renderHtmlReport(const ReportData& d) {
    const BudgetProblem problem(d.table);
    const BudgetAllocation a = problem.evaluate(d.choice);
    const double fp32Size = problem.referenceCost(CostMetric::Size, CostReference::Fp32);  // bytes
    const double fp32Bops = problem.referenceCost(CostMetric::Bops, CostReference::Fp32);
    const QString model = d.modelPath.empty() ? QObject::tr("(no model file)") : QFileInfo(q(d.modelPath)).fileName();

    QString h;
    h += QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h += QStringLiteral("<title>PTQ Studio report: %1</title><style>%2</style></head><body>\n").arg(esc(model), kCss);
    h += QStringLiteral("<h1>Bit allocation of %1</h1>\n<div class=\"sub\">PTQ Studio report, %2</div>\n")
             .arg(esc(model), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    h += QStringLiteral("<h2>Summary</h2>\n<table class=\"summary\">\n");
    const auto row = [&](const QString& label, const QString& value) {
        h += QStringLiteral("<tr><td>%1</td><td class=\"l\">%2</td></tr>\n").arg(esc(label), value);
    };
    row(QObject::tr("model"), esc(d.modelPath));
    if (!d.modelSha256.empty()) row(QObject::tr("SHA-256"), QStringLiteral("<span class=\"hash\">%1</span>").arg(esc(d.modelSha256)));
    for (const auto& [label, value] : d.settings) row(q(label), esc(value));
    row(QObject::tr("layers"), QString::number(d.table.layers.size()));
    row(QObject::tr("FP32 top-1 (table samples)"), number(d.table.fp32Top1, 2) + " %");
    row(QObject::tr("predicted top-1"), number(d.table.baseTop1 + a.deltaTop1, 2) + " %");
    row(QObject::tr("predicted Δloss"), QString::number(a.deltaLoss, 'g', 4));
    if (d.measuredTop1) {
        row(QObject::tr("measured top-1"), number(*d.measuredTop1, 2) + " % on " + esc(d.evaluationSource));
        if (d.fp32Top1) row(QObject::tr("measured FP32 top-1"), number(*d.fp32Top1, 2) + " %");
    } else {
        row(QObject::tr("measured top-1"), QObject::tr("not measured"));
    }
    row(QObject::tr("weight size"), megabytes(a.sizeBytes) + QStringLiteral(" (FP32 %1)").arg(megabytes(fp32Size)));
    row(QObject::tr("compression"), QStringLiteral("%1× smaller than FP32 (%2 % of its size)")
                                        .arg(fp32Size / std::max(a.sizeBytes, 1e-9), 0, 'f', 2)
                                        .arg(a.sizeBytes / fp32Size * 100, 0, 'f', 1));
    row(QObject::tr("BOPs per sample"), QStringLiteral("%1 G (%2 % of FP32)")
                                            .arg(a.bops / 1e9, 0, 'f', 3)
                                            .arg(a.bops / fp32Bops * 100, 0, 'f', 2));
    h += QStringLiteral("</table>\n");

    h += QStringLiteral("<h2>Pareto frontier</h2>\n<img alt=\"Pareto frontier\" src=\"%1\">\n").arg(dataUri(paretoPng(d)));
    h += QStringLiteral("<h2>Sensitivity</h2>\n<img alt=\"Per-layer sensitivity\" src=\"%1\">\n").arg(dataUri(sensitivityPng(d)));

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
                 .arg(pinned ? QObject::tr("yes") : QString());
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

}  // namespace ptq::ui
