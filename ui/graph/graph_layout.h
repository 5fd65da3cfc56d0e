#pragma once
/// @file
/// Where the graph's boxes and edges go, apart from how they are drawn: Graphviz's `dot`
/// (through its C library) ranks the data flow top to bottom; the scene draws the result.
/// Pure functions on QtCore geometry; any thread (each call makes its own Graphviz context).

#include <QtCore/QPointF>
#include <QtCore/QRectF>
#include <QtCore/QSizeF>

#include <utility>
#include <vector>

namespace ptq::ui {

struct GraphLayoutInput {
    std::vector<QSizeF> nodeSizes;           ///< one per node, in scene units (points)
    std::vector<std::pair<int, int>> edges;  ///< (from, to) node indices
    double rankGap = 22.0;                   ///< vertical space between ranks
    double nodeGap = 18.0;                   ///< horizontal space between boxes of a rank
};

struct GraphLayout {
    std::vector<QRectF> nodes;                 ///< one per node, scene coordinates, y down
    /// One per input edge: cubic Bézier control points (1 + 3k of them), from source to
    /// target, then the arrow tip when Graphviz gave one.
    struct Edge {
        std::vector<QPointF> spline;
        QPointF arrowTip;
        bool hasArrow = false;
    };
    std::vector<Edge> edges;
    QRectF bounds;                             ///< everything, with a margin
};

/// Lays @p input out with `dot`, ranks top to bottom. Throws std::runtime_error when Graphviz
/// fails (its layout plugin missing).
GraphLayout layoutWithDot(const GraphLayoutInput& input);

}  // namespace ptq::ui
