#pragma once
/// @file
/// The layers of a layer model (LayerTableModel's rows) as a scene of boxes and edges, placed
/// by graph_layout. Reads the item model only. UI thread only.

#include "ui/graph/graph_layout.h"

#include <QtCore/QList>
#include <QtCore/QPointer>
#include <QtWidgets/QGraphicsScene>

class QAbstractItemModel;

namespace ptq::ui {

class LayerNodeItem;

class LayerGraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit LayerGraphScene(QObject* parent = nullptr);
    ~LayerGraphScene() override;

    /// Rows of @p model become boxes: the name from column @p nameColumn, kind and output
    /// shape from LayerTableModel's KindRole and OutputShapeRole. Rebuilt on every reset.
    void setModel(QAbstractItemModel* model, int nameColumn);

    /// Width / height the layout aims for (the view's shape); lays out again when that changes
    /// the number of columns.
    void setTargetAspect(double aspect);
    double targetAspect() const { return targetAspect_; }

    LayerNodeItem* nodeForRow(int row) const;
    int nodeCount() const { return int(nodes_.size()); }

    /// Source-model rows of the selected boxes, ascending.
    QList<int> selectedRows() const;
    /// Selects exactly these rows' boxes without emitting selectedRowsChanged.
    void selectRows(const QList<int>& rows);

    /// Lays the boxes out again (e.g. after the view changed shape a lot).
    void relayout();

Q_SIGNALS:
    /// The user changed which boxes are selected.
    void selectedRowsChanged(const QList<int>& rows);
    /// Boxes were added, removed or moved; views may want to fit again.
    void layoutChanged();

private:
    void rebuild();
    void onSelectionChanged();
    GraphLayoutInput layoutInput(double aspect) const;
    int columnsFor(double aspect) const;

    QPointer<QAbstractItemModel> model_;
    int nameColumn_ = 0;
    double targetAspect_ = 1.0;
    int columns_ = 0;
    std::vector<LayerNodeItem*> nodes_;
    std::vector<QGraphicsItem*> edges_;
    bool settingSelection_ = false;
};

}  // namespace ptq::ui
