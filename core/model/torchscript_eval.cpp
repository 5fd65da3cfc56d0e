#include "core/model/torchscript_eval.h"

#include "core/graph/torchscript_importer.h"
#include "core/util/error.h"

#include <torch/script.h>

#include <chrono>

namespace ptq {

Top1Result torchScriptTop1(const std::string& path, const Dataset& data, int64_t batchSize,
                           const Progress* progress) {
    if (!data.hasLabels())
        throw invalidInput("Top-1 accuracy needs labelled data; " + data.description() + " has no labels.");
    torch::jit::Module module = loadTorchScriptModule(path);
    c10::InferenceMode guard;
    Top1Result r;
    const auto t0 = std::chrono::steady_clock::now();
    forEachBatch(data, batchSize, [&](const Batch& b) {
        const at::Tensor images = at::from_blob(const_cast<float*>(b.images), b.shape, at::kFloat);
        const at::Tensor labels = at::from_blob(const_cast<int64_t*>(b.labels), {b.count}, at::kLong);
        c10::IValue out = module.forward({images});
        const at::Tensor logits = out.isTensor() ? out.toTensor() : out.toTupleRef().elements().at(0).toTensor();
        r.correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
        r.total += b.count;
    }, progress, "Evaluating with TorchScript");
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace ptq
