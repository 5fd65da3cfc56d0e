#include "ui/graph/graph_scene.h"

#include "ui/format.h"
#include "ui/graph/graph_node_item.h"
#include "ui/models/layer_table_model.h"

#include <QtCore/QAbstractItemModel>
#include <QtCore/QElapsedTimer>
#include <QtGui/QPainterPath>
#include <QtWidgets/QGraphicsPathItem>
#include <QtWidgets/QGraphicsSceneHelpEvent>
#include <QtWidgets/QGraphicsView>
#include <QtWidgets/QToolTip>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

double degradationPosition(double value, double scale) {
    if (scale <= 0 || value <= 0) return 0.0;
    // Log spacing over three decades below the top: layer errors span orders of magnitude.
    const double floor = scale / 1000.0;
    return std::clamp(std::log10(1.0 + value / floor) / std::log10(1.0 + scale / floor), 0.0, 1.0);
}

double degradationAtPosition(double t, double scale) {
    const double floor = scale / 1000.0;
    return floor * (std::pow(1.0 + scale / floor, t) - 1.0);
}

QColor degradationColor(double value, double scale) {
    const double t = degradationPosition(value, scale);
    // light green -> yellow -> orange-red, interpolated in two halves
    const QColor a(0xd9, 0xf0, 0xd3), b(0xfe, 0xe0, 0x8b), c(0xf4, 0x6d, 0x43);
    auto mix = [](const QColor& x, const QColor& y, double f) {
        return QColor::fromRgbF(float(x.redF() + (y.redF() - x.redF()) * f), float(x.greenF() + (y.greenF() - x.greenF()) * f),
                                float(x.blueF() + (y.blueF() - x.blueF()) * f));
    };
    return t < 0.5 ? mix(a, b, t * 2) : mix(b, c, (t - 0.5) * 2);
}

GraphScene::GraphScene(QObject* parent) : QGraphicsScene(parent) {
    setItemIndexMethod(QGraphicsScene::BspTreeIndex);
    connect(this, &QGraphicsScene::selectionChanged, this, &GraphScene::onSelectionChanged);
}

GraphScene::~GraphScene() {
    // QGraphicsScene's destructor deletes the items and emits selectionChanged on the way.
    settingSelection_ = true;
    nodes_.clear();
    byRow_.clear();
}

void GraphScene::clearGraph() {
    settingSelection_ = true;
    clear();
    settingSelection_ = false;
    nodes_.clear();
    byRow_.clear();
    opTips_.clear();
    edgeCount_ = 0;
}

void GraphScene::setGraph(const ptq::DrawableGraph& graph) {
    clearGraph();
    GraphLayoutInput input;
    input.edges = graph.edges;
    for (const auto& n : graph.nodes)
        input.nodeSizes.push_back(n.layer >= 0 ? GraphNodeItem::layerSize() : GraphNodeItem::opSize());
    QElapsedTimer clock;
    clock.start();
    const GraphLayout layout = layoutWithDot(input);
    layoutMs_ = double(clock.nsecsElapsed()) / 1e6;

    const QPen edgePen(QColor(0x9e9e9e), 1.2);
    for (size_t e = 0; e < layout.edges.size(); ++e) {
        const auto& spline = layout.edges[e].spline;
        if (spline.size() < 4) continue;
        QPainterPath path(spline[0]);
        for (size_t k = 1; k + 2 < spline.size(); k += 3) path.cubicTo(spline[k], spline[k + 1], spline[k + 2]);
        if (layout.edges[e].hasArrow) {
            const QPointF tip = layout.edges[e].arrowTip, from = spline.back();
            path.lineTo(tip);
            const QPointF d = tip - from;
            const double len = std::hypot(d.x(), d.y());
            if (len > 0) {
                const QPointF u = d / len, n(-u.y(), u.x());
                QPainterPath head(tip);
                head.lineTo(tip - u * 7 + n * 3.5);
                head.lineTo(tip - u * 7 - n * 3.5);
                head.closeSubpath();
                auto* h = addPath(head, Qt::NoPen, QColor(0x9e9e9e));
                h->setZValue(-1);
            }
        }
        auto* item = addPath(path, edgePen);
        item->setZValue(-1);
        ++edgeCount_;
    }
    int rows = 0;
    for (const auto& n : graph.nodes) rows = std::max(rows, n.layer + 1);
    byRow_.assign(size_t(rows), nullptr);
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
        const auto& n = graph.nodes[i];
        const QString shape = formatShape(n.outputShape);
        auto* item = new GraphNodeItem(int(i), n.layer, QString::fromStdString(n.name), QString::fromStdString(n.op),
                                       shape, input.nodeSizes[i]);
        item->setPos(layout.nodes[i].center());
        addItem(item);
        nodes_.push_back(item);
        if (n.layer >= 0) byRow_[size_t(n.layer)] = item;
        opTips_.push_back(QStringLiteral("<b>%1</b> (%2)<br>output %3")
                              .arg(QString::fromStdString(n.name).toHtmlEscaped(), QString::fromStdString(n.op), shape));
    }
    setSceneRect(layout.bounds);
    if (model_) refreshLayers(0, model_->rowCount() - 1);
    Q_EMIT layoutChanged();
}

