#include "core/runtime/verify.h"

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
    const at::Tensor input = at::normal(0.0, 1.0, shape, gen);

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
