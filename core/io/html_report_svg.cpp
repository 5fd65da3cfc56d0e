// The report's two plots as hand-written SVG: axes with tick labels, the Pareto frontier with
// the chosen and measured points, and every layer's Δloss at every option. Plain text through
// QXmlStreamWriter, so the plots need neither widgets nor a QGuiApplication and stay sharp at
// any zoom.
#include "core/io/html_report.h"

#include <QtCore/QXmlStreamWriter>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace ptq {

namespace {

QString n1(double v) { return QString::number(v, 'f', 1); }

/// Ticks at 1, 2 or 5 times a power of ten, about @p target of them over [lo, hi].
std::vector<double> niceTicks(double lo, double hi, int target = 6) {
    const double span = hi - lo;
    if (!(span > 0) || !std::isfinite(span)) return {lo};
    const double raw = span / target;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    std::vector<double> ticks;
    for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return ticks;
}

QString tickLabel(double v) { return QString::number(v, 'g', 4); }

/// A linear or base-10 logarithmic map from data onto pixels.
struct Scale {
    double lo = 0, hi = 1;    ///< data range (both > 0 when log)
    double from = 0, to = 1;  ///< pixels of lo and hi
    bool log = false;
    double operator()(double v) const {
        if (log) {
            v = std::clamp(v, lo, hi);
            return from + (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) * (to - from);
        }
        return from + (v - lo) / (hi - lo) * (to - from);
    }
};

/// The SVG element being written, with the few shapes the plots draw.
class Svg {
public:
    Svg(int width, int height, const QString& label) : xml_(&text_) {
        xml_.writeStartElement(QStringLiteral("svg"));
        xml_.writeDefaultNamespace(QStringLiteral("http://www.w3.org/2000/svg"));
        xml_.writeAttribute(QStringLiteral("width"), QString::number(width));
        xml_.writeAttribute(QStringLiteral("height"), QString::number(height));
        xml_.writeAttribute(QStringLiteral("viewBox"), QStringLiteral("0 0 %1 %2").arg(width).arg(height));
        xml_.writeAttribute(QStringLiteral("role"), QStringLiteral("img"));
        xml_.writeAttribute(QStringLiteral("aria-label"), label);
        xml_.writeAttribute(QStringLiteral("font-family"), QStringLiteral("DejaVu Sans, Arial, sans-serif"));
        xml_.writeAttribute(QStringLiteral("font-size"), QStringLiteral("11"));
        rect(0, 0, width, height, QStringLiteral("#ffffff"), QString(), 0, QStringLiteral("background"));
    }

    QXmlStreamWriter& xml() { return xml_; }

    void line(double x1, double y1, double x2, double y2, const QString& stroke, double width = 1,
              const QString& dash = QString()) {
        xml_.writeStartElement(QStringLiteral("line"));
        xml_.writeAttribute(QStringLiteral("x1"), n1(x1));
        xml_.writeAttribute(QStringLiteral("y1"), n1(y1));
        xml_.writeAttribute(QStringLiteral("x2"), n1(x2));
        xml_.writeAttribute(QStringLiteral("y2"), n1(y2));
        xml_.writeAttribute(QStringLiteral("stroke"), stroke);
        xml_.writeAttribute(QStringLiteral("stroke-width"), n1(width));
        if (!dash.isEmpty()) xml_.writeAttribute(QStringLiteral("stroke-dasharray"), dash);
        xml_.writeEndElement();
    }

    /// Opens a <rect>; the caller may add a <title> and must call end().
    void openRect(double x, double y, double w, double h, const QString& fill, const QString& stroke, double strokeWidth,
                  const QString& cls) {
        xml_.writeStartElement(QStringLiteral("rect"));
        if (!cls.isEmpty()) xml_.writeAttribute(QStringLiteral("class"), cls);
        xml_.writeAttribute(QStringLiteral("x"), n1(x));
        xml_.writeAttribute(QStringLiteral("y"), n1(y));
        xml_.writeAttribute(QStringLiteral("width"), QString::number(std::max(0.0, w), 'f', 2));
        xml_.writeAttribute(QStringLiteral("height"), QString::number(std::max(0.0, h), 'f', 2));
        xml_.writeAttribute(QStringLiteral("fill"), fill);
        if (!stroke.isEmpty()) {
            xml_.writeAttribute(QStringLiteral("stroke"), stroke);
            xml_.writeAttribute(QStringLiteral("stroke-width"), n1(strokeWidth));
        }
    }
    void rect(double x, double y, double w, double h, const QString& fill, const QString& stroke = QString(),
              double strokeWidth = 1, const QString& cls = QString()) {
        openRect(x, y, w, h, fill, stroke, strokeWidth, cls);
        end();
    }