void GraphScene::setLayerModel(QAbstractItemModel* model) {
    if (model_) disconnect(model_, nullptr, this, nullptr);
    model_ = model;
    if (!model_) return;
    connect(model_, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex& a, const QModelIndex& b) { refreshLayers(a.row(), b.row()); });
    connect(model_, &QAbstractItemModel::modelReset, this, [this] { refreshLayers(0, model_->rowCount() - 1); });
    refreshLayers(0, model_->rowCount() - 1);
}

void GraphScene::refreshLayers(int firstRow, int lastRow) {
    if (!model_ || model_->rowCount() == 0) return;
    scale_ = model_->index(0, 0).data(LayerTableModel::DegradationScaleRole).toDouble();
    for (int row = std::max(0, firstRow); row <= lastRow && row < int(byRow_.size()); ++row) {
        GraphNodeItem* item = byRow_[size_t(row)];
        if (!item || row >= model_->rowCount()) continue;
        const QModelIndex index = model_->index(row, 0);
        const QVariant degradation = index.data(LayerTableModel::DegradationRole);
        item->setState(index.data(LayerTableModel::BitsLabelRole).toString(),
                       degradation.isValid() ? degradationColor(degradation.toDouble(), scale_) : QColor());
    }
}

GraphNodeItem* GraphScene::nodeAt(int index) const {
    return index >= 0 && index < int(nodes_.size()) ? nodes_[size_t(index)] : nullptr;
}

GraphNodeItem* GraphScene::nodeForRow(int row) const {
    return row >= 0 && row < int(byRow_.size()) ? byRow_[size_t(row)] : nullptr;
}

int GraphScene::findNode(const QString& text, int after) const {
    if (text.isEmpty() || nodes_.empty()) return -1;
    const int n = int(nodes_.size());
    for (int k = 1; k <= n; ++k) {
        const int i = (after + k) % n;
        if (i < 0) continue;
        if (nodes_[size_t(i)]->name().contains(text, Qt::CaseInsensitive)) return i;
    }
    return -1;
}

QList<int> GraphScene::selectedRows() const {
    QList<int> rows;
    for (GraphNodeItem* item : byRow_)
        if (item && item->isSelected()) rows << item->row();
    std::sort(rows.begin(), rows.end());
    return rows;
}

void GraphScene::selectRows(const QList<int>& rows) {
    settingSelection_ = true;
    clearSelection();
    for (int row : rows)
        if (GraphNodeItem* item = nodeForRow(row)) item->setSelected(true);
    settingSelection_ = false;
}

void GraphScene::onSelectionChanged() {
    if (!settingSelection_) Q_EMIT selectedRowsChanged(selectedRows());
}

void GraphScene::helpEvent(QGraphicsSceneHelpEvent* event) {
    QGraphicsView* view = event->widget() ? qobject_cast<QGraphicsView*>(event->widget()->parentWidget()) : nullptr;
    const QTransform transform = view ? view->transform() : QTransform();
    for (QGraphicsItem* item : items(event->scenePos(), Qt::IntersectsItemShape, Qt::DescendingOrder, transform)) {
        auto* node = qgraphicsitem_cast<GraphNodeItem*>(item);
        if (!node) continue;
        QString tip = opTips_[size_t(node->index())];
        if (node->isLayer() && model_ && node->row() < model_->rowCount())
            tip = model_->index(node->row(), 0).data(Qt::ToolTipRole).toString();
        QToolTip::showText(event->screenPos(), tip, event->widget());
        event->accept();
        return;
    }
    QToolTip::hideText();
    event->ignore();
}

}  // namespace ptq::ui
