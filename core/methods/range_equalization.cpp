#include "core/methods/range_equalization.h"

#include "core/graph/passes.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace ptq {

namespace {

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

/// A homogeneous op with an upper bound (ReLU6, a clamp from 0 to M): its output's range must
/// not grow, or the bound would be crossed.
bool bounded(const Node& n) {
    return n.op == OpKind::Hardtanh || (n.op == OpKind::Clamp && n.hasAttr("max"));
}

/// The graph's depthwise conv @p d: a 2-D conv with one input channel a group.
bool isDepthwise(const Graph& g, const Node& d) {
    if (d.op != OpKind::Conv2d || g.paramOf(d, 1).empty()) return false;
    const at::Tensor& w = g.param(g.paramOf(d, 1));
    const std::vector<int64_t>& in = g.value(d.inputs[0]).shape;
    const int64_t groups = d.attrInt("groups", 1);
    return w.dim() == 4 && w.size(1) == 1 && in.size() == 4 && groups > 1 && groups == in[1] && w.size(0) % groups == 0;
}

/// A conv reading @p channels input channels through every filter (groups 1).
bool isDense(const Graph& g, const Node& d, int64_t channels) {
    if (d.op != OpKind::Conv2d || g.paramOf(d, 1).empty() || d.attrInt("groups", 1) != 1) return false;
    const at::Tensor& w = g.param(g.paramOf(d, 1));
    return w.dim() == 4 && w.size(1) == channels;
}

/// An add of two activations of one shape (a residual add): x + alpha y scales with both.
bool isResidualAdd(const Graph& g, const Node& n) {
    if (n.op != OpKind::Add || n.inputs.size() != 2 || n.outputs.size() != 1) return false;
    const Value& a = g.value(n.inputs[0]);
    const Value& b = g.value(n.inputs[1]);
    return a.param.empty() && b.param.empty() && a.shape == b.shape && a.shape == g.value(n.outputs[0]).shape;
}

/// A conv whose output channels can be scaled: through its folded BatchNorm's affine
/// parameters, else its own weight (and bias).
bool isScalableProducer(const Graph& g, const Node& p) {
    if (p.op != OpKind::Conv2d || g.paramOf(p, 1).empty() || p.outputs.size() != 1) return false;
    const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(p);
    if (!fold) return true;
    const int bn = g.findNode(fold->batchNorm);
    if (bn < 0) return false;
    const Node& b = g.node(bn);
    return b.attrInt("affine", 1) != 0 && b.inputs.size() >= 5 && !g.paramOf(b, 3).empty() && !g.paramOf(b, 4).empty();
}

struct GroupNodes {
    EqualizationGroup group;
    std::vector<int> producers, depthwise, dense;
    std::vector<int> measured;  ///< value ids whose channel ranges bound the factors
    int firstReader = 0;
};

/// The connected set of tensors around @p seed that scale together, or nothing when one of
/// them cannot (see the header). @p seen gets every value visited.
std::optional<GroupNodes> growGroup(const Graph& g, int seed, std::set<int>& seen) {
    GroupNodes out;
    const std::vector<int64_t>& seedShape = g.value(seed).shape;
    if (seedShape.size() != 4 || seedShape[1] < 2) return std::nullopt;
    const int64_t channels = seedShape[1];
    const std::set<int> modelOutputs(g.outputValues().begin(), g.outputValues().end());
    std::set<int> producers, depthwise, dense, measured, adds;
    std::set<int> inGroup{seed};
    std::deque<int> queue{seed};
    bool ok = true;
    auto join = [&](int v) {
        if (inGroup.insert(v).second) queue.push_back(v);
    };
    while (!queue.empty()) {
        const int v = queue.front();
        queue.pop_front();
        seen.insert(v);
        const Value& value = g.value(v);
        if (!value.param.empty() || value.producer < 0 || modelOutputs.count(v) || value.shape.size() != 4 ||
            value.shape[1] != channels) {
            ok = false;
            continue;
        }
        const Node& p = g.node(value.producer);
        if (p.op == OpKind::Conv2d) {
            if (isScalableProducer(g, p)) producers.insert(p.id);
            else ok = false;
        } else if (g.isFoldedBatchNorm(p) || homogeneous(p)) {
            if (bounded(p)) measured.insert(v);
            join(p.inputs[0]);
        } else if (isResidualAdd(g, p)) {
            adds.insert(p.id);
            join(p.inputs[0]);
            join(p.inputs[1]);
        } else {
            ok = false;
        }
        for (int c : value.consumers) {
            const Node& n = g.node(c);
            const bool first = !n.inputs.empty() && n.inputs[0] == v;
            const bool onlyFirst = first && std::count(n.inputs.begin(), n.inputs.end(), v) == 1;
            if (n.op == OpKind::Conv2d) {
                if (onlyFirst && isDepthwise(g, n)) depthwise.insert(n.id);
                else if (onlyFirst && isDense(g, n, channels)) dense.insert(n.id);
                else ok = false;
                measured.insert(v);
            } else if (first && (g.isFoldedBatchNorm(n) || homogeneous(n))) {
                join(n.outputs[0]);
            } else if (isResidualAdd(g, n)) {
                adds.insert(n.id);
                join(n.outputs[0]);
            } else {
                ok = false;
            }
        }
    }
    if (!ok || producers.empty() || (depthwise.empty() && dense.empty())) return std::nullopt;
    out.producers.assign(producers.begin(), producers.end());
    out.depthwise.assign(depthwise.begin(), depthwise.end());
    out.dense.assign(dense.begin(), dense.end());
    out.measured.assign(measured.begin(), measured.end());
    out.firstReader = std::min(depthwise.empty() ? std::numeric_limits<int>::max() : *depthwise.begin(),
                               dense.empty() ? std::numeric_limits<int>::max() : *dense.begin());
    auto names = [&](const std::vector<int>& ids) {
        std::vector<std::string> s;
        for (int id : ids) s.push_back(g.node(id).name);
        return s;
    };
    out.group = EqualizationGroup{names(out.producers), names(out.depthwise), names(out.dense), int(adds.size()), channels};
    return out;
}

std::vector<GroupNodes> findGroups(const Graph& g, bool denseReaders) {
    std::vector<GroupNodes> groups;
    std::set<int> seen;
    for (const Node& n : g.nodes()) {
        int seed = -1;
        if (isDepthwise(g, n)) seed = n.inputs[0];
        else if (isResidualAdd(g, n)) seed = n.outputs[0];
        if (seed < 0 || seen.count(seed)) continue;
        std::optional<GroupNodes> group = growGroup(g, seed, seen);
        if (group && (denseReaders || group->dense.empty())) groups.push_back(std::move(*group));
    }
    std::sort(groups.begin(), groups.end(), [](const GroupNodes& a, const GroupNodes& b) { return a.firstReader < b.firstReader; });
    return groups;
}

double medianOf(at::Tensor t) {
    t = std::get<0>(t.to(at::kDouble).sort());
    return t.numel() ? t[t.numel() / 2].item<double>() : 0.0;
}

/// Multiplies parameter @p key along dimension @p dim by @p factor (a new tensor).
void scaleParam(Graph& g, const std::string& key, const at::Tensor& factor, int64_t dim = 0) {
    const at::Tensor& old = g.param(key);
    std::vector<int64_t> shape(size_t(old.dim()), 1);
    shape[size_t(dim)] = old.size(dim);
    g.setParam(key, (old.to(at::kDouble) * factor.view(shape)).to(old.scalar_type()));
}

/// The key of @p conv's own (unfolded) weight: a rescale of it survives refolding.
std::string ownWeight(const Graph& g, const Node& conv) {
    const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(conv);
    return fold ? fold->weightKey : g.paramOf(conv, 1);
}

}  // namespace

