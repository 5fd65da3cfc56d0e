#pragma once
/// @file
/// `ptq bench ip`: re-solve times of the live Allocator while a size budget sweeps over slider
/// positions, beside the plain one-shot formulation (the full lp built and solved from scratch,
/// nothing pruned) on the same budgets in the same run, and the exact Pareto frontier's time.
/// Instances: random tables, and real sensitivity tables repeated with jitter (ties, clamped
/// zeros, near-equal columns: where branch and bound struggles); CBC on the same lp when given.
/// A benchmark prints figures; it never passes or fails. Any one thread.

#include "core/util/progress.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

struct IpBenchRequest {
    std::vector<std::pair<int, int>> sizes = {{20, 6}, {54, 9}, {200, 9}, {500, 9}};  ///< layers x options
    /// Sensitivity table files whose problems, repeated with jitter (jitteredTableProblem),
    /// are instances shaped like real ones; each is benchmarked at every count of @ref copies.
    std::vector<std::string> tables;
    std::vector<int> copies = {1, 3, 10};
    int positions = 100;         ///< slider positions swept from the smallest to the largest size
    /// How many of them the one-shot formulation solves (evenly spread); at most 10 on a table
    /// instance, where each may take oneShotLimitS.
    int oneShotPositions = 100;
    /// Per one-shot solve of a table instance (plain lp_solve can take minutes there), seconds.
    double oneShotLimitS = 10;
    /// CBC's executable (Debian's coinor-cbc), or empty: then no CBC column. It solves the
    /// one-shot positions' lp, written as MPS, from scratch (process start included).
    std::string cbc;
    std::pair<int, int> paretoSize = {54, 9};
    uint64_t seed = 1;
};

struct IpBenchRow {
    std::string instance;  ///< "random 54x9" or "resnet20_fmnist x10"
    int layers = 0, options = 0;
    int columnsFull = 0, columnsPruned = 0;  ///< binaries of the one-shot and of the live lp
    int positions = 0, oneShotPositions = 0;
    int infeasible = 0;      ///< positions below the smallest reachable size (answered without lp_solve)
    int modelsBuilt = 0;     ///< lp models the live Allocator built over the sweep
    int oneRowSolves = 0;    ///< live solves the exact one-row programme answered
    int mismatches = 0;      ///< one-shot positions where live and one-shot optima differ (should be 0)
    int oneShotTimeouts = 0; ///< one-shot solves stopped at oneShotLimitS (not compared)
    double liveP50Ms = 0, liveP99Ms = 0, liveMaxMs = 0;
    double oneShotP50Ms = 0, oneShotP99Ms = 0, oneShotMaxMs = 0;
    int cbcRuns = 0;         ///< 0: CBC not run
    /// Positions where CBC's answer is better than the live one (a live solve that was not
    /// optimal: should be 0), worse (CBC stopped within its own tolerances), or missing.
    int cbcBetter = 0, cbcWorse = 0, cbcFailures = 0;
    double cbcP50Ms = 0, cbcMaxMs = 0;
};

struct IpBenchResult {
    std::vector<IpBenchRow> rows;
    int paretoLayers = 0, paretoOptions = 0;
    double paretoSizeMs = 0, paretoBopsMs = 0;
    size_t paretoSizePoints = 0, paretoBopsPoints = 0;
};

/// The sensitivity tables under the source tree's bench/tables/ (real models' tables: the demo
/// models' and torchvision's), or none when it is not there (an installed ptq).
std::vector<std::string> defaultIpTables();

IpBenchResult benchIp(const IpBenchRequest& request, const Progress* progress = nullptr);

}  // namespace ptq
