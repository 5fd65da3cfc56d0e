#include "ui/panels/plots_panel.h"

#include "ui/format.h"
#include "ui/models/layer_table_model.h"

#include <qcustomplot.h>

#include <QtWidgets/QLabel>
#include <QtWidgets/QToolTip>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
const QColor kParamsColour(0x3b, 0x6e, 0xa5);
const QColor kMacsColour(0xe0, 0x8e, 0x00);

QCPBars* makeBars(QCPAxis* valueAxis, QCPAxis* keyAxis, const QString& name, const QColor& colour) {
    auto* bars = new QCPBars(keyAxis, valueAxis);
    bars->setName(name);
    bars->setPen(QPen(colour.darker(130)));
    bars->setBrush(colour);
    bars->setWidth(0.38);
    bars->setBaseValue(1.0);  // log axes have no zero; bars rise from 1
    // Selection is driven from the table and graph (and our own click handler), not by
    // QCustomPlot's interactions; a selectable type is still needed for setSelection().
    bars->setSelectable(QCP::stMultipleDataRanges);
    bars->selectionDecorator()->setPen(QPen(QColor(0x20, 0x20, 0x20), 2.0));
    bars->selectionDecorator()->setBrush(colour.darker(135));
    return bars;
}

void setUpLogAxis(QCPAxis* axis, const QString& label, const QColor& colour) {
    axis->setScaleType(QCPAxis::stLogarithmic);
    axis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    axis->setNumberFormat(QStringLiteral("eb"));  // 10³-style labels
    axis->setNumberPrecision(0);
    axis->setLabel(label);
    axis->setLabelColor(colour.darker(120));
    axis->setTickLabelColor(colour.darker(120));
    axis->setVisible(true);
}

/// A log range with a little room around [lo, hi].
QCPRange logRange(double lo, double hi) {
    lo = std::max(lo, 1.0);
    hi = std::max(hi, lo * 10.0);
    return {lo / 3.0, hi * 3.0};
}
}  // namespace

PlotsPanel::PlotsPanel(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
    plot_->setObjectName(QStringLiteral("layerPlot"));
    plot_->setMinimumHeight(160);
    setUpLogAxis(plot_->yAxis, tr("params"), kParamsColour);
    setUpLogAxis(plot_->yAxis2, tr("MACs per sample"), kMacsColour);
    plot_->xAxis->setTickLabelRotation(60);
    plot_->xAxis->setSubTicks(false);
    plot_->xAxis->setTickLength(0, 3);
    plot_->xAxis->grid()->setVisible(false);

    params_ = makeBars(plot_->yAxis, plot_->xAxis, tr("params"), kParamsColour);
    macs_ = makeBars(plot_->yAxis2, plot_->xAxis, tr("MACs"), kMacsColour);
    auto* group = new QCPBarsGroup(plot_);
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(1);
    params_->setBarsGroup(group);
    macs_->setBarsGroup(group);

    plot_->setNoAntialiasingOnDrag(true);

    connect(plot_, &QCustomPlot::mouseMove, this, &PlotsPanel::onMouseMove);
    connect(plot_, &QCustomPlot::mousePress, this, &PlotsPanel::onMousePress);

    // The legend is a label above the plot: inside the plot it hid bars or spread thinly.
    auto* legend = new QLabel(this);
    legend->setObjectName(QStringLiteral("plotLegend"));
    legend->setTextFormat(Qt::RichText);
    legend->setText(tr("<span style=\"color:%1\">&#9632;</span> params (left axis) &nbsp; "
                       "<span style=\"color:%2\">&#9632;</span> MACs per sample (right axis), log scales")
                        .arg(kParamsColour.name(), kMacsColour.name()));
    legend->setToolTip(tr("Hover over a layer's bars for its figures; click them to select the layer."));
    legend->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // never widens the dock

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(legend);
    layout->addWidget(plot_, 1);
    rebuild();
}

void PlotsPanel::setModel(QAbstractItemModel* layerModel) {
    if (model_) disconnect(model_, nullptr, this, nullptr);
    model_ = layerModel;
    if (model_) {
        connect(model_, &QAbstractItemModel::modelReset, this, &PlotsPanel::rebuild);
        connect(model_, &QAbstractItemModel::dataChanged, this, &PlotsPanel::rebuild);
    }
    rebuild();
}

int PlotsPanel::barCount() const { return params_->data()->size(); }

void PlotsPanel::rebuild() {
    QVector<double> keys, params, macs;
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const int rows = model_ ? model_->rowCount() : 0;
    double pLo = 1e300, pHi = 1.0, mLo = 1e300, mHi = 1.0;
    for (int row = 0; row < rows; ++row) {
        const double p = model_->index(row, LayerTableModel::ParamsColumn).data(LayerTableModel::SortRole).toDouble();
        const double m = model_->index(row, LayerTableModel::MacsColumn).data(LayerTableModel::SortRole).toDouble();
        keys << row;
        params << p;
        macs << m;
        ticker->addTick(row, model_->index(row, LayerTableModel::NameColumn).data().toString());
        pLo = std::min(pLo, p), pHi = std::max(pHi, p);
        mLo = std::min(mLo, m), mHi = std::max(mHi, m);
    }
    params_->setData(keys, params, true);
    macs_->setData(keys, macs, true);
    params_->setSelection(QCPDataSelection());
    macs_->setSelection(QCPDataSelection());
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.6, std::max(rows, 1) - 0.4);
    plot_->yAxis->setRange(rows > 0 ? logRange(pLo, pHi) : QCPRange(1.0, 1e5));
    plot_->yAxis2->setRange(rows > 0 ? logRange(mLo, mHi) : QCPRange(1.0, 1e7));
    plot_->replot();
}

QList<int> PlotsPanel::selectedRows() const {
    QList<int> rows;
    for (const QCPDataRange& range : params_->selection().dataRanges())
        for (int i = range.begin(); i < range.end(); ++i) rows << i;
    return rows;
}

void PlotsPanel::selectRows(const QList<int>& rows) {
    // Bars are keyed by row, so data index == row.
    QCPDataSelection selection;
    for (int row : rows)
        if (row >= 0 && row < barCount()) selection.addDataRange(QCPDataRange(row, row + 1), false);
    selection.simplify();
    params_->setSelection(selection);
    macs_->setSelection(selection);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int PlotsPanel::rowAt(const QPoint& pos) const {
    if (!model_ || !plot_->axisRect()->rect().contains(pos)) return -1;
    const int row = int(std::lround(plot_->xAxis->pixelToCoord(pos.x())));
    return row >= 0 && row < model_->rowCount() ? row : -1;
}

void PlotsPanel::onMouseMove(QMouseEvent* event) {
    const int row = rowAt(event->pos());
    if (row < 0) {
        QToolTip::hideText();
        return;
    }
    const auto value = [&](int column) {
        return model_->index(row, column).data(LayerTableModel::SortRole).toLongLong();
    };
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("<b>%1</b><br>%2 params<br>%3 MACs")
                           .arg(model_->index(row, LayerTableModel::NameColumn).data().toString().toHtmlEscaped(),
                                formatCount(value(LayerTableModel::ParamsColumn)),
                                formatCount(value(LayerTableModel::MacsColumn))),
                       plot_);
}

void PlotsPanel::onMousePress(QMouseEvent* event) {
    const int row = rowAt(event->pos());
    if (row >= 0 && event->button() == Qt::LeftButton) Q_EMIT layerClicked(row);
}

}  // namespace ptq::ui
