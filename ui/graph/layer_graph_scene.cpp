#include "ui/graph/layer_graph_scene.h"

#include "ui/graph/graph_layout.h"
#include "ui/graph/layer_node_item.h"
#include "ui/models/layer_table_model.h"

#include <QtCore/QAbstractItemModel>
#include <QtCore/QLineF>
#include <QtGui/QPainterPath>
#include <QtGui/QPen>
#include <QtGui/QPolygonF>
#include <QtWidgets/QGraphicsPathItem>
#include <QtWidgets/QGraphicsPolygonItem>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
const QSizeF kNodeSize(200.0, 50.0);
const QColor kEdgeColour(0x70, 0x70, 0x70);

QGraphicsItem* makeEdge(const std::vector<QPointF>& points) {
    QPainterPath path(points.front());
    for (size_t i = 1; i < points.size(); ++i) path.lineTo(points[i]);
    auto* line = new QGraphicsPathItem(path);
    line->setPen(QPen(kEdgeColour, 1.4));
    line->setZValue(-1);

    // Arrowhead along the last segment.
    const QLineF last(points[points.size() - 2], points.back());
    const double angle = std::atan2(last.dy(), last.dx());
    const double size = 7.0;
    const QPointF tip = points.back();
    QPolygonF head;
    head << tip << tip - QPointF(std::cos(angle - 0.45) * size, std::sin(angle - 0.45) * size)
         << tip - QPointF(std::cos(angle + 0.45) * size, std::sin(angle + 0.45) * size);
    auto* arrow = new QGraphicsPolygonItem(head, line);
    arrow->setPen(Qt::NoPen);
    arrow->setBrush(kEdgeColour);
    return line;
}
}  // namespace

LayerGraphScene::LayerGraphScene(QObject* parent) : QGraphicsScene(parent) {
    connect(this, &QGraphicsScene::selectionChanged, this, &LayerGraphScene::onSelectionChanged);
}

LayerGraphScene::~LayerGraphScene() {
    // ~QGraphicsScene deletes the boxes and reports selection changes while doing so; by then
    // this part of the object is gone.
    disconnect(this, &QGraphicsScene::selectionChanged, this, &LayerGraphScene::onSelectionChanged);
    nodes_.clear();
}

void LayerGraphScene::setModel(QAbstractItemModel* model, int nameColumn) {
    if (model_) disconnect(model_, nullptr, this, nullptr);
    model_ = model;
    nameColumn_ = nameColumn;
    if (model_) {
        connect(model_, &QAbstractItemModel::modelReset, this, &LayerGraphScene::rebuild);
        connect(model_, &QAbstractItemModel::rowsInserted, this, &LayerGraphScene::rebuild);
        connect(model_, &QAbstractItemModel::rowsRemoved, this, &LayerGraphScene::rebuild);
        connect(model_, &QAbstractItemModel::dataChanged, this, &LayerGraphScene::rebuild);
    }
    rebuild();
}

void LayerGraphScene::setTargetAspect(double aspect) {
    targetAspect_ = aspect > 0.0 ? aspect : 1.0;
    // Re-fold only when the fold changes: the boxes stay put while a dock is dragged a little.
    if (!nodes_.empty() && columnsFor(targetAspect_) != columns_) relayout();
}

GraphLayoutInput LayerGraphScene::layoutInput(double aspect) const {
    GraphLayoutInput input;
    input.nodeCount = int(nodes_.size());
    input.edges = chainEdges(input.nodeCount);
    input.nodeSize = kNodeSize;
    input.targetAspect = aspect;
    return input;
}

int LayerGraphScene::columnsFor(double aspect) const { return chooseColumnCount(layoutInput(aspect)); }

LayerNodeItem* LayerGraphScene::nodeForRow(int row) const {
    return row >= 0 && row < int(nodes_.size()) ? nodes_[size_t(row)] : nullptr;
}

QList<int> LayerGraphScene::selectedRows() const {
    QList<int> rows;
    for (const LayerNodeItem* node : nodes_)
        if (node->isSelected()) rows << node->row();
    return rows;
}

void LayerGraphScene::selectRows(const QList<int>& rows) {
    settingSelection_ = true;
    for (LayerNodeItem* node : nodes_) node->setSelected(rows.contains(node->row()));
    settingSelection_ = false;
}

void LayerGraphScene::onSelectionChanged() {
    if (!settingSelection_) Q_EMIT selectedRowsChanged(selectedRows());
}

void LayerGraphScene::rebuild() {
    settingSelection_ = true;
    clear();  // deletes the items; nodes_ and edges_ dangle until reset below
    nodes_.clear();
    edges_.clear();
    settingSelection_ = false;
    if (!model_) return;

    const int count = model_->rowCount();
    for (int row = 0; row < count; ++row) {
        const QModelIndex index = model_->index(row, nameColumn_);
        auto* node = new LayerNodeItem(row, index.data(Qt::DisplayRole).toString(),
                                       index.data(LayerTableModel::KindRole).toString(),
                                       index.data(LayerTableModel::OutputShapeRole).toString(),
                                       kNodeSize);
        addItem(node);
        nodes_.push_back(node);
    }
    relayout();
}

void LayerGraphScene::relayout() {
    for (QGraphicsItem* edge : edges_) {
        removeItem(edge);
        delete edge;
    }
    edges_.clear();

    const GraphLayoutInput input = layoutInput(targetAspect_);
    columns_ = chooseColumnCount(input);
    const GraphLayout layout = layoutChainInColumns(input);
    for (size_t i = 0; i < nodes_.size(); ++i) nodes_[i]->setPos(layout.nodes[i].topLeft());
    for (const auto& points : layout.edges) {
        if (points.size() < 2) continue;
        QGraphicsItem* edge = makeEdge(points);
        addItem(edge);
        edges_.push_back(edge);
    }
    setSceneRect(layout.bounds);
    Q_EMIT layoutChanged();
}

}  // namespace ptq::ui