    void text(double x, double y, const QString& s, const QString& anchor = QStringLiteral("start"), double size = 0,
              double rotate = 0, bool bold = false) {
        xml_.writeStartElement(QStringLiteral("text"));
        xml_.writeAttribute(QStringLiteral("x"), n1(x));
        xml_.writeAttribute(QStringLiteral("y"), n1(y));
        if (anchor != QStringLiteral("start")) xml_.writeAttribute(QStringLiteral("text-anchor"), anchor);
        if (size > 0) xml_.writeAttribute(QStringLiteral("font-size"), n1(size));
        if (bold) xml_.writeAttribute(QStringLiteral("font-weight"), QStringLiteral("bold"));
        if (rotate != 0)
            xml_.writeAttribute(QStringLiteral("transform"), QStringLiteral("rotate(%1 %2 %3)").arg(n1(rotate), n1(x), n1(y)));
        xml_.writeAttribute(QStringLiteral("fill"), QStringLiteral("#1d2733"));
        xml_.writeCharacters(s);
        xml_.writeEndElement();
    }

    /// A closed shape through @p points (x, y pairs); opened, so a <title> can follow; end() closes.
    void openPolygon(const std::vector<std::pair<double, double>>& points, const QString& fill, const QString& stroke,
                     const QString& cls) {
        xml_.writeStartElement(QStringLiteral("polygon"));
        xml_.writeAttribute(QStringLiteral("class"), cls);
        xml_.writeAttribute(QStringLiteral("points"), pointList(points));
        xml_.writeAttribute(QStringLiteral("fill"), fill);
        xml_.writeAttribute(QStringLiteral("stroke"), stroke);
        xml_.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("1.5"));
    }

    void polyline(const std::vector<std::pair<double, double>>& points, const QString& stroke, const QString& cls) {
        xml_.writeStartElement(QStringLiteral("polyline"));
        xml_.writeAttribute(QStringLiteral("class"), cls);
        xml_.writeAttribute(QStringLiteral("points"), pointList(points));
        xml_.writeAttribute(QStringLiteral("fill"), QStringLiteral("none"));
        xml_.writeAttribute(QStringLiteral("stroke"), stroke);
        xml_.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("1.5"));
        xml_.writeEndElement();
    }

    void openCircle(double x, double y, double r, const QString& fill, const QString& stroke, const QString& cls) {
        xml_.writeStartElement(QStringLiteral("circle"));
        xml_.writeAttribute(QStringLiteral("class"), cls);
        xml_.writeAttribute(QStringLiteral("cx"), n1(x));
        xml_.writeAttribute(QStringLiteral("cy"), n1(y));
        xml_.writeAttribute(QStringLiteral("r"), n1(r));
        xml_.writeAttribute(QStringLiteral("fill"), fill);
        xml_.writeAttribute(QStringLiteral("stroke"), stroke);
        xml_.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("1.5"));
    }

    /// A tooltip for the element just opened.
    void title(const QString& s) { xml_.writeTextElement(QStringLiteral("title"), s); }
    void end() { xml_.writeEndElement(); }

    QString finish() {
        xml_.writeEndElement();  // svg
        return text_;
    }

private:
    static QString pointList(const std::vector<std::pair<double, double>>& points) {
        QString s;
        for (const auto& [x, y] : points) s += n1(x) + ',' + n1(y) + ' ';
        return s.trimmed();
    }

    QString text_;
    QXmlStreamWriter xml_;
};

const QString kAxis = QStringLiteral("#5a6776");
const QString kGrid = QStringLiteral("#e3e8ee");

