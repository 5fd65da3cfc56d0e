#include "core/quant/quantized_model.h"

#include "core/graph/graph.h"
#include "core/quant/integer_kernels.h"
#include "core/quant/multipoint.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace ptq {

namespace {
bool quantizes(int bits) { return bits < 32; }

/// The axis of a layer's input that its weight's input channels run along: the last for
/// Linear (tokens x features), 1 for convolutions (N x C x H x W).
int64_t inputChannelAxis(const Node& n, const at::Tensor& x) { return n.op == OpKind::Linear ? x.dim() - 1 : 1; }

/// Sum of squares of @p x per index along @p axis, in float64 [x.size(axis)]: one pass in the
/// tensor's memory order when the channel is its innermost dimension (channels-last
/// activations, tokens x features) or x is contiguous, a norm reduction otherwise. Partial sums
/// of fixed pieces add up in piece order, so the result does not depend on the thread count.
at::Tensor channelSquareSums(const at::Tensor& x, int64_t axis) {
    const int64_t channels = x.size(axis);
    const bool innermost = x.scalar_type() == at::kFloat &&
                           ((axis == x.dim() - 1 && x.is_contiguous()) ||
                            (x.dim() == 4 && axis == 1 && x.is_contiguous(at::MemoryFormat::ChannelsLast)));
    const bool nested = x.scalar_type() == at::kFloat && x.is_contiguous();
    if (!innermost && !nested) {
        std::vector<int64_t> dims;
        for (int64_t k = 0; k < x.dim(); ++k)
            if (k != axis) dims.push_back(k);
        return at::linalg_vector_norm(x, 2, dims).to(at::kDouble).square_();
    }
    const float* data = x.data_ptr<float>();
    std::vector<double> out(static_cast<size_t>(channels), 0.0);
    if (innermost) {
        // Rows of `channels` values; float sums over pieces of kRows rows, then double.
        constexpr int64_t kRows = 256;
        const int64_t rows = channels == 0 ? 0 : x.numel() / channels;
        const int64_t pieces = (rows + kRows - 1) / kRows;
        std::vector<double> partial(static_cast<size_t>(pieces * channels), 0.0);
        at::parallel_for(0, pieces, 1, [&](int64_t pb, int64_t pe) {
            std::vector<float> acc(static_cast<size_t>(channels));
            for (int64_t p = pb; p < pe; ++p) {
                std::fill(acc.begin(), acc.end(), 0.0f);
                const int64_t end = std::min(rows, (p + 1) * kRows);
                for (int64_t r = p * kRows; r < end; ++r) {
                    const float* __restrict row = data + r * channels;
                    float* __restrict a = acc.data();
                    for (int64_t c = 0; c < channels; ++c) a[c] += row[c] * row[c];
                }
                for (int64_t c = 0; c < channels; ++c) partial[size_t(p * channels + c)] = double(acc[size_t(c)]);
            }
        });
        for (int64_t p = 0; p < pieces; ++p)
            for (int64_t c = 0; c < channels; ++c) out[size_t(c)] += partial[size_t(p * channels + c)];
    } else {
        // Runs of `inner` values per (outer, channel), each summed in float blocks of kBlock.
        int64_t inner = 1;
        for (int64_t k = axis + 1; k < x.dim(); ++k) inner *= x.size(k);
        const int64_t runs = inner == 0 ? 0 : x.numel() / inner;
        std::vector<double> partial(static_cast<size_t>(runs), 0.0);
        at::parallel_for(0, runs, std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(inner, 1)),
                         [&](int64_t rb, int64_t re) {
            constexpr int64_t kBlock = 1024;
            for (int64_t r = rb; r < re; ++r) {
                const float* run = data + r * inner;
                double total = 0.0;
                for (int64_t b = 0; b < inner; b += kBlock) {
                    float lanes[8] = {};
                    const int64_t end = std::min(inner, b + kBlock);
                    int64_t i = b;
                    for (; i + 8 <= end; i += 8)
                        for (int l = 0; l < 8; ++l) lanes[l] += run[i + l] * run[i + l];
                    float rest = 0.0f;
                    for (; i < end; ++i) rest += run[i] * run[i];
                    for (float v : lanes) total += double(v);
                    total += double(rest);
                }
                partial[size_t(r)] = total;
            }
        });
        for (int64_t r = 0; r < runs; ++r) out[size_t(r % channels)] += partial[size_t(r)];
    }
    return at::tensor(out, at::kDouble);
}

