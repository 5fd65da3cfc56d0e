#include "core/quant/quant_config.h"

#include "core/graph/graph.h"
#include "core/util/error.h"

namespace ptq {

QuantConfig QuantConfig::uniform(const Graph& graph, int weightBits, int activationBits, Granularity granularity,
                                 bool keepFirstLast8bit) {
    validateQuantSpec(QuantSpec::weights(weightBits, granularity));
    validateQuantSpec(QuantSpec::activations(activationBits));
    QuantConfig config;
    const std::vector<int> weighted = graph.quantizableNodes();
    for (int id : graph.allocationNodes()) {
        LayerQuant l{weightBits, activationBits, granularity};
        // First and last mean the first and last layers with weights (the stem and the head).
        if (keepFirstLast8bit && !weighted.empty() && (id == weighted.front() || id == weighted.back())) {
            l.weightBits = std::max(8, weightBits);
            l.activationBits = std::max(8, activationBits);
        }
        config.layers[graph.node(id).name] = l;
    }
    return config;
}

const LayerQuant& QuantConfig::layer(const std::string& name) const {
    auto it = layers.find(name);
    if (it == layers.end())
        throw invalidInput("The quantization configuration has no entry for layer '" + name +
                           "': it was made for another model.");
    return it->second;
}

}  // namespace ptq
