#pragma once
/// @file
/// `ptq bench ip`: re-solve times of the live Allocator while a size budget sweeps over slider
/// positions, beside the plain one-shot formulation (the full lp built and solved from scratch,
/// nothing pruned) on the same budgets in the same run, and the exact Pareto frontier's time.
/// A benchmark prints figures; it never passes or fails. Any one thread.

#include "core/util/progress.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace ptq {

struct IpBenchRequest {
    std::vector<std::pair<int, int>> sizes = {{20, 6}, {54, 9}, {200, 9}, {500, 9}};  ///< layers x options
    int positions = 100;         ///< slider positions swept from the smallest to the largest size
    int oneShotPositions = 100;  ///< how many of them the one-shot formulation solves (evenly spread)
    std::pair<int, int> paretoSize = {54, 9};
    uint64_t seed = 1;
};

struct IpBenchRow {
    int layers = 0, options = 0;
    int columnsFull = 0, columnsPruned = 0;  ///< binaries of the one-shot and of the live lp
    int positions = 0, oneShotPositions = 0;
    int infeasible = 0;      ///< positions below the smallest reachable size (answered without lp_solve)
    int modelsBuilt = 0;     ///< lp models the live Allocator built over the sweep
    int mismatches = 0;      ///< positions where live and one-shot optima differ (should be 0)
    double liveP50Ms = 0, liveP99Ms = 0, liveMaxMs = 0;
    double oneShotP50Ms = 0, oneShotP99Ms = 0, oneShotMaxMs = 0;
};

struct IpBenchResult {
    std::vector<IpBenchRow> rows;
    int paretoLayers = 0, paretoOptions = 0;
    double paretoSizeMs = 0, paretoBopsMs = 0;
    size_t paretoSizePoints = 0, paretoBopsPoints = 0;
};

IpBenchResult benchIp(const IpBenchRequest& request, const Progress* progress = nullptr);

}  // namespace ptq
