#pragma once
/// @file
/// The model's graph as a scene: every IR node a box (GraphNodeItem), every data-flow edge a
/// curve, placed by Graphviz dot (graph_layout.h). Layer boxes take their bits label, colour
/// and tooltip from a layer item model (LayerTableModel's roles), so the graph follows the
/// table and the allocation. UI thread only.

#include "core/session/session.h"
#include "ui/graph/graph_layout.h"

#include <QtCore/QList>
#include <QtCore/QPointer>
#include <QtWidgets/QGraphicsScene>

class QAbstractItemModel;

namespace ptq::ui {

class GraphNodeItem;

/// Where @p value sits (0..1) on the colour scale whose top is @p scale: log spaced over the
/// three decades below the top, 0 for no (or negative) degradation.
double degradationPosition(double value, double scale);
/// The inverse: the degradation at position @p t of the scale.
double degradationAtPosition(double t, double scale);
/// The fill of a degradation @p value: light green for none, yellow, then red at the top.
QColor degradationColor(double value, double scale);

class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(QObject* parent = nullptr);
    ~GraphScene() override;

    /// Replaces the drawing with @p graph (node i of the drawing is item i) and lays it out.
    void setGraph(const ptq::DrawableGraph& graph);
    void clearGraph();
    /// Layer boxes read row r of @p model for the node whose drawing layer is r.
    void setLayerModel(QAbstractItemModel* model);

    int nodeCount() const { return int(nodes_.size()); }
    int edgeCount() const { return edgeCount_; }
    GraphNodeItem* nodeAt(int index) const;
    GraphNodeItem* nodeForRow(int row) const;
    /// Milliseconds the last layout took in Graphviz.
    double lastLayoutMs() const { return layoutMs_; }
    /// Largest degradation of the colour scale (0 before a table).
    double colorScale() const { return scale_; }

    /// The first node (after @p after) whose name contains @p text, case-insensitively; -1.
    int findNode(const QString& text, int after = -1) const;

    QList<int> selectedRows() const;
    /// Selects exactly these rows' boxes without emitting selectedRowsChanged.
    void selectRows(const QList<int>& rows);

Q_SIGNALS:
    void selectedRowsChanged(const QList<int>& rows);
    void layoutChanged();

protected:
    void helpEvent(QGraphicsSceneHelpEvent* event) override;

private:
    void refreshLayers(int firstRow, int lastRow);
    void onSelectionChanged();

    QPointer<QAbstractItemModel> model_;
    std::vector<GraphNodeItem*> nodes_;
    std::vector<GraphNodeItem*> byRow_;
    std::vector<QString> opTips_;
    int edgeCount_ = 0;
    double layoutMs_ = 0;
    double scale_ = 0;
    bool settingSelection_ = false;
};

}  // namespace ptq::ui
