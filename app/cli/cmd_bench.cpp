#include "cli/commands.h"

#include "cli/common.h"
#include "bench/harness/bench_quant.h"
#include "bench/harness/bench_forward.h"
#include "bench/harness/bench_import.h"
#include "core/util/error.h"
#include "core/workflow/model.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <map>

#include <unistd.h>

namespace ptq::cli {

namespace {

int runBenchForward(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "fold-bn"}, {"input-shape", "batch", "runs"}, "bench forward");
    const std::string path = modelArg(a, "bench forward");
    const long long batch = a.integer("batch", 8);
    const long long runs = a.integer("runs", 10);
    if (batch < 1 || runs < 1) throw invalidInput("--batch and --runs must be at least 1.");
    const ForwardBenchResult r = benchForward(path, inputShapeArg(a), batch, int(runs), a.flag("fold-bn"));
    const std::vector<int64_t>& shape = r.inputShape;
    if (a.flag("json")) {
        QJsonObject o;
        o["benchmark"] = "forward";
        o["model"] = QString::fromStdString(path);
        o["input_shape"] = jsonInts(shape);
        o["batch"] = qint64(r.batch);
        o["runs"] = r.runs;
        o["threads"] = r.threads;
        o["folded_bn"] = r.foldedBn;
        o["executor_median_ms"] = r.executorMedianMs;
        o["torchscript_median_ms"] = r.torchScriptMedianMs;
        o["executor_min_ms"] = r.executorMinMs;
        o["torchscript_min_ms"] = r.torchScriptMinMs;
        o["ratio"] = r.ratio();
        o["peak_live_bytes"] = qint64(r.peakLiveBytes);
        o["produced_bytes"] = qint64(r.producedBytes);
        o["max_rss_bytes"] = qint64(r.maxRssBytes);
        printJson(o);
        return 0;
    }
    std::printf("forward, batch %lld x %s, %d runs each, %d threads%s\n", (long long)r.batch, shapeText(shape).c_str(),
                r.runs, r.threads, r.foldedBn ? ", BN folded" : "");
    std::printf("  executor     median %8.1f ms   min %8.1f ms\n", r.executorMedianMs, r.executorMinMs);
    std::printf("  TorchScript  median %8.1f ms   min %8.1f ms\n", r.torchScriptMedianMs, r.torchScriptMinMs);
    std::printf("  ratio (executor / TorchScript, medians): %.3f\n", r.ratio());
    std::printf("  executor peak live intermediates %.1f MB of %.1f MB produced; process peak RSS %.0f MB\n",
                r.peakLiveBytes / 1e6, r.producedBytes / 1e6, r.maxRssBytes / 1e6);
    return 0;
}

int runBenchImport(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"}, {"input-shape", "runs"}, "bench import");
    const std::string path = modelArg(a, "bench import");
    const long long runs = a.integer("runs", 5);
    if (runs < 1) throw invalidInput("--runs must be at least 1.");
    std::vector<int64_t> shape = inputShapeArg(a);
    if (shape.empty()) shape = effectiveModelCard({path, {}}).inputShape;
    const ImportBenchResult r = benchImport(path, shape, int(runs));
    if (a.flag("json")) {
        QJsonObject o;
        o["benchmark"] = "import";
        o["model"] = QString::fromStdString(path);
        o["helper"] = QString::fromStdString(r.helper);
        o["input_shape"] = jsonInts(r.inputShape);
        o["runs"] = r.runs;
        o["nodes"] = qint64(r.nodes);
        o["parameters"] = qint64(r.parameters);
        o["in_process_median_ms"] = r.inProcessMedianMs;
        o["helper_median_ms"] = r.helperMedianMs;
        o["in_process_min_ms"] = r.inProcessMinMs;
        o["helper_min_ms"] = r.helperMinMs;
        o["ratio"] = r.ratio();
        printJson(o);
        return 0;
    }
    std::printf("import of %s for %s (%zu nodes, %lld parameters), %d alternated runs each\n", path.c_str(),
                shapeText(r.inputShape).c_str(), r.nodes, (long long)r.parameters, r.runs);
    std::printf("  in this process     median %8.1f ms   min %8.1f ms\n", r.inProcessMedianMs, r.inProcessMinMs);
    std::printf("  in the helper       median %8.1f ms   min %8.1f ms   (%s)\n", r.helperMedianMs, r.helperMinMs,
                r.helper.c_str());
    std::printf("  ratio (helper / in process, medians): %.3f\n", r.ratio());
    return 0;
}