std::vector<EqualizationGroup> equalizationGroups(const Graph& graph, bool denseReaders) {
    std::vector<EqualizationGroup> out;
    for (const GroupNodes& g : findGroups(graph, denseReaders)) out.push_back(g.group);
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
    if (groups.empty()) {
        s << (denseReaders ? "Range equalization: no depthwise input or residual stream it can rescale, nothing changed"
                           : "Range equalization: no depthwise input it can rescale without touching a dense layer's "
                             "weights, nothing changed");
        return s.str();
    }
    int64_t scaled = 0, channels = 0, depthwise = 0, dense = 0, residual = 0;
    double before = 0, after = 0, largest = 1;
    for (const EqualizedGroup& g : groups) {
        scaled += g.scaledChannels;
        channels += g.group.channels;
        depthwise += int64_t(g.group.depthwise.size());
        dense += int64_t(g.group.dense.size());
        residual += g.group.adds > 0 ? 1 : 0;
        before += g.medianRangeBefore;
        after += g.medianRangeAfter;
        largest = std::max(largest, g.largestScale);
    }
    s.setf(std::ios::fixed);
    s.precision(2);
    s << "Range equalization: " << groups.size() << " groups (" << residual << " through residual adds) before "
      << depthwise << " depthwise and " << dense << " dense layers, " << scaled << " of " << channels
      << " channels scaled (up to x" << largest << "), median channel range " << before / double(groups.size())
      << " -> " << after / double(groups.size()) << " of the widest, on " << samples << " samples";
    return s.str();
}

