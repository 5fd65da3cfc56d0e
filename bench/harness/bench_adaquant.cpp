#include "bench/harness/bench_adaquant.h"

#include "core/workflow/model.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace ptq {

double AdaQuantBenchResult::seconds() const {
    double s = 0;
    for (const auto& l : layers) s += l.seconds;
    return s;
}

double AdaQuantBenchResult::gflop() const {
    double g = 0;
    for (const auto& l : layers) g += l.gflop;
    return g;
}

namespace {
// The best GFLOP/s of @p repeats timed calls of @p run (after one warm-up), @p flop each.
template <typename Run>
double bestGflops(double flop, int repeats, Run run) {
    run();  // warm-up
    double best = 0;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        best = std::max(best, flop / s / 1e9);
    }
    return best;
}
}  // namespace

double measureSgemmGflops(int64_t n, int repeats) {
    const c10::InferenceMode guard;
    const at::Tensor a = at::randn({n, n}), b = at::randn({n, n});
    at::Tensor c = at::mm(a, b);
    return bestGflops(2.0 * double(n) * double(n) * double(n), repeats, [&] { at::mm_out(c, a, b); });
}

double measureConvGemmGflops(int64_t n, int repeats) {
    const c10::InferenceMode guard;
    // (64 * 16 * 16) x n input rows times an n x n weight: the GEMM oneDNN runs for a 1 x 1 conv.
    const at::Tensor x = at::randn({64, n, 16, 16}), w = at::randn({n, n, 1, 1});
    return bestGflops(2.0 * 64.0 * 256.0 * double(n) * double(n), repeats, [&] { at::conv2d(x, w); });
}

double measureLinearGflops(int64_t tokens, int64_t in, int64_t out, int repeats) {
    const c10::InferenceMode guard;
    const at::Tensor x = at::randn({tokens, in}), w = at::randn({out, in}), b = at::randn({out});
    return bestGflops(2.0 * double(tokens) * double(in) * double(out), repeats, [&] { at::linear(x, w, b); });
}

std::string loadedBlasLibrary() {
    // libtorch asks for libblas.so.3 by name, and that library's symbols win: report where it
    // points (Debian's alternatives symlink names the implementation). OpenBLAS or MKL mapped
    // under their own names (through LAPACK, say) count only when no libblas is.
    std::ifstream maps("/proc/self/maps");
    std::string line, other;
    while (std::getline(maps, line)) {
        const auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        const std::string path = line.substr(slash);
        const std::string file = path.substr(path.rfind('/') + 1);
        std::error_code ec;
        const auto real = std::filesystem::canonical(path, ec);
        const std::string resolved = ec ? path : real.string();
        if (file.rfind("libblas.so", 0) == 0) return resolved;
        if (other.empty() && (file.rfind("libopenblas", 0) == 0 || file.rfind("libmkl_rt", 0) == 0)) other = resolved;
    }
    return other;
}

AdaQuantBenchResult benchAdaQuant(const std::string& modelPath, const std::vector<int64_t>& sampleShape,
                                  const DataSourceSpec& calibSource, int weightBits, int activationBits,
                                  AdaQuantOptions options, int maxLayers, const Progress* progress) {
    options.validate();
    const auto opened = openModel({modelPath, sampleShape});
    const Graph& graph = opened->graph();
    const auto calib = opened->openData(calibSource);
    QuantConfig config = QuantConfig::uniform(graph, weightBits, activationBits, Granularity::PerChannel, true);
    if (maxLayers > 0) {
        // Layers past the first maxLayers stay in float, so AdaQuant skips them.
        const auto layers = graph.quantizableNodes();
        for (size_t i = size_t(maxLayers); i < layers.size(); ++i)
            config.layers[graph.node(layers[i]).name] = LayerQuant{32, 32, Granularity::PerChannel};
    }
    QuantizedModel model(graph, config);
    model.calibrate(*calib, options.runBatchSize, nullptr);

    AdaQuantBenchResult r;
    r.threads = at::get_num_threads();
    r.mmGflops = measureSgemmGflops();
    r.convGemmGflops = measureConvGemmGflops();
    r.sgemmGflops = std::max(r.mmGflops, r.convGemmGflops);
    r.linearGflops = measureLinearGflops();
    r.blasLibrary = loadedBlasLibrary();
    options.sequential = false;
    const AdaQuantReport report = adaQuant(model, *calib, options, progress);
    r.iterations = options.iterations;
    r.samples = report.samples;
    r.batch = std::min(options.batchSize, report.samples);
    r.cacheSeconds = report.cacheSeconds;
    for (const AdaQuantLayerResult& l : report.layers) {
        AdaQuantBenchLayer b;
        b.layer = l.layer;
        b.macsPerSample = l.macsPerSample;
        b.seconds = l.seconds;
        const double macs = double(l.macsPerSample);
        b.gflop = (6.0 * macs * double(r.batch) * double(l.iterations) + 2.0 * 2.0 * macs * double(l.samples)) / 1e9;
        r.layers.push_back(b);
    }
    return r;
}

}  // namespace ptq
