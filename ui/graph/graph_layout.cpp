#include "ui/graph/graph_layout.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <graphviz/gvplugin.h>

extern "C" {
/// The dot layout plugin's library (libgvplugin_dot_layout), linked in.
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
}

#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace ptq::ui {

namespace {
constexpr double kPointsPerInch = 72.0;
constexpr double kMargin = 12.0;

/// cgraph takes char* everywhere; these literals are never written.
char* cstr(const char* s) { return const_cast<char*>(s); }

std::string inches(double points) {
    char text[32];
    std::snprintf(text, sizeof text, "%.4f", points / kPointsPerInch);
    return text;
}

/// Graphviz keeps global state (its plugin list, cgraph's dictionaries): one layout at a time.
std::mutex& graphvizMutex() {
    static std::mutex m;
    return m;
}
}  // namespace

GraphLayout layoutWithDot(const GraphLayoutInput& input) {
    std::lock_guard<std::mutex> lock(graphvizMutex());
    // No demand loading: the linked-in dot plugin is all a layout needs, and Graphviz then
    // reads no plugin configuration from the system.
    std::unique_ptr<GVC_t, int (*)(GVC_t*)> gvc(gvContextPlugins(nullptr, 0), gvFreeContext);
    if (!gvc) throw std::runtime_error("Graphviz could not start (gvContextPlugins failed).");
    gvAddLibrary(gvc.get(), &gvplugin_dot_layout_LTX_library);

    Agraph_t* g = agopen(cstr("g"), Agdirected, nullptr);
    agsafeset(g, cstr("rankdir"), cstr("TB"), cstr(""));
    agsafeset(g, cstr("ranksep"), cstr(inches(input.rankGap).c_str()), cstr(""));
    agsafeset(g, cstr("nodesep"), cstr(inches(input.nodeGap).c_str()), cstr(""));
    agsafeset(g, cstr("splines"), cstr("spline"), cstr(""));
    Agsym_t* shape = agattr(g, AGNODE, cstr("shape"), cstr("box"));
    Agsym_t* fixed = agattr(g, AGNODE, cstr("fixedsize"), cstr("true"));
    Agsym_t* width = agattr(g, AGNODE, cstr("width"), cstr("1"));
    Agsym_t* height = agattr(g, AGNODE, cstr("height"), cstr("0.5"));
    Agsym_t* label = agattr(g, AGNODE, cstr("label"), cstr(""));
    (void)shape, (void)fixed, (void)label;

    std::vector<Agnode_t*> nodes;
    nodes.reserve(input.nodeSizes.size());
    for (size_t i = 0; i < input.nodeSizes.size(); ++i) {
        const std::string name = "n" + std::to_string(i);
        Agnode_t* n = agnode(g, cstr(name.c_str()), 1);
        agxset(n, width, cstr(inches(input.nodeSizes[i].width()).c_str()));
        agxset(n, height, cstr(inches(input.nodeSizes[i].height()).c_str()));
        nodes.push_back(n);
    }
    std::vector<Agedge_t*> edges;
    edges.reserve(input.edges.size());
    for (size_t i = 0; i < input.edges.size(); ++i) {
        const auto [from, to] = input.edges[i];
        const std::string key = "e" + std::to_string(i);  // keeps parallel edges apart
        edges.push_back(agedge(g, nodes.at(size_t(from)), nodes.at(size_t(to)), cstr(key.c_str()), 1));
    }

    if (gvLayout(gvc.get(), g, "dot") != 0) {
        agclose(g);
        throw std::runtime_error("Graphviz could not lay the graph out with dot (is its dot layout plugin installed?).");
    }

    const boxf bb = GD_bb(g);
    const double top = bb.UR.y;
    auto toScene = [top](pointf p) { return QPointF(p.x, top - p.y); };  // Graphviz's y grows upward

    GraphLayout out;
    out.nodes.reserve(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
        const QPointF c = toScene(ND_coord(nodes[i]));
        const QSizeF s = input.nodeSizes[i];
        out.nodes.emplace_back(c.x() - s.width() / 2, c.y() - s.height() / 2, s.width(), s.height());
    }
    out.edges.resize(edges.size());
    for (size_t i = 0; i < edges.size(); ++i) {
        const splines* spl = ED_spl(edges[i]);
        if (!spl || spl->size == 0) continue;
        const bezier& bz = spl->list[0];
        GraphLayout::Edge& e = out.edges[i];
        for (int k = 0; k < bz.size; ++k) e.spline.push_back(toScene(bz.list[k]));
        if (bz.eflag) {
            e.hasArrow = true;
            e.arrowTip = toScene(bz.ep);
        }
    }
    out.bounds = QRectF(QPointF(bb.LL.x, top - bb.UR.y), QPointF(bb.UR.x, top - bb.LL.y))
                     .adjusted(-kMargin, -kMargin, kMargin, kMargin);
    gvFreeLayout(gvc.get(), g);
    agclose(g);
    return out;
}

}  // namespace ptq::ui
