#include "core/alloc/one_row.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

namespace ptq {

namespace {

struct Item {
    double cost = 0, value = 0;
    int column = 0;
};

/// One layer's open columns without those another beats on both figures (equal on both: the
/// first kept), by increasing cost (so by decreasing value).
std::vector<Item> undominated(std::vector<Item> items) {
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
        return a.cost != b.cost ? a.cost < b.cost : a.value != b.value ? a.value < b.value : a.column < b.column;
    });
    std::vector<Item> out;
    for (const Item& it : items)
        if (out.empty() || it.value < out.back().value) out.push_back(it);
    return out;
}

/// The slopes (value given up per unit of cost) along the lower convex hull of @p items.
void hullSlopes(const std::vector<Item>& items, std::vector<double>& slopes) {
    std::vector<const Item*> hull;
    for (const Item& it : items) {
        while (hull.size() >= 2) {
            const Item& a = *hull[hull.size() - 2];
            const Item& b = *hull.back();
            // b lies on or above the segment a-it: not on the lower hull
            if ((b.value - a.value) * (it.cost - a.cost) >= (it.value - a.value) * (b.cost - a.cost)) hull.pop_back();
            else break;
        }
        hull.push_back(&it);
    }
    for (size_t i = 1; i < hull.size(); ++i)
        slopes.push_back((hull[i - 1]->value - hull[i]->value) / (hull[i]->cost - hull[i - 1]->cost));
}

}  // namespace

