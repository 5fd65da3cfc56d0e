#include "ui/graph/graph_view.h"

#include "ui/graph/graph_node_item.h"
#include "ui/graph/graph_scene.h"

#include <QtGui/QLinearGradient>
#include <QtGui/QPainter>
#include <QtGui/QWheelEvent>

#include <algorithm>
#include <cmath>

namespace ptq::ui {

namespace {
constexpr double kMinZoom = 0.03, kMaxZoom = 4.0;
}

GraphView::GraphView(GraphScene* scene, QWidget* parent) : QGraphicsView(scene, parent), scene_(scene) {
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setViewportUpdateMode(QGraphicsView::SmartViewportUpdate);
    setBackgroundBrush(QColor(0xfa, 0xfa, 0xfa));
    connect(scene_, &GraphScene::layoutChanged, this, [this] {
        autoFit_ = true;
        fitToWidth();
    });
}

double GraphView::zoom() const { return transform().m11(); }

void GraphView::fitToView() {
    const QRectF rect = scene_->sceneRect();
    if (rect.isEmpty() || viewport()->width() < 8 || viewport()->height() < 8) return;
    const double s = std::min({double(viewport()->width()) / rect.width(), double(viewport()->height()) / rect.height(), 1.0});
    setTransform(QTransform::fromScale(s, s));
    centerOn(rect.center());
    autoFit_ = false;
}

void GraphView::fitToWidth() {
    const QRectF rect = scene_->sceneRect();
    if (rect.isEmpty() || viewport()->width() < 8) return;
    const double s = std::clamp(double(viewport()->width() - 4) / rect.width(), kMinZoom, 1.0);
    setTransform(QTransform::fromScale(s, s));
    centerOn(QPointF(rect.center().x(), rect.top() + viewport()->height() / (2 * s)));
}

void GraphView::zoomIn() { zoomBy(1.25); }
void GraphView::zoomOut() { zoomBy(1.0 / 1.25); }

void GraphView::zoomBy(double factor) {
    const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
    autoFit_ = false;
    scale(target / zoom(), target / zoom());
}

void GraphView::showNode(int index) {
    if (GraphNodeItem* node = scene_->nodeAt(index)) {
        autoFit_ = false;
        centerOn(node);
    }
}

void GraphView::wheelEvent(QWheelEvent* event) {
    const int delta = event->angleDelta().y();
    if (delta == 0) {
        QGraphicsView::wheelEvent(event);
        return;
    }
    zoomBy(std::pow(1.0015, delta));  // one notch (120) ≈ 20 %
    event->accept();
}

void GraphView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    if (autoFit_) fitToWidth();
}

void GraphView::drawForeground(QPainter* painter, const QRectF&) {
    if (scene_->nodeCount() == 0) return;
    // The legend stays put in viewport coordinates whatever the zoom.
    painter->save();
    painter->resetTransform();
    const QRect bar(viewport()->width() - 150, viewport()->height() - 46, 130, 10);
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor(255, 255, 255, 225));
    painter->drawRoundedRect(bar.adjusted(-10, -20, 10, 24), 4, 4);
    QLinearGradient gradient(bar.topLeft(), bar.topRight());
    const double scale = scene_->colorScale();
    for (int i = 0; i <= 10; ++i) gradient.setColorAt(i / 10.0, degradationColor(scale * i * i / 100.0, scale));
    painter->setBrush(gradient);
    painter->setPen(QColor(0x9e9e9e));
    painter->drawRect(bar);
    QFont font = painter->font();
    font.setPointSizeF(7.5);
    painter->setFont(font);
    painter->setPen(QColor(0x424242));
    painter->drawText(QRect(bar.left(), bar.top() - 17, bar.width(), 14), Qt::AlignCenter,
                      tr("predicted Δloss of the layer"));
    painter->drawText(QRect(bar.left(), bar.bottom() + 2, 40, 14), Qt::AlignLeft, QStringLiteral("0"));
    painter->drawText(QRect(bar.right() - 60, bar.bottom() + 2, 60, 14), Qt::AlignRight,
                      scale > 0 ? QString::number(scale, 'g', 2) : QStringLiteral("—"));
    painter->restore();
}

}  // namespace ptq::ui
