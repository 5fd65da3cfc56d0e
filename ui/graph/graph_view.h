#pragma once
/// @file
/// A QGraphicsView for the model graph: wheel zoom around the cursor, drag to pan, fit, and a
/// legend of the degradation colour scale drawn over the viewport. Opens fitted to the width
/// (labels stay readable on deep graphs); Fit shows everything.

#include <QtWidgets/QGraphicsView>

namespace ptq::ui {

class GraphScene;

class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(GraphScene* scene, QWidget* parent = nullptr);

    double zoom() const;

public Q_SLOTS:
    /// Shows the whole drawing (never magnified past 100 %).
    void fitToView();
    /// Fits the drawing's width (at most 100 %) and scrolls to the top.
    void fitToWidth();
    void zoomIn();
    void zoomOut();
    /// Centres on node @p index of the scene.
    void showNode(int index);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void drawForeground(QPainter* painter, const QRectF& rect) override;

private:
    void zoomBy(double factor);

    GraphScene* scene_;
    bool autoFit_ = true;
};

}  // namespace ptq::ui
