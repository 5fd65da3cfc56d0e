#include "ui/graph/layer_node_item.h"

#include <QtGui/QFontMetricsF>
#include <QtGui/QPainter>
#include <QtWidgets/QStyleOptionGraphicsItem>

namespace ptq::ui {

namespace {
struct Palette {
    QColor fill, border;
};

Palette paletteFor(const QString& kind) {
    if (kind == QLatin1String("linear")) return {QColor(0xfb, 0xe7, 0xd0), QColor(0xb8, 0x73, 0x1a)};
    if (kind.startsWith(QLatin1String("depthwise"))) return {QColor(0xdf, 0xf0, 0xe0), QColor(0x3c, 0x8d, 0x4f)};
    return {QColor(0xdd, 0xea, 0xf7), QColor(0x3b, 0x6e, 0xa5)};
}
}  // namespace

LayerNodeItem::LayerNodeItem(int row, const QString& name, const QString& kind,
                             const QString& outputShape, const QSizeF& size)
    : row_(row), name_(name), kind_(kind), outputShape_(outputShape), size_(size) {
    setFlag(ItemIsSelectable);
    setAcceptHoverEvents(true);
    setToolTip(QStringLiteral("%1\n%2 → %3").arg(name, kind, outputShape));
}

QRectF LayerNodeItem::boundingRect() const {
    // Room for the selection outline, which is drawn outside the box.
    return QRectF(QPointF(0, 0), size_).adjusted(-3, -3, 3, 3);
}

void LayerNodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    const Palette p = paletteFor(kind_);
    const QRectF box(QPointF(0, 0), size_);
    const bool selected = isSelected();
    const bool hovered = option->state & QStyle::State_MouseOver;

    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(QPen(selected ? QColor(0xe0, 0x8e, 0x00) : p.border, selected ? 3.0 : (hovered ? 2.0 : 1.2)));
    painter->setBrush(selected ? p.fill.darker(112) : p.fill);
    painter->drawRoundedRect(box, 6, 6);

    const QRectF text = box.adjusted(8, 4, -8, -4);
    QFont nameFont = painter->font();
    nameFont.setBold(true);
    painter->setFont(nameFont);
    painter->setPen(QColor(0x20, 0x20, 0x20));
    const QFontMetricsF nameMetrics(nameFont);
    painter->drawText(QRectF(text.left(), text.top(), text.width(), text.height() / 2),
                      Qt::AlignLeft | Qt::AlignVCenter,
                      nameMetrics.elidedText(name_, Qt::ElideMiddle, text.width()));

    QFont detailFont = painter->font();
    detailFont.setBold(false);
    painter->setFont(detailFont);
    painter->setPen(QColor(0x50, 0x50, 0x50));
    const QRectF lower(text.left(), text.center().y(), text.width(), text.height() / 2);
    painter->drawText(lower, Qt::AlignLeft | Qt::AlignVCenter, kind_);
    painter->drawText(lower, Qt::AlignRight | Qt::AlignVCenter, outputShape_);
}

}  // namespace ptq::ui
