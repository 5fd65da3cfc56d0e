#include "core/model/model_summary.h"

#include "core/graph/graph.h"
#include "core/util/error.h"

#include <QtCore/QFileInfo>

namespace ptq {

ModelSummary summarizeGraph(const Graph& graph, const std::string& path, const std::vector<int64_t>& inputShape) {
    ModelSummary s;
    s.path = path;
    s.name = QFileInfo(QString::fromStdString(path)).completeBaseName().toStdString();
    s.card = loadModelCard(path);
    s.inputShape = inputShape;
    s.nodeCount = int(graph.nodes().size());
    s.totalParams = graph.parameterCount();
    for (int id : graph.allocationNodes()) {
        const Node& n = graph.node(id);
        LayerSummary l;
        l.name = n.name;
        if (graph.isActivationMatMul(n)) {  // attention's Q·Kᵀ or P·V: activations only
            l.kind = "matmul";
            l.inputShape = graph.sampleShape(n.inputs[0]);
            l.outputShape = graph.sampleShape(n.outputs[0]);
            l.macs = graph.macs(n);
            s.totalMacs += l.macs;
            s.layers.push_back(std::move(l));
            continue;
        }
        l.weightShape = graph.value(n.inputs[1]).shape;
        l.inputShape = graph.sampleShape(n.inputs[0]);
        l.outputShape = graph.sampleShape(n.outputs[0]);
        l.macs = graph.macs(n);
        for (size_t i = 1; i < n.inputs.size(); ++i) {
            int64_t count = 1;
            for (auto d : graph.value(n.inputs[i]).shape) count *= d;
            l.params += count;
        }
        if (n.op == OpKind::Conv2d) {
            l.groups = int(n.attrInt("groups", 1));
            const int64_t inChannels = l.inputShape.empty() ? 0 : l.inputShape[0];
            l.kind = l.groups == 1 ? "conv2d" : (l.groups == inChannels ? "depthwise-conv2d" : "grouped-conv2d");
            l.stride = n.attrInts("stride");
            l.padding = n.attrInts("padding");
            l.dilation = n.attrInts("dilation");
        } else {
            l.kind = "linear";
        }
        s.quantizableParams += l.params;
        s.totalMacs += l.macs;
        s.layers.push_back(std::move(l));
    }
    return s;
}

}  // namespace ptq