OneRowResult solveOneRow(const std::vector<OneHotColumn>& columns, const std::vector<char>& off, int row,
                         double capacity, double incumbent, double lambda, size_t maxStates,
                         std::chrono::steady_clock::time_point deadline) {
    OneRowResult out;
    int layers = 0;
    for (const OneHotColumn& c : columns) layers = std::max(layers, c.layer + 1);
    std::vector<std::vector<Item>> byLayer(static_cast<size_t>(layers));
    std::vector<char> present(size_t(layers), 0);
    double maxValue = 0, maxCost = 0;
    for (size_t j = 0; j < columns.size(); ++j) {
        const OneHotColumn& c = columns[j];
        present[size_t(c.layer)] = 1;
        if (off[j]) continue;
        byLayer[size_t(c.layer)].push_back({c.row[row], c.objective, int(j)});
        maxValue = std::max(maxValue, std::abs(c.objective));
        maxCost = std::max(maxCost, std::abs(c.row[row]));
    }
    const double epsValue = 1e-12 * std::max(maxValue, 1e-300);
    const double epsCost = 1e-12 * std::max({maxCost, std::abs(capacity), 1e-300});

    // Layers with one column left are constants; the others are the free layers of the DP,
    // each shifted to its cheapest column.
    std::vector<int> choice(size_t(layers), -1);
    double baseValue = 0, cap = capacity;
    struct Free {
        int layer;
        std::vector<Item> items;
    };
    std::vector<Free> free;
    std::vector<double> slopes;
    for (int l = 0; l < layers; ++l) {
        if (!present[size_t(l)]) continue;
        if (byLayer[size_t(l)].empty()) {
            // every column of a layer switched off: nothing can beat the incumbent
            out.status = std::isfinite(incumbent) ? OneRowResult::Status::Optimal : OneRowResult::Status::Infeasible;
            return out;
        }
        std::vector<Item> items = undominated(std::move(byLayer[size_t(l)]));
        cap -= items.front().cost;
        baseValue += items.back().value;  // the least value: what each free layer adds at least
        if (items.size() == 1) {
            choice[size_t(l)] = items[0].column;
            continue;
        }
        const double c0 = items.front().cost, vMin = items.back().value;
        for (Item& it : items) it.cost -= c0, it.value -= vMin;
        hullSlopes(items, slopes);
        free.push_back({l, std::move(items)});
    }
    if (cap < -epsCost) {
        out.status = OneRowResult::Status::Infeasible;
        return out;
    }
    cap = std::max(cap, 0.0);
    const double target = incumbent - baseValue;  // what the free layers' values must stay under

    // The layers with the widest spread of cost first: they split the partial sums most, and
    // the bound of what remains is then tightest for the rest.
    std::stable_sort(free.begin(), free.end(), [](const Free& a, const Free& b) {
        return a.items.back().cost > b.items.back().cost;
    });

    // Prices for the bound: quantiles of the hull slopes, the given price and 0.
    std::sort(slopes.begin(), slopes.end());
    std::vector<double> prices{0.0};
    constexpr size_t kPrices = 48;
    for (size_t i = 0; i < kPrices && !slopes.empty(); ++i)
        prices.push_back(slopes[std::min(slopes.size() - 1, i * slopes.size() / kPrices)]);
    if (!slopes.empty()) prices.push_back(slopes.back());
    if (lambda > 0 && std::isfinite(lambda)) prices.push_back(lambda);
    std::sort(prices.begin(), prices.end());
    prices.erase(std::unique(prices.begin(), prices.end()), prices.end());
    const size_t P = prices.size(), F = free.size();
    // suffix[d * P + i]: the sum over free layers d.. of min (value + price_i * cost)
    std::vector<double> suffix((F + 1) * P, 0.0);
    for (size_t d = F; d-- > 0;)
        for (size_t i = 0; i < P; ++i) {
            double m = std::numeric_limits<double>::infinity();
            for (const Item& it : free[d].items) m = std::min(m, it.value + prices[i] * it.cost);
            suffix[d * P + i] = suffix[(d + 1) * P + i] + m;
        }
    // The best lower bound on what layers d.. add with @p room of the row left (concave in the
    // price, so the walk from @p hint is monotone as room shrinks).
    auto bound = [&](size_t d, double room, size_t& hint) {
        const double* s = &suffix[d * P];
        double best = s[hint] - prices[hint] * room;
        while (hint + 1 < P) {
            const double next = s[hint + 1] - prices[hint + 1] * room;
            if (next < best) break;
            best = next;
            ++hint;
        }
        return best;
    };

    // The partial sums after each free layer, by increasing cost and strictly decreasing value.
    std::vector<double> cost{0.0}, value{0.0}, nextCost, nextValue;
    std::vector<std::vector<uint32_t>> parent(F);
    std::vector<std::vector<uint16_t>> option(F);
    std::vector<uint32_t> order, heads;
    for (size_t d = 0; d < F; ++d) {
        const std::vector<Item>& items = free[d].items;
        const size_t N = cost.size(), M = items.size();
        // Each option shifts the sorted list: merge the M shifted lists by cost (value on ties).
        struct Cand {
            double c, v;
            uint32_t from;
            uint16_t k;
        };
        std::vector<Cand> cand;
        cand.reserve(N * M);
        for (size_t k = 0; k < M; ++k)
            for (size_t s = 0; s < N; ++s) {
                const double c = cost[s] + items[k].cost;
                if (c > cap + epsCost) break;  // sorted by cost: the rest do not fit either
                cand.push_back({c, value[s] + items[k].value, uint32_t(s), uint16_t(k)});
            }
        out.statesVisited += cand.size();
        std::sort(cand.begin(), cand.end(), [](const Cand& a, const Cand& b) {
            return a.c != b.c ? a.c < b.c : a.v < b.v;
        });
        nextCost.clear();
        nextValue.clear();
        parent[d].clear();
        option[d].clear();
        size_t hint = 0;
        double bestValue = std::numeric_limits<double>::infinity();
        for (const Cand& x : cand) {
            if (!(x.v < bestValue)) continue;  // another uses no more of the row and is no worse
            bestValue = x.v;
            if (x.v + bound(d + 1, std::max(0.0, cap - x.c), hint) >= target - epsValue) continue;
            nextCost.push_back(x.c);
            nextValue.push_back(x.v);
            parent[d].push_back(x.from);
            option[d].push_back(x.k);
        }
        if (nextCost.size() > maxStates || std::chrono::steady_clock::now() > deadline) {
            out.status = OneRowResult::Status::GaveUp;
            return out;
        }
        out.peakStates = std::max(out.peakStates, nextCost.size());
        cost.swap(nextCost);
        value.swap(nextValue);
        if (cost.empty()) break;
    }
    if (cost.empty()) {
        // nothing beats the incumbent (or, without one, nothing fits)
        out.status = std::isfinite(incumbent) ? OneRowResult::Status::Optimal : OneRowResult::Status::Infeasible;
        return out;
    }
    // The last partial sum has the least value.
    size_t s = cost.size() - 1;
    out.status = OneRowResult::Status::Optimal;
    out.objective = baseValue + value[s];
    if (!(value[s] < target - epsValue)) return out;  // no better than the incumbent
    for (size_t d = F; d-- > 0;) {
        choice[size_t(free[d].layer)] = free[d].items[option[d][s]].column;
        s = parent[d][s];
    }
    out.choice = std::move(choice);
    return out;
}

}  // namespace ptq
