#include "core/runtime/verify.h"

#include "core/graph/graph.h"
#include "core/graph/torchscript_importer.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"

#include <torch/script.h>

#include <chrono>

namespace ptq {

namespace {
double msSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

VerifyResult verifyAgainstTorchScript(const Graph& graph, const std::string& path, int64_t batch, uint64_t seed) {
    c10::InferenceMode guard;
    torch::jit::Module module = loadTorchScriptModule(path);
    std::vector<int64_t> shape{batch};
    const auto sample = graph.sampleShape(graph.inputValue());
    shape.insert(shape.end(), sample.begin(), sample.end());
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    at::Tensor input;
    if (graph.inputKind() == InputKind::Tokens) {
        // ids 1 .. limit - 1, and 0 (the usual padding id) at the end of every sample but the first
        const int64_t limit = std::max<int64_t>(graph.tokenLimit(), 2);
        input = at::randint(1, limit, shape, gen, at::TensorOptions().dtype(at::kLong));
        const int64_t length = shape.back();
        for (int64_t b = 1; b < batch; ++b) {
            const int64_t padded = b * length / (batch + 1);
            if (padded > 0) input[b].slice(-1, length - padded).fill_(0);
        }
    } else {
        input = at::normal(0.0, 1.0, shape, gen);
    }

    VerifyResult r;
    r.batch = batch;
    auto t0 = std::chrono::steady_clock::now();
    const at::Tensor mine = Executor(graph).run(input).at(0);
    r.executorMs = msSince(t0);
    t0 = std::chrono::steady_clock::now();
    c10::IValue out = module.forward({input});
    r.torchScriptMs = msSince(t0);
    at::Tensor theirs = out.isTensor() ? out.toTensor() : out.toTupleRef().elements().at(0).toTensor();
    if (theirs.sizes() != mine.sizes())
        throw failed("The executor's output has a different shape from TorchScript's; the import is wrong.");
    const double scale = std::max(theirs.abs().max().item<double>(), 1e-12);
    r.maxAbsoluteDiff = (mine - theirs).abs().max().item<double>();
    r.maxRelativeDiff = r.maxAbsoluteDiff / scale;
    return r;
}

}  // namespace ptq