/// Whether @p value is a softmax's output: its range is [0, 1] by construction, so its quantizer
/// takes that range instead of an observed one (the P of attention's P·V).
bool isSoftmaxOutput(const Graph& g, int value) {
    const int producer = g.value(value).producer;
    if (producer < 0) return false;
    const OpKind op = g.node(producer).op;
    return op == OpKind::Softmax || op == OpKind::MaskedSoftmax;
}
}  // namespace

struct QuantizedModel::Impl {
    struct Layer {
        int node = -1;
        std::string name;
        /// An activation MatMul (Graph::isActivationMatMul): no weights, a quantizer on each of
        /// its two inputs (secondParams for input 1).
        bool activationOnly = false;
        bool softmaxInput = false;  ///< input 0 is a softmax's output: fixed range [0, 1]
        QuantParams secondParams;
        std::string weightKey;
        LayerQuant choice;
        QuantSpec weightSpec, activationSpec;
        QuantParams weightParams, activationParams;
        bool weightPinned = false;  ///< weightParams were set from outside: keep them on requantize
        at::Tensor quantizedWeight;
        std::vector<double> inputEnergy;  ///< E[x²] per input channel at calibration (multipoint)
        std::vector<int> pointsPerChannel;  ///< multipoint layers: the points each channel took
        std::vector<QuantParams> pointParams;  ///< multipoint layers: every point's params
        bool fixedWeight = false;  ///< restored from a saved configuration: never requantized
    };
    const Graph& graph;
    QuantConfig config;
    std::vector<Layer> layers;
    std::unordered_map<int, size_t> byNode;
    std::unordered_map<std::string, size_t> byWeightKey;
    bool calibrated = false;
    std::vector<RangeObserver> observers;  ///< per layer: its input on the FP model, at calibration
    /// Integer kernels by layer index, with the input params each was made for (remade when the
    /// weight tensor or those params change).
    struct Kernel {
        std::shared_ptr<const IntegerLayerKernel> kernel;
        QuantParams inputParams;
        at::Tensor weight;  ///< the weight it was tried on (a layer without a kernel is not retried)
    };
    mutable std::mutex kernelMutex;
    mutable std::unordered_map<size_t, Kernel> kernels;
    std::vector<RangeObserver> secondObservers;  ///< per layer: input 1 of activation matmuls
    std::unordered_map<std::string, at::Tensor> floatParams;  ///< tuned replacements of graph params

    /// The params the calibration's observation of input @p input of layer @p i gives at @p spec;
    /// a softmax output keeps its fixed range [0, 1] whatever was observed.
    QuantParams observedParams(size_t i, const QuantSpec& spec, int input) const {
        if (input == 1) return secondObservers[i].params(spec, config.activationMethod);
        return layers[i].softmaxInput ? paramsFromRange(0.0f, 1.0f, spec) : observers[i].params(spec, config.activationMethod);
    }

    const at::Tensor& floatParam(const std::string& key) const {
        auto it = floatParams.find(key);
        return it != floatParams.end() ? it->second : graph.param(key);
    }

