// ptq-bench-layout MODEL [--runs N] [--json]: how long Graphviz dot takes to lay out the
// graph view of MODEL (every IR node a box), the median and worst of N runs.

#include "core/session/session.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "ui/graph/graph_layout.h"
#include "ui/graph/graph_node_item.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    std::string model;
    int runs = 20;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--json")) json = true;
        else model = argv[i];
    }
    if (model.empty()) {
        std::fprintf(stderr, "usage: ptq-bench-layout MODEL.pt [--runs N] [--json]\n");
        return 2;
    }
    ptq::initRuntime();
    try {
        const auto loaded = ptq::openModel({model, {}});
        const ptq::DrawableGraph& g = loaded->drawing();
        ptq::ui::GraphLayoutInput input;
        input.edges = g.edges;
        for (const auto& n : g.nodes)
            input.nodeSizes.push_back(n.layer >= 0 ? ptq::ui::GraphNodeItem::layerSize() : ptq::ui::GraphNodeItem::opSize());
        std::vector<double> ms;
        ptq::ui::GraphLayout layout;
        for (int r = 0; r < runs; ++r) {
            QElapsedTimer clock;
            clock.start();
            layout = ptq::ui::layoutWithDot(input);
            ms.push_back(double(clock.nsecsElapsed()) / 1e6);
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2], worst = ms.back();
        if (json) {
            QJsonObject o{{"model", QString::fromStdString(model)}, {"nodes", int(g.nodes.size())},
                          {"edges", int(g.edges.size())}, {"runs", runs}, {"median_ms", median}, {"max_ms", worst},
                          {"width", layout.bounds.width()}, {"height", layout.bounds.height()}};
            std::printf("%s\n", QJsonDocument(o).toJson(QJsonDocument::Compact).constData());
        } else {
            std::printf("%s: %zu nodes, %zu edges; dot layout median %.1f ms, worst %.1f ms over %d runs (%.0f x %.0f pt)\n",
                        model.c_str(), g.nodes.size(), g.edges.size(), median, worst, runs, layout.bounds.width(),
                        layout.bounds.height());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ptq-bench-layout: %s\n", e.what());
        return 1;
    }
    return 0;
}