RangeEqualizationReport equalizeActivationRanges(Graph& graph, const Dataset& calib,
                                                 const RangeEqualizationOptions& options, const Progress* progress) {
    options.validate();
    const auto t0 = std::chrono::steady_clock::now();
    RangeEqualizationReport report;
    report.denseReaders = options.denseReaders;
    const std::vector<GroupNodes> groups = findGroups(graph, options.denseReaders);
    if (groups.empty()) return report;
    if (calib.size() < 1) throw invalidInput("Range equalization needs calibration data; " + calib.description() + " is empty.");

    // Per channel the largest |value| of each measured tensor, over the samples.
    std::map<int, at::Tensor> ranges;
    for (const GroupNodes& g : groups)
        for (int v : g.measured) ranges.emplace(v, at::Tensor());
    RunHooks hooks;
    hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
        for (size_t i = 0; i < n.inputs.size() && i < in.size(); ++i) {
            auto it = ranges.find(n.inputs[i]);
            if (it == ranges.end()) continue;
            const at::Tensor r = in[i].abs().amax({0, 2, 3}).to(at::kDouble);
            it->second = it->second.defined() ? at::maximum(it->second, r) : r;
        }
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

    // Every factor first, then the parameters: nothing half-done.
    std::vector<at::Tensor> factors;
    for (const GroupNodes& g : groups) {
        const double inf = std::numeric_limits<double>::infinity();
        at::Tensor s = at::full({g.group.channels}, inf, at::kDouble);
        for (int v : g.measured) {
            const at::Tensor& r = ranges.at(v);
            if (!r.defined()) continue;
            const double widest = r.max().item<double>();
            if (widest > 0) s = at::minimum(s, at::where(r > widest * 1e-9, widest / r.clamp_min(widest * 1e-9), inf));
        }
        s = at::where(at::isinf(s), at::ones_like(s), s).clamp(1.0, options.maxScale);
        EqualizedGroup e;
        e.group = g.group;
        e.scaledChannels = (s > 1.0 + 1e-9).sum().item<int64_t>();
        e.largestScale = s.max().item<double>();
        double before = 0, after = 0;
        int measured = 0;
        for (int v : g.measured) {
            const at::Tensor& r = ranges.at(v);
            const double widest = r.defined() ? r.max().item<double>() : 0.0;
            before += widest > 0 ? medianOf(r / widest) : 1.0;
            after += widest > 0 ? medianOf(r * s / widest) : 1.0;
            ++measured;
        }
        e.medianRangeBefore = measured ? before / measured : 1.0;
        e.medianRangeAfter = measured ? after / measured : 1.0;
        report.groups.push_back(e);
        factors.push_back(s);
    }
    for (size_t i = 0; i < groups.size(); ++i) {
        const GroupNodes& g = groups[i];
        const at::Tensor& s = factors[i];
        for (int id : g.producers) {
            const Node& producer = graph.node(id);
            if (const std::optional<FoldedBatchNorm> fold = foldedBatchNorm(producer)) {
                const Node& bn = graph.node(graph.findNode(fold->batchNorm));
                scaleParam(graph, graph.paramOf(bn, 3), s);
                scaleParam(graph, graph.paramOf(bn, 4), s);
            } else {
                scaleParam(graph, graph.paramOf(producer, 1), s);
                if (producer.inputs.size() > 2 && !graph.paramOf(producer, 2).empty())
                    scaleParam(graph, graph.paramOf(producer, 2), s);
            }
        }
        for (int id : g.depthwise) {
            const std::string key = ownWeight(graph, graph.node(id));
            const int64_t multiplier = graph.param(key).size(0) / s.numel();
            scaleParam(graph, key, 1.0 / s.repeat_interleave(multiplier));
        }
        for (int id : g.dense) scaleParam(graph, ownWeight(graph, graph.node(id)), 1.0 / s, 1);
    }
    foldBatchNorms(graph);  // the folded copies from the rescaled parameters
    report.samples = total;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger()->info("{} ({:.1f} s)", report.summary(), report.seconds);
    return report;
}

}  // namespace ptq
