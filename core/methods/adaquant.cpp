#include "core/methods/adaquant.h"

#include "core/graph/graph.h"
#include "core/methods/layer_cache.h"
#include "core/methods/adam.h"
#include "core/runtime/ops.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace ptq {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// The ReLU (or ReLU6) that alone consumes a layer's output, looking through a folded BN.
struct ReluAfter {
    bool present = false;
    double lo = 0, hi = std::numeric_limits<double>::infinity();
    at::Tensor apply(const at::Tensor& y) const {
        if (!present) return y;
        return std::isinf(hi) ? at::relu(y) : at::clamp(y, lo, hi);
    }
};

ReluAfter reluAfter(const Graph& g, const Node& layer) {
    int value = layer.outputs.at(0);
    for (;;) {
        const auto& consumers = g.value(value).consumers;
        if (consumers.size() != 1) return {};
        const Node& c = g.node(consumers[0]);
        if (g.isFoldedBatchNorm(c)) {
            value = c.outputs.at(0);
            continue;
        }
        if (c.op == OpKind::Relu) return {true, 0.0, std::numeric_limits<double>::infinity()};
        if (c.op == OpKind::Hardtanh && c.attrDouble("min_val", -1.0) == 0.0)
            return {true, 0.0, c.attrDouble("max_val", 1.0)};
        return {};
    }
}

/// Where a layer starts from: its float parameters and range-calibrated quantizers.
struct LayerStart {
    int node = -1;
    std::string weightKey, biasKey;
    at::Tensor weight, bias;
    LayerQuant choice;
    QuantSpec weightSpec, activationSpec;
    QuantParams weightParams, activationParams;
    bool quantW() const { return choice.weightBits < 32; }
    bool quantA() const { return choice.activationBits < 32; }
};

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

/// The learnable state of one layer and its differentiable forward.
struct LayerProblem {
    const Node& node;
    const LayerStart& start;
    ReluAfter relu;
    at::Tensor step;               // the starting weight grid step, broadcast over the weight
    at::Tensor v, logSw, zw, logSa, za, bias;

    LayerProblem(const Node& n, const LayerStart& s, ReluAfter r) : node(n), start(s), relu(r) {
        const at::Tensor w = s.weight;
        if (s.quantW()) {
            const at::Tensor scale = scaleTensor(s.weightParams);
            std::vector<int64_t> shape(size_t(w.dim()), 1);
            if (scale.numel() > 1) shape[0] = scale.numel();
            step = scale.view(shape);
            logSw = scale.log();
            zw = zeroPointTensor(s.weightParams);
        } else {
            // A float weight moves in units of its own typical size.
            step = at::full({}, std::max(w.abs().mean().item<double>(), 1e-8), at::kFloat);
        }
        v = at::zeros_like(w);
        if (s.quantA()) {
            logSa = scaleTensor(s.activationParams).log();
            za = zeroPointTensor(s.activationParams);
        }
        if (s.bias.defined()) bias = s.bias.clone();
    }

    at::Tensor weight() const { return start.weight + v * step; }

    at::Tensor forward(const at::Tensor& x) const {
        at::Tensor w = weight();
        if (start.quantW()) w = fakeQuantize(w, start.weightSpec, logSw.exp(), zw);
        const at::Tensor xq = start.quantA() ? fakeQuantize(x, start.activationSpec, logSa.exp(), za) : x;
        std::vector<at::Tensor> in{xq, w};
        if (node.inputs.size() > 2) in.push_back(bias);
        return relu.apply(runOp(node, in, x.size(0)).at(0));
    }

    /// Mean squared error over every held sample, without gradients.
    double mse(const LayerCache& cache) const {
        const at::NoGradGuard noGrad;
        double sum = 0, count = 0;
        const int64_t n = cache.samples();
        for (int64_t first = 0; first < n; first += 256) {
            const int64_t c = std::min<int64_t>(256, n - first);
            const at::Tensor diff = forward(cache.input(start.node, first, c)) -
                                    relu.apply(cache.fpOutput(start.node, first, c));
            sum += diff.to(at::kDouble).pow(2).sum().item<double>();
            count += double(diff.numel());
        }
        return count > 0 ? sum / count : 0.0;
    }
};

