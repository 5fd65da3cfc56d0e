#include "core/methods/bias_tuning.h"

#include "core/graph/graph.h"
#include "core/methods/adam.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_map>

namespace ptq {

void BiasTuningOptions::validate() const {
    if (iterations < 1)
        throw invalidInput("Bias tuning needs at least 1 iteration; got " + std::to_string(iterations) + ".");
    if (batchSize < 1)
        throw invalidInput("The bias-tuning batch size must be at least 1; got " + std::to_string(batchSize) + ".");
    if (!(lr > 0) || !std::isfinite(lr))
        throw invalidInput("The bias-tuning learning rate must be a positive number; got " + std::to_string(lr) + ".");
}

namespace {

/// Mean KL(p || q) per sample from log-probabilities.
at::Tensor klDivergence(const at::Tensor& logP, const at::Tensor& logQ) {
    return (logP.exp() * (logP - logQ)).sum(1).mean();
}

}  // namespace

BiasTuningResult tuneBiases(QuantizedModel& model, const Dataset& calib, const BiasTuningOptions& o,
                            const Progress* progress) {
    o.validate();
    if (calib.size() == 0) throw invalidInput("Bias tuning needs calibration data; the set given is empty.");
    const RunHooks base = model.hooks();  // throws before calibration
    const auto t0 = std::chrono::steady_clock::now();
    const c10::InferenceMode notInference(false);
    const at::AutoGradMode grad(true);
    const Graph& g = model.graph();
    BiasTuningResult r;

    // The biases to learn, and every other parameter as the quantized model runs it, copied
    // once: parameters made under InferenceMode cannot be saved for backward.
    std::unordered_map<std::string, at::Tensor> params;
    std::vector<std::pair<std::string, at::Tensor>> biases;
    for (int id : g.quantizableNodes()) {
        const Node& n = g.node(id);
        if (n.inputs.size() < 3) continue;
        const std::string key = g.paramOf(n, 2);
        if (key.empty()) continue;
        at::Tensor b = model.floatParam(key).to(at::kFloat).clone();
        b.set_requires_grad(true);
        biases.emplace_back(key, b);
        params[key] = b;
    }
    r.biases = int(biases.size());
    if (biases.empty()) return r;
    for (const std::string& key : g.paramKeys()) {
        if (params.count(key)) continue;
        const at::Tensor* p = base.paramOverride ? base.paramOverride(key) : nullptr;
        params[key] = (p ? *p : g.param(key)).clone();
    }
    RunHooks hooks;
    // A step is a whole forward and backward pass: the cancel flag is also looked at before every
    // node of the forward, so a cancel does not wait for the rest of it.
    hooks.beforeNode = [before = base.beforeNode, progress](const Node& node, std::vector<at::Tensor>& inputs) {
        if (progress) progress->throwIfCancelled();
        if (before) before(node, inputs);
    };
    hooks.afterNode = base.afterNode;
    hooks.paramOverride = [&params](const std::string& key) -> const at::Tensor* {
        auto it = params.find(key);
        return it == params.end() ? nullptr : &it->second;
    };

    // The calibration images and the FP model's log-probabilities, in memory.
    const int64_t n = calib.size();
    std::vector<int64_t> shape{n};
    for (int64_t s : calib.sampleShape()) shape.push_back(s);
    const at::Tensor images = at::empty(shape, at::kFloat);
    calib.read(0, n, images.data_ptr<float>(), nullptr);
    const Executor executor(g);
    auto logits = [&](const at::Tensor& x, const RunHooks& h) { return executor.run(x, h).at(0).flatten(1); };
    at::Tensor fpLogP;
    {
        const at::NoGradGuard noGrad;
        std::vector<at::Tensor> parts;
        for (int64_t first = 0; first < n; first += 256) {
            if (progress) progress->throwIfCancelled();
            parts.push_back(at::log_softmax(logits(images.narrow(0, first, std::min<int64_t>(256, n - first)), {}), 1));
        }
        fpLogP = at::cat(parts);
    }
    auto meanKl = [&] {
        const at::NoGradGuard noGrad;
        double sum = 0;
        for (int64_t first = 0; first < n; first += 256) {
            if (progress) progress->throwIfCancelled();
            const int64_t c = std::min<int64_t>(256, n - first);
            const at::Tensor q = at::log_softmax(logits(images.narrow(0, first, c), hooks), 1);
            sum += klDivergence(fpLogP.narrow(0, first, c), q).item<double>() * double(c);
        }
        return sum / double(n);
    };
    r.klBefore = meanKl();

    Adam adam;
    for (const auto& [key, b] : biases) adam.addGroup({b}, o.lr);
    const int64_t batch = std::min(o.batchSize, n);
    std::mt19937_64 rng(o.seed);
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    size_t next = order.size();
    for (int it = 0; it < o.iterations; ++it) {
        if (progress) progress->throwIfCancelled();
        std::vector<int64_t> pick(static_cast<size_t>(batch));
        for (auto& k : pick) {
            if (next == order.size()) {
                std::shuffle(order.begin(), order.end(), rng);
                next = 0;
            }
            k = order[next++];
        }
        const at::Tensor idx = at::from_blob(pick.data(), {batch}, at::kLong).clone();
        const at::Tensor q = at::log_softmax(logits(images.index_select(0, idx), hooks), 1);
        const at::Tensor loss = klDivergence(fpLogP.index_select(0, idx), q);
        adam.zeroGrad();
        loss.backward();
        adam.step();
        const double kl = loss.item<double>();
        if (o.onIteration) o.onIteration(it + 1, o.iterations, kl);
        if (progress) progress->report(double(it + 1) / double(o.iterations), "Bias tuning");
    }
    r.iterations = o.iterations;
    r.klAfter = meanKl();
    r.applied = r.klAfter < r.klBefore;
    if (r.applied) {
        const at::NoGradGuard noGrad;
        for (const auto& [key, b] : biases) {
            const at::Tensor& old = model.floatParam(key);
            model.setFloatParam(key, b.detach().clone().to(old.scalar_type()));
        }
    } else {
        r.klAfter = r.klBefore;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger()->info("Bias tuning: {} biases, KL {:.4g} -> {:.4g} on {} samples{}", r.biases, r.klBefore, r.klAfter, n,
                   r.applied ? "" : " (kept the old biases)");
    return r;
}

}  // namespace ptq
