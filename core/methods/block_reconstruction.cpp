#include "core/methods/adaquant.h"
#include "core/methods/adam.h"
#include "core/methods/detail/adaquant_common.h"
#include "core/graph/graph.h"
#include "core/quant/quant_ops.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace ptq {

using detail::LayerStart;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// Where a quantizer's channels fall in a tensor: rows of rowSize values (a sample each for an
/// activation, the whole tensor for a weight), the channel of offset i being (i / inner) %
/// channels within a row.
struct RowLayout {
    bool sampleRows = false;
    int64_t inner = 1, channels = 1;
    int64_t qmin = 0, qmax = 0;
};

RowLayout rowLayout(const QuantSpec& spec, at::IntArrayRef sizes, bool sampleRows, int64_t paramCount) {
    RowLayout l;
    l.sampleRows = sampleRows;
    l.qmin = gridMin(spec);
    l.qmax = gridMax(spec);
    if (!perChannelParams(spec.granularity)) {
        l.inner = -1;  // the whole row: set per call from the tensor's size
        return l;
    }
    if (sampleRows && quant_ops::normalizedAxis(spec, int64_t(sizes.size())) == 0)
        throw invalidInput("Block reconstruction cannot learn an activation quantizer whose channels run along the "
                           "batch axis (axis 0); give it a channel axis of 1 or more, or quantize the layer input "
                           "per tensor.");
    const detail::QuantLayout q = detail::layoutOf(spec, sizes, 0, paramCount);
    l.inner = q.inner;
    l.channels = q.channels;
    return l;
}

/// Fake-quant with the straight-through estimator, differentiable towards the input, the log of
/// the scale's ratio to its start (scale = start * exp(u): at u = 0 exactly the calibrated
/// scale, so values on a rounding tie, e.g. a channel's extreme weight, round as the model
/// rounds them) and the (unrounded) zero point: the fused passes of core/quant/quant_ops.h
/// inside autograd, the same arithmetic and gradients as per-layer AdaQuant's.
class FakeQuantFn : public torch::autograd::Function<FakeQuantFn> {
public:
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, at::Tensor x, at::Tensor startScale,
                              at::Tensor logRatio, at::Tensor zeroPoint, RowLayout layout) {
        // Per tensor the order of values does not matter (channels-last stays as it is); per
        // channel the layout above is that of a contiguous tensor.
        if (layout.inner > 0 || !x.is_non_overlapping_and_dense()) x = x.contiguous();
        const at::Tensor scale = (startScale * logRatio.detach().exp()).contiguous();
        const at::Tensor zp = zeroPoint.detach().round().contiguous();
        at::Tensor out = at::empty_like(x);
        quant_ops::FakeQuantRows a = rowsOf(x, scale, zp, layout);
        const std::vector<int64_t> rows = rowIndices(a.count);
        a.rows = rows.data();
        quant_ops::fakeQuantizeRows(a, out.data_ptr<float>());
        ctx->save_for_backward({x, scale, zp});
        ctx->saved_data["sampleRows"] = layout.sampleRows;
        ctx->saved_data["inner"] = layout.inner;
        ctx->saved_data["channels"] = layout.channels;
        ctx->saved_data["qmin"] = layout.qmin;
        ctx->saved_data["qmax"] = layout.qmax;
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const at::Tensor& x = saved[0];
        const at::Tensor& scale = saved[1];
        RowLayout layout;
        layout.sampleRows = ctx->saved_data["sampleRows"].toBool();
        layout.inner = ctx->saved_data["inner"].toInt();
        layout.channels = ctx->saved_data["channels"].toInt();
        layout.qmin = ctx->saved_data["qmin"].toInt();
        layout.qmax = ctx->saved_data["qmax"].toInt();
        at::Tensor grad = grads[0];
        if (!grad.strides().equals(x.strides())) {
            at::Tensor same = at::empty_like(x);
            same.copy_(grad);
            grad = same;
        }
        quant_ops::FakeQuantRows a = rowsOf(x, scale, saved[2], layout);
        const std::vector<int64_t> rows = rowIndices(a.count);
        a.rows = rows.data();
        at::Tensor gradX = at::empty_like(x);
        std::vector<double> gScale(size_t(a.channels), 0.0), gZero(size_t(a.channels), 0.0);
        quant_ops::fakeQuantizeRowsBackward(a, grad.data_ptr<float>(), gradX.data_ptr<float>(), gScale.data(),
                                            gZero.data());
        at::Tensor gLogScale = at::empty({a.channels}, at::kFloat), gZeroPoint = at::empty({a.channels}, at::kFloat);
        const float* s = scale.data_ptr<float>();
        for (int64_t c = 0; c < a.channels; ++c) {
            gLogScale.data_ptr<float>()[c] = float(gScale[size_t(c)] * double(s[c]));  // d/du = s d/ds
            gZeroPoint.data_ptr<float>()[c] = float(gZero[size_t(c)]);
        }
        return {gradX, at::Tensor(), gLogScale.view(scale.sizes()), gZeroPoint.view(scale.sizes()), at::Tensor()};
    }