AdaQuantLayerResult tuneLayer(const Graph& g, const LayerStart& start, const LayerCache& cache,
                              const AdaQuantOptions& o, int index, int count, const Progress* progress) {
    const auto t0 = Clock::now();
    const Node& node = g.node(start.node);
    LayerProblem p(node, start, reluAfter(g, node));
    AdaQuantLayerResult r;
    r.layer = node.name;
    r.weightBits = start.choice.weightBits;
    r.activationBits = start.choice.activationBits;
    r.reluInLoss = p.relu.present;
    r.samples = cache.samples();
    r.macsPerSample = g.macs(node);
    r.mseBefore = p.mse(cache);

    Adam adam;
    auto learn = [&](at::Tensor& t, bool on, double lr) {
        if (!on || !t.defined()) return;
        t.set_requires_grad(true);
        adam.addGroup({t}, lr);
    };
    learn(p.v, o.learnWeight, o.lrWeight);
    learn(p.bias, o.learnBias, o.lrBias);
    if (start.quantW()) {
        // The shift scaler's scales are one shared scale over powers of two: not learned.
        learn(p.logSw, o.learnWeightParams && start.weightSpec.granularity != Granularity::Shift, o.lrWeightQuant);
        learn(p.zw, o.learnWeightParams && !start.weightSpec.symmetric, o.lrActivation);
    }
    if (start.quantA()) {
        learn(p.logSa, o.learnActivationParams, o.lrActivation);
        learn(p.za, o.learnActivationParams && !start.activationSpec.symmetric, o.lrActivation);
    }

    const int64_t n = cache.samples();
    const int64_t batch = std::min<int64_t>(o.batchSize, n);
    std::mt19937_64 rng(o.seed + uint64_t(start.node) * 7919u);
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    size_t next = order.size();
    const at::Tensor allX = cache.input(start.node, 0, n);
    const at::Tensor allY = cache.fpOutput(start.node, 0, n);
    const std::string stage = "AdaQuant " + std::to_string(index + 1) + "/" + std::to_string(count) + " " + node.name;
    AdaQuantTick tick;
    tick.layerIndex = index;
    tick.layerCount = count;
    tick.layer = node.name;
    tick.iterations = o.iterations;
    const int iterations = adam.empty() ? 0 : o.iterations;
    for (int it = 0; it < iterations; ++it) {
        if (progress) progress->throwIfCancelled();
        // Mini-batches walk a fresh permutation of the held samples each epoch.
        std::vector<int64_t> pick(static_cast<size_t>(batch));
        for (auto& k : pick) {
            if (next == order.size()) {
                std::shuffle(order.begin(), order.end(), rng);
                next = 0;
            }
            k = order[next++];
        }
        const at::Tensor idx = at::from_blob(pick.data(), {batch}, at::kLong).clone();
        const at::Tensor x = allX.index_select(0, idx);
        const at::Tensor y = p.relu.apply(allY.index_select(0, idx));
        const at::Tensor loss = (p.forward(x) - y).pow(2).mean();
        adam.zeroGrad();
        loss.backward();
        adam.step();
        {
            const at::NoGradGuard noGrad;
            if (p.zw.defined() && p.zw.requires_grad())
                p.zw.clamp_(double(gridMin(start.weightSpec)), double(gridMax(start.weightSpec)));
            if (p.za.defined() && p.za.requires_grad())
                p.za.clamp_(double(gridMin(start.activationSpec)), double(gridMax(start.activationSpec)));
        }
        tick.iteration = it + 1;
        tick.loss = loss.item<double>();
        if (o.onIteration) o.onIteration(tick);
        if (progress)
            progress->report((double(index) + double(it + 1) / double(o.iterations)) / double(count), stage);
    }
    r.iterations = iterations;
    r.mseAfter = p.mse(cache);
    r.applied = r.mseAfter < r.mseBefore;
    {
        const at::NoGradGuard noGrad;
        const at::Tensor w = r.applied ? p.weight() : start.weight;
        r.weight = toVector(w);
        r.weightShape = w.sizes().vec();
        if (p.bias.defined()) r.bias = toVector(r.applied ? p.bias : start.bias);
        if (start.quantW())
            r.weightParams = r.applied && start.weightSpec.granularity != Granularity::Shift
                                 ? paramsFromTensors(p.logSw.exp(), p.zw, start.weightSpec)
                                 : start.weightParams;
        if (start.quantA())
            r.activationParams =
                r.applied ? paramsFromTensors(p.logSa.exp(), p.za, start.activationSpec) : start.activationParams;
    }
    if (!r.applied) r.mseAfter = r.mseBefore;
    r.seconds = since(t0);
    logger()->info("AdaQuant {}: MSE {:.4g} -> {:.4g} on {} samples ({:.1f} s){}", node.name, r.mseBefore, r.mseAfter,
                   r.samples, r.seconds, r.applied ? "" : ", start kept");
    if (o.onLayer) o.onLayer(r);
    return r;
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

void checkPositive(double v, const char* name) {
    if (!(v > 0) || !std::isfinite(v))
        throw invalidInput(std::string("The AdaQuant ") + name + " must be a positive number; got " +
                           std::to_string(v) + ".");
}

}  // namespace

