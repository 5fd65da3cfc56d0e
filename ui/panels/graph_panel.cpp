#include "ui/panels/graph_panel.h"

#include "ui/graph/layer_graph_scene.h"
#include "ui/graph/layer_graph_view.h"

#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QToolButton>
#include <QtWidgets/QVBoxLayout>

namespace ptq::ui {

namespace {
QToolButton* makeButton(const QString& text, const QString& tip, QWidget* parent) {
    auto* b = new QToolButton(parent);
    b->setText(text);
    b->setToolTip(tip);
    b->setAutoRaise(true);
    return b;
}
}  // namespace

GraphPanel::GraphPanel(QWidget* parent)
    : QWidget(parent), scene_(new LayerGraphScene(this)), view_(new LayerGraphView(scene_, this)),
      caption_(new QLabel(this)) {
    view_->setObjectName(QStringLiteral("graphView"));
    auto* fit = makeButton(tr("Fit"), tr("Show the whole graph (Ctrl+0)"), this);
    auto* zoomIn = makeButton(QStringLiteral("+"), tr("Zoom in (or turn the mouse wheel)"), this);
    auto* zoomOut = makeButton(QStringLiteral("−"), tr("Zoom out"), this);
    connect(fit, &QToolButton::clicked, view_, &LayerGraphView::fitToView);
    connect(zoomIn, &QToolButton::clicked, view_, &LayerGraphView::zoomIn);
    connect(zoomOut, &QToolButton::clicked, view_, &LayerGraphView::zoomOut);

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(4, 0, 4, 0);
    bar->addWidget(caption_, 1);
    bar->addWidget(zoomOut);
    bar->addWidget(zoomIn);
    bar->addWidget(fit);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(bar);
    layout->addWidget(view_, 1);

    connect(scene_, &LayerGraphScene::selectedRowsChanged, this, &GraphPanel::selectedRowsChanged);
    connect(scene_, &LayerGraphScene::layoutChanged, this, &GraphPanel::updateCaption);
    updateCaption();
}

void GraphPanel::setModel(QAbstractItemModel* layerModel, int nameColumn) {
    scene_->setModel(layerModel, nameColumn);
}

void GraphPanel::selectRows(const QList<int>& rows) {
    scene_->selectRows(rows);
    if (!rows.isEmpty()) view_->ensureRowVisible(rows.first());
}

void GraphPanel::fitToView() { view_->fitToView(); }

void GraphPanel::updateCaption() {
    const int n = scene_->nodeCount();
    caption_->setText(n == 0 ? tr("No model open")
                             : n == 1 ? tr("1 quantizable layer")
                                      : tr("%1 quantizable layers in execution order").arg(n));
}

}  // namespace ptq::ui