    void quantizeWeights() {
        c10::InferenceMode guard;
        for (auto& l : layers) {
            if (l.activationOnly || !quantizes(l.choice.weightBits) || l.fixedWeight) continue;
            const at::Tensor& w = floatParam(l.weightKey);
            if (l.choice.weightPoints > 1 && !l.weightPinned) {
                const MultipointWeight mp = multipointQuantize(w, l.weightSpec, config.weightMethod,
                                                               l.choice.weightPoints, l.inputEnergy, l.quantizedWeight);
                l.weightParams = mp.pointParams.front();
                l.pointsPerChannel = mp.pointsPerChannel;
                l.pointParams = mp.pointParams;
                continue;
            }
            if (!l.weightPinned) l.weightParams = ptq::weightParams(w, l.weightSpec, config.weightMethod);
            l.quantizedWeight = fakeQuantize(w, l.weightSpec, l.weightParams);
        }
    }

    Impl(const Graph& g, QuantConfig c) : graph(g), config(std::move(c)) {}

    const Layer& layer(const std::string& name) const {
        for (const Layer& l : layers)
            if (l.name == name) return l;
        throw invalidInput("The model has no quantizable layer named '" + name + "'.");
    }
    Layer& layer(const std::string& name) { return const_cast<Layer&>(std::as_const(*this).layer(name)); }

    /// Checks that @p params fit @p spec (count, finite positive scales, zero points on the grid).
    static void checkParams(const Layer& l, const QuantSpec& spec, int bits, const QuantParams& params,
                            int64_t channels, const char* what) {
        if (!quantizes(bits))
            throw invalidInput("Layer '" + l.name + "' keeps its " + what + " in floating point: it has no " + what +
                               " quantizer to set.");
        const size_t expected = perChannelParams(spec.granularity) ? size_t(channels) : 1;
        if (params.scale.size() != expected || params.zeroPoint.size() != expected)
            throw invalidInput("The " + std::string(what) + " quantizer of layer '" + l.name + "' needs " +
                               std::to_string(expected) + " scales and zero points, not " +
                               std::to_string(params.scale.size()) + ".");
        for (size_t i = 0; i < expected; ++i)
            if (!(params.scale[i] > 0.0f) || !std::isfinite(params.scale[i]) ||
                params.zeroPoint[i] < gridMin(spec) || params.zeroPoint[i] > gridMax(spec))
                throw invalidInput("The " + std::string(what) + " quantizer of layer '" + l.name +
                                   "' was given a non-positive scale or a zero point off its grid.");
    }

    /// The integer kernel of every layer that has one, by node id.
    std::shared_ptr<const std::unordered_map<int, std::shared_ptr<const IntegerLayerKernel>>> integerKernels() const {
        auto out = std::make_shared<std::unordered_map<int, std::shared_ptr<const IntegerLayerKernel>>>();
        if (!integerKernelsAvailable()) return out;
        const std::lock_guard<std::mutex> lock(kernelMutex);
        for (size_t i = 0; i < layers.size(); ++i) {
            const Layer& l = layers[i];
            if (l.activationOnly || !quantizes(l.choice.activationBits) || !quantizes(l.choice.weightBits) ||
                !l.quantizedWeight.defined() || l.choice.weightPoints != 1)
                continue;
            Kernel& k = kernels[i];
            if (!k.weight.defined() || !k.weight.is_same(l.quantizedWeight) || !(k.inputParams == l.activationParams)) {
                std::string why;
                k.kernel = IntegerLayerKernel::prepare(graph.node(l.node), l.quantizedWeight, l.weightSpec, l.weightParams,
                                                       l.activationSpec, l.activationParams, &why);
                if (!k.kernel) logger()->debug("Layer '{}' runs in float: {}", l.name, why);
                k.weight = l.quantizedWeight;
                k.inputParams = l.activationParams;
            }
            if (k.kernel) (*out)[l.node] = k.kernel;
        }
        return out;
    }

