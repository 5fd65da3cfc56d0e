#pragma once
/// @file
/// The Plots dock: per-layer parameter counts and MACs as bars on log axes, layer names under
/// them. Reads LayerTableModel rows.

#include <QtWidgets/QWidget>

class QAbstractItemModel;
class QCustomPlot;
class QCPBars;
class QMouseEvent;

namespace ptq::ui {

class PlotsPanel : public QWidget {
    Q_OBJECT
public:
    explicit PlotsPanel(QWidget* parent = nullptr);

    void setModel(QAbstractItemModel* layerModel);

    QCustomPlot* plot() const { return plot_; }
    /// Bars drawn per series (params, MACs): one per layer model row.
    int barCount() const;

    /// Layer-model rows whose bars are highlighted, ascending.
    QList<int> selectedRows() const;

public Q_SLOTS:
    /// Highlights these layer-model rows' bars.
    void selectRows(const QList<int>& rows);

Q_SIGNALS:
    /// The user clicked the bars of this layer-model row.
    void layerClicked(int row);

private:
    void rebuild();
    int rowAt(const QPoint& pos) const;
    void onMouseMove(QMouseEvent* event);
    void onMousePress(QMouseEvent* event);

    QCustomPlot* plot_;
    QCPBars* params_;
    QCPBars* macs_;
    QAbstractItemModel* model_ = nullptr;
};

}  // namespace ptq::ui
