#include "core/methods/adaquant.h"
#include "core/methods/detail/adaquant_common.h"

#include "core/graph/graph.h"
#include "core/methods/layer_cache.h"
#include "core/methods/adam.h"
#include "core/quant/quant_ops.h"
#include "core/runtime/ops.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

namespace ptq {

using detail::LayerStart;
using detail::QuantLayout;
using detail::layoutOf;
using detail::startOf;
using detail::toVector;
using detail::tunedLayers;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// The ReLU (or ReLU6) that alone consumes a layer's output, looking through a folded BN:
/// the loss compares clamp(y, lo, hi) (hi infinite for a ReLU); see squaredErrorRun.
struct ReluAfter {
    bool present = false;
    double lo = 0, hi = std::numeric_limits<double>::infinity();
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

typedef float V4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));

/// The activation a loss looks through: none, a ReLU, or a clamp to [lo, hi] (ReLU6).
enum class LossAct { None, Relu, Clamp };

/// Over n outputs of one sample: the sum of (act(out) - act(target))^2, and, when kGrad,
/// grad = gradScale * (act(out) - act(target)) * act'(out): the loss's forward and backward in
/// one pass. at::relu passes the gradient where its output is positive, at::clamp where
/// lo <= x <= hi; so do these. Eight float lanes (two vectors of four: comparisons on 128-bit
/// vectors stay vector code on plain SSE2, wider ones GCC splits into scalars) over blocks of
/// 512 values, blocks added in double.
template <LossAct kAct, bool kGrad>
double squaredErrorRun(const float* __restrict out, const float* __restrict target, float* __restrict grad,
                       int64_t n, float lo, float hi, float gradScale) {
    const V4 vlo = {lo, lo, lo, lo};
    const V4 vhi = {hi, hi, hi, hi};
    const V4 vscale = {gradScale, gradScale, gradScale, gradScale};
    auto four = [&](int64_t i, V4& acc) {
        V4 o, t;
        std::memcpy(&o, out + i, sizeof o);
        std::memcpy(&t, target + i, sizeof t);
        V4 d = o - t;
        if (kAct != LossAct::None) {
            V4 ao = o < vlo ? vlo : o, ta = t < vlo ? vlo : t;
            if (kAct == LossAct::Clamp) {
                ao = ao > vhi ? vhi : ao;
                ta = ta > vhi ? vhi : ta;
            }
            d = ao - ta;
        }
        acc += d * d;
        if (kGrad) {
            V4 gv = d * vscale;
            if (kAct == LossAct::Relu) gv = (V4)((I4)gv & (o > vlo));
            if (kAct == LossAct::Clamp) gv = (V4)((I4)gv & ((o >= vlo) & (o <= vhi)));
            std::memcpy(grad + i, &gv, sizeof gv);
        }
    };
    auto act = [&](float x) {
        if (kAct == LossAct::None) return x;
        x = std::max(x, lo);
        return kAct == LossAct::Clamp ? std::min(x, hi) : x;
    };
    auto passes = [&](float x) {
        return kAct == LossAct::None || (kAct == LossAct::Relu ? x > lo : (x >= lo && x <= hi));
    };
    constexpr int64_t kBlock = 512;
    double total = 0.0;
    for (int64_t b = 0; b < n; b += kBlock) {
        const int64_t e = std::min(n, b + kBlock);
        V4 acc0 = {}, acc1 = {};
        int64_t i = b;
        for (; i + 8 <= e; i += 8) {
            four(i, acc0);
            four(i + 4, acc1);
        }
        float tail = 0.0f;
        for (; i < e; ++i) {
            const float d = act(out[i]) - act(target[i]);
            tail += d * d;
            if (kGrad) grad[i] = passes(out[i]) ? d * gradScale : 0.0f;
        }
        double block = double(tail);
        for (int l = 0; l < 4; ++l) block += double(acc0[l]) + double(acc1[l]);
        total += block;
    }
    return total;
}

