#include "core/session/allocation.h"

#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>

namespace ptq {

namespace {
/// Cells of the cost grid when costs have no common unit small enough: costs round up to the
/// grid, so a chosen allocation never exceeds its cost budget; 4096 cells keep the rounding
/// below 0.03 % of the largest model cost.
constexpr int kGrid = 4096;
/// Costs are whole numbers of bits (size) or bit operations (BOPs); when the largest total is
/// at most this many of their greatest common divisor, the programme runs on exact costs.
constexpr double kExactCells = 1 << 17;
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

const char* costMetricName(CostMetric m) { return m == CostMetric::Size ? "size" : "bops"; }
const char* costReferenceName(CostReference r) { return r == CostReference::Fp32 ? "fp32" : "int8"; }

BudgetProblem::BudgetProblem(const SensitivityResult& table) : options_(table.options) {
    layers_.reserve(table.layers.size());
    for (size_t l = 0; l < table.layers.size(); ++l) {
        Layer layer;
        layer.params = table.layers[l].params;
        layer.macs = table.layers[l].macs;
        for (const SensitivityCell& c : table.cells.at(l)) {
            layer.deltaLoss.push_back(c.deltaLoss);
            layer.deltaTop1.push_back(c.deltaTop1);
        }
        if (layer.deltaLoss.size() != options_.size())
            throw invalidInput("The sensitivity table's layer " + table.layers[l].name + " has " +
                               std::to_string(layer.deltaLoss.size()) + " cells for " +
                               std::to_string(options_.size()) + " options.");
        layers_.push_back(std::move(layer));
    }
}

double BudgetProblem::layerCost(CostMetric m, int layer, int option) const {
    const Layer& l = layers_.at(size_t(layer));
    const BitOption& o = options_.at(size_t(option));
    if (m == CostMetric::Size) return double(l.params) * o.weightBitsTotal() / 8.0;
    return double(l.macs) * o.weightBitsTotal() * o.activationBits;
}

double BudgetProblem::referenceCost(CostMetric m, CostReference r) const {
    const int bits = r == CostReference::Fp32 ? 32 : 8;
    double total = 0;
    for (const Layer& l : layers_)
        total += m == CostMetric::Size ? double(l.params) * bits / 8.0 : double(l.macs) * bits * bits;
    return total;
}

double BudgetProblem::costOf(CostMetric m, const std::vector<int>& choice) const {
    double total = 0;
    for (size_t l = 0; l < choice.size(); ++l) total += layerCost(m, int(l), choice[l]);
    return total;
}

double BudgetProblem::deltaLossOf(const std::vector<int>& choice) const {
    double total = 0;
    for (size_t l = 0; l < choice.size(); ++l) total += layers_[l].deltaLoss.at(size_t(choice[l]));
    return total;
}

BudgetAllocation BudgetProblem::evaluate(const std::vector<int>& choice) const {
    BudgetAllocation a;
    a.choice = choice;
    a.feasible = true;
    a.status = "optimal";
    for (size_t l = 0; l < choice.size(); ++l) {
        a.deltaLoss += layers_.at(l).deltaLoss.at(size_t(choice[l]));
        a.deltaTop1 += layers_[l].deltaTop1[size_t(choice[l])];
    }
    a.sizeBytes = costOf(CostMetric::Size, choice);
    a.bops = costOf(CostMetric::Bops, choice);
    return a;
}

BudgetProblem::Limits BudgetProblem::limits(CostMetric metric, CostReference reference) const {
    Limits out;
    double least = 0, most = 0;
    for (int l = 0; l < layerCount(); ++l) {
        int cheapest = 0;
        double highest = 0;
        for (int o = 0; o < optionCount(); ++o) {
            const double c = layerCost(metric, l, o), best = layerCost(metric, l, cheapest);
            if (c < best || (c == best && layers_[size_t(l)].deltaLoss[size_t(o)] < layers_[size_t(l)].deltaLoss[size_t(cheapest)]))
                cheapest = o;
            highest = std::max(highest, c);
        }
        least += layerCost(metric, l, cheapest);
        most += highest;
        out.maxDegradation += layers_[size_t(l)].deltaLoss[size_t(cheapest)];
    }
    const double ref = referenceCost(metric, reference);
    out.minRatio = ref > 0 ? least / ref : 0;
    out.maxRatio = ref > 0 ? most / ref : 1;
    return out;
}

struct BudgetProblem::Table {
    double unit = 1;                       ///< cost of one grid cell
    std::vector<double> best;              ///< [cell]: least Σ ΔL with grid cost ≤ cell
    std::vector<std::vector<uint8_t>> arg; ///< [layer][cell]: the option that reaches best
    std::vector<std::vector<int>> cells;   ///< [layer][option]: grid cost; -1 when not allowed
    std::vector<int> cheapest;             ///< [layer]: the smallest allowed grid cost
};

BudgetProblem::Table BudgetProblem::run(const BudgetRequest& request) const {
    for (const auto& [layer, option] : request.pins)
        if (layer < 0 || layer >= layerCount() || option < 0 || option >= optionCount())
            throw invalidInput("A pinned layer or option (" + std::to_string(layer) + ", " + std::to_string(option) +
                               ") is outside the sensitivity table.");
    Table t;
    double maxTotal = 0;
    for (int l = 0; l < layerCount(); ++l) {
        double m = 0;
        for (int o = 0; o < optionCount(); ++o) m = std::max(m, layerCost(request.metric, l, o));
        maxTotal += m;
    }
    // Size costs are in bytes of whole bits: count them in bits to find the common unit.
    const double raw = request.metric == CostMetric::Size ? 8.0 : 1.0;
    int64_t common = 0;
    for (int l = 0; l < layerCount(); ++l)
        for (int o = 0; o < optionCount(); ++o) common = std::gcd(common, int64_t(std::llround(layerCost(request.metric, l, o) * raw)));
    const bool exact = common > 0 && maxTotal * raw / double(common) <= kExactCells;
    t.unit = exact ? double(common) / raw : maxTotal > 0 ? maxTotal / kGrid : 1.0;
    const size_t width = size_t(std::ceil(maxTotal / t.unit)) + layers_.size() + 1;  // room for rounding up
    std::vector<double> prev(width, 0.0), next(width);
    t.arg.assign(layers_.size(), std::vector<uint8_t>(width, 0));
    t.cells.assign(layers_.size(), std::vector<int>(options_.size(), -1));
    t.cheapest.assign(layers_.size(), 0);
    for (int l = 0; l < layerCount(); ++l) {
        const auto pin = request.pins.find(l);
        int cheapest = std::numeric_limits<int>::max();
        for (int o = 0; o < optionCount(); ++o) {
            if (pin != request.pins.end() && pin->second != o) continue;
            t.cells[size_t(l)][size_t(o)] = int(std::ceil(layerCost(request.metric, l, o) / t.unit - 1e-9));
            cheapest = std::min(cheapest, t.cells[size_t(l)][size_t(o)]);
        }
        t.cheapest[size_t(l)] = cheapest;
        const std::vector<int>& cost = t.cells[size_t(l)];
        const std::vector<double>& loss = layers_[size_t(l)].deltaLoss;
        std::vector<uint8_t>& arg = t.arg[size_t(l)];
        for (size_t c = 0; c < width; ++c) {
            double best = kInf;
            uint8_t bestOption = 0;
            for (int o = 0; o < optionCount(); ++o) {
                const int k = cost[size_t(o)];
                if (k < 0 || size_t(k) > c) continue;
                const double v = prev[c - size_t(k)] + loss[size_t(o)];
                if (v < best) best = v, bestOption = uint8_t(o);
            }
            next[c] = best;
            arg[c] = bestOption;
        }
        std::swap(prev, next);
    }
    t.best = std::move(prev);
    return t;
}

namespace {
std::vector<int> backtrack(const std::vector<std::vector<uint8_t>>& arg, const std::vector<std::vector<int>>& cells,
                           size_t cell) {
    std::vector<int> choice(arg.size());
    for (size_t l = arg.size(); l-- > 0;) {
        choice[l] = arg[l][cell];
        cell -= size_t(cells[l][size_t(choice[l])]);
    }
    return choice;
}
}  // namespace

std::shared_ptr<const BudgetProblem::Table> BudgetProblem::table(const BudgetRequest& request) const {
    // The programme depends only on the metric and the pins: a slider drag reuses it and each
    // solve is a scan of the last row plus a backtrack (like changing only an lp's right side).
    std::lock_guard<std::mutex> lock(cacheMutex_);
    if (cached_ && cachedMetric_ == request.metric && cachedPins_ == request.pins) return cached_;
    cached_ = std::make_shared<const Table>(run(request));
    cachedMetric_ = request.metric;
    cachedPins_ = request.pins;
    return cached_;
}

BudgetAllocation BudgetProblem::solve(const BudgetRequest& request) const {
    const auto start = std::chrono::steady_clock::now();
    const std::shared_ptr<const Table> shared = table(request);
    const Table& t = *shared;
    const double reference = referenceCost(request.metric, request.reference);
    BudgetAllocation out;
    size_t cell = 0;
    bool found = false;
    if (request.kind == BudgetKind::Cost) {
        const double allowed = request.costRatio * reference / t.unit;
        if (allowed >= 0) {
            cell = std::min(t.best.size() - 1, size_t(std::floor(allowed + 1e-9)));
            found = std::isfinite(t.best[cell]);
        }
        if (!found) {
            double least = 0;
            for (int c : t.cheapest) least += c * t.unit;
            out.status = "No allocation fits " + std::to_string(int(std::lround(request.costRatio * 100))) + " % of the " +
                         costReferenceName(request.reference) + " " + costMetricName(request.metric) +
                         "; the smallest possible with these pins is " +
                         std::to_string(int(std::ceil(least / reference * 100))) + " %.";
        }
    } else {
        for (cell = 0; cell < t.best.size(); ++cell)
            if (t.best[cell] <= request.maxDegradation + 1e-12) {
                found = true;
                break;
            }
        if (!found) {
            char text[160];
            std::snprintf(text, sizeof text,
                          "No allocation keeps the predicted degradation within %.4g; the least possible with these "
                          "pins is %.4g.",
                          request.maxDegradation, t.best.back());
            out.status = text;
        }
    }
    if (found) {
        out = evaluate(backtrack(t.arg, t.cells, cell));
        out.status = "optimal";
    }
    out.solverMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return out;
}

std::vector<BudgetPoint> BudgetProblem::pareto(const BudgetRequest& request) const {
    const std::shared_ptr<const Table> shared = table(request);
    const Table& t = *shared;
    const double reference = referenceCost(request.metric, request.reference);
    std::vector<BudgetPoint> points;
    double lastLoss = kInf;
    for (size_t cell = 0; cell < t.best.size(); ++cell) {
        if (!(t.best[cell] < lastLoss - 1e-12)) continue;
        lastLoss = t.best[cell];
        BudgetPoint p;
        p.choice = backtrack(t.arg, t.cells, cell);
        p.costRatio = costOf(request.metric, p.choice) / reference;
        p.deltaLoss = deltaLossOf(p.choice);
        // Grid rounding can make a later cell's exact cost lower; keep the frontier monotone.
        while (!points.empty() && points.back().costRatio >= p.costRatio) points.pop_back();
        points.push_back(std::move(p));
    }
    return points;
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
