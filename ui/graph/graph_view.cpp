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
    const QRect bar(viewport()->width() - 196, viewport()->height() - 46, 170, 10);
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor(255, 255, 255, 230));
    painter->drawRoundedRect(bar.adjusted(-12, -20, 12, 24), 4, 4);
    QLinearGradient gradient(bar.topLeft(), bar.topRight());
    const double scale = scene_->colorScale();
    for (int i = 0; i <= 10; ++i) gradient.setColorAt(i / 10.0, degradationColor(degradationAtPosition(i / 10.0, scale), scale));
    painter->setBrush(gradient);
    painter->setPen(QColor(0x9e9e9e));
    painter->drawRect(bar);
    QFont font = painter->font();
    font.setPointSizeF(7.5);
    painter->setFont(font);
    painter->setPen(QColor(0x424242));
    painter->drawText(QRect(bar.left() - 10, bar.top() - 18, bar.width() + 20, 14), Qt::AlignCenter,
                      tr("layer's predicted Δloss (log scale)"));
    auto label = [&](double t, Qt::Alignment align) {
        const int x = bar.left() + int(t * bar.width());
        const QRect r = align == Qt::AlignLeft ? QRect(x, bar.bottom() + 2, 60, 14)
                        : align == Qt::AlignRight ? QRect(x - 60, bar.bottom() + 2, 60, 14)
                                                  : QRect(x - 30, bar.bottom() + 2, 60, 14);
        painter->drawText(r, int(align), t == 0 ? QStringLiteral("≤ 0") : QString::number(degradationAtPosition(t, scale), 'g', 2));
    };
    if (scale > 0) {
        label(0, Qt::AlignLeft);
        label(0.5, Qt::AlignHCenter);
        label(1, Qt::AlignRight);
    }
    painter->restore();
}

}  // namespace ptq::ui
