#include "core/quant/quant_config.h"

#include "core/graph/graph.h"
#include "core/util/error.h"

namespace ptq {

QuantConfig QuantConfig::uniform(const Graph& graph, int weightBits, int activationBits, Granularity granularity,
                                 bool keepFirstLast8bit) {
    validateQuantSpec(QuantSpec::weights(weightBits, granularity));
    validateQuantSpec(QuantSpec::activations(activationBits));
    QuantConfig config;
    const std::vector<int> layers = graph.quantizableNodes();
    for (size_t i = 0; i < layers.size(); ++i) {
        LayerQuant l{weightBits, activationBits, granularity};
        if (keepFirstLast8bit && (i == 0 || i + 1 == layers.size())) {
            l.weightBits = std::max(8, weightBits);
            l.activationBits = std::max(8, activationBits);
        }
        config.layers[graph.node(layers[i]).name] = l;
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
