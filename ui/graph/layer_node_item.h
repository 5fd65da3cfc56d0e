#pragma once
/// @file
/// One layer drawn as a box: name, then kind and output shape. Knows its row in the layer
/// model, which is how graph and table selections meet.

#include <QtWidgets/QGraphicsItem>

namespace ptq::ui {

class LayerNodeItem : public QGraphicsItem {
public:
    enum { Type = UserType + 1 };

    LayerNodeItem(int row, const QString& name, const QString& kind, const QString& outputShape,
                  const QSizeF& size);

    int row() const { return row_; }
    QString name() const { return name_; }
    int type() const override { return Type; }

    QRectF boundingRect() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

private:
    int row_;
    QString name_, kind_, outputShape_;
    QSizeF size_;
};

}  // namespace ptq::ui