int runBenchQuant(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "per-tensor"}, {"input-shape", "batch", "runs", "eval", "calib", "w", "a"},
                 "bench quant");
    QuantEvalBenchRequest req;
    req.modelPath = modelArg(a, "bench quant");
    req.inputShape = inputShapeArg(a);
    req.evalSource = dataSourceArg(a, "eval", req.evalSource.text);
    req.calibSource = dataSourceArg(a, "calib", req.calibSource.text);
    req.weightBits = int(a.integer("w", 8));
    req.activationBits = int(a.integer("a", 8));
    req.perChannel = !a.flag("per-tensor");
    req.batchSize = a.integer("batch", 256);
    req.runs = int(a.integer("runs", 3));
    const QuantEvalBenchResult r = benchQuantEval(req);
    if (a.flag("json")) {
        QJsonObject o;
        o["benchmark"] = "quant";
        o["model"] = QString::fromStdString(req.modelPath);
        o["eval"] = QString::fromStdString(req.evalSource.text);
        o["samples"] = qint64(r.samples);
        o["w_bits"] = req.weightBits;
        o["a_bits"] = req.activationBits;
        o["granularity"] = req.perChannel ? "per-channel" : "per-tensor";
        o["batch"] = qint64(req.batchSize);
        o["runs"] = r.runs;
        o["threads"] = r.threads;
        o["fp32_median_s"] = r.fp32MedianSeconds;
        o["quant_median_s"] = r.quantMedianSeconds;
        o["fp32_min_s"] = r.fp32MinSeconds;
        o["quant_min_s"] = r.quantMinSeconds;
        o["ratio"] = r.ratio();
        o["fp32_top1"] = r.fp32Top1;
        o["quant_top1"] = r.quantTop1;
        printJson(o);
        return 0;
    }
    std::printf("evaluation pass of %lld images of %s, W%dA%d %s, batch %lld, %d alternated runs each, %d threads\n",
                (long long)r.samples, req.evalSource.text.c_str(), req.weightBits, req.activationBits,
                req.perChannel ? "per-channel" : "per-tensor", (long long)req.batchSize, r.runs, r.threads);
    std::printf("  FP32 executor   median %7.2f s   min %7.2f s   %8.0f images/s   top-1 %.2f %%\n",
                r.fp32MedianSeconds, r.fp32MinSeconds, r.samples / r.fp32MedianSeconds, r.fp32Top1);
    std::printf("  fake-quantized  median %7.2f s   min %7.2f s   %8.0f images/s   top-1 %.2f %%\n",
                r.quantMedianSeconds, r.quantMinSeconds, r.samples / r.quantMedianSeconds, r.quantTop1);
    std::printf("  ratio (fake-quantized / FP32, medians): %.3f\n", r.ratio());
    return 0;
}

}  // namespace

/// `ptq bench gui` measures widgets, which ptq does not link (it must stay free of ui): it runs
/// ptq-bench-gui from the same folder with the same arguments and returns its exit code.
int runBenchGui(const std::vector<std::string>& argv) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const std::string dir = n > 0 ? std::string(self, size_t(n)).substr(0, std::string(self, size_t(n)).rfind('/')) : ".";
    std::vector<std::string> candidates = {dir + "/ptq-bench-gui", dir + "/../bench/ptq-bench-gui"};
    for (const std::string& program : candidates) {
        if (access(program.c_str(), X_OK) != 0) continue;
        std::vector<char*> args;
        args.push_back(const_cast<char*>(program.c_str()));
        for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        std::fflush(stdout);
        execv(program.c_str(), args.data());
        throw failed("Could not run " + program + ": " + std::strerror(errno) + ".");
    }
    throw failed("'ptq bench gui' needs the ptq-bench-gui program next to ptq (build the ptq-bench-gui target).");
}

int runBench(const std::vector<std::string>& argv) {
    // One entry a benchmark; each parses its own options.
    const std::map<std::string, int (*)(const std::vector<std::string>&)> benches = {
        {"forward", runBenchForward},
        {"import", runBenchImport},
        {"quant", runBenchQuant},
        {"adaquant", runBenchAdaQuant},
        {"ip", runBenchIp},
        {"gui", runBenchGui},
        {"workflow", runBenchWorkflow},
    };
    std::string names;
    for (const auto& [name, fn] : benches) names += (names.empty() ? "" : ", ") + name;
    const auto it = argv.empty() ? benches.end() : benches.find(argv[0]);
    if (it == benches.end())
        throw invalidInput("'ptq bench' takes a benchmark name: " + names + ".");
    return it->second(std::vector<std::string>(argv.begin() + 1, argv.end()));
}

}  // namespace ptq::cli
