#include "ui/plots/progress_plots.h"

#include <qcustomplot.h>

#include <QtCore/QTimer>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
const QColor kBefore(0xcf, 0xd8, 0xdc);
const QColor kAfter(0x26, 0x8b, 0xd2);
const QColor kCurve(0xf4, 0x6d, 0x43);

void styleSmall(QCustomPlot* plot, const QFont& base) {
    QFont small = base;
    small.setPointSizeF(7.5);
    plot->xAxis->setTickLabelFont(small);
    plot->yAxis->setTickLabelFont(small);
    plot->legend->setFont(small);
    plot->setMinimumSize(160, 120);
    plot->setNoAntialiasingOnDrag(true);
}
}  // namespace

ProgressPlots::ProgressPlots(QWidget* parent)
    : QWidget(parent), caption_(new QLabel(tr("No job has reported progress yet."), this)),
      curve_(new QCustomPlot(this)), bars_(new QCustomPlot(this)), timer_(new QTimer(this)) {
    caption_->setObjectName(QStringLiteral("progressCaption"));
    curve_->setObjectName(QStringLiteral("progressCurve"));
    bars_->setObjectName(QStringLiteral("progressBars"));
    styleSmall(curve_, font());
    styleSmall(bars_, font());

    line_ = curve_->addGraph();
    line_->setPen(QPen(kCurve, 1.5));
    curve_->xAxis->setLabel(tr("iteration"));
    curve_->yAxis->setScaleType(QCPAxis::stLogarithmic);
    curve_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    curve_->yAxis->setNumberFormat(QStringLiteral("gb"));

    before_ = new QCPBars(bars_->xAxis, bars_->yAxis);
    after_ = new QCPBars(bars_->xAxis, bars_->yAxis);
    before_->setPen(QPen(kBefore.darker(125)));
    before_->setBrush(kBefore);
    after_->setPen(QPen(kAfter.darker(125)));
    after_->setBrush(kAfter);
    auto* group = new QCPBarsGroup(bars_);
    before_->setBarsGroup(group);
    after_->setBarsGroup(group);
    before_->setWidth(0.4);
    after_->setWidth(0.4);
    bars_->xAxis->setLabel(tr("layer (in the order tuned)"));
    bars_->xAxis->setSubTicks(false);
    bars_->xAxis->grid()->setVisible(false);
    bars_->legend->setVisible(true);
    bars_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(curve_);
    splitter->addWidget(bars_);
    splitter->setSizes({1000, 1000});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 2, 2, 0);
    layout->addWidget(caption_);
    layout->addWidget(splitter, 1);

    timer_->setInterval(100);  // at most 10 redraws a second, however fast the job steps
    connect(timer_, &QTimer::timeout, this, &ProgressPlots::refresh);
}

void ProgressPlots::setFeed(const LiveFeed* feed) {
    feed_ = feed;
    shown_ = 0;
    if (feed_) timer_->start();
    else timer_->stop();
}

int ProgressPlots::curvePoints() const { return line_->dataCount(); }
int ProgressPlots::barCount() const { return after_->dataCount(); }
QString ProgressPlots::caption() const { return caption_->text(); }

void ProgressPlots::refresh() {
    if (!feed_ || feed_->version() == shown_) return;
    const LiveFeed::Figures f = feed_->figures();
    shown_ = f.version;
    ++redraws_;
    drawCurve(f);
    drawBars(f);
    curve_->replot(QCustomPlot::rpQueuedReplot);
    bars_->replot(QCustomPlot::rpQueuedReplot);
}

