#include "core/graph/passes.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

namespace ptq {

namespace {
const char* kFoldedInto = "folded_into";    // on the BN: the layer it was folded into
const char* kFoldedBn = "folded_bn";        // on the layer: the BN folded into it
const char* kOrigWeight = "unfolded_weight";  // on the layer: the original weight's parameter key
const char* kOrigBias = "unfolded_bias";      // on the layer: the original bias's key ("" when none)
}  // namespace

int foldBatchNorms(Graph& graph) {
    int folded = 0;
    for (const Node& bnNode : graph.nodes()) {
        if (bnNode.op != OpKind::BatchNorm) continue;
        const Value& in = graph.value(bnNode.inputs[0]);
        if (in.producer < 0 || in.consumers.size() != 1) continue;
        const Node& layer = graph.node(in.producer);
        if ((layer.op != OpKind::Conv2d && layer.op != OpKind::Linear) || graph.paramOf(layer, 1).empty()) continue;
        if (layer.hasAttr(kFoldedBn) && layer.attrString(kFoldedBn) != bnNode.name) continue;
        const int layerId = layer.id;
        const int bnId = bnNode.id;
        const std::string weightKey = layer.hasAttr(kOrigWeight) ? layer.attrString(kOrigWeight) : graph.paramOf(layer, 1);
        const std::string biasKey = layer.hasAttr(kOrigWeight) ? layer.attrString(kOrigBias)
                                                              : (layer.inputs.size() > 2 ? graph.paramOf(layer, 2) : "");
        const at::Tensor w = graph.param(weightKey);
        const at::Tensor mean = graph.param(graph.paramOf(bnNode, 1));
        const at::Tensor var = graph.param(graph.paramOf(bnNode, 2));
        if (w.size(0) != mean.numel()) continue;  // BN over another dimension than the layer's outputs
        const bool affine = bnNode.attrInt("affine", 1) != 0 && bnNode.inputs.size() >= 5;
        const at::Tensor gamma = affine ? graph.param(graph.paramOf(bnNode, 3)) : at::ones_like(mean);
        const at::Tensor beta = affine ? graph.param(graph.paramOf(bnNode, 4)) : at::zeros_like(mean);
        const at::Tensor bias = biasKey.empty() ? at::zeros_like(mean) : graph.param(biasKey);
        // Fold in double precision: the folded layer must match conv -> BN to float rounding.
        const at::Tensor scale = gamma.to(at::kDouble) / at::sqrt(var.to(at::kDouble) + bnNode.attrDouble("eps", 1e-5));
        std::vector<int64_t> shape(size_t(w.dim()), 1);
        shape[0] = w.size(0);
        const at::Tensor foldedW = (w.to(at::kDouble) * scale.view(shape)).to(w.scalar_type());
        const at::Tensor foldedB =
            ((bias.to(at::kDouble) - mean.to(at::kDouble)) * scale + beta.to(at::kDouble)).to(w.scalar_type());

        const std::string layerName = graph.node(layerId).name;
        const int wValue = graph.addParamValue(layerName + ".weight@folded", foldedW);
        graph.setParam(layerName + ".weight@folded", foldedW);  // refresh when it already existed
        const int bValue = graph.addParamValue(layerName + ".bias@folded", foldedB);
        graph.setParam(layerName + ".bias@folded", foldedB);
        graph.markBuffer(layerName + ".weight@folded");  // derived tensors, not extra parameters
        graph.markBuffer(layerName + ".bias@folded");
        graph.setInput(layerId, 1, wValue);
        graph.setInput(layerId, 2, bValue);
        graph.setAttr(layerId, kFoldedBn, graph.node(bnId).name);
        graph.setAttr(layerId, kOrigWeight, weightKey);
        graph.setAttr(layerId, kOrigBias, biasKey);
        graph.setAttr(bnId, kFoldedInto, layerName);
        ++folded;
    }
    return folded;
}

std::optional<FoldedBatchNorm> foldedBatchNorm(const Node& layer) {
    if (!layer.hasAttr(kFoldedBn)) return std::nullopt;
    return FoldedBatchNorm{layer.attrString(kFoldedBn), layer.attrString(kOrigWeight), layer.attrString(kOrigBias)};
}

int unfoldBatchNorms(Graph& graph) {
    int unfolded = 0;
    for (const Node& layer : graph.nodes()) {
        if (!layer.hasAttr(kFoldedBn)) continue;
        const int layerId = layer.id;
        const std::string weightKey = layer.attrString(kOrigWeight);
        const std::string biasKey = layer.attrString(kOrigBias);
        const int bnId = graph.findNode(layer.attrString(kFoldedBn));
        graph.setInput(layerId, 1, graph.addParamValue(weightKey, graph.param(weightKey)));
        if (!biasKey.empty()) graph.setInput(layerId, 2, graph.addParamValue(biasKey, graph.param(biasKey)));
        else graph.truncateInputs(layerId, 2);  // the layer had no bias before folding
        graph.eraseAttr(layerId, kFoldedBn);
        graph.eraseAttr(layerId, kOrigWeight);
        graph.eraseAttr(layerId, kOrigBias);
        if (bnId >= 0) graph.eraseAttr(bnId, kFoldedInto);
        ++unfolded;
    }
    return unfolded;
}

}  // namespace ptq
