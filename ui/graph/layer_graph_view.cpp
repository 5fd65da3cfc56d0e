#include "ui/graph/layer_graph_view.h"

#include "ui/graph/layer_graph_scene.h"
#include "ui/graph/layer_node_item.h"

#include <QtGui/QWheelEvent>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
constexpr double kMinZoom = 0.05, kMaxZoom = 4.0;
}

LayerGraphView::LayerGraphView(LayerGraphScene* scene, QWidget* parent)
    : QGraphicsView(scene, parent), scene_(scene) {
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setBackgroundBrush(QColor(0xfa, 0xfa, 0xfa));
    connect(scene_, &LayerGraphScene::layoutChanged, this, &LayerGraphView::onSceneLayoutChanged);
}

double LayerGraphView::zoom() const { return transform().m11(); }

void LayerGraphView::fitToView() {
    autoFit_ = true;
    const QRectF rect = scene_->sceneRect();
    if (rect.isEmpty() || viewport()->width() < 8 || viewport()->height() < 8) return;
    const double scale = std::min({double(viewport()->width()) / rect.width(),
                                   double(viewport()->height()) / rect.height(), 1.0});
    setTransform(QTransform::fromScale(scale, scale));
    centerOn(rect.center());
}

void LayerGraphView::zoomIn() { zoomBy(1.25); }
void LayerGraphView::zoomOut() { zoomBy(1.0 / 1.25); }

void LayerGraphView::zoomBy(double factor) {
    const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
    autoFit_ = false;
    scale(target / zoom(), target / zoom());
}

void LayerGraphView::ensureRowVisible(int row) {
    if (LayerNodeItem* node = scene_->nodeForRow(row)) ensureVisible(node, 16, 16);
}

void LayerGraphView::wheelEvent(QWheelEvent* event) {
    const int delta = event->angleDelta().y();
    if (delta == 0) {
        QGraphicsView::wheelEvent(event);
        return;
    }
    zoomBy(std::pow(1.0015, delta));  // one notch (120) ≈ 20 %
    event->accept();
}

void LayerGraphView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    if (viewport()->height() > 0)
        scene_->setTargetAspect(double(viewport()->width()) / double(viewport()->height()));
    if (autoFit_) fitToView();
}

void LayerGraphView::onSceneLayoutChanged() {
    if (autoFit_) fitToView();
}

}  // namespace ptq::ui
