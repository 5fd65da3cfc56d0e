#include "ui/graph/graph_layout.h"

#include <cmath>
#include <limits>

namespace ptq::ui {

namespace {
constexpr double kMargin = 16.0;

int rowsFor(int count, int columns) { return (count + columns - 1) / columns; }

QSizeF drawingSize(const GraphLayoutInput& in, int columns) {
    const int rows = rowsFor(in.nodeCount, columns);
    return {columns * in.nodeSize.width() + (columns - 1) * in.horizontalGap + 2 * kMargin,
            rows * in.nodeSize.height() + (rows - 1) * in.verticalGap + 2 * kMargin};
}
}  // namespace

std::vector<std::pair<int, int>> chainEdges(int count) {
    std::vector<std::pair<int, int>> edges;
    for (int i = 0; i + 1 < count; ++i) edges.emplace_back(i, i + 1);
    return edges;
}

int chooseColumnCount(const GraphLayoutInput& in) {
    if (in.nodeCount <= 1) return 1;
    const double target = in.targetAspect > 0.0 ? in.targetAspect : 1.0;
    int best = 1;
    double bestScore = std::numeric_limits<double>::max();
    for (int columns = 1; columns <= in.nodeCount; ++columns) {
        if (columns > 1 && rowsFor(in.nodeCount, columns) == rowsFor(in.nodeCount, columns - 1))
            continue;  // a wider drawing with the same height only wastes room
        const QSizeF size = drawingSize(in, columns);
        // Compare aspect ratios on a log scale: twice too wide is as bad as twice too tall.
        const double score = std::abs(std::log((size.width() / size.height()) / target));
        if (score < bestScore) {
            bestScore = score;
            best = columns;
        }
    }
    return best;
}

GraphLayout layoutChainInColumns(const GraphLayoutInput& in) {
    GraphLayout out;
    if (in.nodeCount <= 0) return out;
    const int columns = chooseColumnCount(in);
    const int rows = rowsFor(in.nodeCount, columns);
    const double w = in.nodeSize.width(), h = in.nodeSize.height();
    for (int i = 0; i < in.nodeCount; ++i) {
        const int column = i / rows, row = i % rows;
        out.nodes.emplace_back(kMargin + column * (w + in.horizontalGap),
                               kMargin + row * (h + in.verticalGap), w, h);
    }
    for (const auto& [from, to] : in.edges) {
        if (from < 0 || to < 0 || from >= in.nodeCount || to >= in.nodeCount) {
            out.edges.emplace_back();
            continue;
        }
        const QRectF& a = out.nodes[size_t(from)];
        const QRectF& b = out.nodes[size_t(to)];
        const QPointF start(a.center().x(), a.bottom());
        const QPointF end(b.center().x(), b.top());
        if (qFuzzyCompare(a.left() + 1.0, b.left() + 1.0) && b.top() > a.bottom()) {
            out.edges.push_back({start, end});
            continue;
        }
        // Down out of the source, along the gap right of its column, over and into the target.
        const double gutter = a.right() + in.horizontalGap / 2.0;
        const double below = a.bottom() + in.verticalGap / 2.0;
        const double above = b.top() - in.verticalGap / 2.0;
        out.edges.push_back({start, {start.x(), below}, {gutter, below}, {gutter, above},
                             {end.x(), above}, end});
    }
    const QSizeF size = drawingSize(in, columns);
    out.bounds = QRectF(0.0, 0.0, size.width(), size.height());
    return out;
}

}  // namespace ptq::ui