void AdaQuantOptions::validate() const {
    if (iterations < 1)
        throw invalidInput("AdaQuant needs at least 1 iteration per layer; got " + std::to_string(iterations) + ".");
    if (batchSize < 1)
        throw invalidInput("The AdaQuant batch size must be at least 1; got " + std::to_string(batchSize) + ".");
    if (runBatchSize < 1) throw invalidInput("The batch size for model runs must be at least 1.");
    checkPositive(lrWeight, "weight learning rate");
    checkPositive(lrBias, "bias learning rate");
    checkPositive(lrActivation, "activation-quantizer learning rate");
    checkPositive(lrWeightQuant, "weight-quantizer learning rate");
    if (maxCacheBytes < (int64_t(1) << 20))
        throw invalidInput("The AdaQuant cache bound must be at least 1 MB.");
}

void AdaQuantStore::put(const AdaQuantLayerResult& result) {
    results_[Key{result.layer, result.weightBits, result.activationBits}] = result;
}

const AdaQuantLayerResult* AdaQuantStore::find(const std::string& layer, int weightBits, int activationBits) const {
    auto it = results_.find(Key{layer, weightBits, activationBits});
    return it == results_.end() ? nullptr : &it->second;
}

void applyAdaQuant(QuantizedModel& model, const std::vector<AdaQuantLayerResult>& results) {
    const Graph& g = model.graph();
    for (const AdaQuantLayerResult& r : results) {
        const int id = g.findNode(r.layer);
        if (id < 0) throw invalidInput("An AdaQuant result names layer '" + r.layer + "', which the model lacks.");
        const LayerQuant& q = model.config().layer(r.layer);
        if (q.weightBits != r.weightBits || q.activationBits != r.activationBits)
            throw invalidInput("The AdaQuant result of layer '" + r.layer + "' is for other bits than the layer's.");
        if (!r.applied) continue;
        const Node& n = g.node(id);
        const at::Tensor& w = model.floatParam(g.paramOf(n, 1));
        if (w.sizes().vec() != r.weightShape)
            throw invalidInput("The AdaQuant result of layer '" + r.layer + "' has another weight shape.");
        model.setFloatParam(g.paramOf(n, 1),
                            at::from_blob(const_cast<float*>(r.weight.data()), r.weightShape, at::kFloat)
                                .clone()
                                .to(w.scalar_type()));
        if (!r.bias.empty() && n.inputs.size() > 2) {
            const at::Tensor& b = model.floatParam(g.paramOf(n, 2));
            if (b.numel() != int64_t(r.bias.size()))
                throw invalidInput("The AdaQuant result of layer '" + r.layer + "' has another bias size.");
            model.setFloatParam(g.paramOf(n, 2), at::from_blob(const_cast<float*>(r.bias.data()), b.sizes(), at::kFloat)
                                                     .clone()
                                                     .to(b.scalar_type()));
        }
        if (q.weightBits < 32) model.setWeightParams(r.layer, r.weightParams);
        if (q.activationBits < 32) model.setActivationParams(r.layer, r.activationParams);
    }
}

