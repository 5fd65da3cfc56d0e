#pragma once
/// @file
/// The Graph dock: the quantizable layers as boxes in execution order, with zoom controls.
/// Selection is exchanged as rows of the layer model.

#include <QtWidgets/QWidget>

class QAbstractItemModel;
class QLabel;

namespace ptq::ui {

class LayerGraphScene;
class LayerGraphView;

class GraphPanel : public QWidget {
    Q_OBJECT
public:
    explicit GraphPanel(QWidget* parent = nullptr);

    /// Reads LayerTableModel rows (or any model offering its roles).
    void setModel(QAbstractItemModel* layerModel, int nameColumn);

    LayerGraphScene* scene() const { return scene_; }
    LayerGraphView* view() const { return view_; }

public Q_SLOTS:
    /// Selects these layer-model rows' boxes (no selectedRowsChanged) and scrolls to the first.
    void selectRows(const QList<int>& rows);
    void fitToView();

Q_SIGNALS:
    /// The user selected boxes.
    void selectedRowsChanged(const QList<int>& rows);

private:
    void updateCaption();

    LayerGraphScene* scene_;
    LayerGraphView* view_;
    QLabel* caption_;
};

}  // namespace ptq::ui
