#include "ui/panels/graph_panel.h"

#include "ui/graph/graph_node_item.h"
#include "ui/graph/graph_scene.h"
#include "ui/graph/graph_view.h"

#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
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
    : QWidget(parent), scene_(new GraphScene(this)), view_(new GraphView(scene_, this)), caption_(new QLabel(this)),
      search_(new QLineEdit(this)) {
    view_->setObjectName(QStringLiteral("graphView"));
    search_->setObjectName(QStringLiteral("graphSearch"));
    search_->setPlaceholderText(tr("Find node…"));
    search_->setClearButtonEnabled(true);
    search_->setMaximumWidth(160);
    auto* fit = makeButton(tr("Fit"), tr("Show the whole graph (Ctrl+0)"), this);
    auto* zoomIn = makeButton(QStringLiteral("+"), tr("Zoom in (or turn the mouse wheel)"), this);
    auto* zoomOut = makeButton(QStringLiteral("−"), tr("Zoom out"), this);
    connect(fit, &QToolButton::clicked, view_, &GraphView::fitToView);
    connect(zoomIn, &QToolButton::clicked, view_, &GraphView::zoomIn);
    connect(zoomOut, &QToolButton::clicked, view_, &GraphView::zoomOut);
    connect(search_, &QLineEdit::returnPressed, this, &GraphPanel::findNext);
    connect(search_, &QLineEdit::textChanged, this, [this] { lastFound_ = -1; });

    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(4, 0, 4, 0);
    bar->addWidget(caption_, 1);
    bar->addWidget(search_);
    bar->addWidget(zoomOut);
    bar->addWidget(zoomIn);
    bar->addWidget(fit);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(bar);
    layout->addWidget(view_, 1);

    connect(scene_, &GraphScene::selectedRowsChanged, this, &GraphPanel::selectedRowsChanged);
    connect(scene_, &GraphScene::layoutChanged, this, &GraphPanel::updateCaption);
    updateCaption();
}

void GraphPanel::setGraph(const ptq::DrawableGraph& graph) { scene_->setGraph(graph); }

void GraphPanel::setLayerModel(QAbstractItemModel* layerModel) { scene_->setLayerModel(layerModel); }

void GraphPanel::selectRows(const QList<int>& rows) {
    scene_->selectRows(rows);
    if (!rows.isEmpty())
        if (GraphNodeItem* node = scene_->nodeForRow(rows.first())) view_->ensureVisible(node, 16, 16);
}

void GraphPanel::fitToView() { view_->fitToView(); }

void GraphPanel::findNext() {
    const int found = scene_->findNode(search_->text(), lastFound_);
    if (lastFound_ >= 0)
        if (GraphNodeItem* old = scene_->nodeAt(lastFound_)) old->setHighlighted(false);
    lastFound_ = found;
    if (found < 0) {
        caption_->setText(tr("No node named like “%1”").arg(search_->text()));
        return;
    }
    GraphNodeItem* node = scene_->nodeAt(found);
    node->setHighlighted(true);
    view_->showNode(found);
    if (node->isLayer()) {
        scene_->selectRows({node->row()});
        Q_EMIT selectedRowsChanged({node->row()});
    }
    caption_->setText(tr("Found %1").arg(node->name()));
}

void GraphPanel::updateCaption() {
    const int n = scene_->nodeCount();
    caption_->setText(n == 0 ? tr("No model open")
                             : tr("%1 nodes · %2 edges · dot layout %3 ms")
                                   .arg(n)
                                   .arg(scene_->edgeCount())
                                   .arg(scene_->lastLayoutMs(), 0, 'f', 1));
}

}  // namespace ptq::ui