template <bool kGrad>
double squaredErrorRun(const ReluAfter& relu, const float* out, const float* target, float* grad, int64_t n,
                       float gradScale) {
    if (!relu.present) return squaredErrorRun<LossAct::None, kGrad>(out, target, grad, n, 0.0f, 0.0f, gradScale);
    if (std::isinf(relu.hi))
        return squaredErrorRun<LossAct::Relu, kGrad>(out, target, grad, n, float(relu.lo), 0.0f, gradScale);
    return squaredErrorRun<LossAct::Clamp, kGrad>(out, target, grad, n, float(relu.lo), float(relu.hi), gradScale);
}

/// squaredErrorRun over @p count samples of @p rowSize outputs each, sample r against held
/// target row rows[r]; per-sample sums added in order, so the result does not depend on the
/// number of threads.
double squaredError(const ReluAfter& relu, const at::Tensor& out, const float* targets, const int64_t* rows,
                    int64_t count, float* grad, float gradScale) {
    const int64_t rowSize = out.numel() / std::max<int64_t>(count, 1);
    const float* o = out.data_ptr<float>();
    std::vector<double> sums(size_t(count), 0.0);
    at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
            sums[size_t(r)] = grad ? squaredErrorRun<true>(relu, o + r * rowSize, targets + rows[r] * rowSize,
                                                           grad + r * rowSize, rowSize, gradScale)
                                   : squaredErrorRun<false>(relu, o + r * rowSize, targets + rows[r] * rowSize,
                                                            nullptr, rowSize, gradScale);
    });
    return std::accumulate(sums.begin(), sums.end(), 0.0);
}

/// The learnable state of one layer, its forward, and the backward of everything but the
/// layer's own op written out by hand: fake-quant through the straight-through estimator
/// (core/quant/quant_ops.h), the loss after the ReLU, and the parametrisation below. The op
/// (conv, linear) runs forward and backward through autograd on leaf tensors.
struct LayerProblem {
    const Node& node;
    const LayerStart& start;
    ReluAfter relu;
    at::Tensor step;               // the starting weight grid step, broadcast over the weight
    at::Tensor v, logSw, zw, logSa, za, bias;
    QuantLayout weightLayout, inputLayout;
    /// The held samples' inputs and FP outputs, in the memory format the op runs in; each
    /// sample's values stay one contiguous row.
    at::Tensor inputs, targets;
    at::MemoryFormat format = at::MemoryFormat::Contiguous;
    int64_t inputRow = 0;          // floats per sample of the input

    LayerProblem(const Node& n, const LayerStart& s, ReluAfter r, const LayerCache& cache)
        : node(n), start(s), relu(r) {
        const at::Tensor w = s.weight;
        const int64_t held = cache.samples();
        inputs = cache.input(s.node, 0, held);
        targets = cache.fpOutput(s.node, 0, held);
        // oneDNN runs a 2-d convolution's backward several times faster on channels-last
        // (NHWC) tensors than on NCHW ones (whose gradient towards the input falls to slow
        // kernels for many shapes). The cache holds a convolution's samples channels-last
        // already; the per-tensor activation quantizer does not mind the order of values
        // within a sample (a per-channel one gets the samples reordered to NCHW here).
        if (n.op == OpKind::Conv2d && inputs.dim() == 4 && targets.dim() == 4 &&
            (!s.quantA() || !perChannelParams(s.activationSpec.granularity)))
            format = at::MemoryFormat::ChannelsLast;
        inputs = inputs.contiguous(format);
        targets = targets.contiguous(format);
        const at::IntArrayRef inputSizes = inputs.sizes();
        if (s.quantW()) {
            const at::Tensor scale = scaleTensor(s.weightParams);
            std::vector<int64_t> shape(size_t(w.dim()), 1);
            if (scale.numel() > 1) shape[0] = scale.numel();
            step = scale.view(shape);
            logSw = scale.log();
            zw = zeroPointTensor(s.weightParams);
            weightLayout = layoutOf(s.weightSpec, w.sizes(), w.numel(), scale.numel());
        } else {
            // A float weight moves in units of its own typical size.
            step = at::full({}, std::max(w.abs().mean().item<double>(), 1e-8), at::kFloat);
        }
        v = at::zeros_like(w);
        inputRow = 1;
        for (size_t d = 1; d < inputSizes.size(); ++d) inputRow *= inputSizes[d];
        if (s.quantA()) {
            logSa = scaleTensor(s.activationParams).log();
            za = zeroPointTensor(s.activationParams);
            if (perChannelParams(s.activationSpec.granularity) &&
                quant_ops::normalizedAxis(s.activationSpec, int64_t(inputSizes.size())) == 0)
                throw invalidInput("AdaQuant cannot learn an activation quantizer whose channels run along the "
                                   "batch axis (axis 0); give it a channel axis of 1 or more, or quantize the "
                                   "layer input per tensor.");
            inputLayout = layoutOf(s.activationSpec, inputSizes, inputRow, logSa.numel());
        }
        if (s.bias.defined()) bias = s.bias.clone();
    }