void ProgressPlots::drawCurve(const LiveFeed::Figures& f) {
    const std::vector<double>* series = nullptr;
    QString what;
    switch (f.phase) {
    case LiveFeed::Phase::AdaQuant:
        series = &f.adaquantLoss;
        what = (f.adaquantBlocks ? tr("Block reconstruction loss (block output MSE), block %1 of %2: %3")
                                 : tr("AdaQuant loss (output MSE), layer %1 of %2: %3"))
                   .arg(f.adaquantLayerIndex + 1)
                   .arg(f.adaquantLayerCount)
                   .arg(f.adaquantLayer);
        break;
    case LiveFeed::Phase::BiasTuning:
        series = &f.biasKl;
        what = tr("Bias tuning: KL(FP ‖ quantized) per mini-batch");
        break;
    case LiveFeed::Phase::Distill:
        series = &f.distillLoss;
        what = tr("Distillation loss (BatchNorm statistics matched)");
        break;
    case LiveFeed::Phase::BatchNorm:
        what = tr("BN tuning: %1 batch norms re-estimated").arg(f.batchNorms.size());
        break;
    case LiveFeed::Phase::None:
        what = tr("Waiting for the first figures…");
        break;
    }
    caption_->setText(QStringLiteral("%1 — %2").arg(f.job, what));
    QVector<double> x, y;
    if (series) {
        x.reserve(int(series->size()));
        y.reserve(int(series->size()));
        for (size_t k = 0; k < series->size(); ++k) {
            const double v = (*series)[k];
            if (!(v > 0) || !std::isfinite(v)) continue;  // a log axis shows positive values only
            x.push_back(double(k + 1));
            y.push_back(v);
        }
    }
    line_->setData(x, y, true);
    line_->setName(f.phase == LiveFeed::Phase::AdaQuant ? tr("loss") : what);
    curve_->yAxis->setLabel(f.phase == LiveFeed::Phase::BiasTuning ? tr("KL") : tr("loss"));
    if (!x.isEmpty()) {
        curve_->xAxis->setRange(0, std::max(10.0, x.back()));
        const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
        curve_->yAxis->setRange(*lo * 0.8, *hi * 1.25);
    }
}

void ProgressPlots::drawBars(const LiveFeed::Figures& f) {
    QVector<double> keys, before, after;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    if (f.phase == LiveFeed::Phase::BatchNorm || (f.adaquantDone.empty() && !f.batchNorms.empty())) {
        before_->setName(tr("std ratio − 1 (|new/old − 1|)"));
        after_->setName(tr("mean shift (in stds)"));
        for (size_t k = 0; k < f.batchNorms.size(); ++k) {
            keys.push_back(double(k + 1));
            before.push_back(std::abs(f.batchNorms[k].stdRatio - 1.0));
            after.push_back(f.batchNorms[k].meanShift);
            ticker->addTick(double(k + 1), f.batchNorms[k].layer);
        }
        bars_->yAxis->setLabel(tr("change of the BN statistics"));
        bars_->xAxis->setLabel(tr("layer (in the order tuned)"));
    } else {
        before_->setName(tr("MSE before"));
        after_->setName(tr("MSE after"));
        for (size_t k = 0; k < f.adaquantDone.size(); ++k) {
            keys.push_back(double(k + 1));
            before.push_back(f.adaquantDone[k].before);
            after.push_back(f.adaquantDone[k].after);
            ticker->addTick(double(k + 1), f.adaquantDone[k].layer);
        }
        bars_->yAxis->setLabel(f.adaquantBlocks ? tr("block output MSE") : tr("layer output MSE"));
        bars_->xAxis->setLabel(f.adaquantBlocks ? tr("block (in the order tuned)") : tr("layer (in the order tuned)"));
    }
    // Names only while they fit; otherwise plain numbers.
    if (keys.size() <= 12) {
        bars_->xAxis->setTicker(ticker);
        bars_->xAxis->setTickLabelRotation(keys.size() > 2 ? 40 : 0);  // layer names are long
    } else {
        bars_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        bars_->xAxis->setTickLabelRotation(0);
    }
    before_->setData(keys, before, true);
    after_->setData(keys, after, true);
    bars_->xAxis->setRange(0.4, std::max(1.0, double(keys.size())) + 0.6);
    double top = 0;
    for (double v : before) top = std::max(top, v);
    for (double v : after) top = std::max(top, v);
    bars_->yAxis->setRange(0, top > 0 ? top * 1.15 : 1.0);
}

}  // namespace ptq::ui
