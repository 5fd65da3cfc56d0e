#include "core/methods/range_equalization.h"

#include "core/graph/passes.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <sstream>

namespace ptq {

namespace {

/// The one node that reads value @p valueId, or -1 when none or several do.
int soleConsumer(const Graph& g, int valueId) {
    const Value& v = g.value(valueId);
    return v.consumers.size() == 1 ? v.consumers[0] : -1;
}

/// Whether @p n is f with f(s x) = s f(x) for every s >= 1 on the values it sees: no upper bound
/// but one a channel's values stay below after the rescale (see the header).
bool homogeneous(const Node& n) {
    switch (n.op) {
    case OpKind::Relu:
    case OpKind::LeakyRelu: return true;
    case OpKind::Hardtanh: return n.attrDouble("min_val", -1.0) == 0.0 && n.attrDouble("max_val", 1.0) > 0.0;
    case OpKind::Clamp: return n.hasAttr("min") && n.attrDouble("min") == 0.0 && (!n.hasAttr("max") || n.attrDouble("max") > 0.0);
    default: return false;
    }
}

/// The graph's depthwise conv @p d: a 2-D conv with one input channel a group.
bool isDepthwise(const Graph& g, const Node& d) {
    if (d.op != OpKind::Conv2d || g.paramOf(d, 1).empty()) return false;
    const at::Tensor& w = g.param(g.paramOf(d, 1));
    const std::vector<int64_t>& in = g.value(d.inputs[0]).shape;
    const int64_t groups = d.attrInt("groups", 1);
    return w.dim() == 4 && w.size(1) == 1 && in.size() == 4 && groups > 1 && groups == in[1] && w.size(0) % groups == 0;
}

struct PairNodes {
    EqualizationPair pair;
    int producer = -1, consumer = -1;
};

std::vector<PairNodes> findPairs(const Graph& g) {
    std::vector<PairNodes> pairs;
    for (const Node& d : g.nodes()) {
        if (!isDepthwise(g, d)) continue;
        int value = d.inputs[0];
        if (soleConsumer(g, value) != d.id) continue;
        int at = g.value(value).producer;
        std::string activation;
        if (at >= 0 && homogeneous(g.node(at))) {
            activation = displayOp(g.node(at));
            value = g.node(at).inputs[0];
            if (soleConsumer(g, value) != at) continue;
            at = g.value(value).producer;
        }
        std::string folded;
        if (at >= 0 && g.node(at).op == OpKind::BatchNorm) {
            const Node& bn = g.node(at);
            if (!g.isFoldedBatchNorm(bn) || bn.attrInt("affine", 1) == 0 || bn.inputs.size() < 5) continue;
            folded = bn.name;
            value = bn.inputs[0];
            if (soleConsumer(g, value) != at) continue;
            at = g.value(value).producer;
        }
        if (at < 0) continue;
        const Node& p = g.node(at);
        if (p.op != OpKind::Conv2d || g.paramOf(p, 1).empty() || p.outputs.size() != 1 || p.outputs[0] != value) continue;
        const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(p);
        if (fold.has_value() != !folded.empty() || (fold && fold->batchNorm != folded)) continue;
        const std::vector<int64_t>& shape = g.value(d.inputs[0]).shape;
        PairNodes found;
        found.pair = EqualizationPair{p.name, d.name, activation, shape[1]};
        found.producer = p.id;
        found.consumer = d.id;
        pairs.push_back(found);
    }
    return pairs;
}

double medianOf(at::Tensor t) {
    t = std::get<0>(t.to(at::kDouble).sort());
    return t.numel() ? t[t.numel() / 2].item<double>() : 0.0;
}

void scaleParam(Graph& g, const std::string& key, const at::Tensor& factor) {
    const at::Tensor& old = g.param(key);
    std::vector<int64_t> shape(size_t(old.dim()), 1);
    shape[0] = old.size(0);
    g.setParam(key, (old.to(at::kDouble) * factor.view(shape)).to(old.scalar_type()));
}

}  // namespace

std::vector<EqualizationPair> equalizationPairs(const Graph& graph) {
    std::vector<EqualizationPair> out;
    for (const PairNodes& p : findPairs(graph)) out.push_back(p.pair);
    return out;
}

void RangeEqualizationOptions::validate() const {
    if (!(maxScale >= 1.0) || !std::isfinite(maxScale))
        throw invalidInput("The largest scale of range equalization must be a number of at least 1, not " +
                           std::to_string(maxScale) + ".");
    if (maxSamples < 1)
        throw invalidInput("Range equalization needs at least one calibration sample to measure ranges on.");
    if (batchSize < 1) throw invalidInput("The batch size must be at least 1, not " + std::to_string(batchSize) + ".");
}

std::string RangeEqualizationReport::summary() const {
    std::ostringstream s;
    if (pairs.empty()) {
        s << "Range equalization: no depthwise layer fed by a rescalable conv, nothing changed";
        return s.str();
    }
    int64_t scaled = 0, channels = 0;
    double before = 0, after = 0, largest = 1;
    for (const EqualizedPair& p : pairs) {
        scaled += p.scaledChannels;
        channels += p.pair.channels;
        before += p.medianRangeBefore;
        after += p.medianRangeAfter;
        largest = std::max(largest, p.largestScale);
    }
    s.setf(std::ios::fixed);
    s.precision(2);
    s << "Range equalization: " << pairs.size() << " depthwise inputs, " << scaled << " of " << channels
      << " channels scaled (up to x" << largest << "), median channel range " << before / double(pairs.size())
      << " -> " << after / double(pairs.size()) << " of the widest, on " << samples << " samples";
    return s.str();
}

RangeEqualizationReport equalizeDepthwiseInputs(Graph& graph, const Dataset& calib,
                                                const RangeEqualizationOptions& options, const Progress* progress) {
    options.validate();
    const auto t0 = std::chrono::steady_clock::now();
    RangeEqualizationReport report;
    const std::vector<PairNodes> pairs = findPairs(graph);
    if (pairs.empty()) return report;
    if (calib.size() < 1) throw invalidInput("Range equalization needs calibration data; " + calib.description() + " is empty.");

    // Per channel the largest |value| at each depthwise input, over the samples.
    std::map<int, at::Tensor> ranges;
    std::map<int, const PairNodes*> byConsumer;
    for (const PairNodes& p : pairs) byConsumer[p.consumer] = &p;
    RunHooks hooks;
    hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
        if (!byConsumer.count(n.id)) return;
        std::vector<int64_t> dims;
        for (int64_t d = 0; d < in[0].dim(); ++d)
            if (d != 1) dims.push_back(d);
        const at::Tensor r = in[0].abs().amax(dims).to(at::kDouble);
        auto it = ranges.find(n.id);
        if (it == ranges.end()) ranges.emplace(n.id, r);
        else it->second = at::maximum(it->second, r);
    };
    const Executor executor(graph);
    const int64_t total = std::min(calib.size(), options.maxSamples);
    std::vector<int64_t> shape{0};
    for (int64_t s : calib.sampleShape()) shape.push_back(s);
    {
        const c10::InferenceMode guard;
        for (int64_t first = 0; first < total; first += options.batchSize) {
            if (progress) progress->throwIfCancelled();
            reportProgress(progress, double(first) / double(total), "Measuring channel ranges");
            const int64_t count = std::min(options.batchSize, total - first);
            shape[0] = count;
            at::Tensor x = at::empty(shape, at::kFloat);
            calib.read(first, count, x.data_ptr<float>(), nullptr);
            executor.run(x, hooks);
        }
    }
    if (progress) progress->throwIfCancelled();