/// The plot frame: grid, ticks and their labels on both axes, axis labels and the title.
void axes(Svg& svg, const Scale& x, const std::vector<double>& xTicks, const Scale& y, const std::vector<double>& yTicks,
          const QString& xLabel, const QString& yLabel, const QString& title, bool xLabels = true) {
    const double left = x.from, right = x.to, bottom = y.from, top = y.to;
    for (double t : yTicks) {
        const double py = y(t);
        svg.line(left, py, right, py, kGrid);
        svg.line(left - 4, py, left, py, kAxis);
        svg.text(left - 7, py + 4, tickLabel(t), QStringLiteral("end"));
    }
    if (xLabels)
        for (double t : xTicks) {
            const double px = x(t);
            svg.line(px, top, px, bottom, kGrid);
            svg.line(px, bottom, px, bottom + 4, kAxis);
            svg.text(px, bottom + 16, tickLabel(t), QStringLiteral("middle"));
        }
    svg.line(left, bottom, right, bottom, kAxis);
    svg.line(left, top, left, bottom, kAxis);
    if (!xLabel.isEmpty()) svg.text((left + right) / 2, bottom + 36, xLabel, QStringLiteral("middle"), 12);
    svg.text(16, (top + bottom) / 2, yLabel, QStringLiteral("middle"), 12, -90);
    svg.text((left + right) / 2, 20, title, QStringLiteral("middle"), 14, 0, true);
}

QString costAxisLabel(CostMetric metric, CostReference reference) {
    return QStringLiteral("%1, % of %2")
        .arg(metric == CostMetric::Bops ? QStringLiteral("BOPs") : QStringLiteral("weight size"),
             reference == CostReference::Fp32 ? QStringLiteral("FP32") : QStringLiteral("INT8"));
}

std::vector<std::pair<double, double>> diamond(double x, double y, double r) {
    return {{x, y - r}, {x + r, y}, {x, y + r}, {x - r, y}};
}
std::vector<std::pair<double, double>> triangle(double x, double y, double r) {
    return {{x, y - r}, {x + r * 0.87, y + r * 0.5}, {x - r * 0.87, y + r * 0.5}};
}

/// A legend entry: a swatch drawn by @p mark at (x, y), then @p label.
template <typename Mark>
double legendEntry(Svg& svg, double x, double y, const QString& label, Mark mark) {
    mark(x + 6, y - 4);
    svg.text(x + 16, y, label);
    return x + 24 + 6.2 * label.size();
}

// Colours of the options, in table order (cycled past ten).
const char* const kOptionColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

}  // namespace