    /// W + V * step, contiguous: one pass on the calling thread (the arithmetic of the tensor
    /// ops, a product then a sum), without the small tensor ops' dispatch and threading.
    at::Tensor weight() const {
        at::Tensor w = at::empty_like(start.weight, at::MemoryFormat::Contiguous);
        const at::Tensor w0 = start.weight.contiguous(), dv = v.detach().contiguous();
        scaleByStep(dv.data_ptr<float>(), w0.data_ptr<float>(), w.data_ptr<float>());
        return w;
    }

    /// out = base + x * step (base may be null for out = x * step), step per output channel
    /// (the leading axis) or one for all.
    void scaleByStep(const float* x, const float* base, float* out) const {
        const at::Tensor st = step.contiguous();
        const float* sp = st.data_ptr<float>();
        const int64_t n = start.weight.numel(), steps = st.numel(), inner = n / steps;
        for (int64_t c = 0; c < steps; ++c) {
            const float s = sp[c];
            const int64_t first = c * inner;
            if (base)
                for (int64_t i = first; i < first + inner; ++i) out[i] = base[i] + x[i] * s;
            else
                for (int64_t i = first; i < first + inner; ++i) out[i] = x[i] * s;
        }
    }

    /// The quantizers' current scales and rounded zero points (float, per channel).
    struct Grid {
        at::Tensor scale, zeroPoint;
    };
    static Grid gridOf(const at::Tensor& logScale, const at::Tensor& zeroPoint) {
        return {logScale.detach().exp().contiguous(), zeroPoint.detach().round().contiguous()};
    }

    quant_ops::FakeQuantRows rowsOf(const QuantSpec& spec, const QuantLayout& layout, const Grid& grid,
                                    const float* src, const int64_t* rows, int64_t count, int64_t rowSize) const {
        quant_ops::FakeQuantRows a;
        a.src = src;
        a.rows = rows;
        a.count = count;
        a.rowSize = rowSize;
        a.inner = layout.inner;
        a.channels = layout.channels;
        a.scale = grid.scale.data_ptr<float>();
        a.zeroPoint = grid.zeroPoint.data_ptr<float>();
        a.qmin = gridMin(spec);
        a.qmax = gridMax(spec);
        return a;
    }

    /// The weight the op sees: @p w (W + V step), fake-quantized when the layer quantizes its
    /// weight.
    at::Tensor quantizedWeight(const at::Tensor& w, const Grid& grid) const {
        if (!start.quantW()) return w;
        at::Tensor wq = at::empty_like(w);
        static const int64_t firstRow = 0;
        quant_ops::fakeQuantizeRows(rowsOf(start.weightSpec, weightLayout, grid, w.data_ptr<float>(), &firstRow, 1,
                                           w.numel()),
                                    wq.data_ptr<float>());
        return wq;
    }

