#include "cli/common.h"

#include "core/model/model_card.h"
#include "core/util/error.h"
#include "core/workflow/quantize.h"

#include <QtCore/QJsonDocument>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace ptq::cli {


std::string shapeText(const std::vector<int64_t>& s, const char* sep) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? sep : "") + std::to_string(s[i]);
    return out;
}

QJsonArray jsonInts(const std::vector<int64_t>& v) {
    QJsonArray a;
    for (auto x : v) a.append(qint64(x));
    return a;
}

std::string human(double v) {
    char buf[32];
    if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
    else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

void printJson(const QJsonObject& o) {
    std::cout << QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString();
}

std::string modelArg(const Args& a, const std::string& command) {
    if (a.positionals().size() != 1)
        throw invalidInput("'ptq " + command + "' takes one model file (a TorchScript .pt or an ONNX .onnx): ptq " + command +
                           " MODEL.pt");
    return a.positionals()[0];
}

void pipelineArgs(const Args& a, QuantizeRequest& req) {
    AdaQuantOptions& ada = req.tuning.adaquant;
    ada.sequential = a.flag("sequential");
    req.setPipeline(pipelineKindFromString(a.value("pipeline", "none")));
    if (a.flag("adaquant-blocks")) {
        if (ada.sequential)
            throw invalidInput("--sequential and --adaquant-blocks are two AdaQuant flavours (layer by layer, or block "
                               "by block): give one of them.");
        if (req.steps == pipelineSteps(PipelineKind::Advanced))
            req.steps = pipelineStepsWithBlocks(PipelineKind::Advanced);
        else
            req.addStep(TuningStep::AdaQuantBlocks);
    }
    ada.blockIterations = int(a.integer("block-iters", ada.blockIterations));
    ada.blockMaxLayers = int(a.integer("block-layers", ada.blockMaxLayers));
    if (a.has("block-iters") || a.has("block-layers")) {
        if (!req.runs(TuningStep::AdaQuantBlocks))
            throw invalidInput("--block-iters and --block-layers set up block reconstruction: add --adaquant-blocks.");
        ada.validate();
    }
}

std::vector<int64_t> inputShapeArg(const Args& a) {
    std::vector<int64_t> shape;
    for (long long v : a.integers("input-shape")) shape.push_back(v);
    if (!shape.empty() && shape.size() != 3 && shape.size() != 1)
        throw invalidInput("--input-shape takes channels,height,width (for example 1,28,28), or the number of "
                           "tokens for a text model (for example 128).");
    return shape;
}

std::set<std::string> withModelCard(std::set<std::string> keys) {
    keys.insert({"input-shape", "mean", "std", "preset", "classes", "crop-ratio"});
    return keys;
}

namespace {
std::vector<float> floatsArg(const Args& a, const std::string& key) {
    std::vector<float> out;
    for (const std::string& part : a.all(key)) {
        try {
            size_t used = 0;
            const double v = std::stod(part, &used);
            if (used == part.size() && std::isfinite(v)) {
                out.push_back(float(v));
                continue;
            }
        } catch (const std::exception&) {
        }
        throw invalidInput("--" + key + " takes numbers separated by commas, one for every channel or one for all "
                           "(e.g. 0.485,0.456,0.406), not '" + part + "'.");
    }
    return out;
}
}  // namespace

ModelRequest modelRequestArg(const Args& a, const std::string& command) {
    ModelRequest r;
    r.path = modelArg(a, command);
    r.inputShape = inputShapeArg(a);
    for (int64_t d : r.inputShape)
        if (d <= 0)
            throw invalidInput("--input-shape takes positive channels,height,width (for example 3,224,224), not " +
                               a.value("input-shape") + ".");
    r.mean = floatsArg(a, "mean");
    r.std = floatsArg(a, "std");
    if (r.mean.empty() != r.std.empty())
        throw invalidInput(std::string("--") + (r.mean.empty() ? "std" : "mean") + " needs --" +
                           (r.mean.empty() ? "mean" : "std") + " too (or give --preset instead).");
    r.preset = a.value("preset");
    if (!r.preset.empty() && !r.mean.empty())
        throw invalidInput("Give --preset or --mean/--std, not both.");
    if (a.has("crop-ratio")) {
        const double ratio = a.number("crop-ratio", 1.0);
        if (!(ratio > 0 && ratio <= 1))
            throw invalidInput("--crop-ratio takes a number in (0, 1] (1 keeps the whole shorter side, 0.875 is "
                               "ImageNet's 224 of 256), not " + a.value("crop-ratio") + ".");
        r.cropRatio = ratio;
    }
    if (a.has("classes")) r.classNames = readClassNames(a.value("classes"));
    return r;
}

DataSourceSpec dataSourceArg(const Args& a, const std::string& option, const std::string& fallback) {
    const std::string text = a.value(option, fallback);
    if (text.empty()) return DataSourceSpec{};
    DataSourceSpec spec = parseDataSource(text);
    spec.skipBad = a.flag("skip-bad");
    return spec;
}

std::shared_ptr<const LoadedModel> openModelForData(const ModelRequest& request, const Progress* progress) {
    std::shared_ptr<const LoadedModel> model = openModel(request, progress);
    if (model->normalizationOrigin() == NormalizationOrigin::Default)
        std::fprintf(stderr,
                     "ptq: note: no normalization is known for %s, so pixels go in as [0,1]; give --preset imagenet "
                     "(or none, fmnist, mnist, cifar10) or --mean/--std if it was trained otherwise.\n",
                     request.path.c_str());
    return model;
}

void addSkipped(QJsonObject& json, const DataSourceSpec& source, int64_t skipped, const std::string& key) {
    if (source.skipBad) json[QString::fromStdString(key + "_skipped")] = qint64(skipped);
}

void reportSkipped(const DataSourceSpec& source, int64_t skipped) {
    if (skipped > 0)
        std::fprintf(stderr, "ptq: left out %lld unreadable image%s of %s (--skip-bad).\n", (long long)skipped,
                     skipped == 1 ? "" : "s", source.text.c_str());
}

std::pair<bool, bool> equalizationArgs(const Args& a) {
    const bool on = a.flag("equalize-ranges"), dense = a.flag("equalize-dense");
    if (dense && !on)
        throw invalidInput("--equalize-dense widens range equalization to residual streams: add --equalize-ranges.");
    return {on, dense};
}

QuantizerSettings quantizerArgs(const Args& a, QuantizerSettings q) {
    if (a.has("granularity")) q.granularity = granularityFromString(a.value("granularity"));
    if (a.has("weight-range")) q.weightRange = rangeMethodFromString(a.value("weight-range"));
    if (a.has("act-range")) q.activationRange = rangeMethodFromString(a.value("act-range"));
    q.batchSize = a.integer("batch", q.batchSize);
    if (q.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    return q;
}

}  // namespace ptq::cli