QString paretoSvg(const ReportData& d, int width, int height) {
    const BudgetProblem problem(d.table);
    BudgetRequest request;
    request.metric = d.metric;
    request.reference = d.reference;
    const std::vector<BudgetPoint> frontier = problem.pareto(request);
    const double reference = problem.referenceCost(d.metric, d.reference);
    const double chosenX = problem.costOf(d.metric, d.choice) / reference * 100;
    const double chosenY = problem.evaluate(d.choice).deltaLoss;
    struct Measured {
        double x, y;
        const ReportData::MeasuredPoint* point;
    };
    std::vector<Measured> measured;
    for (const ReportData::MeasuredPoint& m : d.measured)
        if (m.choice.size() == d.choice.size())
            measured.push_back({problem.costOf(d.metric, m.choice) / reference * 100, m.loss - m.referenceLoss, &m});

    double xLo = chosenX, xHi = chosenX, yLo = 0, yHi = std::max(chosenY, 0.0);
    const auto include = [&](double x, double y) {
        xLo = std::min(xLo, x);
        xHi = std::max(xHi, x);
        yLo = std::min(yLo, y);
        yHi = std::max(yHi, y);
    };
    for (const BudgetPoint& p : frontier) include(p.costRatio * 100, p.deltaLoss);
    for (const Measured& m : measured) include(m.x, m.y);
    const double xPad = std::max(1.0, (xHi - xLo) * 0.04), ySpan = std::max(yHi - yLo, 1e-6);
    const Scale x{xLo - xPad, xHi + xPad, 72, double(width) - 24};
    const Scale y{yLo - ySpan * 0.04, yHi + ySpan * 0.08, double(height) - 52, 52};

    Svg svg(width, height, QStringLiteral("Pareto frontier"));
    axes(svg, x, niceTicks(x.lo, x.hi), y, niceTicks(y.lo, y.hi), costAxisLabel(d.metric, d.reference),
         QStringLiteral("Δloss (predicted; measured ▲)"), QStringLiteral("Pareto frontier: cost against predicted Δloss"));
    const QString blue = QStringLiteral("#3b6ea5");
    // Right steps: a cheaper point's degradation holds until the next point's cost is paid.
    std::vector<std::pair<double, double>> steps;
    for (size_t i = 0; i < frontier.size(); ++i) {
        const double px = x(frontier[i].costRatio * 100), py = y(frontier[i].deltaLoss);
        if (i > 0) steps.push_back({px, steps.back().second});
        steps.push_back({px, py});
    }
    if (steps.size() > 1) svg.polyline(steps, blue, QStringLiteral("frontier"));
    for (const BudgetPoint& p : frontier) {
        svg.openCircle(x(p.costRatio * 100), y(p.deltaLoss), 3.5, QStringLiteral("#ffffff"), blue,
                       QStringLiteral("frontier-point"));
        svg.title(QStringLiteral("%1 % of the reference, predicted Δloss %2")
                      .arg(p.costRatio * 100, 0, 'f', 2)
                      .arg(QString::number(p.deltaLoss, 'g', 4)));
        svg.end();
    }
    for (const Measured& m : measured) {
        svg.openPolygon(triangle(x(m.x), y(m.y), 7), QStringLiteral("#a5d6a7"), QStringLiteral("#2e7d32"),
                        QStringLiteral("measured"));
        svg.title(QStringLiteral("%1: top-1 %2 %, Δloss %3 over FP32 on the same set")
                      .arg(QString::fromStdString(m.point->label))
                      .arg(m.point->top1, 0, 'f', 2)
                      .arg(QString::number(m.y, 'g', 4)));
        svg.end();
    }
    svg.openPolygon(diamond(x(chosenX), y(chosenY), 8), QStringLiteral("#ef5350"), QStringLiteral("#b71c1c"),
                    QStringLiteral("chosen"));
    svg.title(QStringLiteral("the chosen allocation: %1 % of the reference, predicted Δloss %2")
                  .arg(chosenX, 0, 'f', 2)
                  .arg(QString::number(chosenY, 'g', 4)));
    svg.end();

    double lx = x.to - 470, ly = y.to + 16;
    lx = legendEntry(svg, lx, ly, QStringLiteral("Pareto frontier (predicted)"), [&](double cx, double cy) {
        svg.openCircle(cx, cy, 3.5, QStringLiteral("#ffffff"), blue, QStringLiteral("legend"));
        svg.end();
    });
    lx = legendEntry(svg, lx, ly, QStringLiteral("chosen"), [&](double cx, double cy) {
        svg.openPolygon(diamond(cx, cy, 6), QStringLiteral("#ef5350"), QStringLiteral("#b71c1c"), QStringLiteral("legend"));
        svg.end();
    });
    legendEntry(svg, lx, ly, QStringLiteral("measured (evaluation set)"), [&](double cx, double cy) {
        svg.openPolygon(triangle(cx, cy, 6), QStringLiteral("#a5d6a7"), QStringLiteral("#2e7d32"), QStringLiteral("legend"));
        svg.end();
    });
    return svg.finish();
}