    // Every scale first, then the parameters: nothing half-done.
    std::vector<std::pair<const PairNodes*, at::Tensor>> scales;
    for (const PairNodes& p : pairs) {
        const at::Tensor r = ranges.at(p.consumer);
        const double widest = r.max().item<double>();
        at::Tensor s = at::ones_like(r);
        if (widest > 0) {
            const at::Tensor alive = r > widest * 1e-9;
            s = at::where(alive, (widest / r.clamp_min(widest * 1e-9)).clamp(1.0, options.maxScale), s);
        }
        EqualizedPair e;
        e.pair = p.pair;
        e.scaledChannels = (s > 1.0 + 1e-9).sum().item<int64_t>();
        e.largestScale = s.max().item<double>();
        e.medianRangeBefore = widest > 0 ? medianOf(r / widest) : 1.0;
        e.medianRangeAfter = widest > 0 ? medianOf(r * s / widest) : 1.0;
        report.pairs.push_back(e);
        scales.emplace_back(&p, s);
    }
    for (const auto& [p, s] : scales) {
        const Node& producer = graph.node(p->producer);
        if (const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(producer)) {
            const Node& bn = graph.node(graph.findNode(fold->batchNorm));
            scaleParam(graph, graph.paramOf(bn, 3), s);
            scaleParam(graph, graph.paramOf(bn, 4), s);
        } else {
            scaleParam(graph, graph.paramOf(producer, 1), s);
            if (producer.inputs.size() > 2 && !graph.paramOf(producer, 2).empty())
                scaleParam(graph, graph.paramOf(producer, 2), s);
        }
        const Node& consumer = graph.node(p->consumer);
        const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(consumer);
        const std::string key = fold ? fold->weightKey : graph.paramOf(consumer, 1);
        const int64_t multiplier = graph.param(key).size(0) / s.numel();
        scaleParam(graph, key, 1.0 / s.repeat_interleave(multiplier));
    }
    foldBatchNorms(graph);  // the folded copies from the rescaled parameters
    report.samples = total;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger()->info("{} ({:.1f} s)", report.summary(), report.seconds);
    return report;
}

}  // namespace ptq
