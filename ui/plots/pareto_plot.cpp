#include "ui/plots/pareto_plot.h"

#include <qcustomplot.h>

#include <QtWidgets/QToolTip>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ptq::ui {

ParetoPlot::ParetoPlot(QWidget* parent)
    : QWidget(parent), plot_(new QCustomPlot(this)),
      current_(std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()) {
    plot_->setObjectName(QStringLiteral("paretoPlot"));
    plot_->setMinimumSize(160, 140);
    frontier_ = plot_->addGraph();
    frontier_->setName(tr("Pareto frontier"));
    frontier_->setPen(QPen(QColor(0x3b, 0x6e, 0xa5), 1.5));
    frontier_->setLineStyle(QCPGraph::lsStepRight);
    frontier_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(0x3b, 0x6e, 0xa5), QColor(0xff, 0xff, 0xff), 5));
    marker_ = plot_->addGraph();
    marker_->setName(tr("current allocation"));
    marker_->setLineStyle(QCPGraph::lsNone);
    marker_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(QColor(0xb7, 0x1c, 0x1c), 1.5),
                                             QColor(0xef, 0x53, 0x50), 12));
    measured_ = plot_->addGraph();
    measured_->setName(tr("measured (evaluation set)"));
    measured_->setLineStyle(QCPGraph::lsNone);
    measured_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssTriangle, QPen(QColor(0x1b, 0x5e, 0x20), 1.5),
                                               QColor(0x66, 0xbb, 0x6a), 10));
    plot_->yAxis->setLabel(tr("Δloss (predicted; measured ▲)"));
    plot_->legend->setVisible(true);
    QFont small = font();
    small.setPointSizeF(7.5);
    plot_->legend->setFont(small);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot_->setNoAntialiasingOnDrag(true);
    connect(plot_, &QCustomPlot::mousePress, this, &ParetoPlot::onMousePress);
    connect(plot_, &QCustomPlot::mouseMove, this, &ParetoPlot::onMouseMove);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
}

void ParetoPlot::setFrontier(const std::vector<ptq::BudgetPoint>& points, ptq::CostMetric metric,
                             ptq::CostReference reference) {
    points_ = points;
    QVector<double> x, y;
    for (const auto& p : points_) {
        x << p.costRatio * 100;
        y << p.deltaLoss;
    }
    frontier_->setData(x, y, true);
    plot_->xAxis->setLabel(tr("%1, % of %2")
                               .arg(metric == ptq::CostMetric::Size ? tr("size")
                                    : metric == ptq::CostMetric::Bops ? tr("BOPs") : tr("target cost"),
                                    metric == ptq::CostMetric::Target ? tr("its widest option")
                                    : reference == ptq::CostReference::Fp32 ? QStringLiteral("FP32") : QStringLiteral("INT8")));
    if (!x.isEmpty()) {
        const double pad = std::max(1.0, (x.back() - x.front()) * 0.04);
        plot_->xAxis->setRange(x.front() - pad, x.back() + pad);
    }
    fitY();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::fitY() {
    double lo = 0, hi = 0;
    for (const auto& p : points_) hi = std::max(hi, p.deltaLoss);
    for (auto it = measured_->data()->constBegin(); it != measured_->data()->constEnd(); ++it) {
        lo = std::min(lo, it->value);
        hi = std::max(hi, it->value);
    }
    const double span = std::max(hi - lo, 1e-6);
    plot_->yAxis->setRange(lo - span * 0.04, hi + span * 0.06);
}

void ParetoPlot::setMeasured(const std::vector<QPointF>& points) {
    QVector<double> x, y;
    for (const QPointF& p : points) {
        x << p.x() * 100;
        y << p.y();
    }
    measured_->setData(x, y);
    fitY();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int ParetoPlot::measuredCount() const { return measured_->dataCount(); }

void ParetoPlot::setAnchoredRange(double lo, double hi) {
    if (!anchoredBand_) {
        anchoredBand_ = new QCPItemRect(plot_);
        anchoredBand_->setPen(Qt::NoPen);
        anchoredBand_->setBrush(QColor(0x66, 0xbb, 0x6a, 40));
        anchoredBand_->setLayer(QStringLiteral("background"));
        anchoredBand_->topLeft->setTypeX(QCPItemPosition::ptPlotCoords);
        anchoredBand_->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
        anchoredBand_->bottomRight->setTypeX(QCPItemPosition::ptPlotCoords);
        anchoredBand_->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
        anchoredLabel_ = new QCPItemText(plot_);
        anchoredLabel_->position->setTypeX(QCPItemPosition::ptPlotCoords);
        anchoredLabel_->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        anchoredLabel_->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        QFont small = font();
        small.setPointSizeF(7);
        anchoredLabel_->setFont(small);
        anchoredLabel_->setColor(QColor(0x1b, 0x5e, 0x20));
        anchoredLabel_->setText(tr("prediction rests on measurements"));
    }
    const bool shown = lo < hi;
    anchored_ = shown ? QPointF(lo, hi)
                      : QPointF(std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN());
    anchoredBand_->setVisible(shown);
    anchoredLabel_->setVisible(shown);
    if (shown) {
        anchoredBand_->topLeft->setCoords(lo * 100, 0.0);
        anchoredBand_->bottomRight->setCoords(hi * 100, 1.0);
        anchoredLabel_->position->setCoords((lo + hi) * 50, 0.98);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setCurrent(double costRatio, double deltaLoss) {
    if (costRatio < 0) {
        current_ = QPointF(std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN());
        marker_->data()->clear();
    } else {
        current_ = QPointF(costRatio, deltaLoss);
        marker_->setData(QVector<double>{costRatio * 100}, QVector<double>{deltaLoss}, true);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QPoint ParetoPlot::pixelOf(int index) const {
    const auto& p = points_.at(size_t(index));
    return QPoint(int(std::lround(plot_->xAxis->coordToPixel(p.costRatio * 100))),
                  int(std::lround(plot_->yAxis->coordToPixel(p.deltaLoss))));
}

int ParetoPlot::pointNear(const QPoint& pos) const {
    int best = -1;
    double bestDistance = 10.0;  // pixels
    for (size_t i = 0; i < points_.size(); ++i) {
        const QPoint p = pixelOf(int(i));
        const double d = std::hypot(p.x() - pos.x(), p.y() - pos.y());
        if (d < bestDistance) bestDistance = d, best = int(i);
    }
    return best;
}

void ParetoPlot::onMousePress(QMouseEvent* event) {
    const int index = pointNear(event->pos());
    if (index >= 0 && event->button() == Qt::LeftButton) Q_EMIT pointClicked(index);
}

void ParetoPlot::onMouseMove(QMouseEvent* event) {
    const int index = pointNear(event->pos());
    if (index < 0) {
        QToolTip::hideText();
        return;
    }
    const auto& p = points_[size_t(index)];
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("%1 % of the reference · predicted Δloss %2<br>click to adopt this allocation")
                           .arg(p.costRatio * 100, 0, 'f', 1)
                           .arg(p.deltaLoss, 0, 'g', 3),
                       plot_);
}

}  // namespace ptq::ui
