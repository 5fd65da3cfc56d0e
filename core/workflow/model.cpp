#include "core/workflow/model.h"

#include "core/data/data_source.h"
#include "core/graph/graph.h"
#include "core/graph/import_process.h"
#include "core/graph/onnx_importer.h"
#include "core/graph/passes.h"
#include "core/model/model_card.h"
#include "core/onnx/onnx_reader.h"
#include "core/util/error.h"

#include <filesystem>
#include <sstream>

namespace ptq {

struct LoadedModel::Impl {
    Graph graph;
};

LoadedModel::LoadedModel() : impl_(std::make_unique<Impl>()) {}
LoadedModel::~LoadedModel() = default;
const Graph& LoadedModel::graph() const { return impl_->graph; }

std::unique_ptr<Dataset> LoadedModel::openData(const DataSourceSpec& source) const {
    return openDataSource(source, normalization_, inputShape(), ImageTransform{card_.effectiveCropRatio()});
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
    const std::vector<int> layers = graph.allocationNodes();
    for (size_t i = 0; i < layers.size(); ++i) layerOf[size_t(layers[i])] = int(i);

    for (const Node& n : graph.nodes()) {
        DrawableNode dn;
        dn.name = n.name;
        dn.op = graph.isFoldedBatchNorm(n) ? "bn (folded)" : displayOp(n);
        if (!n.outputs.empty()) dn.outputShape = graph.sampleShape(n.outputs[0]);
        dn.layer = layerOf[size_t(n.id)];
        if (dn.layer >= 0 && graph.isActivationMatMul(n)) {
            dn.macs = graph.macs(n);
        } else if (dn.layer >= 0) {
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

ModelRequest requestWithCard(const std::string& path, const ModelCard& card) {
    ModelRequest r;
    r.path = path;
    r.inputShape = card.inputShape;
    if (card.hasNormalization()) {
        r.mean = card.mean;
        r.std = card.std;
        // The preset by name when its figures are the card's (its name then shows again).
        if (!card.preset.empty()) try {
                const NormalizationPreset& p = normalizationPreset(card.preset);
                if (p.mean == card.mean && p.std == card.std) {
                    r.preset = p.name;
                    r.mean.clear();
                    r.std.clear();
                }
            } catch (const Error&) {
            }
    } else {
        r.preset = "none";
    }
    r.cropRatio = card.effectiveCropRatio();
    r.classNames = card.classNames;
    return r;
}

namespace {
/// Comma-separated floats; empty when any part is not a number.
std::vector<float> floatList(const std::string& text) {
    std::vector<float> out;
    std::stringstream ss(text);
    for (std::string part; std::getline(ss, part, ',');) {
        try {
            size_t used = 0;
            out.push_back(std::stof(part, &used));
            if (used != part.size()) return {};
        } catch (const std::exception&) {
            return {};
        }
    }
    return out;
}

/// What an ONNX file written by this app's export says of its input (its metadata): the
/// normalization, one sample's shape and the crop ratio. Empty fields when it says nothing or is not one of ours.
ModelCard cardFromOnnxMetadata(const std::string& path) {
    ModelCard card;
    const std::map<std::string, std::string> meta = onnx::readMetadata(path);
    auto field = [&](const char* key) {
        const auto it = meta.find(key);
        return it == meta.end() ? std::string() : it->second;
    };
    std::vector<float> mean = floatList(field("ptq_studio.normalization.mean"));
    std::vector<float> std = floatList(field("ptq_studio.normalization.std"));
    const bool identity = mean == std::vector<float>{0.f} && std == std::vector<float>{1.f};
    if (!mean.empty() && !std.empty() && !identity) {
        card.mean = std::move(mean);
        card.std = std::move(std);
    }
    for (float d : floatList(field("ptq_studio.input_shape"))) card.inputShape.push_back(int64_t(d));
    for (int64_t d : card.inputShape)
        if (d <= 0) card.inputShape.clear();
    const std::vector<float> crop = floatList(field("ptq_studio.crop_ratio"));
    if (crop.size() == 1 && crop[0] > 0 && crop[0] <= 1) card.cropRatio = crop[0];
    return card;
}
}  // namespace

ModelCard effectiveModelCard(const ModelRequest& request, NormalizationOrigin* origin) {
    std::optional<ModelCard> sidecar = loadModelCard(request.path);
    NormalizationOrigin from = NormalizationOrigin::Default;
    ModelCard card;
    if (sidecar) {
        card = *sidecar;
        if (card.hasNormalization()) from = NormalizationOrigin::Sidecar;
    } else if (isOnnxPath(request.path)) {
        card = cardFromOnnxMetadata(request.path);
        if (card.hasNormalization()) from = NormalizationOrigin::FileMetadata;
    }
    if (!request.inputShape.empty()) card.inputShape = request.inputShape;
    if (!request.preset.empty()) {
        if (!request.mean.empty() || !request.std.empty())
            throw invalidInput("Give a normalization preset or a mean and std, not both.");
        const NormalizationPreset& preset = normalizationPreset(request.preset);
        card.mean = preset.mean;
        card.std = preset.std;
        card.preset = preset.name;
        card.cropRatio = preset.cropRatio;
        from = NormalizationOrigin::Request;
    } else if (!request.mean.empty() || !request.std.empty()) {
        if (request.mean.empty() || request.std.empty())
            throw invalidInput(std::string("The normalization gives a ") + (request.mean.empty() ? "std" : "mean") +
                               " without a " + (request.mean.empty() ? "mean" : "std") + ": give both, or a preset.");
        card.mean = request.mean;
        card.std = request.std;
        card.preset.clear();
        from = NormalizationOrigin::Request;
    }
    if (request.cropRatio) card.cropRatio = *request.cropRatio;
    if (!request.classNames.empty()) card.classNames = request.classNames;
    validateModelCard(card, "The model card of " + request.path);
    if (origin) *origin = from;
    return card;
}

namespace {
/// Checks the card against the imported graph: the normalization's channel count and the
/// class names' count against the output's width.
void checkCardFits(const ModelCard& card, const Graph& graph, const std::string& path) {
    const std::vector<int64_t> input = graph.sampleShape(graph.inputValue());
    if (card.hasNormalization() && !input.empty()) Normalization{card.mean, card.std}.resolvedFor(input[0]);
    if (card.classNames.empty() || graph.outputValues().empty()) return;
    const std::vector<int64_t> out = graph.sampleShape(graph.outputValues()[0]);
    if (out.size() == 1 && out[0] != int64_t(card.classNames.size()))
        throw invalidInput("The class names list " + std::to_string(card.classNames.size()) + " classes but " + path +
                           " has " + std::to_string(out[0]) + " outputs; give one name per output.");
}
}  // namespace

std::shared_ptr<const LoadedModel> openModel(const ModelRequest& request, const Progress* progress) {
    reportProgress(progress, 0.0, "Opening the model");
    NormalizationOrigin origin = NormalizationOrigin::Default;
    ModelCard card = effectiveModelCard(request, &origin);
    std::shared_ptr<LoadedModel> model(new LoadedModel());
    model->impl_->graph = importTorchScriptIsolated(request.path, card.inputShape, progress);
    const Graph& graph = model->impl_->graph;
    checkCardFits(card, graph, request.path);
    card.inputShape = graph.sampleShape(graph.inputValue());
    reportProgress(progress, 0.7, "Folding BatchNorms");
    model->summary_ = summarizeGraph(graph, request.path, card.inputShape);
    model->summary_.card = card;
    model->normalization_ = Normalization::fromModelCard(card);
    model->origin_ = origin;
    model->card_ = std::move(card);
    foldBatchNorms(model->impl_->graph);
    model->drawing_ = describeGraph(model->impl_->graph);
    reportProgress(progress, 1.0, "Opening the model");
    return model;
}

bool carriesModelCard(const std::string& path) {
    if (std::filesystem::exists(modelCardPath(path))) return true;
    if (!isOnnxPath(path)) return false;
    const ModelCard card = cardFromOnnxMetadata(path);
    return card.hasNormalization() && !card.inputShape.empty();
}

std::vector<int64_t> suggestInputShape(const std::string& path) { return guessInputShapeIsolated(path); }

ModelSummary summarizeModel(const ModelRequest& request) {
    ModelCard card = effectiveModelCard(request);
    const Graph graph = importTorchScriptIsolated(request.path, card.inputShape);
    checkCardFits(card, graph, request.path);
    ModelSummary summary = summarizeGraph(graph, request.path, graph.sampleShape(graph.inputValue()));
    card.inputShape = summary.inputShape;
    summary.card = card;
    return summary;
}

}  // namespace ptq
