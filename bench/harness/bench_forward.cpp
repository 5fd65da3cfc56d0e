#include "bench/harness/bench_forward.h"

#include "core/workflow/model.h"
#include "core/graph/torchscript_importer.h"
#include "core/runtime/executor.h"
#include "core/util/error.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

namespace ptq {

namespace {
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

template <typename F>
double timeMs(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

ForwardBenchResult benchForward(const std::string& path, const std::vector<int64_t>& sampleShape, int64_t batch,
                                int runs, bool foldBn) {
    if (batch < 1 || runs < 1) throw invalidInput("The benchmark needs a batch and a run count of at least 1.");
    const auto opened = openModel({path, sampleShape});
    // The folded graph is what quantization runs; unfolded is the model as imported.
    const Graph graph = foldBn ? opened->graph().clone() : opened->unfoldedGraph();
    torch::jit::Module module = loadTorchScriptModule(path);
    c10::InferenceMode guard;
    std::vector<int64_t> shape{batch};
    shape.insert(shape.end(), opened->inputShape().begin(), opened->inputShape().end());
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(42);
    const at::Tensor input = at::normal(0.0, 1.0, shape, gen);
    const Executor executor(graph);

    ForwardBenchResult r;
    r.batch = batch;
    r.inputShape = opened->inputShape();
    r.runs = runs;
    r.foldedBn = foldBn;
    r.threads = at::get_num_threads();
    RunHooks measure;
    measure.peakLiveBytes = &r.peakLiveBytes;
    measure.afterNode = [&](const Node&, const std::vector<at::Tensor>&, std::vector<at::Tensor>& outs) {
        for (const auto& t : outs) r.producedBytes += int64_t(t.nbytes());
    };
    executor.run(input, measure);  // warm-up that also measures memory
    for (int i = 0; i < 2; ++i) module.forward({input});  // TorchScript's profiling runs
    std::vector<double> mine, theirs;
    for (int i = 0; i < runs; ++i) {  // alternate, so load changes hit both alike
        mine.push_back(timeMs([&] { executor.run(input); }));
        theirs.push_back(timeMs([&] { module.forward({input}); }));
    }
    r.executorMedianMs = median(mine);
    r.torchScriptMedianMs = median(theirs);
    r.executorMinMs = *std::min_element(mine.begin(), mine.end());
    r.torchScriptMinMs = *std::min_element(theirs.begin(), theirs.end());
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    r.maxRssBytes = int64_t(usage.ru_maxrss) * 1024;
    return r;
}

}  // namespace ptq
