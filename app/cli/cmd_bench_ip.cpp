// ptq bench ip: live re-solve times of the allocator beside the plain one-shot lp (core/alloc).
#include "cli/commands.h"

#include "cli/common.h"
#include "bench/harness/bench_ip.h"
#include "core/util/error.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdio>
#include <sstream>

namespace ptq::cli {

int runBenchIp(const std::vector<std::string>& argv) {
    const Args a(argv, {"json"}, {"sizes", "positions", "one-shot-positions", "seed"}, "bench ip");
    IpBenchRequest req;
    if (a.has("sizes")) {
        req.sizes.clear();
        for (const std::string& s : a.all("sizes")) {
            int layers = 0, options = 0;
            char x = 0;
            std::istringstream in(s);
            if (!(in >> layers >> x >> options) || x != 'x' || layers < 1 || options < 1 || options > 18)
                throw invalidInput("--sizes takes LAYERSxOPTIONS pairs (for example 54x9,500x9; up to 18 options), "
                                   "not '" + s + "'.");
            req.sizes.emplace_back(layers, options);
        }
    }
    req.positions = int(a.integer("positions", req.positions));
    req.oneShotPositions = int(a.integer("one-shot-positions", req.positions));
    req.seed = uint64_t(a.integer("seed", 1));
    if (req.positions < 2 || req.oneShotPositions < 1)
        throw invalidInput("--positions must be at least 2 and --one-shot-positions at least 1.");
    const IpBenchResult r = benchIp(req);
    if (a.flag("json")) {
        QJsonObject o;
        o["benchmark"] = "ip";
        o["seed"] = qint64(req.seed);
        QJsonArray rows;
        for (const IpBenchRow& x : r.rows)
            rows.append(QJsonObject{{"layers", x.layers},
                                    {"options", x.options},
                                    {"positions", x.positions},
                                    {"one_shot_positions", x.oneShotPositions},
                                    {"columns_full", x.columnsFull},
                                    {"columns_pruned", x.columnsPruned},
                                    {"infeasible", x.infeasible},
                                    {"models_built", x.modelsBuilt},
                                    {"mismatches", x.mismatches},
                                    {"live_p50_ms", x.liveP50Ms},
                                    {"live_p99_ms", x.liveP99Ms},
                                    {"live_max_ms", x.liveMaxMs},
                                    {"one_shot_p50_ms", x.oneShotP50Ms},
                                    {"one_shot_p99_ms", x.oneShotP99Ms},
                                    {"one_shot_max_ms", x.oneShotMaxMs}});
        o["rows"] = rows;
        o["pareto"] = QJsonObject{{"layers", r.paretoLayers},
                                  {"options", r.paretoOptions},
                                  {"size_ms", r.paretoSizeMs},
                                  {"size_points", qint64(r.paretoSizePoints)},
                                  {"bops_ms", r.paretoBopsMs},
                                  {"bops_points", qint64(r.paretoBopsPoints)}};
        printJson(o);
        return 0;
    }
    std::printf("IP re-solve over %d size-budget slider positions (synthetic tables, seed %llu); times in ms\n",
                req.positions, (unsigned long long)req.seed);
    std::printf("  %-8s %9s | %8s %8s %8s | %8s %8s %8s %5s | %s\n", "size", "columns", "live p50", "p99", "max",
                "1shot p50", "p99", "max", "n", "same optimum");
    for (const IpBenchRow& x : r.rows)
        std::printf("  %3dx%-4d %4d/%-4d | %8.2f %8.2f %8.2f | %9.2f %8.2f %8.2f %5d | %s\n", x.layers, x.options,
                    x.columnsPruned, x.columnsFull, x.liveP50Ms, x.liveP99Ms, x.liveMaxMs, x.oneShotP50Ms,
                    x.oneShotP99Ms, x.oneShotMaxMs, x.oneShotPositions,
                    x.mismatches == 0 ? "yes" : (std::to_string(x.mismatches) + " differ").c_str());
    std::printf("  live: kept lp, dominated options pruned, warm start (previous answer, Lagrangian fixing);\n"
                "  one-shot: the full lp built and solved from scratch per position\n");
    std::printf("exact Pareto frontier at %dx%d: size %.1f ms (%zu points), BOPs %.1f ms (%zu points)\n",
                r.paretoLayers, r.paretoOptions, r.paretoSizeMs, r.paretoSizePoints, r.paretoBopsMs,
                r.paretoBopsPoints);
    return 0;
}

}  // namespace ptq::cli
