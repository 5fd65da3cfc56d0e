#pragma once
/// @file
/// A QGraphicsView for the layer graph: wheel zoom around the cursor, fit-to-view, and it
/// keeps the drawing fitted while the dock resizes until the user zooms by hand.

#include <QtWidgets/QGraphicsView>

namespace ptq::ui {

class LayerGraphScene;

class LayerGraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit LayerGraphView(LayerGraphScene* scene, QWidget* parent = nullptr);

    /// The current zoom factor (1 = 100 %).
    double zoom() const;

public Q_SLOTS:
    /// Shows the whole drawing (never magnified past 100 %) and follows resizes again.
    void fitToView();
    void zoomIn();
    void zoomOut();
    /// Scrolls so that @p row's box is visible.
    void ensureRowVisible(int row);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void zoomBy(double factor);
    void onSceneLayoutChanged();

    LayerGraphScene* scene_;
    bool autoFit_ = true;
};

}  // namespace ptq::ui
