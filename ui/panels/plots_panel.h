#pragma once
/// @file
/// The Plots dock: the Pareto frontier (ParetoPlot) beside a per-layer sensitivity bar chart,
/// which reads LayerTableModel rows: each layer's worst-option Δloss as a pale bar and the
/// chosen option's Δloss in front of it. Bar selection is synced by layer-model rows.

#include <QtWidgets/QWidget>

class QAbstractItemModel;
class QCustomPlot;
class QCPBars;
class QMouseEvent;

namespace ptq::ui {

class ParetoPlot;

class PlotsPanel : public QWidget {
    Q_OBJECT
public:
    explicit PlotsPanel(QWidget* parent = nullptr);

    void setModel(QAbstractItemModel* layerModel);

    ParetoPlot* paretoPlot() const { return pareto_; }
    QCustomPlot* plot() const { return plot_; }
    /// Bars per series: one per layer model row.
    int barCount() const;
    /// The chosen option's Δloss bar of @p row (0 when none).
    double chosenValue(int row) const;

    QList<int> selectedRows() const;

public Q_SLOTS:
    void selectRows(const QList<int>& rows);

Q_SIGNALS:
    void layerClicked(int row);

private:
    void rebuild();
    void refreshChosen();
    int rowAt(const QPoint& pos) const;
    void onMouseMove(QMouseEvent* event);
    void onMousePress(QMouseEvent* event);

    ParetoPlot* pareto_;
    QCustomPlot* plot_;
    QCPBars* worst_;
    QCPBars* chosen_;
    QAbstractItemModel* model_ = nullptr;
};

}  // namespace ptq::ui
