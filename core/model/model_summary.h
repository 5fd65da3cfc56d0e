#pragma once
/// @file
/// What `ptq info` prints and the GUI's layer table starts from: the quantizable layers of a
/// model with their shapes, parameter counts and MACs for one input sample.

#include "core/model/model_card.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ptq {

struct LayerSummary {
    std::string name;                   ///< module path, e.g. "layer1.0.conv1"
    std::string kind;                   ///< "conv2d", "depthwise-conv2d", "linear" or "matmul" (two activations, no weights)
    std::vector<int64_t> weightShape;
    std::vector<int64_t> inputShape;    ///< one sample, no batch dimension
    std::vector<int64_t> outputShape;   ///< one sample, no batch dimension
    int64_t params = 0;                 ///< weight + bias elements
    int64_t macs = 0;                   ///< multiply-accumulates for one sample
    int groups = 1;
    std::vector<int64_t> stride, padding, dilation;  ///< conv only
};

struct ModelSummary {
    std::string path;
    std::string name;                   ///< file stem
    std::vector<int64_t> inputShape;    ///< one sample, C x H x W
    int64_t totalParams = 0;            ///< learned parameters (BN affine included, BN statistics not)
    int64_t quantizableParams = 0;      ///< conv/linear weights and biases
    int64_t totalMacs = 0;              ///< conv/linear/activation-matmul MACs for one sample
    int nodeCount = 0;                  ///< operations in the imported graph
    std::vector<LayerSummary> layers;   ///< conv/linear and activation matmuls (Graph::allocationNodes) in execution order
    std::optional<ModelCard> card;
};

class Graph;
/// The summary of an already imported @p graph of the model at @p path (no second import);
/// core/workflow/model.h opens and summarises model files.
ModelSummary summarizeGraph(const Graph& graph, const std::string& path, const std::vector<int64_t>& inputShape);

}  // namespace ptq
