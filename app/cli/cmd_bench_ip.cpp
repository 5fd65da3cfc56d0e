// ptq bench ip: live re-solve times of the allocator beside the plain one-shot lp (core/alloc).
#include "cli/commands.h"

#include "cli/common.h"
#include "bench/harness/bench_ip.h"
#include "core/util/error.h"

#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtCore/QStandardPaths>

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace ptq::cli {

namespace {

/// "same" when CBC found the live optimum everywhere, else how often it did better (a live
/// solve that was not optimal), worse (stopped within its tolerances) or found nothing.
std::string cbcVerdict(const IpBenchRow& x) {
    if (x.cbcBetter + x.cbcWorse + x.cbcFailures == 0) return "same";
    std::string s;
    auto add = [&](int n, const char* what) {
        if (n) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + what;
    };
    add(x.cbcBetter, "better");
    add(x.cbcWorse, "worse");
    add(x.cbcFailures, "failed");
    return s;
}

}  // namespace

int runBenchIp(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "no-cbc"},
                 {"sizes", "positions", "one-shot-positions", "seed", "tables", "copies", "one-shot-limit", "cbc"},
                 "bench ip");
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
    req.tables = defaultIpTables();
    if (a.has("tables")) {
        req.tables.clear();
        for (const std::string& t : a.all("tables"))
            if (t != "none") req.tables.push_back(t);
    }
    if (a.has("copies")) {
        req.copies.clear();
        for (const std::string& c : a.all("copies")) {
            char* end = nullptr;
            const long n = std::strtol(c.c_str(), &end, 10);
            if (!end || *end || n < 1 || n > 1000)
                throw invalidInput("--copies takes counts from 1 to 1000 (for example 1,3,10), not '" + c + "'.");
            req.copies.push_back(int(n));
        }
    }
    req.oneShotLimitS = a.number("one-shot-limit", req.oneShotLimitS);
    if (!(req.oneShotLimitS > 0)) throw invalidInput("--one-shot-limit takes seconds above 0.");
    if (!a.flag("no-cbc")) {
        const QString cbc = a.has("cbc") ? QString::fromStdString(a.value("cbc"))
                                         : QStandardPaths::findExecutable(QStringLiteral("cbc"));
        if (a.has("cbc") && !QFileInfo(cbc).isExecutable())
            throw invalidInput("--cbc " + a.value("cbc") + " is not an executable: give CBC's path (Debian's coinor-cbc).");
        req.cbc = cbc.toStdString();
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
            rows.append(QJsonObject{{"instance", QString::fromStdString(x.instance)},
                                    {"layers", x.layers},
                                    {"options", x.options},
                                    {"positions", x.positions},
                                    {"one_shot_positions", x.oneShotPositions},
                                    {"columns_full", x.columnsFull},
                                    {"columns_pruned", x.columnsPruned},
                                    {"infeasible", x.infeasible},
                                    {"models_built", x.modelsBuilt},
                                    {"mismatches", x.mismatches},
                                    {"one_row_solves", x.oneRowSolves},
                                    {"one_shot_timeouts", x.oneShotTimeouts},
                                    {"cbc_runs", x.cbcRuns},
                                    {"cbc_better", x.cbcBetter},
                                    {"cbc_worse", x.cbcWorse},
                                    {"cbc_failures", x.cbcFailures},
                                    {"cbc_p50_ms", x.cbcP50Ms},
                                    {"cbc_max_ms", x.cbcMaxMs},
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
    std::printf("IP re-solve over %d size-budget slider positions (seed %llu); times in ms\n", req.positions,
                (unsigned long long)req.seed);
    std::printf("  %-24s %9s | %8s %8s %8s | %9s %8s %8s %5s | %-13s| %8s %8s %s\n", "instance", "columns", "live p50",
                "p99", "max", "1shot p50", "p99", "max", "n", "same optimum", "cbc p50", "max", "cbc vs live");
    for (const IpBenchRow& x : r.rows) {
        char name[64];
        std::snprintf(name, sizeof name, "%s %dx%d", x.instance.c_str(), x.layers, x.options);
        std::string same = x.mismatches == 0 ? "yes" : std::to_string(x.mismatches) + " differ";
        if (x.oneShotTimeouts) same += ", " + std::to_string(x.oneShotTimeouts) + " t/o";
        std::string oneShot[3] = {"-", "-", "-"};
        if (x.oneShotPositions > x.oneShotTimeouts) {
            char b[3][32];
            std::snprintf(b[0], 32, "%.2f", x.oneShotP50Ms);
            std::snprintf(b[1], 32, "%.2f", x.oneShotP99Ms);
            std::snprintf(b[2], 32, "%.2f", x.oneShotMaxMs);
            for (int i = 0; i < 3; ++i) oneShot[i] = b[i];
        }
        if (x.cbcRuns)
            std::printf("  %-24s %4d/%-4d | %8.2f %8.2f %8.2f | %9s %8s %8s %5d | %-13s| %8.1f %8.1f %s\n", name,
                        x.columnsPruned, x.columnsFull, x.liveP50Ms, x.liveP99Ms, x.liveMaxMs, oneShot[0].c_str(),
                        oneShot[1].c_str(), oneShot[2].c_str(), x.oneShotPositions, same.c_str(), x.cbcP50Ms,
                        x.cbcMaxMs, cbcVerdict(x).c_str());
        else
            std::printf("  %-24s %4d/%-4d | %8.2f %8.2f %8.2f | %9s %8s %8s %5d | %-13s| %8s %8s -\n", name,
                        x.columnsPruned, x.columnsFull, x.liveP50Ms, x.liveP99Ms, x.liveMaxMs, oneShot[0].c_str(),
                        oneShot[1].c_str(), oneShot[2].c_str(), x.oneShotPositions, same.c_str(), "-", "-");
    }
    std::printf("  live: kept lp, dominated options pruned, warm start, the exact one-row programme (one budget);\n"
                "  one-shot: the full lp built and solved from scratch per position by lp_solve (a table instance's\n"
                "  solve stopped after %.0f s is t/o, not compared); cbc: CBC on the same lp from scratch%s\n",
                req.oneShotLimitS, req.cbc.empty() ? " (not installed: apt-get install coinor-cbc)" : "");
    std::printf("  tables (repeated with jitter x[0.5, 1.5], clamped and tie-broken as ptq allocate does):%s\n",
                req.tables.empty() ? " none" : "");
    for (const std::string& t : req.tables) std::printf("    %s\n", t.c_str());
    std::printf("exact Pareto frontier at %dx%d: size %.1f ms (%zu points), BOPs %.1f ms (%zu points)\n",
                r.paretoLayers, r.paretoOptions, r.paretoSizeMs, r.paretoSizePoints, r.paretoBopsMs,
                r.paretoBopsPoints);
    return 0;
}

}  // namespace ptq::cli