QString sensitivitySvg(const ReportData& d, int height) {
    const size_t layers = d.table.layers.size(), options = d.table.options.size();
    // Δloss spans decades between 2-bit and 8-bit options: a log axis shows them all. Values at
    // or below the floor (no measurable change, or noise below zero) sit on the floor.
    double hi = 0, lowestPositive = std::numeric_limits<double>::infinity();
    for (const auto& row : d.table.cells)
        for (const SensitivityCell& c : row)
            if (std::isfinite(c.deltaLoss) && c.deltaLoss > 0) {
                hi = std::max(hi, c.deltaLoss);
                lowestPositive = std::min(lowestPositive, c.deltaLoss);
            }
    const bool any = hi > 0;
    const double floorValue = any ? std::pow(10.0, std::floor(std::log10(std::max(lowestPositive, hi * 1e-4)))) : 1e-4;
    const double top = any ? std::pow(10.0, std::ceil(std::log10(hi) + 1e-9)) : 1;

    size_t longestName = 4;
    for (const SensitivityLayer& l : d.table.layers) longestName = std::max(longestName, l.name.size());
    const double left = 72, right = 20;
    const double bottomMargin = std::min(220.0, 24 + 5.4 * double(longestName) * 0.87);
    const double group = std::max(double(options) * 3 + 4, 820.0 / double(std::max<size_t>(1, layers)));
    const double gap = std::max(2.0, group * 0.2), bar = (group - gap) / double(std::max<size_t>(1, options));
    const int width = int(std::ceil(left + group * double(layers) + right));
    // The legend: one swatch an option, then the chosen option's outline, in rows under the title.
    std::vector<QString> legend;
    for (const BitOption& o : d.table.options) legend.push_back(QString::fromStdString(o.name()));
    legend.push_back(QStringLiteral("chosen option (outlined, marked)"));
    std::vector<std::pair<double, double>> legendAt;
    double lx = left, ly = 44;
    for (const QString& label : legend) {
        const double next = lx + 24 + 6.2 * double(label.size());
        if (next > double(width) - right && lx > left) {
            lx = left;
            ly += 20;
        }
        legendAt.push_back({lx, ly});
        lx += 24 + 6.2 * double(label.size());
    }
    const double legendHeight = legendAt.back().second - 44 + 26;
    height = std::max(height, int(bottomMargin + legendHeight + 200));

    const Scale x{0, double(std::max<size_t>(1, layers)), left, left + group * double(layers)};
    const Scale y{floorValue, top, double(height) - bottomMargin, 34 + legendHeight, true};
    std::vector<double> decades;
    for (double t = floorValue; t <= top * 1.0001; t *= 10) decades.push_back(t);

    Svg svg(width, height, QStringLiteral("Per-layer sensitivity"));
    axes(svg, x, {}, y, decades, QString(), QStringLiteral("Δloss, this layer alone at the option (log)"),
         QStringLiteral("Per-layer sensitivity: Δloss of every option"), false);
    for (size_t l = 0; l < layers; ++l) {
        const double gx = x(double(l)) + gap / 2;
        for (size_t o = 0; o < options; ++o) {
            const double v = d.table.cells[l][o].deltaLoss;
            const bool chosen = l < d.choice.size() && size_t(d.choice[l]) == o;
            const double py = std::isfinite(v) && v > floorValue ? y(v) : y.from - 1;
            svg.openRect(gx + bar * double(o), py, bar, y.from - py,
                         QString::fromLatin1(kOptionColours[o % std::size(kOptionColours)]),
                         chosen ? QStringLiteral("#1d2733") : QString(), 1.2,
                         chosen ? QStringLiteral("bar chosen") : QStringLiteral("bar"));
            svg.title(QStringLiteral("%1 at %2: Δloss %3%4")
                          .arg(QString::fromStdString(d.table.layers[l].name),
                               QString::fromStdString(d.table.options[o].name()), QString::number(v, 'g', 4),
                               chosen ? QStringLiteral(" (chosen)") : QString()));
            svg.end();
            if (chosen)
                svg.line(gx + bar * (double(o) + 0.5), py - 7, gx + bar * (double(o) + 0.5), py - 2,
                         QStringLiteral("#1d2733"), 1.5);
        }
        const double cx = x(double(l) + 0.5);
        svg.text(cx + 3, y.from + 12, QString::fromStdString(d.table.layers[l].name), QStringLiteral("end"), 10, -60);
    }
    if (any)
        svg.text(x.to - 4, y.to + 12, QStringLiteral("Δloss ≤ %1 is drawn at the axis").arg(tickLabel(floorValue)),
                 QStringLiteral("end"), 10);

    for (size_t o = 0; o < legend.size(); ++o)
        legendEntry(svg, legendAt[o].first, legendAt[o].second, legend[o], [&](double cx, double cy) {
            svg.rect(cx - 5, cy - 5, 10, 10,
                     o < options ? QString::fromLatin1(kOptionColours[o % std::size(kOptionColours)]) : QStringLiteral("#ffffff"),
                     o < options ? QString() : QStringLiteral("#1d2733"), 1.2, QStringLiteral("legend"));
        });
    return svg.finish();
}

}  // namespace ptq