    RunHooks makeHooks(bool integer = false) const {
        RunHooks h;
        if (!calibrated) throw failed("The quantized model is used before its calibration.");
        h.paramOverride = [this](const std::string& key) -> const at::Tensor* {
            auto it = byWeightKey.find(key);
            if (it != byWeightKey.end() && layers[it->second].quantizedWeight.defined())
                return &layers[it->second].quantizedWeight;
            auto f = floatParams.find(key);
            return f != floatParams.end() ? &f->second : nullptr;
        };
        h.beforeNode = [this](const Node& n, std::vector<at::Tensor>& inputs) {
                auto it = byNode.find(n.id);
                if (it == byNode.end()) return;
                const Layer& l = layers[it->second];
                if (!quantizes(l.choice.activationBits)) return;
                inputs[0] = fakeQuantize(inputs[0], l.activationSpec, l.activationParams);
                if (l.activationOnly) inputs[1] = fakeQuantize(inputs[1], l.activationSpec, l.secondParams);
            };
        if (!integer) return h;
        const auto kernels = integerKernels();
        if (kernels->empty()) return h;
        // A layer with a kernel quantizes its input inside the kernel: beforeNode leaves it as it
        // is, runNode runs the kernel (or, on a gradient run or with another weight, fake-quantizes
        // the input as beforeNode would have and lets the float op run).
        const auto floatBefore = h.beforeNode;
        const auto usesKernel = [kernels](const Node& n) { return kernels->count(n.id) != 0; };
        h.beforeNode = [floatBefore, usesKernel](const Node& n, std::vector<at::Tensor>& inputs) {
            if (!usesKernel(n)) floatBefore(n, inputs);
        };
        h.runNode = [kernels, floatBefore](const Node& n, std::vector<at::Tensor>& inputs,
                                                 std::vector<at::Tensor>& outputs) {
            auto it = kernels->find(n.id);
            if (it == kernels->end()) return false;
            const bool grad = at::GradMode::is_enabled() && inputs[0].requires_grad();
            if (grad || inputs.size() < 2 || !inputs[1].is_same(it->second->weight())) {
                floatBefore(n, inputs);
                return false;
            }
            const at::Tensor bias = inputs.size() > 2 ? inputs[2] : at::Tensor();
            outputs = {it->second->run(inputs[0], bias)};
            return true;
        };
        return h;
    }
};

QuantizedModel::QuantizedModel(const Graph& graph, QuantConfig config)
    : d(std::make_unique<Impl>(graph, std::move(config))) {
    for (int id : graph.allocationNodes()) {
        const Node& n = graph.node(id);
        Impl::Layer l;
        l.node = id;
        l.name = n.name;
        l.activationOnly = graph.isActivationMatMul(n);
        l.softmaxInput = l.activationOnly && isSoftmaxOutput(graph, n.inputs[0]);
        l.weightKey = l.activationOnly ? std::string() : graph.paramOf(n, 1);
        l.choice = d->config.layer(n.name);
        if (l.activationOnly) {
            l.choice.weightBits = 32;  // no weights: whatever weight bits an option names do not apply
            l.choice.weightPoints = 1;
        }
        if (quantizes(l.choice.weightBits)) {
            l.weightSpec = QuantSpec::weights(l.choice.weightBits, l.choice.granularity);
            validateQuantSpec(l.weightSpec);
        }
        if (l.choice.weightPoints < 1 || l.choice.weightPoints > kMaxWeightPoints)
            throw invalidInput("Layer '" + n.name + "' asks for " + std::to_string(l.choice.weightPoints) +
                               " weight points; multipoint takes 1 to " + std::to_string(kMaxWeightPoints) + ".");
        if (quantizes(l.choice.activationBits)) {
            l.activationSpec = QuantSpec::activations(l.choice.activationBits);
            validateQuantSpec(l.activationSpec);
        }
        d->byNode[id] = d->layers.size();
        if (!l.activationOnly) d->byWeightKey[l.weightKey] = d->layers.size();
        d->layers.push_back(std::move(l));
    }
    for (const auto& [name, choice] : d->config.layers)
        if (!d->byNode.count(graph.findNode(name)))
            throw invalidInput("The quantization configuration names layer '" + name +
                               "', which this model does not have as a conv, linear or attention matmul layer.");
}