int applyAdaQuant(QuantizedModel& model, const AdaQuantStore& store) {
    std::vector<AdaQuantLayerResult> chosen;
    for (int id : tunedLayers(model)) {
        const std::string& name = model.graph().node(id).name;
        const LayerQuant& q = model.config().layer(name);
        if (const AdaQuantLayerResult* r = store.find(name, q.weightBits, q.activationBits)) chosen.push_back(*r);
    }
    const auto snapshot = model.snapshot();
    try {
        applyAdaQuant(model, chosen);
    } catch (...) {
        model.restore(snapshot);
        throw;
    }
    return int(chosen.size());
}

AdaQuantReport adaQuant(QuantizedModel& model, const Dataset& calib, const AdaQuantOptions& o,
                        const Progress* progress, AdaQuantStore* store) {
    o.validate();
    model.hooks();  // throws when the model is not calibrated yet
    const c10::InferenceMode notInference(false);
    const at::AutoGradMode grad(true);
    const auto t0 = Clock::now();
    const Graph& g = model.graph();
    const std::vector<int> layers = tunedLayers(model);
    const int count = int(layers.size());
    AdaQuantReport report;
    report.sequential = o.sequential;
    report.samples = calib.size();
    const auto snapshot = model.snapshot();
    try {
        LayerCache cache(g, calib, {o.maxCacheBytes, o.runBatchSize, o.seed});
        auto noteCache = [&] {
            report.samples = std::min(report.samples, cache.samples());
            report.subsampled = report.subsampled || cache.subsampled();
        };
        if (!o.sequential) {
            int index = 0;
            for (const std::vector<int>& group : cache.plan(layers)) {
                const auto tc = Clock::now();
                const ScaledProgress cacheProgress(progress, double(index) / count, double(index) / count,
                                                   "AdaQuant: caching layer inputs");
                cache.capture(group, nullptr, cacheProgress.get());
                report.cacheSeconds += since(tc);
                noteCache();
                for (int id : group) {
                    report.layers.push_back(tuneLayer(g, startOf(model, id), cache, o, index, count, progress));
                    if (store) store->put(report.layers.back());
                    ++index;
                }
            }
            cache.clear();
            applyAdaQuant(model, report.layers);
        } else {
            for (int index = 0; index < count; ++index) {
                const int id = layers[size_t(index)];
                const auto tc = Clock::now();
                const RunHooks quantizedSoFar = model.hooks();
                const ScaledProgress cacheProgress(progress, double(index) / count, double(index) / count,
                                                   "AdaQuant: caching layer inputs");
                cache.capture({id}, &quantizedSoFar, cacheProgress.get());
                report.cacheSeconds += since(tc);
                noteCache();
                report.layers.push_back(tuneLayer(g, startOf(model, id), cache, o, index, count, progress));
                applyAdaQuant(model, {report.layers.back()});
            }
        }
    } catch (...) {
        model.restore(snapshot);
        throw;
    }
    report.seconds = since(t0);
    report.trainSeconds = report.seconds - report.cacheSeconds;
    return report;
}

void adaQuantOptions(const Graph& graph, const Dataset& calib, const std::vector<std::pair<int, int>>& bitOptions,
                     Granularity granularity, const AdaQuantOptions& o, AdaQuantStore& store,
                     const Progress* progress) {
    o.validate();
    std::vector<QuantizedModel> models;
    for (const auto& [w, a] : bitOptions) {
        models.emplace_back(graph, QuantConfig::uniform(graph, w, a, granularity, false));
        models.back().calibrate(calib, o.runBatchSize, nullptr);
        if (progress) progress->throwIfCancelled();
    }
    if (models.empty()) return;
    const c10::InferenceMode notInference(false);
    const at::AutoGradMode grad(true);
    const std::vector<int> layers = tunedLayers(models.front());
    const int count = int(layers.size() * models.size());
    LayerCache cache(graph, calib, {o.maxCacheBytes, o.runBatchSize, o.seed});
    AdaQuantStore found;  // into the caller's store only when every option is done
    int index = 0;
    for (const std::vector<int>& group : cache.plan(layers)) {
        cache.capture(group, nullptr, nullptr);
        for (const QuantizedModel& m : models)
            for (int id : group) found.put(tuneLayer(graph, startOf(m, id), cache, o, index++, count, progress));
    }
    for (const auto& [key, r] : found.results()) store.put(r);
}

}  // namespace ptq
