#include "core/methods/detail/adaquant_common.h"

#include "core/graph/graph.h"
#include "core/quant/quant_ops.h"
#include "core/util/error.h"

namespace ptq::detail {

LayerStart startOf(const QuantizedModel& model, int node) {
    const Graph& g = model.graph();
    const Node& n = g.node(node);
    LayerStart s;
    s.node = node;
    s.weightKey = g.paramOf(n, 1);
    if (n.inputs.size() > 2) s.biasKey = g.paramOf(n, 2);
    s.weight = model.floatParam(s.weightKey).to(at::kFloat).clone();
    if (!s.biasKey.empty()) s.bias = model.floatParam(s.biasKey).to(at::kFloat).clone();
    s.choice = model.config().layer(n.name);
    if (s.quantW()) {
        s.weightSpec = model.weightSpec(n.name);
        s.weightParams = model.weightParams(n.name);
    }
    if (s.quantA()) {
        s.activationSpec = model.activationSpec(n.name);
        s.activationParams = model.activationParams(n.name);
    }
    return s;
}

std::vector<float> toVector(const at::Tensor& t) {
    const at::Tensor c = t.detach().to(at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<int> tunedLayers(const QuantizedModel& model) {
    std::vector<int> layers;
    const Graph& g = model.graph();
    for (int id : g.quantizableNodes()) {
        const LayerQuant& q = model.config().layer(g.node(id).name);
        // Multipoint weights are a sum of grids that one learned scale per channel does not
        // describe; those layers keep their greedy points.
        if (q.weightPoints > 1) continue;
        if (q.weightBits < 32 || q.activationBits < 32) layers.push_back(id);
    }
    return layers;
}

QuantLayout layoutOf(const QuantSpec& spec, at::IntArrayRef sizes, int64_t rowSize, int64_t paramCount) {
    if (!perChannelParams(spec.granularity)) return {rowSize, 1};
    const int axis = quant_ops::normalizedAxis(spec, int64_t(sizes.size()));
    QuantLayout l;
    l.channels = sizes[size_t(axis)];
    for (size_t d = size_t(axis) + 1; d < sizes.size(); ++d) l.inner *= sizes[d];
    if (l.channels != paramCount)
        throw invalidInput("The quantizer has " + std::to_string(paramCount) + " scales but the tensor needs " +
                           std::to_string(l.channels) + " for " + granularityName(spec.granularity) +
                           " quantization.");
    return l;
}

}  // namespace ptq::detail
