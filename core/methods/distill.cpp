#include "core/methods/distill.h"

#include "core/methods/adam.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>
#include <QSaveFile>
#include <torch/csrc/jit/serialization/pickle.h>

#include <chrono>
#include <cmath>

namespace ptq {

void DistillOptions::validate() const {
    if (count < 1 || count > 4096)
        throw invalidInput("The number of distilled images must be 1 to 4096; got " + std::to_string(count) + ".");
    if (iterations < 1) throw invalidInput("Distillation needs at least 1 iteration.");
    if (!(lr > 0) || !std::isfinite(lr))
        throw invalidInput("The distillation learning rate must be a positive number.");
    if (!(labelWeight >= 0) || !std::isfinite(labelWeight))
        throw invalidInput("The distillation's label-loss weight must be 0 or a positive number.");
    if (patience < 1) throw invalidInput("The distillation patience must be at least 1 step.");
    if (!(minLr > 0) || minLr > lr)
        throw invalidInput("The distillation's smallest learning rate must be positive and at most the learning rate.");
}

namespace {

/// Statistics of @p x per sample and channel, over the spatial positions (ZeroQ matches each
/// image to the running statistics, not only the batch). [N, C] inputs (BatchNorm1d over
/// features) have no positions: their statistics are over the batch.
std::pair<at::Tensor, at::Tensor> meanStd(const at::Tensor& x, double eps) {
    if (x.dim() == 2) return {x.mean(0, true), at::sqrt(x.var(0, false, true) + eps)};
    const at::Tensor flat = x.reshape({x.size(0), x.size(1), -1});
    return {flat.mean(2), at::sqrt(flat.var(2, false) + eps)};
}

/// ‖target − value‖² over the samples, as ZeroQ's loss (squared norm divided by N).
at::Tensor statLoss(const at::Tensor& target, const at::Tensor& value) {
    return (value - target.unsqueeze(0)).pow(2).sum() / double(value.size(0));
}

}  // namespace

DistillResult distillData(const Graph& graph, const std::vector<int64_t>& sampleShape, const DistillOptions& o,
                          const Progress* progress) {
    o.validate();
    const auto t0 = std::chrono::steady_clock::now();
    int lastBn = -1, bnCount = 0;
    for (const Node& n : graph.nodes()) {
        if (n.op != OpKind::BatchNorm) continue;
        if (graph.isFoldedBatchNorm(n))
            throw failed("internal: distillation needs the model's BatchNorms unfolded (as imported)");
        lastBn = n.id;
        ++bnCount;
    }
    if (bnCount == 0)
        throw invalidInput("This model has no BatchNorm layer, and data-free quantization needs their running "
                           "statistics to distil data from: calibrate on real data instead.");
    if (sampleShape.size() != 3)
        throw invalidInput("Distillation needs the model's input shape (channels, height, width): give it with the model.");

    // Only the images learn: the graph's parameters are constants without gradients.
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    at::Tensor images = at::randn({o.count, sampleShape[0], sampleShape[1], sampleShape[2]}, gen);
    images.set_requires_grad(true);
    Adam adam;
    adam.addGroup({images}, o.lr);
    double lr = o.lr;

    // Targets: each BN's running mean and std, and mean 0 / std 1 for the input.
    const Executor executor(graph);
    at::Tensor loss;
    RunHooks hooks;
    // Nothing after the last BatchNorm matters to the statistics; the label term needs the output
    // (decided on the first step: a model whose output is not [N, classes] runs without it).
    bool labels = o.labelWeight > 0;
    at::Tensor classOf;  // image i's class, i mod the number of classes
    if (!labels) hooks.stopAfter = lastBn;
    hooks.beforeNode = [&](const Node& n, std::vector<at::Tensor>& in) {
        if (n.op != OpKind::BatchNorm) return;
        const double eps = n.attrDouble("eps", 1e-5);
        const auto [mean, std] = meanStd(in[0], eps);
        const at::Tensor term = statLoss(in[1].to(at::kFloat), mean) +
                                statLoss(at::sqrt(in[2].to(at::kFloat) + eps), std);
        loss = loss.defined() ? loss + term : term;
    };

    DistillResult r;
    r.batchNorms = bnCount;
    double best = std::numeric_limits<double>::infinity();
    int sinceBest = 0;
    for (int it = 1; it <= o.iterations; ++it) {
        reportProgress(progress, double(it - 1) / double(o.iterations), "Distilling data");
        loss = at::Tensor();
        const auto [inMean, inStd] = meanStd(images, 0.0);
        const at::Tensor inputTerm = statLoss(at::zeros({images.size(1)}), inMean) +
                                     statLoss(at::ones({images.size(1)}), inStd);
        const std::vector<at::Tensor> out = executor.run(images, hooks);
        at::Tensor total = loss + inputTerm;
        if (labels && !classOf.defined()) {
            if (!out.empty() && out[0].dim() == 2 && out[0].size(0) == o.count && out[0].size(1) > 1) {
                classOf = at::arange(o.count, at::kLong).remainder(out[0].size(1));
            } else {
                labels = false;
                hooks.stopAfter = lastBn;
                logger()->info("Distillation: the model's output is not one row of class scores per image; "
                               "the label term is left out");
            }
        }
        if (labels) total = total + o.labelWeight * at::cross_entropy_loss(out[0].to(at::kFloat), classOf);
        adam.zeroGrad();
        total.backward();
        adam.step();
        const double value = total.item<double>();
        if (!std::isfinite(value))
            throw failed("Distillation diverged (the loss is not finite); try a smaller learning rate.");
        r.loss.push_back(value);
        if (o.onIteration) o.onIteration(it, o.iterations, value);
        // Reduce-on-plateau, as ZeroQ: after `patience` steps without a new best, lr / 10.
        if (value < best * (1.0 - 1e-4)) {
            best = value;
            sinceBest = 0;
        } else if (++sinceBest > o.patience && lr > o.minLr) {
            lr = std::max(o.minLr, lr * 0.1);
            adam.setLearningRate(lr);
            sinceBest = 0;
        }
    }
    reportProgress(progress, 1.0, "Distilling data");
    const at::Tensor out = images.detach().contiguous();
    r.shape = out.sizes().vec();
    r.images.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    logger()->info("Distilled {} images over {} BatchNorms in {} steps, {:.1f} s: loss {:.4g} -> {:.4g}", o.count,
                   bnCount, o.iterations, r.seconds, r.loss.front(), r.loss.back());
    return r;
}

void saveDistilled(const std::string& path, const DistillResult& result, const std::string& modelPath) {
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    dict.insert("images", at::from_blob(const_cast<float*>(result.images.data()), result.shape, at::kFloat).clone());
    dict.insert("loss", at::tensor(result.loss, at::kDouble));
    dict.insert("model", modelPath);
    const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(dict));
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes.data(), qint64(bytes.size())) != qint64(bytes.size()) ||
        !file.commit())
        throw failed("Could not write " + path + ": " + file.errorString().toStdString() + ".");
}

}  // namespace ptq
