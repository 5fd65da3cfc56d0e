#include "core/analysis/sensitivity_estimate.h"

#include "core/analysis/detail/sensitivity_common.h"
#include "core/quant/integer_kernels.h"
#include "core/quant/quantized_model.h"
#include "core/runtime/cut_cache.h"
#include "core/runtime/ops.h"
#include "core/util/cpu_block_cache.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

namespace ptq {

namespace {

/// What one layer runs with at one option (the table's options, then the base).
struct OptionInputs {
    QuantSpec activation;
    QuantParams input0, input1;  ///< the data inputs' quantizers (input1: an attention matmul's second)
    at::Tensor weight;           ///< fake-quantized; undefined for an attention matmul
    /// The layer at this option as an integer kernel (core/quant/integer_kernels.h), when it fits one.
    std::shared_ptr<const IntegerLayerKernel> kernel;
};

/// Per-sample bytes of every activation the graph makes (float32): what a forward keeps for
/// its backward, at most.
int64_t activationBytesPerSample(const Graph& graph) {
    int64_t total = 0;
    for (const Node& node : graph.nodes())
        for (int v : node.outputs) {
            int64_t n = int64_t(sizeof(float));
            for (int64_t d : graph.sampleShape(v)) n *= std::max<int64_t>(1, d);
            total += n;
        }
    return std::max<int64_t>(1, total);
}

/// Ranks (1-based) with ties at their mean rank.
std::vector<double> ranks(const std::vector<double>& x) {
    std::vector<size_t> order(x.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
    std::vector<double> r(x.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
        const double mean = 0.5 * double(i + j) + 1.0;
        for (size_t k = i; k <= j; ++k) r[order[k]] = mean;
        i = j + 1;
    }
    return r;
}

}  // namespace

SensitivityResult estimateSensitivity(const Graph& graph, const Dataset& data, const SensitivityRequest& req,
                                      const EstimateSettings& settings, const Progress* progress) {
    const auto t0 = std::chrono::steady_clock::now();
    releaseCpuBlockCache();  // blocks another job left are of its sizes, not this one's
    validateSensitivityRequest(req);
    SensitivityResult r;
    r.options = req.options;
    r.base = req.base;
    r.layers = sensitivityLayers(graph);
    QuantizedModel base = detail::baseModel(graph, req);
    const Executor executor(graph);
    const std::vector<int> layers = graph.allocationNodes();
    std::map<int, size_t> layerOf;
    for (size_t l = 0; l < layers.size(); ++l) layerOf[layers[l]] = l;

    // The same samples as the measured table; batches small enough for a backward pass.
    const int64_t maxSamples = detail::sensitivitySampleBound(executor, layers, data.size(), req.cacheBytes);
    const int64_t batch = std::clamp<int64_t>(settings.memoryBytes / (3 * activationBytesPerSample(graph)), 1,
                                              std::max<int64_t>(1, req.quantizer.batchSize));
    const ScaledProgress readProgress(progress, 0.0, 0.05, "Reading data");
    const CutCache cache(executor, data, batch, readProgress.get(), maxSamples);
    r.samples = cache.samples();
    const auto since = [&t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    logger()->debug("Sensitivity estimate: {} samples read at {:.2f} s", r.samples, since());
    r.metric = cache.hasLabels() ? "cross_entropy" : "kl";
    const ScaledProgress calibProgress(progress, 0.05, 0.2, "Calibrating");
    detail::calibrateOnCache(base, cache, data, req.quantizer.batchSize, calibProgress.get());
    const RunHooks baseHooks = base.integerHooks();
    logger()->debug("Sensitivity estimate: calibrated at {:.2f} s", since());
    double forwardSeconds = 0, columnSeconds = 0, baseSeconds = 0;

    // Every layer's inputs at every option and at the base (the last column).
    const size_t optionCount = req.options.size();
    std::vector<BitOption> columns = req.options;
    const size_t baseColumn = size_t(std::find(columns.begin(), columns.end(), req.base) - columns.begin());
    if (baseColumn == columns.size()) columns.push_back(req.base);
    std::vector<std::vector<OptionInputs>> prepared(layers.size());
    for (size_t l = 0; l < layers.size(); ++l) {
        if (progress) progress->throwIfCancelled();
        const Node& node = graph.node(layers[l]);
        const bool activationOnly = graph.isActivationMatMul(node);
        const at::Tensor floatWeight = activationOnly ? at::Tensor() : base.floatParam(graph.paramOf(node, 1));
        for (const BitOption& o : columns) {
            OptionInputs in;
            in.activation = QuantSpec::activations(o.activationBits);
            in.input0 = base.observedActivationParams(node.name, o.activationBits, 0);
            if (activationOnly)
                in.input1 = base.observedActivationParams(node.name, o.activationBits, 1);
            else {
                QuantParams weightParams;
                in.weight = detail::untunedOptionWeight(base, node.name, floatWeight, o, req.quantizer, &weightParams);
                if (!weightParams.scale.empty())
                    in.kernel = IntegerLayerKernel::prepare(node, in.weight,
                                                            QuantSpec::weights(o.weightBits, req.quantizer.granularity),
                                                            weightParams, in.activation, in.input0, nullptr);
            }
            prepared[l].push_back(std::move(in));
        }
    }
    const double ready = since();
    logger()->debug("Sensitivity estimate: every option's weights ready at {:.2f} s", ready);

    std::vector<std::vector<double>> fisher(layers.size(), std::vector<double>(columns.size(), 0.0));
    std::vector<std::vector<double>> squared = fisher, linear = fisher;
    std::vector<double> elements(layers.size(), 0.0);
    double fpLoss = 0, baseLoss = 0;
    int64_t fpCorrect = 0, baseCorrect = 0;
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(settings.seed);

    for (size_t b = 0; b < cache.batches(); ++b) {
        if (progress) progress->throwIfCancelled();
        reportProgress(progress, 0.2 + 0.8 * double(b) / double(cache.batches()), "Estimating sensitivity");
        const at::Tensor x = cache.values(b).at(0).second;
        const int64_t n = cache.count(b);
        const at::Tensor& labels = cache.labels(b);

        // The FP model's forward with every layer's inputs and output kept, and the gradient of
        // the per-sample loss at each layer output. A layer output made from nothing that needs a
        // gradient starts the graph as a leaf; later ones keep their gradient on request.
        std::vector<std::vector<at::Tensor>> inputs(layers.size());
        std::vector<at::Tensor> outputs(layers.size());
        at::Tensor fpLogp, target;
        {
            const at::AutoGradMode grad(true);
            RunHooks hooks;
            hooks.afterNode = [&](const Node& node, const std::vector<at::Tensor>& in, std::vector<at::Tensor>& outs) {
                const auto it = layerOf.find(node.id);
                if (it == layerOf.end()) return;
                std::vector<at::Tensor>& kept = inputs[it->second];
                for (const at::Tensor& t : in) kept.push_back(t.detach());
                if (!outs[0].requires_grad())
                    outs[0] = outs[0].detach().requires_grad_(true);
                else
                    outs[0].retain_grad();
                outputs[it->second] = outs[0];
            };
            const at::Tensor logits = executor.run(x, hooks).at(0).to(at::kFloat);
            const at::Tensor logp = at::log_softmax(logits, 1);
            fpLogp = logp.detach();
            // Labelled data: the task loss; otherwise a label drawn from the model's own prediction
            // (the Fisher of the KL at the FP model).
            target = labels.defined() ? labels : at::multinomial(fpLogp.exp(), 1, false, generator).view({-1});
            const at::Tensor loss = -logp.gather(1, target.view({-1, 1})).sum();
            if (labels.defined()) {
                fpLoss += loss.item<double>();
                fpCorrect += fpLogp.argmax(1).eq(labels).sum().item<int64_t>();
            } else {
                fpCorrect += n;  // agreement with itself
            }
            if (loss.requires_grad()) loss.backward();
        }

        const double afterBackward = since();
        const c10::InferenceMode inference;
        for (size_t l = 0; l < layers.size(); ++l) {
            if (!outputs[l].defined()) continue;  // not reached (a branch the outputs do not read)
            reportProgress(progress, 0.2 + 0.8 * (double(b) + double(l + 1) / double(layers.size())) /
                                               double(cache.batches()), "Estimating sensitivity");
            if (progress) progress->throwIfCancelled();
            const Node& node = graph.node(layers[l]);
            at::Tensor y = outputs[l].detach();
            const at::Tensor grad = outputs[l].grad();
            at::Tensor g = grad.defined() ? grad.detach() : at::zeros_like(y);
            // Per-sample sums over every dimension but the batch's, in any memory layout.
            std::vector<int64_t> sampleDims;
            for (int64_t d = 1; d < y.dim(); ++d) sampleDims.push_back(d);
            const bool activationOnly = graph.isActivationMatMul(node);
            // Columns with the same activation bits share the quantized input (one pass each).
            std::map<int, at::Tensor> quantizedInput;
            for (size_t c = 0; c < columns.size(); ++c) {
                const OptionInputs& p = prepared[l][c];
                std::vector<at::Tensor> in = inputs[l];
                at::Tensor d;
                if (p.kernel) {
                    d = p.kernel->run(in[0], in.size() > 2 ? in[2] : at::Tensor());  // quantizes in[0] itself
                } else {
                    at::Tensor& q0 = quantizedInput[columns[c].activationBits];
                    if (!q0.defined()) {
                        q0 = fakeQuantize(in[0], p.activation, p.input0);
                        // A convolution runs on channels-last activations (ops.cpp): convert once
                        // for all the columns, not in every run.
                        if (node.op == OpKind::Conv2d && q0.dim() == 4)
                            q0 = q0.contiguous(at::MemoryFormat::ChannelsLast);
                    }
                    in[0] = q0;
                    in[1] = activationOnly ? fakeQuantize(in[1], p.activation, p.input1) : p.weight;
                    d = runOp(node, in, n).at(0);
                }
                // The output's layout can differ from the FP forward's (channels-last in
                // inference): bring the FP output and its gradient to it once, so the passes
                // below read both in order.
                const at::MemoryFormat layout = d.suggest_memory_format();
                if (!y.is_contiguous(layout)) {
                    y = y.contiguous(layout);
                    g = g.contiguous(layout);
                }
                d.sub_(y);
                const double norm = at::linalg_vector_norm(d, 2).item<double>();
                squared[l][c] += norm * norm;
                // Per sample, g . d: its sum is the first-order term, its square the second-order
                // one with the Hessian as the sample's gradient outer product g g'.
                const at::Tensor gd = sampleDims.empty() ? d.mul_(g).to(at::kDouble)  // an empty list sums all
                                                         : d.mul_(g).sum(sampleDims, false, at::kDouble);
                fisher[l][c] += gd.square().sum().item<double>();
                if (labels.defined()) linear[l][c] += gd.sum().item<double>();
            }
            elements[l] += double(y.numel());
            inputs[l].clear();
            outputs[l] = at::Tensor();
        }

        const double afterColumns = since();
        // The base model (every layer at the base option): its loss and top-1.
        const at::Tensor baseLogp = at::log_softmax(executor.run(x, baseHooks).at(0).to(at::kFloat), 1);
        if (labels.defined()) {
            baseLoss -= baseLogp.gather(1, labels.view({-1, 1})).sum().item<double>();
            baseCorrect += baseLogp.argmax(1).eq(labels).sum().item<int64_t>();
        } else {
            baseLoss += (fpLogp.exp() * (fpLogp - baseLogp)).sum().item<double>();
            baseCorrect += baseLogp.argmax(1).eq(fpLogp.argmax(1)).sum().item<int64_t>();
        }
        baseSeconds += since() - afterColumns;
        columnSeconds += afterColumns - afterBackward;
        forwardSeconds = since() - ready - baseSeconds - columnSeconds;
    }
    logger()->debug("Sensitivity estimate: forward and backward passes {:.2f} s, layers alone {:.2f} s, base model {:.2f} s",
                    forwardSeconds, columnSeconds, baseSeconds);

    const double samples = double(r.samples);
    r.fp32Loss = fpLoss / samples;
    r.fp32Top1 = 100.0 * double(fpCorrect) / samples;
    r.baseLoss = baseLoss / samples;
    r.baseTop1 = 100.0 * double(baseCorrect) / samples;
    const double lossMoved = r.baseLoss - r.fp32Loss;
    const double top1PerLoss = lossMoved > 1e-9 ? (r.baseTop1 - r.fp32Top1) / lossMoved : 0.0;
    r.cells.assign(layers.size(), std::vector<SensitivityCell>(optionCount));
    for (size_t l = 0; l < layers.size(); ++l)
        for (size_t o = 0; o < optionCount; ++o) {
            SensitivityCell& cell = r.cells[l][o];
            cell.estimated = true;
            cell.localMse = elements[l] > 0 ? squared[l][o] / elements[l] : 0.0;
            if (req.options[o] == req.base) continue;  // 0 by definition
            cell.deltaLoss = (linear[l][o] - linear[l][baseColumn] + 0.5 * (fisher[l][o] - fisher[l][baseColumn])) / samples;
            // A linear map of the loss: kept to what a top-1 can move (a Taylor estimate of a
            // far-off option can overshoot the loss by orders of magnitude).
            cell.deltaTop1 = std::clamp(cell.deltaLoss * top1PerLoss, -r.fp32Top1, 100.0 - r.fp32Top1);
        }
    const double nodes = double(graph.nodes().size());
    // calibration, forward, backward (about two forwards), base; each layer alone per column
    r.forwardEquivalents = 5.0 + double(columns.size() * layers.size()) / nodes;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger()->info("Sensitivity estimate: {} layers x {} options on {} samples in {:.1f} s", r.layers.size(),
                   r.options.size(), r.samples, r.seconds);
    return r;
}

double cellRankCorrelation(const SensitivityResult& estimate, const SensitivityResult& measured) {
    if (estimate.cells.size() != measured.cells.size() || !(estimate.options == measured.options))
        throw invalidInput("The estimate and the measured table have other layers or options: estimate the same "
                           "table that was measured.");
    std::vector<double> a, b;
    for (size_t l = 0; l < estimate.cells.size(); ++l)
        for (size_t o = 0; o < estimate.options.size(); ++o) {
            if (estimate.options[o] == estimate.base) continue;
            a.push_back(estimate.cells[l][o].deltaLoss);
            b.push_back(measured.cells[l][o].deltaLoss);
        }
    if (a.size() < 2) return std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> ra = ranks(a), rb = ranks(b);
    const double mean = 0.5 * double(a.size() + 1);
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < ra.size(); ++i) {
        sab += (ra[i] - mean) * (rb[i] - mean);
        saa += (ra[i] - mean) * (ra[i] - mean);
        sbb += (rb[i] - mean) * (rb[i] - mean);
    }
    if (saa <= 0 || sbb <= 0) return std::numeric_limits<double>::quiet_NaN();
    return sab / std::sqrt(saa * sbb);
}

}  // namespace ptq
