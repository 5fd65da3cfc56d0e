#pragma once
/// @file
/// The Pareto frontier of the allocation problem: cost (fraction of the reference) against
/// predicted degradation, the current allocation as a marker that moves with the sliders, and
/// clicking a frontier point asks to adopt it. UI thread only.

#include "core/workflow/budget.h"

#include <QtWidgets/QWidget>

#include <limits>

class QCustomPlot;
class QCPGraph;
class QCPItemRect;
class QCPItemText;
class QMouseEvent;

namespace ptq::ui {

class ParetoPlot : public QWidget {
    Q_OBJECT
public:
    explicit ParetoPlot(QWidget* parent = nullptr);

    /// The frontier, with the axis naming @p metric and @p reference.
    void setFrontier(const std::vector<ptq::BudgetPoint>& points, ptq::CostMetric metric, ptq::CostReference reference);
    /// Moves the marker; a negative @p costRatio hides it.
    void setCurrent(double costRatio, double deltaLoss);
    /// Allocations measured on the evaluation set, as (cost ratio, measured Δloss: the
    /// quantized model's cross-entropy minus the FP model's), drawn in another style.
    void setMeasured(const std::vector<QPointF>& points);
    int measuredCount() const;
    /// Shades the cost ratios [@p lo, @p hi] where the prediction rests on measured
    /// allocations (between the anchors of its fit); an empty range (lo >= hi) removes it.
    void setAnchoredRange(double lo, double hi);
    /// The shaded range (cost ratios), NaN when there is none.
    QPointF anchoredRange() const { return anchored_; }

    QCustomPlot* plot() const { return plot_; }
    int pointCount() const { return int(points_.size()); }
    const ptq::BudgetPoint& point(int index) const { return points_.at(size_t(index)); }
    /// The marker's position (cost ratio, Δloss); NaN when hidden.
    QPointF currentPoint() const { return current_; }
    /// Pixel position of frontier point @p index inside plot(), for tests.
    QPoint pixelOf(int index) const;

Q_SIGNALS:
    /// The user clicked frontier point @p index (see points()).
    void pointClicked(int index);

private:
    void onMousePress(QMouseEvent* event);
    void onMouseMove(QMouseEvent* event);
    int pointNear(const QPoint& pos) const;

    QCustomPlot* plot_;
    QCPGraph* frontier_;
    QCPGraph* marker_;
    QCPGraph* measured_;
    QCPItemRect* anchoredBand_ = nullptr;
    QCPItemText* anchoredLabel_ = nullptr;
    QPointF anchored_{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    void fitY();
    std::vector<ptq::BudgetPoint> points_;
    QPointF current_;
};

}  // namespace ptq::ui
