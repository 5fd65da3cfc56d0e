#include "core/session/session.h"

#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/session/sensitivity_cache.h"
#include "core/util/error.h"
#include "core/util/log.h"


namespace ptq {

struct LoadedModel::Impl {
    Graph graph;
};

LoadedModel::LoadedModel() : impl_(std::make_unique<Impl>()) {}
LoadedModel::~LoadedModel() = default;
const Graph& LoadedModel::graph() const { return impl_->graph; }

DrawableGraph describeGraph(const Graph& graph) {
    DrawableGraph d;
    d.nodes.reserve(graph.nodes().size() + 1);
    DrawableNode input;
    input.name = "input";
    input.op = "input";
    input.outputShape = graph.sampleShape(graph.inputValue());
    d.nodes.push_back(input);

    std::vector<int> layerOf(graph.nodes().size(), -1);
    const std::vector<int> layers = graph.quantizableNodes();
    for (size_t i = 0; i < layers.size(); ++i) layerOf[size_t(layers[i])] = int(i);

    for (const Node& n : graph.nodes()) {
        DrawableNode dn;
        dn.name = n.name;
        dn.op = graph.isFoldedBatchNorm(n) ? "bn (folded)" : displayOp(n);
        if (!n.outputs.empty()) dn.outputShape = graph.sampleShape(n.outputs[0]);
        dn.layer = layerOf[size_t(n.id)];
        if (dn.layer >= 0) {
            dn.weightShape = graph.value(n.inputs[1]).shape;
            dn.macs = graph.macs(n);
            for (size_t i = 1; i < n.inputs.size(); ++i) {
                int64_t count = 1;
                for (auto s : graph.value(n.inputs[i]).shape) count *= s;
                dn.params += count;
            }
        }
        d.nodes.push_back(std::move(dn));
        for (int valueId : n.inputs) {
            const Value& v = graph.value(valueId);
            if (valueId == graph.inputValue()) d.edges.emplace_back(0, n.id + 1);
            else if (v.producer >= 0) d.edges.emplace_back(v.producer + 1, n.id + 1);
        }
    }
    return d;
}


std::shared_ptr<const LoadedModel> loadModel(const std::string& path, const std::vector<int64_t>& inputShape) {
    std::vector<int64_t> shape = inputShape;
    if (shape.empty())
        if (const auto card = loadModelCard(path)) shape = card->inputShape;
    std::shared_ptr<LoadedModel> model(new LoadedModel());
    model->impl_->graph = importTorchScript(path, shape);
    model->summary_ = summarizeGraph(model->impl_->graph, path, shape);
    foldBatchNorms(model->impl_->graph);
    model->drawing_ = describeGraph(model->impl_->graph);
    return model;
}

SensitivityResult computeSensitivity(const LoadedModel& model, const std::string& source,
                                     const SensitivityRequest& request, SensitivityCache* cache,
                                     const Progress* progress, bool* fromCache) {
    if (fromCache) *fromCache = false;
    parseDataSource(source);  // a bad name is an error even when a cache entry could match
    const TableProvenance provenance = provenanceFor(model.summary().path, source, request, 0);
    if (cache) {
        if (auto table = cache->load(provenance)) {
            logger()->info("Sensitivity of {} on {} read from the cache", model.summary().name, source);
            if (fromCache) *fromCache = true;
            return *table;
        }
    }
    const Graph& graph = model.graph();
    const auto& card = model.summary().card;
    const Normalization norm = card ? Normalization::fromModelCard(*card) : Normalization::fashionMnist();
    const auto data = openDataSource(source, norm, graph.sampleShape(graph.inputValue()));
    SensitivityResult table = measureSensitivity(graph, *data, request, progress);
    if (cache) cache->store(provenance, table);
    return table;
}

void Session::setSensitivity(std::shared_ptr<const SensitivityResult> table) {
    // Measured points name options by index: they stay only while the options and layers do.
    const bool sameShape = sensitivity && table && sensitivity->options == table->options &&
                           sensitivity->layers.size() == table->layers.size();
    if (!sameShape) measured.clear();
    sensitivity = std::move(table);
    problem = sensitivity ? std::make_shared<const BudgetProblem>(*sensitivity) : nullptr;
    allocation = {};
    pins.clear();
}

}  // namespace ptq