struct QuantizedModel::Snapshot::Data {
    std::vector<Impl::Layer> layers;
    std::unordered_map<std::string, at::Tensor> floatParams;
    bool calibrated = false;
    const Impl* owner = nullptr;
};

QuantizedModel::Snapshot QuantizedModel::snapshot() const {
    auto data = std::make_shared<Snapshot::Data>();
    data->layers = d->layers;
    data->floatParams = d->floatParams;
    data->calibrated = d->calibrated;
    data->owner = d.get();
    return Snapshot{data};
}

void QuantizedModel::restore(const Snapshot& snapshot) {
    if (!snapshot.data || snapshot.data->owner != d.get())
        throw failed("internal: a quantized model was restored from another model's snapshot");
    d->layers = snapshot.data->layers;
    d->floatParams = snapshot.data->floatParams;
    d->calibrated = snapshot.data->calibrated;
}

QuantizedModel::~QuantizedModel() = default;
QuantizedModel::QuantizedModel(QuantizedModel&&) noexcept = default;
QuantizedModel& QuantizedModel::operator=(QuantizedModel&&) noexcept = default;

void QuantizedModel::calibrate(const Dataset& calib, int64_t batchSize, const Progress* progress,
                               const std::function<void(const Batch&, const std::vector<at::Tensor>&)>& onBatch) {
    if (calib.size() == 0)
        throw invalidInput("The calibration set is empty: give at least one sample (for example fmnist:train:100).");
    c10::InferenceMode guard;
    for (auto& l : d->layers) l.weightPinned = l.fixedWeight = false;  // a calibration starts over from the ranges
    // Activation ranges from the FP model: every layer sees the same statistics whatever the
    // other layers' bits, which is what a per-layer sensitivity table needs. The same pass sums
    // each layer's input energy per channel, which multipoint weights are fitted to.
    std::vector<RangeObserver> observers(d->layers.size()), secondObservers(d->layers.size());
    std::vector<at::Tensor> energy(d->layers.size());
    int64_t samples = 0;
    RunHooks observe;
    observe.beforeNode = [&](const Node& n, std::vector<at::Tensor>& inputs) {
        auto it = d->byNode.find(n.id);
        if (it == d->byNode.end()) return;
        observers[it->second].observe(inputs[0]);
        if (d->layers[it->second].activationOnly) {
            secondObservers[it->second].observe(inputs[1]);
            return;
        }
        if (inputs[0].dim() < 2) return;
        const at::Tensor& x = inputs[0];
        const int64_t channelAxis = inputChannelAxis(n, x);
        // Sum over samples and positions in one pass without a temporary, in x's layout.
        const double positions = double(x.numel()) / double(std::max<int64_t>(1, x.size(0) * x.size(channelAxis)));
        const at::Tensor e = channelSquareSums(x, channelAxis) / positions;
        energy[it->second] = energy[it->second].defined() ? energy[it->second] + e : e;
    };
    Executor(d->graph).runDataset(calib, batchSize, [&](const Batch& b, const std::vector<at::Tensor>& outputs) {
        samples += b.count;
        if (onBatch) onBatch(b, outputs);
    }, progress, observe);
    d->observers = std::move(observers);
    d->secondObservers = std::move(secondObservers);
    for (size_t i = 0; i < d->layers.size(); ++i) {
        auto& l = d->layers[i];
        if (quantizes(l.choice.activationBits)) {
            l.activationParams = d->observedParams(i, l.activationSpec, 0);
            if (l.activationOnly) l.secondParams = d->observedParams(i, l.activationSpec, 1);
        }
        l.inputEnergy.clear();
        if (energy[i].defined() && samples > 0) {
            const at::Tensor e = (energy[i] / double(samples)).contiguous();
            l.inputEnergy.assign(e.data_ptr<double>(), e.data_ptr<double>() + e.numel());
        }
    }
    d->quantizeWeights();
    d->calibrated = true;
    logger()->info("Calibrated {} layers on {} samples ({} weights, {} activations)", d->layers.size(), calib.size(),
                   rangeMethodName(d->config.weightMethod), rangeMethodName(d->config.activationMethod));
}


