#pragma once
/// @file
/// The Live progress dock: what the running job reports, redrawn at most 10 times a second
/// from a LiveFeed (never per step). Left, a curve: AdaQuant's loss per iteration on the layer
/// being tuned, bias tuning's KL or distillation's loss. Right, bars: each finished AdaQuant
/// layer's output MSE before and after, or how far BN tuning moved each BatchNorm's mean.
/// UI thread only.

#include "ui/session/live_feed.h"

#include <QtWidgets/QWidget>

#include <cstdint>

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QLabel;
class QTimer;

namespace ptq::ui {

class ProgressPlots : public QWidget {
    Q_OBJECT
public:
    explicit ProgressPlots(QWidget* parent = nullptr);

    /// Starts polling @p feed (nullptr stops).
    void setFeed(const LiveFeed* feed);
    /// Redraws now if the feed changed (the timer calls it every 100 ms).
    void refresh();

    QCustomPlot* curvePlot() const { return curve_; }
    QCustomPlot* barPlot() const { return bars_; }
    /// Points on the curve and bars drawn, and how many redraws ran (tests, benchmarks).
    int curvePoints() const;
    int barCount() const;
    int redraws() const { return redraws_; }
    QString caption() const;

private:
    void drawCurve(const LiveFeed::Figures& f);
    void drawBars(const LiveFeed::Figures& f);

    const LiveFeed* feed_ = nullptr;
    uint64_t shown_ = 0;
    int redraws_ = 0;
    QLabel* caption_;
    QCustomPlot* curve_;
    QCustomPlot* bars_;
    QCPGraph* line_;
    QCPBars* before_;
    QCPBars* after_;
    QTimer* timer_;
};

}  // namespace ptq::ui
