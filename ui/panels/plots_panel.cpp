#include "ui/panels/plots_panel.h"

#include "ui/models/layer_table_model.h"
#include "ui/plots/pareto_plot.h"

#include <qcustomplot.h>

#include <QtWidgets/QSplitter>
#include <QtWidgets/QToolTip>
#include <QtWidgets/QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
const QColor kWorstColour(0xcf, 0xd8, 0xdc);
const QColor kChosenColour(0xf4, 0x6d, 0x43);

QCPBars* makeBars(QCustomPlot* plot, const QString& name, const QColor& colour, double width) {
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setName(name);
    bars->setPen(QPen(colour.darker(125)));
    bars->setBrush(colour);
    bars->setWidth(width);
    bars->setSelectable(QCP::stMultipleDataRanges);
    bars->selectionDecorator()->setPen(QPen(QColor(0x15, 0x65, 0xc0), 2.0));
    bars->selectionDecorator()->setBrush(colour.darker(115));
    return bars;
}

double maxDelta(QAbstractItemModel* model, int row) {
    double worst = 0;
    for (int c = LayerTableModel::FirstOptionColumn; c < model->columnCount(); ++c)
        worst = std::max(worst, model->index(row, c).data(LayerTableModel::SortRole).toDouble());
    return worst;
}
}  // namespace

PlotsPanel::PlotsPanel(QWidget* parent)
    : QWidget(parent), pareto_(new ParetoPlot(this)), plot_(new QCustomPlot(this)) {
    plot_->setObjectName(QStringLiteral("sensitivityPlot"));
    plot_->setMinimumSize(160, 140);
    worst_ = makeBars(plot_, tr("worst option"), kWorstColour, 0.8);
    chosen_ = makeBars(plot_, tr("chosen option"), kChosenColour, 0.5);
    plot_->yAxis->setLabel(tr("Δloss of the layer alone"));
    plot_->xAxis->setLabel(tr("layer (execution order)"));
    plot_->xAxis->setSubTicks(false);
    plot_->xAxis->setTickLength(0, 3);
    plot_->xAxis->grid()->setVisible(false);
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    QFont small = font();
    small.setPointSizeF(7.5);
    plot_->legend->setFont(small);
    plot_->xAxis->setTickLabelFont(small);
    plot_->setNoAntialiasingOnDrag(true);
    connect(plot_, &QCustomPlot::mouseMove, this, &PlotsPanel::onMouseMove);
    connect(plot_, &QCustomPlot::mousePress, this, &PlotsPanel::onMousePress);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(pareto_);
    splitter->addWidget(plot_);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({1000, 1000});  // half each, whatever the size hints say
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 0, 0, 0);
    layout->addWidget(splitter);
    rebuild();
}

void PlotsPanel::setModel(QAbstractItemModel* layerModel) {
    if (model_) disconnect(model_, nullptr, this, nullptr);
    model_ = layerModel;
    if (model_) {
        connect(model_, &QAbstractItemModel::modelReset, this, &PlotsPanel::rebuild);
        connect(model_, &QAbstractItemModel::dataChanged, this, &PlotsPanel::refreshChosen);
    }
    rebuild();
}

int PlotsPanel::barCount() const { return worst_->data()->size(); }

double PlotsPanel::chosenValue(int row) const {
    if (row < 0 || row >= chosen_->data()->size()) return 0;
    return (chosen_->data()->constBegin() + row)->value;
}

void PlotsPanel::rebuild() {
    QVector<double> keys, worst;
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const int rows = model_ ? model_->rowCount() : 0;
    double top = 0;
    for (int row = 0; row < rows; ++row) {
        keys << row;
        worst << maxDelta(model_, row);
        top = std::max(top, worst.back());
        // Execution-order numbers: names do not fit under 20+ bars; the tooltip names the layer.
        if (row == 0 || (row + 1) % (rows <= 30 ? 5 : 10) == 0) ticker->addTick(row, QString::number(row + 1));
    }
    worst_->setData(keys, worst, true);
    worst_->setSelection(QCPDataSelection());
    plot_->xAxis->setTicker(ticker);
    plot_->xAxis->setRange(-0.6, std::max(rows, 1) - 0.4);
    plot_->yAxis->setRange(0, top > 0 ? top * 1.05 : 1.0);
    refreshChosen();
}

void PlotsPanel::refreshChosen() {
    QVector<double> keys, chosen;
    const int rows = model_ ? model_->rowCount() : 0;
    for (int row = 0; row < rows; ++row) {
        keys << row;
        chosen << model_->index(row, 0).data(LayerTableModel::DegradationRole).toDouble();
    }
    const QCPDataSelection selection = chosen_->selection();
    chosen_->setData(keys, chosen, true);
    chosen_->setSelection(selection);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

QList<int> PlotsPanel::selectedRows() const {
    QList<int> rows;
    for (const QCPDataRange& range : worst_->selection().dataRanges())
        for (int i = range.begin(); i < range.end(); ++i) rows << i;
    return rows;
}

void PlotsPanel::selectRows(const QList<int>& rows) {
    QCPDataSelection selection;
    for (int row : rows)
        if (row >= 0 && row < barCount()) selection.addDataRange(QCPDataRange(row, row + 1), false);
    selection.simplify();
    worst_->setSelection(selection);
    chosen_->setSelection(selection);
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
    QToolTip::showText(event->globalPosition().toPoint(), model_->index(row, 0).data(Qt::ToolTipRole).toString(), plot_);
}

void PlotsPanel::onMousePress(QMouseEvent* event) {
    const int row = rowAt(event->pos());
    if (row >= 0 && event->button() == Qt::LeftButton) Q_EMIT layerClicked(row);
}

}  // namespace ptq::ui