    /// Held input rows rows[0..count) of @p all, fake-quantized when the layer quantizes its
    /// input, into @p out (count samples, each one contiguous row, as in @p all).
    void gatherInput(const at::Tensor& all, const int64_t* rows, int64_t count, const Grid& grid,
                     at::Tensor& out) const {
        const float* src = all.data_ptr<float>();
        float* dst = out.data_ptr<float>();
        if (start.quantA()) {
            quant_ops::fakeQuantizeRows(rowsOf(start.activationSpec, inputLayout, grid, src, rows, count, inputRow),
                                        dst);
            return;
        }
        at::parallel_for(0, count, 1, [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r)
                std::memcpy(dst + r * inputRow, src + rows[r] * inputRow, size_t(inputRow) * sizeof(float));
        });
    }

    /// An empty tensor of @p count samples shaped like the held inputs, in the op's format.
    at::Tensor inputBuffer(int64_t count) const {
        std::vector<int64_t> sizes = inputs.sizes().vec();
        sizes[0] = count;
        return at::empty(sizes, at::TensorOptions().dtype(at::kFloat).memory_format(format));
    }

    /// The op on the quantized input and weight; the output in the held targets' format.
    at::Tensor runLayer(const at::Tensor& xq, const at::Tensor& wq, const at::Tensor& b) const {
        std::vector<at::Tensor> in{xq, wq};
        if (node.inputs.size() > 2) in.push_back(b);
        return runOp(node, in, xq.size(0)).at(0).contiguous(format);
    }

    /// Mean squared error over every held sample, without gradients.
    double mse() const {
        const at::NoGradGuard noGrad;
        const int64_t n = inputs.size(0);
        const Grid gw = start.quantW() ? gridOf(logSw, zw) : Grid{};
        const Grid ga = start.quantA() ? gridOf(logSa, za) : Grid{};
        const at::Tensor wq = quantizedWeight(weight(), gw);
        constexpr int64_t kChunk = 256;
        at::Tensor buffer = inputBuffer(std::min(kChunk, n));
        std::vector<int64_t> rows(static_cast<size_t>(n));
        std::iota(rows.begin(), rows.end(), 0);
        double sum = 0, count = 0;
        for (int64_t first = 0; first < n; first += kChunk) {
            const int64_t c = std::min<int64_t>(kChunk, n - first);
            at::Tensor xq = buffer.narrow(0, 0, c);
            gatherInput(inputs, rows.data() + first, c, ga, xq);
            const at::Tensor out = runLayer(xq, wq, bias);
            sum += squaredError(relu, out, targets.data_ptr<float>(), rows.data() + first, c, nullptr, 0.0f);
            count += double(out.numel());
        }
        return count > 0 ? sum / count : 0.0;
    }
};

