#include "bench/harness/bench_quant.h"

#include "core/analysis/evaluate.h"
#include "core/workflow/model.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

namespace ptq {

namespace {
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
}  // namespace

QuantEvalBenchResult benchQuantEval(const QuantEvalBenchRequest& req) {
    if (req.runs < 1) throw invalidInput("The benchmark needs at least one run (--runs 1 or more).");
    if (req.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    const auto opened = openModel({req.modelPath, req.inputShape});
    const Graph& graph = opened->graph();
    const auto calib = opened->openData(req.calibSource);
    const auto eval = opened->openData(req.evalSource);
    if (!eval->hasLabels())
        throw invalidInput("The evaluation data " + req.evalSource.text + " has no labels: give a labelled set such as "
                           "fmnist:test.");
    const QuantConfig config = QuantConfig::uniform(graph, req.weightBits, req.activationBits,
                                                    req.perChannel ? Granularity::PerChannel : Granularity::PerTensor,
                                                    false);
    QuantizedModel model(graph, config);
    auto t0 = std::chrono::steady_clock::now();
    model.calibrate(*calib, req.batchSize);
    QuantEvalBenchResult r;
    r.calibrateSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.samples = eval->size();
    r.runs = req.runs;
    r.threads = runtimeThreads();
    r.layers = int(config.layers.size());

    const Executor executor(graph);
    const RunHooks quantHooks = model.hooks();
    // Warm-up of both kinds (allocator, thread pool, first-touch of the data), then alternate so
    // that drifting machine load falls on both alike.
    evaluate(executor, *eval, {}, req.batchSize);
    evaluate(executor, *eval, quantHooks, req.batchSize);
    std::vector<double> fp, q;
    for (int i = 0; i < req.runs; ++i) {
        const EvalResult a = evaluate(executor, *eval, {}, req.batchSize);
        const EvalResult b = evaluate(executor, *eval, quantHooks, req.batchSize);
        fp.push_back(a.seconds);
        q.push_back(b.seconds);
        r.fp32Top1 = a.top1();
        r.quantTop1 = b.top1();
    }
    r.fp32MedianSeconds = median(fp);
    r.quantMedianSeconds = median(q);
    r.fp32MinSeconds = *std::min_element(fp.begin(), fp.end());
    r.quantMinSeconds = *std::min_element(q.begin(), q.end());
    return r;
}

}  // namespace ptq