private:
    static quant_ops::FakeQuantRows rowsOf(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp,
                                           const RowLayout& l) {
        quant_ops::FakeQuantRows a;
        a.src = x.data_ptr<float>();
        a.count = l.sampleRows && x.dim() > 0 ? x.size(0) : 1;
        a.rowSize = a.count > 0 ? x.numel() / a.count : 0;
        a.inner = l.inner > 0 ? l.inner : a.rowSize;
        a.channels = l.inner > 0 ? l.channels : 1;
        a.scale = scale.data_ptr<float>();
        a.zeroPoint = zp.data_ptr<float>();
        a.qmin = l.qmin;
        a.qmax = l.qmax;
        return a;
    }
    static std::vector<int64_t> rowIndices(int64_t count) {
        std::vector<int64_t> rows(static_cast<size_t>(count));
        std::iota(rows.begin(), rows.end(), 0);
        return rows;
    }
};

/// One tuned layer of a block: what is learned (the parametrisation of per-layer AdaQuant:
/// V in grid steps of the starting weight quantizer, log scales (as ratios to the calibrated
/// ones), zero points, the bias).
struct LayerState {
    LayerStart start;
    at::Tensor step, v, sw0, logSw, zw, sa0, logSa, za, bias;
    RowLayout weightLayout, inputLayout;
    bool inputLayoutSet = false;
    at::Tensor runWeight;  ///< this step's (fake-quantized) weight, handed to the block's run

    LayerState(LayerStart s) : start(std::move(s)) {
        const at::Tensor& w = start.weight;
        if (start.quantW()) {
            const at::Tensor scale = scaleTensor(start.weightParams);
            std::vector<int64_t> shape(size_t(w.dim()), 1);
            if (scale.numel() > 1) shape[0] = scale.numel();
            step = scale.view(shape).clone();
            sw0 = scale.clone();
            logSw = at::zeros_like(scale);
            zw = zeroPointTensor(start.weightParams);
            weightLayout = rowLayout(start.weightSpec, w.sizes(), false, scale.numel());
        } else {
            step = at::full({}, std::max(w.abs().mean().item<double>(), 1e-8), at::kFloat);
        }
        v = at::zeros_like(w);
        if (start.quantA()) {
            sa0 = scaleTensor(start.activationParams).clone();
            logSa = at::zeros_like(sa0);
            za = zeroPointTensor(start.activationParams);
        }
        if (start.bias.defined()) bias = start.bias.clone();
    }

    at::Tensor weight() const { return start.weight + v * step; }

    void makeRunWeight() {
        const at::Tensor w = weight();
        runWeight = start.quantW() ? FakeQuantFn::apply(w, sw0, logSw, zw, weightLayout) : w;
    }

    at::Tensor quantizeInput(const at::Tensor& x) {
        if (!start.quantA()) return x;
        if (!inputLayoutSet) {
            inputLayout = rowLayout(start.activationSpec, x.sizes(), true, logSa.numel());
            inputLayoutSet = true;
        }
        return FakeQuantFn::apply(x.to(at::kFloat), sa0, logSa, za, inputLayout);
    }

