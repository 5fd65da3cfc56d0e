#include "core/methods/layer_cache.h"

#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <unordered_map>

namespace ptq {

struct LayerCache::Impl {
    const Graph& graph;
    const Dataset& data;
    LayerCacheOptions options;
    struct Held {
        at::Tensor input, output;
    };
    std::unordered_map<int, Held> held;
    std::vector<int64_t> indices;
    bool subsampled = false;

    Impl(const Graph& g, const Dataset& ds, LayerCacheOptions o) : graph(g), data(ds), options(o) {}

    int64_t valueBytes(int valueId) const {
        int64_t n = 1;
        for (int64_t s : graph.sampleShape(valueId)) n *= s;
        return n * int64_t(sizeof(float));
    }

    const Held& get(int layer, int64_t first, int64_t count) const {
        auto it = held.find(layer);
        if (it == held.end())
            throw failed("internal: the layer cache does not hold '" + graph.node(layer).name + "'");
        if (first < 0 || count < 0 || first + count > int64_t(indices.size()))
            throw failed("internal: samples outside the layer cache were asked for");
        return it->second;
    }
};

LayerCache::LayerCache(const Graph& graph, const Dataset& data, LayerCacheOptions options)
    : d(std::make_unique<Impl>(graph, data, options)) {
    if (options.maxBytes < 1)
        throw invalidInput("The layer cache bound must be at least one byte; give a bound in MB such as 1024.");
    if (options.batchSize < 1) throw invalidInput("The layer cache's batch size must be at least 1.");
}

LayerCache::~LayerCache() = default;
LayerCache::LayerCache(LayerCache&&) noexcept = default;
LayerCache& LayerCache::operator=(LayerCache&&) noexcept = default;

int64_t LayerCache::bytesPerSample(int layer) const {
    const Node& n = d->graph.node(layer);
    return d->valueBytes(n.inputs.at(0)) + d->valueBytes(n.outputs.at(0));
}

std::vector<std::vector<int>> LayerCache::plan(const std::vector<int>& layers) const {
    std::vector<std::vector<int>> groups;
    int64_t groupBytes = 0;
    const int64_t n = d->data.size();
    for (int layer : layers) {
        const int64_t bytes = bytesPerSample(layer) * n;
        if (groups.empty() || groupBytes + bytes > d->options.maxBytes) {
            groups.push_back({});
            groupBytes = 0;
        }
        groups.back().push_back(layer);
        groupBytes += bytes;
    }
    return groups;
}

void LayerCache::clear() {
    d->held.clear();
    d->indices.clear();
    d->subsampled = false;
}

void LayerCache::capture(const std::vector<int>& layers, const RunHooks* inputHooks, const Progress* progress) {
    clear();
    if (layers.empty()) return;
    const Graph& g = d->graph;
    int64_t perSample = 0;
    for (int layer : layers) perSample += bytesPerSample(layer);
    const int64_t total = d->data.size();
    const int64_t fit = d->options.maxBytes / perSample;
    if (fit < 1)
        throw invalidInput("The layer cache bound of " + std::to_string(d->options.maxBytes >> 20) +
                           " MB cannot hold one sample of layer '" + g.node(layers[0]).name +
                           "'; raise the bound.");
    std::vector<int64_t> indices(static_cast<size_t>(total));
    std::iota(indices.begin(), indices.end(), 0);
    if (fit < total) {
        std::mt19937_64 rng(d->options.seed);
        std::shuffle(indices.begin(), indices.end(), rng);
        indices.resize(size_t(fit));
        std::sort(indices.begin(), indices.end());
        d->subsampled = true;
        const std::string note = "Layer cache: " + std::to_string(fit) + " of " + std::to_string(total) +
                                 " samples fit the bound of " + std::to_string(d->options.maxBytes >> 20) + " MB";
        logger()->warn("{} (layers {}..{})", note, g.node(layers.front()).name, g.node(layers.back()).name);
        if (progress) progress->report(0.0, note);
    }
    const int64_t n = int64_t(indices.size());
    std::unordered_map<int, Impl::Held> held;
    auto shapeOf = [&](int valueId) {
        std::vector<int64_t> s{n};
        for (int64_t x : g.sampleShape(valueId)) s.push_back(x);
        return s;
    };
    for (int layer : layers) {
        const Node& node = g.node(layer);
        const std::vector<int64_t> in = shapeOf(node.inputs.at(0)), out = shapeOf(node.outputs.at(0));
        // A 2-d convolution's values are held channels-last, the format its training runs in
        // (see input()); each sample stays one contiguous block either way.
        const bool channelsLast = node.op == OpKind::Conv2d && in.size() == 4 && out.size() == 4;
        const auto options = at::TensorOptions()
                                 .dtype(at::kFloat)
                                 .memory_format(channelsLast ? at::MemoryFormat::ChannelsLast
                                                             : at::MemoryFormat::Contiguous);
        held[layer] = {at::empty(in, options), at::empty(out, options)};
    }
    const int stop = *std::max_element(layers.begin(), layers.end());
    const Executor executor(g);
    // Not InferenceMode: the captured tensors feed autograd later (AdaQuant), which refuses
    // inference tensors.
    const at::NoGradGuard noGrad;
    const std::vector<int64_t> sample = d->data.sampleShape();
    const int64_t sampleFloats = d->data.sampleElements();
    const int64_t batch = d->options.batchSize;
    const int runs = inputHooks ? 2 : 1;
    std::vector<float> buffer;
    for (int run = 0; run < runs; ++run) {
        const bool takeInputs = run == runs - 1;  // the hooked run, or the only (FP) run
        const bool takeOutputs = run == 0;        // always the FP run
        int64_t row = 0;
        RunHooks hooks = (inputHooks && run == 1) ? *inputHooks : RunHooks{};
        hooks.stopAfter = stop;
        const auto before = hooks.beforeNode;
        hooks.beforeNode = [&](const Node& node, std::vector<at::Tensor>& in) {
            if (takeInputs) {
                auto it = held.find(node.id);
                if (it != held.end()) it->second.input.narrow(0, row, in[0].size(0)).copy_(in[0]);
            }
            if (before) before(node, in);
        };
        const auto after = hooks.afterNode;
        hooks.afterNode = [&](const Node& node, const std::vector<at::Tensor>& in, std::vector<at::Tensor>& outs) {
            if (after) after(node, in, outs);
            if (!takeOutputs) return;
            auto it = held.find(node.id);
            if (it != held.end()) it->second.output.narrow(0, row, outs[0].size(0)).copy_(outs[0]);
        };
        for (int64_t first = 0; first < n; first += batch) {
            if (progress) progress->throwIfCancelled();
            const int64_t count = std::min(batch, n - first);
            buffer.resize(size_t(count * sampleFloats));
            // Runs of consecutive indices are read at once (all of them when not sub-sampled).
            for (int64_t i = 0; i < count;) {
                int64_t j = i + 1;
                while (j < count && indices[size_t(first + j)] == indices[size_t(first + j - 1)] + 1) ++j;
                d->data.read(indices[size_t(first + i)], j - i, buffer.data() + i * sampleFloats, nullptr);
                i = j;
            }
            std::vector<int64_t> shape{count};
            shape.insert(shape.end(), sample.begin(), sample.end());
            row = first;
            executor.run(at::from_blob(buffer.data(), shape, at::kFloat), hooks);
            if (progress)
                progress->report((double(run) + double(first + count) / double(n)) / double(runs),
                                 "Caching layer inputs and outputs");
        }
    }
    d->held = std::move(held);
    d->indices = std::move(indices);
}

bool LayerCache::holds(int layer) const { return d->held.count(layer) != 0; }
int64_t LayerCache::samples() const { return int64_t(d->indices.size()); }
bool LayerCache::subsampled() const { return d->subsampled; }
const std::vector<int64_t>& LayerCache::sampleIndices() const { return d->indices; }
const LayerCacheOptions& LayerCache::options() const { return d->options; }

int64_t LayerCache::bytes() const {
    int64_t total = 0;
    for (const auto& [layer, h] : d->held) total += int64_t(h.input.nbytes() + h.output.nbytes());
    return total;
}

at::Tensor LayerCache::input(int layer, int64_t first, int64_t count) const {
    return d->get(layer, first, count).input.narrow(0, first, count);
}

at::Tensor LayerCache::fpOutput(int layer, int64_t first, int64_t count) const {
    return d->get(layer, first, count).output.narrow(0, first, count);
}

}  // namespace ptq