AdaQuantLayerResult tuneLayer(const Graph& g, const LayerStart& start, const LayerCache& cache,
                              const AdaQuantOptions& o, int index, int count, const Progress* progress) {
    const auto t0 = Clock::now();
    const Node& node = g.node(start.node);
    const int64_t n = cache.samples();
    LayerProblem p(node, start, reluAfter(g, node), cache);
    AdaQuantLayerResult r;
    r.layer = node.name;
    r.weightBits = start.choice.weightBits;
    r.activationBits = start.choice.activationBits;
    r.reluInLoss = p.relu.present;
    r.samples = n;
    r.macsPerSample = g.macs(node);
    r.mseBefore = p.mse();

    Adam adam;
    auto learn = [&](at::Tensor& t, bool on, double lr) {
        if (!on || !t.defined()) return false;
        t.set_requires_grad(true);
        adam.addGroup({t}, lr);
        return true;
    };
    const bool learnV = learn(p.v, o.learnWeight, o.lrWeight);
    const bool learnBias = learn(p.bias, o.learnBias, o.lrBias);
    bool learnSw = false, learnZw = false, learnSa = false, learnZa = false;
    if (start.quantW()) {
        // The shift scaler's scales are one shared scale over powers of two: not learned.
        learnSw = learn(p.logSw, o.learnWeightParams && start.weightSpec.granularity != Granularity::Shift,
                        o.lrWeightQuant);
        learnZw = learn(p.zw, o.learnWeightParams && !start.weightSpec.symmetric, o.lrActivation);
    }
    if (start.quantA()) {
        learnSa = learn(p.logSa, o.learnActivationParams, o.lrActivation);
        learnZa = learn(p.za, o.learnActivationParams && !start.activationSpec.symmetric, o.lrActivation);
    }
    const bool gradW = learnV || learnSw || learnZw;
    const bool gradX = learnSa || learnZa;

    const int64_t batch = std::min<int64_t>(o.batchSize, n);
    std::mt19937_64 rng(o.seed + uint64_t(start.node) * 7919u);
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    size_t next = order.size();
    at::Tensor xBuffer = p.inputBuffer(batch);
    std::vector<double> gradScale, gradZeroPoint;
    const std::string stage = "AdaQuant " + std::to_string(index + 1) + "/" + std::to_string(count) + " " + node.name;
    AdaQuantTick tick;
    tick.layerIndex = index;
    tick.layerCount = count;
    tick.layer = node.name;
    tick.iterations = o.iterations;
    const int iterations = adam.empty() ? 0 : o.iterations;
    // Per-channel sums of the backward (double) as the float gradient of log(scale) or of the
    // zero point: d/d log s = s d/ds.
    auto paramGrad = [&](const std::vector<double>& sums, const at::Tensor* scale, const at::Tensor& like) {
        at::Tensor gr = at::empty_like(like);
        float* gp = gr.data_ptr<float>();
        const float* sp = scale ? scale->data_ptr<float>() : nullptr;
        for (size_t c = 0; c < sums.size(); ++c) gp[c] = sp ? float(sums[c]) * sp[c] : float(sums[c]);
        return gr;
    };
    std::vector<int64_t> pick(static_cast<size_t>(batch));
    at::Tensor gradOut;  // kept across steps: a fresh one of several MB would be new pages each step
    for (int it = 0; it < iterations; ++it) {
        if (progress) progress->throwIfCancelled();
        // Mini-batches walk a fresh permutation of the held samples each epoch.
        for (auto& k : pick) {
            if (next == order.size()) {
                std::shuffle(order.begin(), order.end(), rng);
                next = 0;
            }
            k = order[next++];
        }
        at::Tensor w, wq, xq, b, out;
        LayerProblem::Grid gw, ga;
        {
            const at::NoGradGuard noGrad;
            if (start.quantW()) gw = LayerProblem::gridOf(p.logSw, p.zw);
            if (start.quantA()) ga = LayerProblem::gridOf(p.logSa, p.za);
            w = p.weight();
            wq = p.quantizedWeight(w, gw);
            p.gatherInput(p.inputs, pick.data(), batch, ga, xBuffer);
            xq = xBuffer.detach();
            if (p.bias.defined()) b = p.bias.detach();
        }
        // Leaves for the op: autograd differentiates the op alone, towards what is learned.
        if (gradW) wq.set_requires_grad(true);
        if (gradX) xq.set_requires_grad(true);
        if (learnBias) b.set_requires_grad(true);
        out = p.runLayer(xq, wq, b);
        if (!gradOut.defined() || !gradOut.sizes().equals(out.sizes()) || gradOut.strides() != out.strides())
            gradOut = at::empty_like(out);
        const double sum = squaredError(p.relu, out, p.targets.data_ptr<float>(), pick.data(), batch,
                                        gradOut.data_ptr<float>(), float(2.0 / double(out.numel())));
        const double loss = sum / double(out.numel());
        out.backward(gradOut);
        {
            const at::NoGradGuard noGrad;
            if (gradX) {
                const at::Tensor gx = xq.grad().contiguous(p.format);
                gradScale.assign(size_t(p.inputLayout.channels), 0.0);
                gradZeroPoint.assign(size_t(p.inputLayout.channels), 0.0);
                quant_ops::fakeQuantizeRowsBackward(
                    p.rowsOf(start.activationSpec, p.inputLayout, ga, p.inputs.data_ptr<float>(), pick.data(), batch,
                             p.inputRow),
                    gx.data_ptr<float>(), nullptr, gradScale.data(), gradZeroPoint.data());
                if (learnSa) p.logSa.mutable_grad() = paramGrad(gradScale, &ga.scale, p.logSa);
                if (learnZa) p.za.mutable_grad() = paramGrad(gradZeroPoint, nullptr, p.za);
            }
            if (gradW) {
                at::Tensor gradWeight = wq.grad().contiguous();
                if (start.quantW()) {
                    const at::Tensor gwq = gradWeight;
                    gradWeight = at::empty_like(gwq);
                    static const int64_t firstRow = 0;
                    gradScale.assign(size_t(p.weightLayout.channels), 0.0);
                    gradZeroPoint.assign(size_t(p.weightLayout.channels), 0.0);
                    quant_ops::fakeQuantizeRowsBackward(
                        p.rowsOf(start.weightSpec, p.weightLayout, gw, w.data_ptr<float>(), &firstRow, 1, w.numel()),
                        gwq.data_ptr<float>(), gradWeight.data_ptr<float>(), gradScale.data(), gradZeroPoint.data());
                    if (learnSw) p.logSw.mutable_grad() = paramGrad(gradScale, &gw.scale, p.logSw);
                    if (learnZw) p.zw.mutable_grad() = paramGrad(gradZeroPoint, nullptr, p.zw);
                }
                if (learnV) {
                    // d/dV = d/dW * step
                    at::Tensor gradV = at::empty_like(gradWeight);
                    p.scaleByStep(gradWeight.data_ptr<float>(), nullptr, gradV.data_ptr<float>());
                    p.v.mutable_grad() = gradV;
                }
            }
            if (learnBias) p.bias.mutable_grad() = b.grad();
        }
        adam.step();
        {
            const at::NoGradGuard noGrad;
            if (p.zw.defined() && p.zw.requires_grad())
                p.zw.clamp_(double(gridMin(start.weightSpec)), double(gridMax(start.weightSpec)));
            if (p.za.defined() && p.za.requires_grad())
                p.za.clamp_(double(gridMin(start.activationSpec)), double(gridMax(start.activationSpec)));
        }
        tick.iteration = it + 1;
        tick.loss = loss;
        if (o.onIteration) o.onIteration(tick);
        if (progress)
            progress->report((double(index) + double(it + 1) / double(o.iterations)) / double(count), stage);
    }
    r.iterations = iterations;
    r.mseAfter = p.mse();
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

void checkPositive(double v, const char* name) {
    if (!(v > 0) || !std::isfinite(v))
        throw invalidInput(std::string("The AdaQuant ") + name + " must be a positive number; got " +
                           std::to_string(v) + ".");
}

}  // namespace

void AdaQuantOptions::validate() const {
    if (iterations < 1)
        throw invalidInput("AdaQuant needs at least 1 iteration per layer; got " + std::to_string(iterations) + ".");
    if (blockIterations < 1)
        throw invalidInput("Block reconstruction needs at least 1 iteration per block; got " +
                           std::to_string(blockIterations) + ".");
    if (blockMaxLayers < 1)
        throw invalidInput("A reconstruction block needs room for at least 1 layer; got " +
                           std::to_string(blockMaxLayers) + ".");
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