    AdaQuantLayerResult result(const Graph& g, bool applied) const {
        const at::NoGradGuard noGrad;
        AdaQuantLayerResult r;
        r.layer = g.node(start.node).name;
        r.weightBits = start.choice.weightBits;
        r.activationBits = start.choice.activationBits;
        r.applied = applied;
        const at::Tensor w = applied ? weight() : start.weight;
        r.weight = detail::toVector(w);
        r.weightShape = w.sizes().vec();
        if (bias.defined()) r.bias = detail::toVector(applied ? bias : start.bias);
        if (start.quantW())
            r.weightParams = applied && start.weightSpec.granularity != Granularity::Shift
                                 ? paramsFromTensors(sw0 * logSw.exp(), zw, start.weightSpec)
                                 : start.weightParams;
        if (start.quantA())
            r.activationParams = applied ? paramsFromTensors(sa0 * logSa.exp(), za, start.activationSpec)
                                         : start.activationParams;
        r.macsPerSample = g.macs(g.node(start.node));
        return r;
    }
};

/// Mean squared error of @p out against @p target (summed over outputs, divided by their size).
at::Tensor blockLoss(const std::vector<at::Tensor>& out, const std::vector<at::Tensor>& target) {
    at::Tensor sum;
    int64_t count = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        const at::Tensor d = out[i].to(at::kFloat) - target[i];
        const at::Tensor s = (d * d).sum();
        sum = sum.defined() ? sum + s : s;
        count += d.numel();
    }
    return sum / double(std::max<int64_t>(count, 1));
}

std::string commonModulePath(const std::vector<std::string>& names) {
    if (names.empty()) return {};
    std::string prefix = names.front();
    for (const std::string& n : names) {
        size_t k = 0;
        while (k < prefix.size() && k < n.size() && prefix[k] == n[k]) ++k;
        prefix.resize(k);
    }
    // Whole path components only, and not the whole name of a lone layer's own module.
    if (names.size() == 1) return names.front();
    const size_t dot = prefix.rfind('.');
    bool whole = true;
    for (const std::string& n : names) whole = whole && n.size() > prefix.size() && n[prefix.size()] == '.';
    if (!whole) prefix = dot == std::string::npos ? std::string() : prefix.substr(0, dot);
    return prefix.empty() ? names.front() + " … " + names.back() : prefix;
}

int64_t sampleBytes(const Graph& g, int value) {
    int64_t n = 1;
    for (int64_t s : g.sampleShape(value)) n *= s;
    return n * int64_t(sizeof(float));
}

/// Held samples of one value of the graph: [n x sample] float tensors (one per value).
using Held = std::vector<at::Tensor>;

}  // namespace

std::vector<ReconstructionBlock> reconstructionBlocks(const QuantizedModel& model, int maxLayers) {
    const Graph& g = model.graph();
    const Executor executor(g);
    const int nodes = int(g.nodes().size());
    const std::vector<int> tuned = detail::tunedLayers(model);
    std::vector<bool> isTuned(size_t(nodes), false);
    for (int id : tuned) isTuned[size_t(id)] = true;
    // Boundaries: nodes before which exactly one value is live.
    std::vector<int> bounds{0};
    for (int s = 1; s < nodes; ++s)
        if (executor.cutValues(s).size() == 1) bounds.push_back(s);
    bounds.push_back(nodes);
    std::vector<ReconstructionBlock> blocks;
    ReconstructionBlock open;
    bool joined = false;
    for (size_t b = 0; b + 1 < bounds.size(); ++b) {
        for (int n = bounds[b]; n < bounds[b + 1]; ++n) {
            if (isTuned[size_t(n)]) open.layers.push_back(n);
            int dataInputs = 0;
            for (int in : g.node(n).inputs) dataInputs += g.value(in).param.empty() ? 1 : 0;
            joined = joined || dataInputs >= 2;
        }
        open.end = bounds[b + 1];
        const bool last = b + 2 == bounds.size();
        if (!open.layers.empty() && (joined || int(open.layers.size()) >= maxLayers || last)) {
            blocks.push_back(open);
            open = ReconstructionBlock{};
            open.first = bounds[b + 1];
            joined = false;
        } else if (last && !blocks.empty()) {
            blocks.back().end = nodes;  // a tail without tuned layers joins the last block
        }
    }
    for (ReconstructionBlock& block : blocks) {
        std::vector<std::string> names;
        for (int id : block.layers) names.push_back(g.node(id).name);
        block.name = commonModulePath(names);
    }
    return blocks;
}

