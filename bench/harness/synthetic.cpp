#include "bench/harness/synthetic.h"

#include <cmath>
#include <utility>

namespace ptq {

namespace {

std::vector<std::pair<int, int>> bitGrid(int n) {
    std::vector<std::pair<int, int>> grid;
    if (n == 6 || n == 9) {
        for (int w : {2, 4, 8})
            for (int a : n == 6 ? std::vector<int>{4, 8} : std::vector<int>{4, 6, 8}) grid.emplace_back(w, a);
    } else {
        for (int w : {2, 3, 4, 5, 6, 8})
            for (int a : {4, 6, 8}) grid.emplace_back(w, a);
    }
    grid.resize(size_t(n), {8, 8});
    return grid;
}

}  // namespace

SensitivityTable jitteredTable(const SensitivityTable& table, int copies, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> factor(0.5, 1.5);
    SensitivityTable big = table;
    SensitivityResult& r = big.result;
    r.layers.clear();
    r.cells.clear();
    for (int c = 0; c < copies; ++c)
        for (size_t l = 0; l < table.result.layers.size(); ++l) {
            SensitivityLayer layer = table.result.layers[l];
            layer.name += "#" + std::to_string(c);
            r.layers.push_back(layer);
            std::vector<SensitivityCell> cells = table.result.cells[l];
            for (SensitivityCell& cell : cells) {
                const double f = factor(rng);
                cell.deltaLoss *= f;
                cell.deltaTop1 *= f;
            }
            r.cells.push_back(std::move(cells));
        }
    return big;
}

AllocationProblem jitteredTableProblem(const SensitivityTable& table, int copies, uint64_t seed,
                                       DegradationMeasure measure) {
    return problemFromTable(jitteredTable(table, copies, seed), measure);
}

AllocationProblem syntheticProblem(int layers, int options, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    const auto grid = bitGrid(options);
    AllocationProblem p = AllocationProblem::sized(size_t(layers), size_t(options));
    for (size_t o = 0; o < grid.size(); ++o)
        p.options[o] = "w" + std::to_string(grid[o].first) + "a" + std::to_string(grid[o].second);
    for (int l = 0; l < layers; ++l) {
        const double params = std::round(std::exp(std::log(500.0) + uni(rng) * std::log(5000.0)));
        const double macs = params * std::round(std::exp(uni(rng) * std::log(1000.0)));
        const double sensitivity = std::exp(1.5 * normal(rng));
        p.referenceSize += params * 32;
        p.referenceBops += macs * 32 * 32;
        for (size_t o = 0; o < grid.size(); ++o) {
            const auto [w, a] = grid[o];
            const double noise = std::exp(0.3 * normal(rng));
            p.degradation[size_t(l)][o] =
                sensitivity * noise * (0.02 * std::pow(4.0, 4 - w) + 0.01 * std::pow(2.0, 4 - a));
            p.size[size_t(l)][o] = params * w;
            p.bops[size_t(l)][o] = macs * w * a;
        }
    }
    return p;
}

AllocationProblem randomSmallProblem(std::mt19937_64& rng, int maxLayers, int maxOptions) {
    std::uniform_int_distribution<int> layerCount(1, maxLayers), optionCount(1, maxOptions);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    const size_t L = size_t(layerCount(rng)), O = size_t(optionCount(rng));
    AllocationProblem p = AllocationProblem::sized(L, O);
    // Some problems on a small integer grid, so that ties and equal options occur.
    const bool grid = uni(rng) < 0.3;
    auto draw = [&](double lo, double hi) {
        const double v = lo + (hi - lo) * uni(rng);
        return grid ? std::round(v) : v;
    };
    const bool negatives = uni(rng) < 0.2;
    for (size_t l = 0; l < L; ++l)
        for (size_t o = 0; o < O; ++o) {
            p.degradation[l][o] = draw(negatives ? -2.0 : 0.0, 5.0);
            p.size[l][o] = draw(1.0, 10.0);
            p.bops[l][o] = draw(1.0, 20.0);
        }
    for (size_t l = 0; l < L; ++l) {
        p.referenceSize += 10.0;
        p.referenceBops += 20.0;
        if (uni(rng) < 0.15) p.pinned[l] = int(rng() % O);
    }
    for (size_t o = 0; o < O; ++o) p.excluded[o] = uni(rng) < 0.15;
    // Leave every unlocked layer something.
    bool anyAllowed = false;
    for (size_t o = 0; o < O; ++o) anyAllowed = anyAllowed || !p.excluded[o];
    if (!anyAllowed) p.excluded[rng() % O] = false;
    return p;
}

SensitivityResult syntheticSensitivity(int layers, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    SensitivityResult r;
    r.metric = "cross_entropy";
    r.options = BitOption::defaults();
    r.options.push_back({4, 8, 2});
    r.options.push_back({2, 8, 2});
    r.options.push_back({2, 4, 2});
    int64_t channels = 16;
    for (int l = 0; l < layers; ++l) {
        if (l > 0 && l % (layers / 4 + 1) == 0) channels *= 2;
        const int64_t spatial = std::max<int64_t>(1, 3136 >> (2 * (l * 4 / std::max(1, layers))));
        SensitivityLayer layer;
        layer.name = "layer" + std::to_string(l) + ".conv";
        layer.kind = "conv2d";
        layer.params = channels * channels * 9;
        layer.macs = layer.params * spatial;
        r.layers.push_back(layer);
        const double scale = 0.002 + 0.02 * unit(rng) * unit(rng);
        std::vector<SensitivityCell> cells;
        for (const BitOption& o : r.options) {
            const double w = std::pow(2.0, -double(o.weightBitsTotal())) * 256.0;
            const double a = std::pow(2.0, -double(o.activationBits)) * 256.0;
            SensitivityCell c;
            c.deltaLoss = scale * (w + 0.5 * a) / 3.0 * (0.8 + 0.4 * unit(rng));
            if (o.weightBitsTotal() >= 8 && o.activationBits >= 8) c.deltaLoss = 0;
            c.deltaTop1 = -40.0 * c.deltaLoss;
            c.localMse = c.deltaLoss * 0.1;
            cells.push_back(c);
        }
        r.cells.push_back(std::move(cells));
    }
    return r;
}

}  // namespace ptq