const std::vector<double>& QuantizedModel::inputEnergy(const std::string& layer) const {
    if (!d->calibrated) throw failed("Input energies are asked for before calibration.");
    return d->layer(layer).inputEnergy;
}

const std::vector<QuantParams>& QuantizedModel::weightPointParams(const std::string& layer) const {
    return d->layer(layer).pointParams;
}

void QuantizedModel::restoreActivationLayer(const std::string& layer, const QuantParams& input0,
                                            const QuantParams& input1) {
    Impl::Layer& l = d->layer(layer);
    if (!l.activationOnly)
        throw invalidInput("Layer '" + layer + "' has weights: the saved configuration must give them.");
    if (quantizes(l.choice.activationBits)) {
        Impl::checkParams(l, l.activationSpec, l.choice.activationBits, input0, 1, "activation");
        Impl::checkParams(l, l.activationSpec, l.choice.activationBits, input1, 1, "activation");
    }
    l.activationParams = input0;
    l.secondParams = input1;
}

void QuantizedModel::restoreLayer(const std::string& layer, const at::Tensor& weight, const at::Tensor* bias,
                                  const QuantParams& weightParams, const QuantParams& activationParams) {
    Impl::Layer& l = d->layer(layer);
    if (l.activationOnly)
        throw invalidInput("Layer '" + layer + "' is an attention matmul without weights: it has none to restore.");
    const Node& n = d->graph.node(l.node);
    const at::Tensor& w = d->floatParam(l.weightKey);
    if (weight.sizes() != w.sizes())
        throw invalidInput("The saved weight of layer '" + layer + "' has another shape than the model's.");
    if (quantizes(l.choice.weightBits))
        Impl::checkParams(l, l.weightSpec, l.choice.weightBits, weightParams, w.size(0), "weight");
    if (quantizes(l.choice.activationBits))
        Impl::checkParams(l, l.activationSpec, l.choice.activationBits, activationParams, 1, "activation");
    const at::Tensor value = weight.to(w.scalar_type()).contiguous();
    setFloatParam(l.weightKey, value);
    if (bias) {
        if (n.inputs.size() < 3)
            throw invalidInput("The saved configuration gives layer '" + layer + "' a bias, which the model's layer lacks.");
        setFloatParam(d->graph.paramOf(n, 2), bias->to(w.scalar_type()).contiguous());
    }
    l.weightParams = weightParams;
    l.activationParams = activationParams;
    l.quantizedWeight = quantizes(l.choice.weightBits) ? value : at::Tensor();
    l.fixedWeight = true;
}

void QuantizedModel::markRestored() { d->calibrated = true; }

const std::vector<int>& QuantizedModel::weightPointsPerChannel(const std::string& layer) const {
    return d->layer(layer).pointsPerChannel;
}

QuantParams QuantizedModel::observedActivationParams(const std::string& layer, int bits, int input) const {
    if (!d->calibrated) throw failed("Activation parameters are asked for before calibration.");
    if (d->observers.empty())
        throw invalidInput("This model was restored from a saved configuration, which keeps no observed ranges: "
                           "calibrate it on data to measure other options.");
    const QuantSpec spec = QuantSpec::activations(bits);
    validateQuantSpec(spec);
    for (size_t i = 0; i < d->layers.size(); ++i) {
        const Impl::Layer& l = d->layers[i];
        if (l.name != layer) continue;
        if (input < 0 || input >= (l.activationOnly ? 2 : 1))
            throw failed("internal: layer '" + layer + "' has no quantized input " + std::to_string(input));
        return d->observedParams(i, spec, input);
    }
    throw invalidInput("The model has no quantizable layer named '" + layer + "'.");
}

