#pragma once
/// @file
/// The Graph dock: the model's graph (every IR node, laid out by Graphviz dot) with zoom, fit
/// and search by name. Selection is exchanged as rows of the layer model.

#include <QtWidgets/QWidget>

class QAbstractItemModel;
class QLabel;
class QLineEdit;

namespace ptq {
struct DrawableGraph;
}

namespace ptq::ui {

class GraphScene;
class GraphView;

class GraphPanel : public QWidget {
    Q_OBJECT
public:
    explicit GraphPanel(QWidget* parent = nullptr);

    void setGraph(const ptq::DrawableGraph& graph);
    /// Layer boxes follow LayerTableModel rows (or any model offering its roles).
    void setLayerModel(QAbstractItemModel* layerModel);

    GraphScene* scene() const { return scene_; }
    GraphView* view() const { return view_; }
    QLineEdit* searchEdit() const { return search_; }

public Q_SLOTS:
    /// Selects these layer-model rows' boxes (no selectedRowsChanged) and shows the first.
    void selectRows(const QList<int>& rows);
    void fitToView();
    /// Shows and selects the next node whose name contains the search text.
    void findNext();

Q_SIGNALS:
    void selectedRowsChanged(const QList<int>& rows);

private:
    void updateCaption();

    GraphScene* scene_;
    GraphView* view_;
    QLabel* caption_;
    QLineEdit* search_;
    int lastFound_ = -1;
};

}  // namespace ptq::ui