AdaQuantReport adaQuantBlocks(QuantizedModel& model, const Dataset& calib, const AdaQuantOptions& o,
                              const Progress* progress) {
    o.validate();
    const RunHooks modelHooks = model.hooks();  // throws when the model is not calibrated yet
    const c10::InferenceMode notInference(false);
    const auto t0 = Clock::now();
    const Graph& g = model.graph();
    const Executor executor(g);
    const std::vector<ReconstructionBlock> blocks = reconstructionBlocks(model, o.blockMaxLayers);
    AdaQuantReport report;
    report.sequential = true;
    report.blockwise = true;
    const auto snapshot = model.snapshot();
    int layersDone = 0, layerCount = 0;
    for (const auto& b : blocks) layerCount += int(b.layers.size());
    try {
        // Samples held: every block's input twice (FP and quantized) and its FP output.
        int64_t perSample = 0;
        for (const ReconstructionBlock& b : blocks) {
            int64_t in = 0, out = 0;
            for (int v : executor.cutValues(b.first)) in += sampleBytes(g, v);
            if (b.end < int(g.nodes().size()))
                for (int v : executor.cutValues(b.end)) out += sampleBytes(g, v);
            else
                for (int v : g.outputValues()) out += sampleBytes(g, v);
            perSample = std::max(perSample, 2 * in + out);
        }
        const int64_t total = calib.size();
        const int64_t fit = perSample > 0 ? o.maxCacheBytes / perSample : total;
        if (fit < 1)
            throw invalidInput("The AdaQuant cache bound of " + std::to_string(o.maxCacheBytes >> 20) +
                               " MB cannot hold one sample of a block's activations; raise the bound.");
        std::vector<int64_t> indices(static_cast<size_t>(total));
        std::iota(indices.begin(), indices.end(), 0);
        if (fit < total) {
            std::mt19937_64 rng(o.seed);
            std::shuffle(indices.begin(), indices.end(), rng);
            indices.resize(size_t(fit));
            std::sort(indices.begin(), indices.end());
            report.subsampled = true;
            logger()->warn("Block reconstruction: {} of {} samples fit the bound of {} MB", fit, total,
                           o.maxCacheBytes >> 20);
        }
        const int64_t n = int64_t(indices.size());
        report.samples = n;
        const at::NoGradGuard noGradAtFirst;
        // The calibration samples, as the graph input.
        const auto tc = Clock::now();
        at::Tensor images;
        {
            std::vector<int64_t> shape{n};
            for (int64_t s : calib.sampleShape()) shape.push_back(s);
            images = at::empty(shape, at::kFloat);
            const int64_t floats = calib.sampleElements();
            for (int64_t i = 0; i < n;) {
                int64_t j = i + 1;
                while (j < n && indices[size_t(j)] == indices[size_t(j - 1)] + 1) ++j;
                calib.read(indices[size_t(i)], j - i, images.data_ptr<float>() + i * floats, nullptr);
                i = j;
            }
        }
        Held fpIn{images}, qIn{images};
        report.cacheSeconds += since(tc);
        const int64_t runBatch = o.runBatchSize;
        // Runs nodes [first, end) over every held sample in batches; returns the values after.
        auto advance = [&](const ReconstructionBlock& b, const Held& in, const RunHooks& hooks) {
            const std::vector<int> cut = executor.cutValues(b.first);
            const bool toEnd = b.end >= int(g.nodes().size());
            Held out;
            for (int64_t first = 0; first < n; first += runBatch) {
                if (progress) progress->throwIfCancelled();
                const int64_t count = std::min(runBatch, n - first);
                LiveValues given;
                for (size_t k = 0; k < cut.size(); ++k) given.emplace_back(cut[k], in[k].narrow(0, first, count));
                std::vector<at::Tensor> values;
                if (toEnd) {
                    values = executor.runFrom(b.first, given, count, hooks);
                } else {
                    for (auto& [id, t] : executor.runSegment(b.first, given, b.end, count, hooks))
                        values.push_back(t);
                }
                if (out.empty())
                    for (const at::Tensor& t : values) {
                        std::vector<int64_t> shape = t.sizes().vec();
                        shape[0] = n;
                        out.push_back(at::empty(shape, at::kFloat));
                    }
                for (size_t k = 0; k < values.size(); ++k) out[k].narrow(0, first, count).copy_(values[k]);
            }
            return out;
        };

        for (size_t bi = 0; bi < blocks.size(); ++bi) {
            const ReconstructionBlock& block = blocks[bi];
            const auto tb = Clock::now();
            const double from = double(layersDone) / std::max(layerCount, 1);
            const double to = double(layersDone + int(block.layers.size())) / std::max(layerCount, 1);
            const std::string stage = "Block " + std::to_string(bi + 1) + "/" + std::to_string(blocks.size()) + " " +
                                      block.name;
            if (progress) progress->report(from, stage);
            const auto tt = Clock::now();
            const Held target = advance(block, fpIn, RunHooks{});
            report.cacheSeconds += since(tt);

            std::vector<LayerState> states;
            states.reserve(block.layers.size());
            std::map<int, size_t> byNode;
            std::map<std::string, at::Tensor*> tunedParams;
            for (int id : block.layers) {
                byNode[id] = states.size();
                states.emplace_back(detail::startOf(model, id));
            }
            for (LayerState& s : states) {
                tunedParams[s.start.weightKey] = &s.runWeight;
                if (s.bias.defined()) tunedParams[s.start.biasKey] = &s.bias;
            }
            // Every other parameter the block reads, as the model runs it, copied outside
            // InferenceMode (autograd cannot save inference tensors for backward).
            std::map<std::string, at::Tensor> fixedParams;
            for (int nid = block.first; nid < block.end; ++nid)
                for (int in : g.node(nid).inputs) {
                    const std::string& key = g.value(in).param;
                    if (key.empty() || tunedParams.count(key) || fixedParams.count(key)) continue;
                    const at::Tensor* p = modelHooks.paramOverride ? modelHooks.paramOverride(key) : nullptr;
                    fixedParams[key] = (p ? *p : g.param(key)).clone();
                }
            RunHooks hooks;
            hooks.paramOverride = [&](const std::string& key) -> const at::Tensor* {
                auto t = tunedParams.find(key);
                if (t != tunedParams.end()) return t->second;
                auto f = fixedParams.find(key);
                return f != fixedParams.end() ? &f->second : nullptr;
            };
            hooks.beforeNode = [&](const Node& node, std::vector<at::Tensor>& inputs) {
                auto it = byNode.find(node.id);
                if (it == byNode.end()) {
                    if (modelHooks.beforeNode) modelHooks.beforeNode(node, inputs);  // e.g. an attention matmul
                    return;
                }
                inputs[0] = states[it->second].quantizeInput(inputs[0]);
            };
            const std::vector<int> cut = executor.cutValues(block.first);
            const bool toEnd = block.end >= int(g.nodes().size());
            auto runBlock = [&](const Held& in, const std::vector<int64_t>* pick, int64_t first, int64_t count) {
                for (LayerState& s : states) s.makeRunWeight();
                LiveValues given;
                for (size_t k = 0; k < cut.size(); ++k)
                    given.emplace_back(cut[k], pick ? in[k].index_select(0, at::from_blob(const_cast<int64_t*>(
                                                                                         pick->data()),
                                                                                     {count}, at::kLong))
                                                    : in[k].narrow(0, first, count));
                std::vector<at::Tensor> values;
                if (toEnd) return executor.runFrom(block.first, given, count, hooks);
                for (auto& [id, t] : executor.runSegment(block.first, given, block.end, count, hooks))
                    values.push_back(t);
                return values;
            };
            auto targetsOf = [&](const std::vector<int64_t>* pick, int64_t first, int64_t count) {
                std::vector<at::Tensor> t;
                for (const at::Tensor& h : target)
                    t.push_back(pick ? h.index_select(0, at::from_blob(const_cast<int64_t*>(pick->data()), {count},
                                                                       at::kLong))
                                     : h.narrow(0, first, count));
                return t;
            };
            auto fullMse = [&] {
                const at::NoGradGuard noGrad;
                double sum = 0;
                for (int64_t first = 0; first < n; first += runBatch) {
                    const int64_t count = std::min(runBatch, n - first);
                    sum += blockLoss(runBlock(qIn, nullptr, first, count), targetsOf(nullptr, first, count))
                               .item<double>() *
                           double(count);
                }
                return sum / double(std::max<int64_t>(n, 1));
            };

            AdaQuantBlockResult br;
            br.name = block.name;
            for (int id : block.layers) br.layers.push_back(g.node(id).name);
            br.samples = n;
            br.mseBefore = fullMse();

            Adam adam;
            auto learn = [&](at::Tensor& t, bool on, double lr) {
                if (!on || !t.defined()) return;
                t.set_requires_grad(true);
                adam.addGroup({t}, lr);
            };
            for (LayerState& s : states) {
                learn(s.v, o.learnWeight, o.lrWeight);
                learn(s.bias, o.learnBias, o.lrBias);
                if (s.start.quantW()) {
                    learn(s.logSw, o.learnWeightParams && s.start.weightSpec.granularity != Granularity::Shift,
                          o.lrWeightQuant);
                    learn(s.zw, o.learnWeightParams && !s.start.weightSpec.symmetric, o.lrActivation);
                }
                if (s.start.quantA()) {
                    learn(s.logSa, o.learnActivationParams, o.lrActivation);
                    learn(s.za, o.learnActivationParams && !s.start.activationSpec.symmetric, o.lrActivation);
                }
            }
            const int iterations = adam.empty() ? 0 : o.blockIterations;
            const int64_t batch = std::min<int64_t>(o.batchSize, n);
            std::mt19937_64 rng(o.seed + uint64_t(block.first) * 7919u);
            std::vector<int64_t> order(static_cast<size_t>(n)), pick(static_cast<size_t>(batch));
            std::iota(order.begin(), order.end(), 0);
            size_t next = order.size();
            AdaQuantTick tick;
            tick.layerIndex = int(bi);
            tick.layerCount = int(blocks.size());
            tick.layer = block.name;
            tick.block = true;
            tick.iterations = iterations;
            {
                const at::AutoGradMode grad(true);
                for (int it = 0; it < iterations; ++it) {
                    if (progress) progress->throwIfCancelled();
                    for (auto& k : pick) {
                        if (next == order.size()) {
                            std::shuffle(order.begin(), order.end(), rng);
                            next = 0;
                        }
                        k = order[next++];
                    }
                    adam.zeroGrad();
                    const at::Tensor loss = blockLoss(runBlock(qIn, &pick, 0, batch), targetsOf(&pick, 0, batch));
                    loss.backward();
                    adam.step();
                    {
                        const at::NoGradGuard noGrad;
                        for (LayerState& s : states) {
                            if (s.zw.defined() && s.zw.requires_grad())
                                s.zw.clamp_(double(gridMin(s.start.weightSpec)), double(gridMax(s.start.weightSpec)));
                            if (s.za.defined() && s.za.requires_grad())
                                s.za.clamp_(double(gridMin(s.start.activationSpec)),
                                            double(gridMax(s.start.activationSpec)));
                        }
                    }
                    tick.iteration = it + 1;
                    tick.loss = loss.item<double>();
                    if (o.onIteration) o.onIteration(tick);
                    if (progress)
                        progress->report(from + (to - from) * double(it + 1) / double(iterations), stage);
                }
            }
            br.iterations = iterations;
            br.mseAfter = fullMse();
            br.applied = br.mseAfter < br.mseBefore;
            if (!br.applied) br.mseAfter = br.mseBefore;
            std::vector<AdaQuantLayerResult> results;
            for (const LayerState& s : states) {
                AdaQuantLayerResult r = s.result(g, br.applied);
                r.iterations = iterations;
                r.samples = n;
                r.mseBefore = br.mseBefore;
                r.mseAfter = br.mseAfter;
                results.push_back(std::move(r));
            }
            applyAdaQuant(model, results);
            br.seconds = since(tb);
            for (AdaQuantLayerResult& r : results) {
                r.seconds = br.seconds / double(results.size());
                report.layers.push_back(std::move(r));
            }
            logger()->info("Block reconstruction {} ({} layers): MSE {:.4g} -> {:.4g} on {} samples ({:.1f} s){}",
                           block.name, block.layers.size(), br.mseBefore, br.mseAfter, n, br.seconds,
                           br.applied ? "" : ", start kept");
            report.blocks.push_back(br);
            if (o.onBlock) o.onBlock(br);
            layersDone += int(block.layers.size());
            // The next block's inputs: this block run as the model now quantizes it.
            if (bi + 1 < blocks.size()) {
                const auto ta = Clock::now();
                qIn = advance(block, qIn, model.hooks());
                fpIn = target;
                report.cacheSeconds += since(ta);
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

}  // namespace ptq
