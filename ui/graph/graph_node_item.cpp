#include "ui/graph/graph_node_item.h"

#include <QtGui/QFontMetricsF>
#include <QtGui/QPainter>
#include <QtWidgets/QStyleOptionGraphicsItem>

namespace ptq::ui {

GraphNodeItem::GraphNodeItem(int index, int row, const QString& name, const QString& op, const QString& shape,
                             const QSizeF& size)
    : index_(index), row_(row), name_(name), op_(op), shape_(shape), size_(size) {
    setFlag(ItemIsSelectable, isLayer());
    setAcceptHoverEvents(true);
    setCacheMode(DeviceCoordinateCache);
}

void GraphNodeItem::setState(const QString& bits, const QColor& fill) {
    if (bits == bits_ && fill == fill_) return;
    bits_ = bits;
    fill_ = fill;
    update();
}

void GraphNodeItem::setHighlighted(bool on) {
    if (on == highlighted_) return;
    highlighted_ = on;
    update();
}

QRectF GraphNodeItem::boundingRect() const {
    return QRectF(QPointF(-size_.width() / 2, -size_.height() / 2), size_).adjusted(-3, -3, 3, 3);
}

void GraphNodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    const QRectF box(QPointF(-size_.width() / 2, -size_.height() / 2), size_);
    const bool selected = option->state & QStyle::State_Selected;
    QPen pen(selected ? QColor(0x1565c0) : highlighted_ ? QColor(0xe65100) : QColor(0x757575),
             selected || highlighted_ ? 2.5 : 1.0);
    painter->setPen(pen);
    painter->setBrush(isLayer() ? (fill_.isValid() ? fill_ : QColor(0xffffff)) : QColor(0xeeeeee));
    painter->drawRoundedRect(box, 5, 5);

    QFont font = painter->font();
    if (!isLayer()) {
        font.setPointSizeF(7.5);
        painter->setFont(font);
        painter->setPen(QColor(0x424242));
        painter->drawText(box, Qt::AlignCenter, op_);
        return;
    }
    const QRectF inner = box.adjusted(6, 3, -6, -3);
    const double line = inner.height() / 3;
    font.setPointSizeF(8.5);
    font.setBold(true);
    painter->setFont(font);
    painter->setPen(QColor(0x212121));
    const QString name = QFontMetricsF(font).elidedText(name_, Qt::ElideMiddle, inner.width());
    painter->drawText(QRectF(inner.left(), inner.top(), inner.width(), line), Qt::AlignLeft | Qt::AlignVCenter, name);
    font.setBold(false);
    font.setPointSizeF(7.5);
    painter->setFont(font);
    painter->setPen(QColor(0x424242));
    painter->drawText(QRectF(inner.left(), inner.top() + line, inner.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                      QStringLiteral("%1  %2").arg(op_, shape_));
    font.setBold(true);
    font.setPointSizeF(8.5);
    painter->setFont(font);
    painter->setPen(QColor(0x212121));
    painter->drawText(QRectF(inner.left(), inner.top() + 2 * line, inner.width(), line),
                      Qt::AlignLeft | Qt::AlignVCenter, bits_.isEmpty() ? QStringLiteral("—") : bits_);
}

}  // namespace ptq::ui
