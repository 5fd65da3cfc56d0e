#include "cli/commands.h"

#include "cli/common.h"
#include "bench/harness/bench_adaquant.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdio>

namespace ptq::cli {

int runBenchAdaQuant(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"}, {"input-shape", "calib", "w", "a", "adaquant-iters", "adaquant-batch", "layers"},
                 "bench adaquant");
    const std::string path = modelArg(a, "bench adaquant");
    AdaQuantOptions options;
    options.iterations = int(a.integer("adaquant-iters", options.iterations));
    options.batchSize = a.integer("adaquant-batch", options.batchSize);
    const long long layers = a.integer("layers", 0);
    if (layers < 0) throw invalidInput("--layers must be 0 (all) or more.");
    const DataSourceSpec calib = dataSourceArg(a, "calib", "fmnist:train:1000");
    const int w = int(a.integer("w", 4)), act = int(a.integer("a", 4));
    const AdaQuantBenchResult r =
        benchAdaQuant(path, inputShapeArg(a), calib, w, act, options, int(layers), nullptr);
    if (a.flag("json")) {
        QJsonObject o;
        o["benchmark"] = "adaquant";
        o["model"] = QString::fromStdString(path);
        o["calib"] = QString::fromStdString(calib.text);
        o["w_bits"] = w;
        o["a_bits"] = act;
        o["threads"] = r.threads;
        o["iterations"] = r.iterations;
        o["batch"] = qint64(r.batch);
        o["samples"] = qint64(r.samples);
        o["sgemm_gflops"] = r.sgemmGflops;
        o["mm_gflops"] = r.mmGflops;
        o["conv_gemm_gflops"] = r.convGemmGflops;
        o["linear_gflops"] = r.linearGflops;
        o["blas"] = QString::fromStdString(r.blasLibrary);
        o["cache_seconds"] = r.cacheSeconds;
        o["seconds"] = r.seconds();
        o["gflop"] = r.gflop();
        o["gflops"] = r.gflops();
        o["fraction_of_peak"] = r.fractionOfPeak();
        QJsonArray rows;
        for (const AdaQuantBenchLayer& l : r.layers) {
            QJsonObject e;
            e["layer"] = QString::fromStdString(l.layer);
            e["macs_per_sample"] = qint64(l.macsPerSample);
            e["seconds"] = l.seconds;
            e["gflop"] = l.gflop;
            e["gflops"] = l.gflops();
            e["fraction_of_peak"] = r.sgemmGflops > 0 ? l.gflops() / r.sgemmGflops : 0.0;
            rows.append(e);
        }
        o["layers"] = rows;
        printJson(o);
        return 0;
    }
    std::printf("adaquant, W%dA%d, %d iterations x batch %lld on %lld samples of %s, %d threads\n", w, act,
                r.iterations, (long long)r.batch, (long long)r.samples, calib.text.c_str(), r.threads);
    std::printf("  sgemm: at::mm 1024 x 1024 %.1f GFLOP/s, 16384x512x512 GEMM as a 1x1 conv (oneDNN) %.1f GFLOP/s;"
                " peak taken %.1f GFLOP/s\n",
                r.mmGflops, r.convGemmGflops, r.sgemmGflops);
    std::printf("  a ViT-B MLP Linear (1576 x 768 into 3072, at::linear) %.1f GFLOP/s; BLAS: %s\n\n", r.linearGflops,
                r.blasLibrary.empty() ? "none mapped" : r.blasLibrary.c_str());
    std::printf("  %-28s %10s %9s %9s %8s\n", "layer", "MACs/img", "seconds", "GFLOP/s", "of peak");
    for (const AdaQuantBenchLayer& l : r.layers)
        std::printf("  %-28s %10s %9.2f %9.2f %7.1f%%\n", l.layer.c_str(), human(double(l.macsPerSample)).c_str(),
                    l.seconds, l.gflops(), r.sgemmGflops > 0 ? 100.0 * l.gflops() / r.sgemmGflops : 0.0);
    std::printf("\n  total %.1f s training (+ %.1f s caching), %.1f GFLOP, %.2f GFLOP/s = %.1f%% of sgemm\n",
                r.seconds(), r.cacheSeconds, r.gflop(), r.gflops(), 100.0 * r.fractionOfPeak());
    return 0;
}

}  // namespace ptq::cli