bool QuantizedModel::isActivationLayer(const std::string& layer) const { return d->layer(layer).activationOnly; }

void QuantizedModel::setFloatParam(const std::string& key, const at::Tensor& value) {
    if (!d->graph.hasParam(key)) throw failed("internal: no graph parameter '" + key + "' to replace");
    if (value.sizes() != d->graph.param(key).sizes())
        throw failed("internal: a replacement for '" + key + "' has another shape than the parameter");
    d->floatParams[key] = value;
}

const at::Tensor& QuantizedModel::floatParam(const std::string& key) const { return d->floatParam(key); }

const at::Tensor& QuantizedModel::runWeight(const std::string& layer) const {
    if (!d->calibrated) throw failed("The quantized weights are asked for before calibration.");
    const Impl::Layer& l = d->layer(layer);
    if (l.activationOnly) throw failed("internal: the weight of attention matmul '" + layer + "', which has none, was asked for");
    return l.quantizedWeight.defined() ? l.quantizedWeight : d->floatParam(l.weightKey);
}
void QuantizedModel::requantizeWeights() { d->quantizeWeights(); }
const Graph& QuantizedModel::graph() const { return d->graph; }
RunHooks QuantizedModel::hooks() const { return d->makeHooks(); }
RunHooks QuantizedModel::integerHooks() const { return d->makeHooks(true); }
const QuantConfig& QuantizedModel::config() const { return d->config; }

const QuantParams& QuantizedModel::weightParams(const std::string& layer) const {
    if (!d->calibrated) throw failed("Weight parameters are asked for before calibration.");
    return d->layer(layer).weightParams;
}

const QuantParams& QuantizedModel::activationParams(const std::string& layer, int input) const {
    if (!d->calibrated) throw failed("Activation parameters are asked for before calibration.");
    const Impl::Layer& l = d->layer(layer);
    if (input == 1 && l.activationOnly) return l.secondParams;
    if (input != 0) throw failed("internal: layer '" + layer + "' has no quantized input " + std::to_string(input));
    return l.activationParams;
}

const QuantSpec& QuantizedModel::weightSpec(const std::string& layer) const { return d->layer(layer).weightSpec; }
const QuantSpec& QuantizedModel::activationSpec(const std::string& layer) const {
    return d->layer(layer).activationSpec;
}

void QuantizedModel::setWeightParams(const std::string& layer, const QuantParams& params) {
    if (!d->calibrated) throw failed("Weight parameters are set before calibration.");
    Impl::Layer& l = d->layer(layer);
    if (l.activationOnly) throw invalidInput("Layer '" + layer + "' is an attention matmul: it has no weights.");
    const at::Tensor& w = d->floatParam(l.weightKey);
    Impl::checkParams(l, l.weightSpec, l.choice.weightBits, params, w.size(0), "weight");
    c10::InferenceMode guard;
    l.weightParams = params;
    l.weightPinned = true;
    l.quantizedWeight = fakeQuantize(w, l.weightSpec, l.weightParams);
}

bool QuantizedModel::weightParamsPinned(const std::string& layer) const { return d->layer(layer).weightPinned; }

void QuantizedModel::unpinWeightParams(const std::string& layer) { d->layer(layer).weightPinned = false; }

void QuantizedModel::setActivationParams(const std::string& layer, const QuantParams& params) {
    if (!d->calibrated) throw failed("Activation parameters are set before calibration.");
    Impl::Layer& l = d->layer(layer);
    Impl::checkParams(l, l.activationSpec, l.choice.activationBits, params, 1, "activation");
    l.activationParams = params;
}

}  // namespace ptq
