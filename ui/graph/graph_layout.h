#pragma once
/// @file
/// Where the graph's boxes and edges go, apart from how they are drawn: the scene takes a
/// GraphLayout and draws it. Today's layout is a chain in execution order folded into columns;
/// a Graphviz layout of the full data-flow graph can replace it behind the same types.
/// Pure functions on QtCore geometry; any thread.

#include <QtCore/QPointF>
#include <QtCore/QRectF>
#include <QtCore/QSizeF>

#include <utility>
#include <vector>

namespace ptq::ui {

struct GraphLayoutInput {
    int nodeCount = 0;
    std::vector<std::pair<int, int>> edges;  ///< (from, to) node indices
    QSizeF nodeSize{200.0, 52.0};
    double horizontalGap = 56.0;             ///< between columns (edges run in it)
    double verticalGap = 26.0;               ///< between boxes of a column
    double targetAspect = 1.0;               ///< width / height of the view to fill
};

struct GraphLayout {
    std::vector<QRectF> nodes;                 ///< one per node, scene coordinates
    std::vector<std::vector<QPointF>> edges;   ///< one polyline per input edge, ends on the target's top
    QRectF bounds;                             ///< everything, with a margin
};

/// The consecutive edges of a chain of @p count nodes: (0,1), (1,2), ...
std::vector<std::pair<int, int>> chainEdges(int count);

/// Nodes in index order, top to bottom, folded into as many columns as make the drawing's
/// aspect ratio closest to @p input.targetAspect. Edges between nodes of one column are
/// straight; others run down the gap to the right of their source's column.
GraphLayout layoutChainInColumns(const GraphLayoutInput& input);

/// The number of columns layoutChainInColumns() picks.
int chooseColumnCount(const GraphLayoutInput& input);

}  // namespace ptq::ui
