#include "core/analysis/sensitivity.h"

#include "core/analysis/detail/sensitivity_common.h"

#include "core/methods/adaquant.h"
#include "core/quant/integer_kernels.h"
#include "core/quant/multipoint.h"
#include "core/quant/quantized_model.h"
#include "core/quant/range_calibration.h"
#include "core/runtime/cut_cache.h"
#include "core/runtime/ops.h"
#include "core/util/cpu_block_cache.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <regex>

namespace ptq {

std::string BitOption::name() const {
    return "w" + std::to_string(weightBits) + (weightPoints > 1 ? "x" + std::to_string(weightPoints) : "") + "a" +
           std::to_string(activationBits);
}

BitOption BitOption::parse(const std::string& text) {
    static const std::regex form("w([0-9]+)(?:x([0-9]+))?a([0-9]+)");
    std::smatch m;
    if (!std::regex_match(text, m, form) || m[1].length() > 2 || m[2].length() > 2 || m[3].length() > 2)
        throw invalidInput("'" + text + "' is not a bit option: write wBITSaBITS, for example w4a8, or "
                           "wBITSxPOINTSaBITS for multipoint weights, for example w4x2a8.");
    BitOption o{std::stoi(m[1]), std::stoi(m[3]), m[2].matched ? std::stoi(m[2]) : 1};
    if (o.weightPoints < 1 || o.weightPoints > 4)
        throw invalidInput("'" + text + "' asks for " + std::to_string(o.weightPoints) +
                           " weight points; multipoint takes 1 to 4.");
    validateQuantSpec(QuantSpec::weights(o.weightBits));
    validateQuantSpec(QuantSpec::activations(o.activationBits));
    return o;
}

std::vector<BitOption> BitOption::parseList(const std::string& text) {
    std::vector<BitOption> out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t comma = text.find(',', start);
        const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        const BitOption o = parse(item);
        for (const BitOption& seen : out)
            if (seen == o) throw invalidInput("The option " + o.name() + " is listed twice.");
        out.push_back(o);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

std::vector<BitOption> BitOption::defaults() {
    std::vector<BitOption> out;
    for (int w : {2, 4, 8})
        for (int a : {4, 8}) out.push_back({w, a});
    return out;
}

namespace {

/// Loss and top-1 of one run over the cached batches, summed over samples.
struct Score {
    double loss = 0;
    int64_t correct = 0;
    void add(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& fpLogp) {
        const at::Tensor logp = at::log_softmax(logits.to(at::kFloat), 1);
        if (labels.defined()) {
            loss -= logp.gather(1, labels.view({-1, 1})).sum().item<double>();
            correct += logp.argmax(1).eq(labels).sum().item<int64_t>();
        } else {
            loss += (fpLogp.exp() * (fpLogp - logp)).sum().item<double>();
            correct += logp.argmax(1).eq(fpLogp.argmax(1)).sum().item<int64_t>();
        }
    }
};

/// Runs the tail of the model from @p node over every cached batch with @p hooks (which measure
/// the layer's local error into @p sqErr / @p elems) and makes the cell: the deltas against the
/// base (0 for the base option itself, whose run stops after the layer). Adds the node
/// executions it spends to @p nodeRuns.
SensitivityCell runCell(const Executor& executor, const CutCache& cache, const Node& node, RunHooks& hooks, bool isBase,
                        const std::vector<at::Tensor>& fpLogp, const SensitivityResult& r, const Progress* progress,
                        const double& sqErr, const double& elems, double& nodeRuns, size_t* batchIndex = nullptr) {
    if (isBase) hooks.stopAfter = node.id;  // the deltas are 0 by definition; the local error is not
    Score s;
    for (size_t b = 0; b < cache.batches(); ++b) {
        if (progress) progress->throwIfCancelled();  // a cell is a tail run over every sample
        if (batchIndex) *batchIndex = b;
        const at::Tensor out = executor.runFrom(node.id, cache.values(b), cache.count(b), hooks).at(0);
        if (!isBase) s.add(out, cache.labels(b), fpLogp[b]);
    }
    nodeRuns += isBase ? 1.0 : double(int64_t(executor.graph().nodes().size()) - node.id);
    SensitivityCell cell;
    if (!isBase) {
        const double n = double(r.samples);
        cell.deltaLoss = s.loss / n - r.baseLoss;
        cell.deltaTop1 = 100.0 * double(s.correct) / n - r.baseTop1;
    }
    cell.localMse = elems > 0 ? sqErr / elems : 0.0;
    return cell;
}

/// One cell of an attention matmul's row: both inputs at @p option's activation bits, every
/// other layer at the base. Adds the node executions it spends to @p nodeRuns.
SensitivityCell measureActivationCell(const Executor& executor, const CutCache& cache, const QuantizedModel& base,
                                      const RunHooks& baseHooks, const Node& node, const BitOption& option, bool isBase,
                                      const std::vector<at::Tensor>& fpLogp, const SensitivityResult& r,
                                      const Progress* progress, double& nodeRuns) {
    const QuantSpec aSpec = QuantSpec::activations(option.activationBits);
    const QuantParams p0 = base.observedActivationParams(node.name, option.activationBits, 0);
    const QuantParams p1 = base.observedActivationParams(node.name, option.activationBits, 1);
    std::vector<at::Tensor> rawInputs;
    double sqErr = 0, elems = 0;
    RunHooks hooks = baseHooks;
    hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
        if (n.id != node.id) return baseHooks.beforeNode(n, in);
        rawInputs = in;
        in[0] = fakeQuantize(in[0], aSpec, p0);
        in[1] = fakeQuantize(in[1], aSpec, p1);
    };
    hooks.runNode = [&](const Node& n, std::vector<at::Tensor>& in, std::vector<at::Tensor>& outs) {
        return n.id != node.id && baseHooks.runNode && baseHooks.runNode(n, in, outs);
    };
    hooks.afterNode = [&](const Node& n, const std::vector<at::Tensor>&, std::vector<at::Tensor>& outs) {
        if (n.id != node.id) return;
        const at::Tensor diff = (outs[0] - runOp(n, rawInputs, outs[0].size(0)).at(0)).to(at::kDouble);
        sqErr += (diff * diff).sum().item<double>();
        elems += double(diff.numel());
    };
    return runCell(executor, cache, node, hooks, isBase, fpLogp, r, progress, sqErr, elems, nodeRuns);
}

}  // namespace

namespace detail {

QuantizedModel baseModel(const Graph& graph, const SensitivityRequest& req) {
    QuantConfig config = QuantConfig::uniform(graph, req.base.weightBits, req.base.activationBits, req.quantizer.granularity,
                                              false);
    config.weightMethod = req.quantizer.weightRange;
    config.activationMethod = req.quantizer.activationRange;
    return QuantizedModel(graph, config);
}

int64_t sensitivitySampleBound(const Executor& executor, const std::vector<int>& layers, int64_t samples,
                               int64_t cacheBytes) {
    const int64_t perSample = std::max<int64_t>(1, CutCache::widestBytes(executor, layers, 1));
    if (perSample * samples <= cacheBytes) return samples;
    const int64_t bound = std::max<int64_t>(1, cacheBytes / perSample);
    logger()->warn("Sensitivity: {} samples would keep {:.0f} MB of activations (bound {:.0f} MB); using the first {}",
                   samples, double(perSample * samples) / 1e6, double(cacheBytes) / 1e6, bound);
    return bound;
}

void calibrateOnCache(QuantizedModel& base, const CutCache& cache, const Dataset& data, int64_t batchSize,
                      const Progress* progress,
                      const std::function<void(const Batch&, const std::vector<at::Tensor>&)>& onBatch) {
    // From the samples already read: a folder of images is not decoded a second time.
    std::vector<float> images;
    for (size_t b = 0; b < cache.batches(); ++b) {
        const at::Tensor x = cache.values(b).at(0).second.contiguous();
        images.insert(images.end(), x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
    }
    const InMemoryDataset subset(data.sampleShape(), std::move(images), {}, {}, "sensitivity samples");
    base.calibrate(subset, batchSize, progress, onBatch);
}

}  // namespace detail

size_t SensitivityResult::estimatedCells() const {
    size_t n = 0;
    for (const auto& row : cells)
        for (const SensitivityCell& c : row) n += c.estimated ? 1 : 0;
    return n;
}

std::vector<SensitivityLayer> sensitivityLayers(const Graph& graph) {
    std::vector<SensitivityLayer> out;
    for (int id : graph.allocationNodes()) {
        const Node& node = graph.node(id);
        SensitivityLayer info;
        info.name = node.name;
        info.kind = displayOp(node);
        info.params = graph.isActivationMatMul(node) ? 0 : graph.param(graph.paramOf(node, 1)).numel();
        info.macs = graph.macs(node);
        out.push_back(info);
    }
    return out;
}

void validateSensitivityRequest(const SensitivityRequest& req) {
    if (req.options.empty()) throw invalidInput("The sensitivity table needs at least one option (for example w4a8).");
    for (const BitOption& o : req.options) BitOption::parse(o.name());  // validates the bits and points
    if (req.quantizer.batchSize < 1) throw invalidInput("The batch size must be at least 1.");
}

SensitivityResult measureSensitivity(const Graph& graph, const Dataset& data, const SensitivityRequest& req,
                                     const Progress* progress) {
    const auto t0 = std::chrono::steady_clock::now();
    validateSensitivityRequest(req);
    releaseCpuBlockCache();  // blocks another job left are of its sizes, not this one's

    SensitivityResult r;
    r.options = req.options;
    r.base = req.base;
    QuantizedModel base = detail::baseModel(graph, req);
    const Executor executor(graph);
    const std::vector<int> layers = graph.allocationNodes();
    const int64_t nodes = int64_t(graph.nodes().size());

    // The activations kept between layers bound how many samples take part.
    const int64_t maxSamples = detail::sensitivitySampleBound(executor, layers, data.size(), req.cacheBytes);
    const ScaledProgress readProgress(progress, 0.0, 0.05, "Reading data");
    CutCache cache(executor, data, req.quantizer.batchSize, readProgress.get(), maxSamples);
    r.samples = cache.samples();
    r.metric = cache.hasLabels() ? "cross_entropy" : "kl";
    const auto since = [&t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    logger()->debug("Sensitivity: {} samples read in {:.1f} s", r.samples, since());
    // The calibration pass runs the FP model on the cached samples in the cache's batches: its
    // outputs are the FP32 run (the FP log-probabilities are the KL reference).
    std::vector<at::Tensor> fpLogits;
    const ScaledProgress calibProgress(progress, 0.05, 0.15, "Calibrating");
    detail::calibrateOnCache(base, cache, data, req.quantizer.batchSize, calibProgress.get(),
                             [&](const Batch& b, const std::vector<at::Tensor>& outputs) {
                                 const size_t i = fpLogits.size();
                                 fpLogits.push_back(i < cache.batches() && b.count == cache.count(i) ? outputs.at(0)
                                                                                                     : at::Tensor());
                             });
    logger()->debug("Sensitivity: calibrated at {:.1f} s", since());
    c10::InferenceMode guard;
    const RunHooks baseHooks = base.integerHooks();

    // FP32 and base-model scores from the graph input.
    std::vector<at::Tensor> fpLogp(cache.batches());
    Score fp, baseScore;
    for (size_t b = 0; b < cache.batches(); ++b) {
        reportProgress(progress, 0.15 + 0.05 * double(b) / double(cache.batches()), "FP32 and base runs");
        const at::Tensor logits = b < fpLogits.size() && fpLogits[b].defined()
                                      ? fpLogits[b]
                                      : executor.runFrom(0, cache.values(b), cache.count(b)).at(0);
        fpLogp[b] = at::log_softmax(logits.to(at::kFloat), 1);
        fp.add(logits, cache.labels(b), fpLogp[b]);
        baseScore.add(executor.runFrom(0, cache.values(b), cache.count(b), baseHooks).at(0), cache.labels(b), fpLogp[b]);
    }
    const double n = double(r.samples);
    r.fp32Loss = fp.loss / n;
    r.fp32Top1 = 100.0 * double(fp.correct) / n;
    r.baseLoss = baseScore.loss / n;
    r.baseTop1 = 100.0 * double(baseScore.correct) / n;
    double nodeRuns = 3.0 * double(nodes);  // calibration, FP32 and base passes
    logger()->debug("Sensitivity: FP32 and base runs done at {:.1f} s", since());

    r.layers = sensitivityLayers(graph);
    const size_t optionCount = req.options.size();
    r.cells.assign(layers.size(), std::vector<SensitivityCell>(optionCount));
    // Rounds: the cells asked for first (request.first), then the rest; each round walks the
    // layers in execution order from the graph input, so a round costs one prefix pass more.
    std::vector<std::vector<char>> rounds[2];
    const bool twoRounds = !req.first.empty();
    if (twoRounds && req.first.size() != layers.size())
        throw invalidInput("The cells to measure first name " + std::to_string(req.first.size()) + " layers but the model has " +
                           std::to_string(layers.size()) + ".");
    rounds[0].assign(layers.size(), std::vector<char>(optionCount, twoRounds ? 0 : 1));
    rounds[1].assign(layers.size(), std::vector<char>(optionCount, 0));
    for (size_t li = 0; twoRounds && li < layers.size(); ++li) {
        if (req.first[li].size() != optionCount)
            throw invalidInput("The cells to measure first give " + std::to_string(req.first[li].size()) +
                               " options for a layer but the table has " + std::to_string(optionCount) + ".");
        for (size_t oi = 0; oi < optionCount; ++oi) (req.first[li][oi] ? rounds[0] : rounds[1])[li][oi] = 1;
    }
    std::vector<std::vector<char>> done(layers.size(), std::vector<char>(optionCount, 0));
    const double totalCells = double(layers.size() * optionCount);
    size_t cellsDone = 0;
    for (int round = 0; round < 2; ++round) {
    for (size_t li = 0; li < layers.size(); ++li) {
        const std::vector<char>& wanted = rounds[round][li];
        if (std::find(wanted.begin(), wanted.end(), 1) == wanted.end()) continue;
        const Node& node = graph.node(layers[li]);
        const bool activationOnly = graph.isActivationMatMul(node);
        const std::string weightKey = activationOnly ? std::string() : graph.paramOf(node, 1);
        const at::Tensor floatWeight = activationOnly ? at::Tensor() : base.floatParam(weightKey);
        const ScaledProgress layerProgress(progress, 0.2 + 0.8 * double(cellsDone) / totalCells, 1.0,
                                           "Sensitivity " + node.name);
        // The FP layer's output on the cached input, per batch: every option's local error is
        // measured against it, so it is computed once for the layer.
        std::vector<at::Tensor> floatOutputs(cache.batches());
        size_t batchIndex = 0;
        if (node.id < cache.position()) cache.rewind();  // a later round starts at the input again
        nodeRuns += double(node.id - cache.position());
        cache.advanceTo(node.id, baseHooks, layerProgress.get());

        std::vector<SensitivityCell>& row = r.cells[li];
        for (size_t oi = 0; oi < optionCount; ++oi) {
            if (!wanted[oi]) continue;
            const BitOption& o = req.options[oi];
            reportProgress(progress, 0.2 + 0.8 * double(cellsDone) / totalCells, "Sensitivity " + node.name);
            ++cellsDone;
            const auto finish = [&](const SensitivityCell& cell) {
                row[oi] = cell;
                done[li][oi] = 1;
                if (req.onCell) req.onCell(li, oi, cell);
            };
            if (activationOnly) {
                // Only the activation bits apply: an option with the same ones as one measured
                // already (or the base) is the same cell.
                const auto same = [&](const BitOption& other) { return other.activationBits == o.activationBits; };
                size_t earlier = 0;
                while (earlier < optionCount && !(done[li][earlier] && same(req.options[earlier]))) ++earlier;
                if (earlier < optionCount) {
                    finish(row[earlier]);
                    continue;
                }
                finish(measureActivationCell(executor, cache, base, baseHooks, node, o, same(req.base), fpLogp, r,
                                             progress, nodeRuns));
                continue;
            }
            const QuantSpec wSpec = QuantSpec::weights(o.weightBits, req.quantizer.granularity);
            const QuantSpec aSpec = QuantSpec::activations(o.activationBits);
            // An applied AdaQuant result at this option replaces the weight, the bias and both
            // quantizers' parameters; multipoint options have none.
            const AdaQuantLayerResult* tuned = nullptr;
            if (req.adaQuant && o.weightPoints == 1 && !(o == req.base))  // the base is the reference
                if (const AdaQuantLayerResult* found = req.adaQuant->find(node.name, o.weightBits, o.activationBits);
                    found && found->applied)
                    tuned = found;
            at::Tensor qWeight, tunedBias;
            QuantParams qParams;  // of qWeight, when it has one grid (an integer kernel can run it)
            if (tuned) {
                if (tuned->weightShape != floatWeight.sizes().vec())
                    throw invalidInput("The AdaQuant result of layer '" + node.name +
                                       "' has another weight shape than the model's: tune it again on this model.");
                const at::Tensor w = at::from_blob(const_cast<float*>(tuned->weight.data()), tuned->weightShape,
                                                   at::kFloat).clone().to(floatWeight.scalar_type());
                const size_t channels = wSpec.granularity == Granularity::PerTensor ? 1 : size_t(w.size(0));
                if (tuned->weightParams.channels() != channels)
                    throw invalidInput("The AdaQuant result of layer '" + node.name +
                                       "' was tuned at another weight granularity: tune it at the table's.");
                qWeight = fakeQuantize(w, wSpec, tuned->weightParams);
                qParams = tuned->weightParams;
                if (!tuned->bias.empty() && node.inputs.size() > 2) {
                    const at::Tensor& b = base.floatParam(graph.paramOf(node, 2));
                    if (b.numel() != int64_t(tuned->bias.size()))
                        throw invalidInput("The AdaQuant result of layer '" + node.name +
                                           "' has another bias size than the model's: tune it again on this model.");
                    tunedBias = at::from_blob(const_cast<float*>(tuned->bias.data()), b.sizes(), at::kFloat)
                                    .clone()
                                    .to(b.scalar_type());
                }
                if (!r.usedAdaQuant()) {
                    r.adaQuantIterations = tuned->iterations;
                    r.adaQuantSamples = tuned->samples;
                }
            } else {
                qWeight = detail::untunedOptionWeight(base, node.name, floatWeight, o, req.quantizer, &qParams);
            }
            const std::string biasKey = tunedBias.defined() ? graph.paramOf(node, 2) : std::string();
            const at::Tensor floatBias = tunedBias.defined() ? base.floatParam(biasKey) : at::Tensor();
            const QuantParams aParams = tuned && !tuned->activationParams.scale.empty()
                                            ? tuned->activationParams
                                            : base.observedActivationParams(node.name, o.activationBits);
            // The layer at the option runs as an integer kernel where its weight and input fit one
            // (as the base model's layers do), else fake-quantized in float.
            const std::shared_ptr<const IntegerLayerKernel> kernel =
                baseHooks.runNode && !qParams.scale.empty()
                    ? IntegerLayerKernel::prepare(node, qWeight, wSpec, qParams, aSpec, aParams, nullptr)
                    : nullptr;
            // The base model with this one layer at the option; its output error is measured
            // against the FP layer on the same (raw) input.
            at::Tensor rawInput;
            double sqErr = 0, elems = 0;
            RunHooks hooks = baseHooks;
            hooks.paramOverride = [&](const std::string& key) -> const at::Tensor* {
                if (key == weightKey) return &qWeight;
                if (!biasKey.empty() && key == biasKey) return &tunedBias;
                return baseHooks.paramOverride(key);
            };
            hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
                if (n.id != node.id) return baseHooks.beforeNode(n, in);
                rawInput = in[0];
                if (!kernel) in[0] = fakeQuantize(in[0], aSpec, aParams);
            };
            hooks.runNode = [&](const Node& n, std::vector<at::Tensor>& in, std::vector<at::Tensor>& outs) {
                if (n.id != node.id) return baseHooks.runNode && baseHooks.runNode(n, in, outs);
                if (!kernel) return false;
                outs = {kernel->run(in[0], in.size() > 2 ? in[2] : at::Tensor())};
                return true;
            };
            hooks.afterNode = [&](const Node& n, const std::vector<at::Tensor>& in, std::vector<at::Tensor>& outs) {
                if (n.id != node.id) return;
                at::Tensor& reference = floatOutputs[batchIndex];
                if (!reference.defined()) {
                    std::vector<at::Tensor> ref = in;
                    ref[0] = rawInput;
                    ref[1] = floatWeight;
                    if (floatBias.defined()) ref[2] = floatBias;
                    reference = runOp(n, ref, outs[0].size(0)).at(0);
                }
                const at::Tensor diff = (outs[0] - reference).to(at::kDouble);
                sqErr += (diff * diff).sum().item<double>();
                elems += double(diff.numel());
            };
            SensitivityCell cell = runCell(executor, cache, node, hooks, o == req.base, fpLogp, r, progress, sqErr,
                                           elems, nodeRuns, &batchIndex);
            cell.adaQuant = tuned != nullptr;
            finish(cell);
        }
    }
    }
    r.forwardEquivalents = nodeRuns / double(nodes);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger()->info("Sensitivity: {} layers x {} options on {} samples in {:.1f} s ({:.1f} forward equivalents)",
                   r.layers.size(), r.options.size(), r.samples, r.seconds, r.forwardEquivalents);
    return r;
}

std::vector<std::pair<int, int>> adaQuantBitOptions(const SensitivityRequest& request) {
    std::vector<std::pair<int, int>> out;
    for (const BitOption& o : request.options) {
        const std::pair<int, int> bits{o.weightBits, o.activationBits};
        if (o.weightPoints == 1 && !(o == request.base) && std::find(out.begin(), out.end(), bits) == out.end())
            out.push_back(bits);
    }
    return out;
}

SensitivityResult measureSensitivityWithAdaQuant(const Graph& graph, const Dataset& data, SensitivityRequest request,
                                                 const AdaQuantOptions& options, AdaQuantStore& store,
                                                 const Progress* progress) {
    options.validate();
    const std::vector<std::pair<int, int>> bits = adaQuantBitOptions(request);
    // Tuning takes most of the time: a few Adam steps per layer and option against one suffix
    // run per cell.
    const ScaledProgress tuneProgress(progress, 0.0, bits.empty() ? 0.0 : 0.7, "AdaQuant");
    if (!bits.empty()) adaQuantOptions(graph, data, bits, request.quantizer.granularity, options, store, tuneProgress.get());
    request.adaQuant = &store;
    const ScaledProgress measureProgress(progress, bits.empty() ? 0.0 : 0.7, 1.0, "Sensitivity");
    return measureSensitivity(graph, data, request, measureProgress.get());
}

}  // namespace ptq
