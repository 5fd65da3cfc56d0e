#include "core/workflow/model.h"

#include "core/data/data_source.h"
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/util/error.h"

namespace ptq {

struct LoadedModel::Impl {
    Graph graph;
};

LoadedModel::LoadedModel() : impl_(std::make_unique<Impl>()) {}
LoadedModel::~LoadedModel() = default;
const Graph& LoadedModel::graph() const { return impl_->graph; }

std::unique_ptr<Dataset> LoadedModel::openData(const DataSourceSpec& source) const {
    return openDataSource(source, normalization_, inputShape());
}

Graph LoadedModel::unfoldedGraph() const {
    Graph g = impl_->graph.clone();
    unfoldBatchNorms(g);
    return g;
}

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

namespace {
/// The request's shape, else the card's (empty when neither says: the importer then reads the
/// traced graph or asks for one).
std::vector<int64_t> inputShapeFor(const ModelRequest& request, const std::optional<ModelCard>& card) {
    if (!request.inputShape.empty()) return request.inputShape;
    return card ? card->inputShape : std::vector<int64_t>{};
}
}  // namespace

std::shared_ptr<const LoadedModel> openModel(const ModelRequest& request, const Progress* progress) {
    reportProgress(progress, 0.0, "Opening the model");
    const std::optional<ModelCard> card = loadModelCard(request.path);
    const std::vector<int64_t> shape = inputShapeFor(request, card);
    std::shared_ptr<LoadedModel> model(new LoadedModel());
    model->impl_->graph = importTorchScript(request.path, shape);
    reportProgress(progress, 0.7, "Folding BatchNorms");
    model->summary_ = summarizeGraph(model->impl_->graph, request.path,
                                     model->impl_->graph.sampleShape(model->impl_->graph.inputValue()));
    model->normalization_ = card ? Normalization::fromModelCard(*card) : Normalization::fashionMnist();
    foldBatchNorms(model->impl_->graph);
    model->drawing_ = describeGraph(model->impl_->graph);
    reportProgress(progress, 1.0, "Opening the model");
    return model;
}

ModelSummary summarizeModel(const ModelRequest& request) {
    const std::optional<ModelCard> card = loadModelCard(request.path);
    const std::vector<int64_t> shape = inputShapeFor(request, card);
    const Graph graph = importTorchScript(request.path, shape);
    return summarizeGraph(graph, request.path, graph.sampleShape(graph.inputValue()));
}

}  // namespace ptq
