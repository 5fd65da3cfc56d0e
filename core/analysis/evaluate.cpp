#include "core/analysis/evaluate.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <chrono>

namespace ptq {

namespace {

EvalResult run(const Executor& executor, const Dataset& data, const RunHooks& hooks, int64_t batchSize,
               const Progress* progress, bool withReference) {
    if (!withReference && !data.hasLabels())
        throw invalidInput("Accuracy needs labelled data; " + data.description() +
                           " has no labels: evaluate on a labelled set (e.g. fmnist:test).");
    c10::InferenceMode guard;
    // A batch of a large model is a long stretch: the cancel flag is also looked at before
    // every node, so a cancel stops the run within one layer.
    RunHooks checked = hooks;
    if (progress)
        checked.beforeNode = [&hooks, progress](const Node& node, std::vector<at::Tensor>& inputs) {
            progress->throwIfCancelled();
            if (hooks.beforeNode) hooks.beforeNode(node, inputs);
        };
    EvalResult r;
    double ceSum = 0.0, klSum = 0.0;
    const auto t0 = std::chrono::steady_clock::now();
    forEachBatch(data, batchSize, [&](const Batch& b) {
        const at::Tensor images = at::from_blob(const_cast<float*>(b.images), b.shape, at::kFloat);
        const at::Tensor logits = executor.run(images, checked).at(0);
        const at::Tensor logp = at::log_softmax(logits, 1);
        if (b.labels) {
            const at::Tensor labels = at::from_blob(const_cast<int64_t*>(b.labels), {b.count}, at::kLong);
            r.correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
            ceSum -= logp.gather(1, labels.unsqueeze(1)).sum().item<double>();
        }
        if (withReference) {
            const at::Tensor refLogp = at::log_softmax(executor.run(images).at(0), 1);
            klSum += (refLogp.exp() * (refLogp - logp)).sum().item<double>();
        }
        r.samples += b.count;
    }, progress, "Evaluating");
    r.crossEntropy = r.samples ? ceSum / double(r.samples) : 0.0;
    r.klToReference = r.samples ? klSum / double(r.samples) : 0.0;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace

EvalResult evaluate(const Executor& executor, const Dataset& data, const RunHooks& hooks, int64_t batchSize,
                    const Progress* progress) {
    return run(executor, data, hooks, batchSize, progress, false);
}

EvalResult evaluateAgainstReference(const Executor& executor, const Dataset& data, const RunHooks& hooks,
                                    int64_t batchSize, const Progress* progress) {
    return run(executor, data, hooks, batchSize, progress, true);
}

}  // namespace ptq
