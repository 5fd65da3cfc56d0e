#include "core/methods/bn_tuning.h"

#include "core/graph/graph.h"
#include "core/runtime/cut_cache.h"
#include "core/runtime/ops.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

namespace ptq {

namespace {

/// Largest calibration-set activation cache BN tuning keeps (the widest cut over all samples).
constexpr int64_t kBnTuningCacheBytes = int64_t(1) << 30;

// Sums per channel in double, over every other dimension. The channel is dimension 1 of a
// conv's output (N x C x H x W) and the last of a Linear's (N x features, or N x tokens x features).
struct ChannelMoments {
    at::Tensor sum, sumSq;
    double count = 0;
    void add(const at::Tensor& x, bool channelLast = false) {
        const int64_t axis = channelLast ? x.dim() - 1 : 1;
        std::vector<int64_t> dims;
        for (int64_t d = 0; d < x.dim(); ++d)
            if (d != axis) dims.push_back(d);
        const at::Tensor xd = x.to(at::kDouble);
        const at::Tensor s = xd.sum(dims), sq = (xd * xd).sum(dims);
        sum = sum.defined() ? sum + s : s;
        sumSq = sumSq.defined() ? sumSq + sq : sq;
        count += double(x.numel() / x.size(axis));
    }
    at::Tensor mean() const { return sum / count; }
    at::Tensor variance() const { return (sumSq / count - mean() * mean()).clamp_min(0.0); }
};

// A pinned (learned) per-channel weight scale follows its channel's rescaling; a pinned
// per-tensor scale cannot, so that layer goes back to range-derived params.
void rescalePinnedWeightParams(QuantizedModel& model, const std::string& layer, const at::Tensor& ratio) {
    if (!model.weightParamsPinned(layer)) return;
    // (Shift: a rescaled channel's scale is no longer the shared one over a power of two.)
    if (model.weightSpec(layer).granularity != Granularity::PerChannel) {
        model.unpinWeightParams(layer);
        return;
    }
    QuantParams p = model.weightParams(layer);
    const at::Tensor r = ratio.abs().to(at::kDouble).contiguous();
    for (size_t c = 0; c < p.scale.size(); ++c)
        p.scale[c] = std::max(float(double(p.scale[c]) * r[int64_t(c)].item<double>()), kMinScale);
    model.setWeightParams(layer, p);
}

}  // namespace

int tuneBatchNorms(QuantizedModel& model, const Dataset& calib, int64_t batchSize, const Progress* progress,
                   const std::function<void(const BatchNormTuneTick&)>& onLayer) {
    const Graph& g = model.graph();
    struct Folded {
        const Node* layer;
        std::string weightKey, biasKey;       // the layer's folded parameters (what runs)
        at::Tensor origWeight, origBias;      // the conv/linear before folding
        at::Tensor gamma, beta;               // the BN's affine parameters
        at::Tensor scale, mean;               // what the float parameters fold now
        double eps;
        ChannelMoments moments;
    };
    std::unordered_map<int, Folded> folded;
    for (int id : g.quantizableNodes()) {
        const Node& n = g.node(id);
        if (!n.hasAttr("folded_bn") || n.inputs.size() < 3) continue;
        const Node& bn = g.node(g.findNode(n.attrString("folded_bn")));
        Folded f;
        f.layer = &n;
        f.weightKey = g.paramOf(n, 1);
        f.biasKey = g.paramOf(n, 2);
        f.origWeight = g.param(n.attrString("unfolded_weight"));
        const std::string ob = n.attrString("unfolded_bias");
        const at::Tensor bnMean = g.param(g.paramOf(bn, 1)).to(at::kDouble);
        const at::Tensor bnVar = g.param(g.paramOf(bn, 2)).to(at::kDouble);
        f.origBias = ob.empty() ? at::zeros_like(bnMean) : g.param(ob).to(at::kDouble);
        const bool affine = bn.attrInt("affine", 1) != 0 && bn.inputs.size() >= 5;
        f.gamma = affine ? g.param(g.paramOf(bn, 3)).to(at::kDouble) : at::ones_like(bnMean);
        f.beta = affine ? g.param(g.paramOf(bn, 4)).to(at::kDouble) : at::zeros_like(bnMean);
        f.eps = bn.attrDouble("eps", 1e-5);
        // What the float parameters fold now (the BN's statistics, or an earlier tuning's, or a
        // bias correction on top): W = W0 * scale, b = (b0 - mean) * scale + beta.
        const at::Tensor w0 = f.origWeight.to(at::kDouble).flatten(1);
        const at::Tensor w = model.floatParam(f.weightKey).to(at::kDouble).flatten(1);
        const at::Tensor norm = (w0 * w0).sum(1);
        const at::Tensor fromBn = f.gamma / at::sqrt(bnVar + f.eps);
        f.scale = at::where(norm > 0, (w * w0).sum(1) / norm.clamp_min(1e-300), fromBn);
        f.scale = at::where(f.scale.abs() > 0, f.scale, fromBn);
        f.mean = f.origBias - (model.floatParam(f.biasKey).to(at::kDouble) - f.beta) / f.scale;
        folded[id] = std::move(f);
    }
    if (folded.empty()) return 0;
    if (calib.size() == 0)
        throw invalidInput("The calibration set is empty: BN tuning needs samples (for example fmnist:train:1000).");
    // Sequentially, in execution order: each BN is re-estimated on activations in which every
    // upstream BN is already tuned. Re-estimating all of them from one pass is inconsistent
    // (each would assume its upstream kept the old statistics) and breaks deep networks.
    std::vector<int> order;
    for (const auto& [id, f] : folded) order.push_back(id);
    std::sort(order.begin(), order.end());
    const Executor executor(g);
    c10::InferenceMode guard;

    // The calibration set's activations are kept, per batch, at the cut before the next layer to
    // tune, so each node runs about twice in all instead of once per BN downstream of it. Over
    // the memory bound (the widest cut times the samples), each BN gets its own prefix run.
    const int64_t cacheBytes = CutCache::widestBytes(executor, order, calib.size());
    std::optional<CutCache> cache;
    if (cacheBytes <= kBnTuningCacheBytes)
        cache.emplace(executor, calib, batchSize);
    else
        logger()->info("BN tuning: {} samples need {:.0f} MB at the widest cut (bound {:.0f} MB); running a prefix "
                       "pass per batch norm instead", calib.size(), cacheBytes / 1e6, kBnTuningCacheBytes / 1e6);
    for (size_t k = 0; k < order.size(); ++k) {
        Folded& f = folded.at(order[k]);
        const RunHooks quantHooks = model.hooks();
        auto collect = [&](const at::Tensor& out) {
            // y = scale (z - mean) + beta: recover z, the unfolded layer's output.
            std::vector<int64_t> shape(size_t(out.dim()), 1);
            shape[1] = f.scale.numel();
            f.moments.add((out.to(at::kDouble) - f.beta.view(shape)) / f.scale.view(shape) + f.mean.view(shape));
        };
        const double n = double(order.size());
        const ScaledProgress layerProgress(progress, double(k) / n, double(k + 1) / n, "BN tuning " + f.layer->name);
        RunHooks upTo = quantHooks;
        upTo.stopAfter = order[k];
        if (cache) {
            cache->advanceTo(order[k], quantHooks, layerProgress.get());
            for (size_t b = 0; b < cache->batches(); ++b) {
                if (progress) progress->throwIfCancelled();
                collect(executor.runFrom(order[k], cache->values(b), cache->count(b), upTo).at(0));
            }
        } else {
            executor.runDataset(calib, batchSize,
                                [&](const Batch&, const std::vector<at::Tensor>& outs) { collect(outs.at(0)); },
                                layerProgress.get(), upTo);
        }
        const at::Tensor mean = f.moments.mean(), var = f.moments.variance();
        const at::Tensor s = f.gamma / at::sqrt(var + f.eps);
        std::vector<int64_t> wshape(size_t(f.origWeight.dim()), 1);
        wshape[0] = s.numel();
        const auto dtype = f.origWeight.scalar_type();
        // Rescale the weight the layer runs with rather than refold the original: a tuned
        // weight (AdaQuant's learned offsets) keeps its tuning, and equals W0 * s when untuned.
        const at::Tensor ratio = s / f.scale;
        const at::Tensor current = model.floatParam(f.weightKey).to(at::kDouble);
        model.setFloatParam(f.weightKey, (current * ratio.view(wshape)).to(dtype));
        model.setFloatParam(f.biasKey, ((f.origBias - mean) * s + f.beta).to(dtype));
        rescalePinnedWeightParams(model, f.layer->name, ratio);
        model.requantizeWeights();
        if (onLayer) {
            // f.scale / s = new std / old std (gamma cancels; a zero gamma gives no figure).
            const at::Tensor newStd = at::sqrt(var + f.eps);
            BatchNormTuneTick tick;
            tick.layer = f.layer->name;
            tick.index = int(k);
            tick.count = int(order.size());
            tick.meanShift = ((mean - f.mean).abs() / newStd).mean().item<double>();
            tick.stdRatio = at::nan_to_num(f.scale.to(at::kDouble) / s, 1.0, 1.0, 1.0).mean().item<double>();
            onLayer(tick);
        }
    }
    logger()->info("BN tuning: re-estimated {} batch norms on {} samples", folded.size(), calib.size());
    return int(folded.size());
}

int correctBiases(QuantizedModel& model, const Dataset& calib, int64_t batchSize, const Progress* progress) {
    const Graph& g = model.graph();
    std::unordered_map<int, ChannelMoments> shifts;
    std::unordered_map<int, at::Tensor> rawInput;
    for (int id : g.quantizableNodes())
        if (g.node(id).inputs.size() >= 3) shifts[id];
    if (shifts.empty()) return 0;
    RunHooks hooks = model.hooks();
    auto before = hooks.beforeNode;
    auto after = hooks.afterNode;
    hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
        if (shifts.count(n.id)) rawInput[n.id] = in[0];  // before its activation quantizer
        if (before) before(n, in);
    };
    hooks.afterNode = [&](const Node& n, const std::vector<at::Tensor>& in, std::vector<at::Tensor>& outs) {
        if (after) after(n, in, outs);
        auto it = shifts.find(n.id);
        if (it == shifts.end()) return;
        std::vector<at::Tensor> ref{rawInput[n.id], model.floatParam(g.paramOf(n, 1)), model.floatParam(g.paramOf(n, 2))};
        const at::Tensor reference = runOp(n, ref, outs[0].size(0)).at(0);
        it->second.add(outs[0] - reference, n.op == OpKind::Linear);
        rawInput.erase(n.id);
    };
    c10::InferenceMode guard;
    Executor(g).runDataset(calib, batchSize, [](const Batch&, const std::vector<at::Tensor>&) {}, progress, hooks);
    for (auto& [id, m] : shifts) {
        const std::string key = g.paramOf(g.node(id), 2);
        const at::Tensor bias = model.floatParam(key);
        model.setFloatParam(key, (bias.to(at::kDouble) - m.mean()).to(bias.scalar_type()));
    }
    logger()->info("Bias correction: corrected {} layers on {} samples", shifts.size(), calib.size());
    return int(shifts.size());
}

}  // namespace ptq
