#pragma once
/// @file
/// One IR node drawn as a box. Quantizable layers are larger and show name, op and the chosen
/// bits ("W4/A8") over a fill that encodes their current degradation; other ops are small grey
/// boxes with the op's name. A layer box knows its row in the layer model.

#include <QtGui/QColor>
#include <QtWidgets/QGraphicsItem>

namespace ptq::ui {

class GraphNodeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 2 };

    /// @p row is the layer-model row, -1 for ops that are not quantizable.
    GraphNodeItem(int index, int row, const QString& name, const QString& op, const QString& shape, const QSizeF& size);

    int index() const { return index_; }
    int row() const { return row_; }
    bool isLayer() const { return row_ >= 0; }
    QString name() const { return name_; }
    QString op() const { return op_; }
    QString bitsLabel() const { return bits_; }
    QColor fill() const { return fill_; }
    int type() const override { return Type; }

    /// Bits label and fill of a layer box (empty label and an invalid colour: no allocation).
    void setState(const QString& bits, const QColor& fill);
    void setHighlighted(bool on);

    /// The sizes the scene asks Graphviz for.
    static QSizeF layerSize() { return {178.0, 50.0}; }
    static QSizeF opSize() { return {96.0, 24.0}; }

    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    int index_, row_;
    QString name_, op_, shape_, bits_;
    QSizeF size_;
    QColor fill_;
    bool highlighted_ = false;
};

}  // namespace ptq::ui
