// The Allocator's warm start: a feasible allocation close to the optimum (the incumbent) from
// the previous answer or from the Lagrangian relaxation, repaired to fit the budgets and
// improved greedily. Its value bounds branch and bound and decides which columns the
// Lagrangian bound can switch off (solver.cpp).
#include "core/alloc/solver_impl.h"

#include <limits>

namespace ptq {

using namespace alloc_detail;

/// A feasible allocation near @p choice (the previous answer) under @p budgets, or empty: the
/// warm start. Options the lp pruned are replaced by a kept option that dominates them; then,
/// while a budget is exceeded, the layer move with the least objective increase per unit saved
/// is taken.
std::vector<int> Allocator::Impl::repair(std::vector<int> choice, const Budgets& budgets, int objective) const {
    const size_t L = problem.layerCount();
    bool used[kQuantities];
    for (int q = 0; q < kQuantities; ++q) used[q] = structure.constrained[q] || structure.objective == q;
    for (size_t l = 0; l < L; ++l) {
        const auto& kept = keptOptions[l];
        if (std::find(kept.begin(), kept.end(), choice[l]) != kept.end()) continue;
        int replacement = -1;
        for (int k : kept) {
            bool noWorse = true;
            for (int q = 0; q < kQuantities; ++q)
                if (used[q] && valueOf(problem, q, l, size_t(k)) > valueOf(problem, q, l, size_t(choice[l]))) noWorse = false;
            if (noWorse) {
                replacement = k;
                break;
            }
        }
        if (replacement < 0) return {};
        choice[l] = replacement;
    }
    AllocationResult sums;
    sumChoice(problem, choice, sums);
    for (size_t step = 0; step < 4 * L * problem.optionCount(); ++step) {
        int worst = -1;
        double worstExcess = 0;
        for (int q = 0; q < kQuantities; ++q) {
            if (!budgets.has(q)) continue;
            const double excess = (sumOf(sums, q) - budgets.value[q]) / scale[q];
            if (excess > budgetTolerance(budgets.value[q]) / scale[q] && excess > worstExcess) {
                worst = q;
                worstExcess = excess;
            }
        }
        if (worst < 0) return choice;
        size_t bestLayer = 0;
        int bestOption = -1;
        double bestRatio = std::numeric_limits<double>::infinity();
        for (size_t l = 0; l < L; ++l)
            for (int k : keptOptions[l]) {
                const double saved = valueOf(problem, worst, l, size_t(choice[l])) - valueOf(problem, worst, l, size_t(k));
                if (saved <= 0) continue;
                const double ratio = (valueOf(problem, objective, l, size_t(k)) -
                                      valueOf(problem, objective, l, size_t(choice[l]))) / saved;
                if (ratio < bestRatio) {
                    bestRatio = ratio;
                    bestLayer = l;
                    bestOption = k;
                }
            }
        if (bestOption < 0) return {};
        choice[bestLayer] = bestOption;
        sumChoice(problem, choice, sums);
    }
    return {};
}

/// Takes, while one fits every budget, the move with the largest objective decrease per unit
/// of budget used.
std::vector<int> Allocator::Impl::improve(std::vector<int> choice, const Budgets& budgets, int objective) const {
    const size_t L = problem.layerCount();
    AllocationResult sums;
    sumChoice(problem, choice, sums);
    for (size_t step = 0; step < 4 * L * problem.optionCount(); ++step) {
        double slack[kQuantities];
        for (int q = 0; q < kQuantities; ++q)
            slack[q] = budgets.has(q) ? budgets.value[q] + budgetTolerance(budgets.value[q]) - sumOf(sums, q) : 0.0;
        size_t bestLayer = 0;
        int bestOption = -1;
        double bestScore = 0;
        for (size_t l = 0; l < L; ++l)
            for (int k : keptOptions[l]) {
                const double gain = valueOf(problem, objective, l, size_t(k)) -
                                    valueOf(problem, objective, l, size_t(choice[l]));
                if (gain >= 0) continue;
                double used = 0;
                bool fits = true;
                for (int q = 0; q < kQuantities && fits; ++q) {
                    if (!budgets.has(q)) continue;
                    const double dq = valueOf(problem, q, l, size_t(k)) - valueOf(problem, q, l, size_t(choice[l]));
                    fits = dq <= slack[q];
                    used += std::max(0.0, dq) / scale[q];
                }
                if (!fits) continue;
                const double score = gain / scale[objective] / (used + 1e-12);
                if (score < bestScore) {
                    bestScore = score;
                    bestLayer = l;
                    bestOption = k;
                }
            }
        if (bestOption < 0) break;
        choice[bestLayer] = bestOption;
        sumChoice(problem, choice, sums);
    }
    return choice;
}

/// Moves of one or two layers at once among the columns not in @p off, the best first, while
/// one lowers the objective and fits every budget. The greedy pass stops where no single move
/// helps; near-ties (one layer up, another down) are where branch and bound spends its time,
/// and an incumbent that already takes them leaves it less to prove (more columns fixed).
std::vector<int> Allocator::Impl::improvePairs(std::vector<int> choice, const Budgets& budgets, int objective,
                                               const std::vector<char>& off) const {
    struct Move {
        size_t layer;
        int option;
        double d[kQuantities];
    };
    AllocationResult sums;
    sumChoice(problem, choice, sums);
    for (int pass = 0; pass < 16; ++pass) {
        double slack[kQuantities];
        for (int q = 0; q < kQuantities; ++q)
            slack[q] = budgets.has(q) ? budgets.value[q] + budgetTolerance(budgets.value[q]) - sumOf(sums, q)
                                      : std::numeric_limits<double>::infinity();
        std::vector<Move> moves;
        for (int c = 0; c < columns; ++c) {
            if (off[size_t(c)]) continue;
            const size_t l = size_t(columnData[size_t(c)].layer);
            int option = -1;
            for (size_t k = 0; k < columnOf[l].size(); ++k)
                if (columnOf[l][k] == c + 1) option = keptOptions[l][k];
            if (option < 0 || option == choice[l]) continue;
            Move m{l, option, {}};
            for (int q = 0; q < kQuantities; ++q)
                m.d[q] = valueOf(problem, q, l, size_t(option)) - valueOf(problem, q, l, size_t(choice[l]));
            moves.push_back(m);
        }
        if (moves.size() > 1500) break;  // quadratic: for the small open sets the fixing leaves
        auto fits = [&](const Move& a, const Move* b) {
            for (int q = 0; q < kQuantities; ++q)
                if (budgets.has(q) && a.d[q] + (b ? b->d[q] : 0.0) > slack[q]) return false;
            return true;
        };
        // Improve by more than rounding noise only, so the passes end.
        double best = -1e-12 * std::max(1.0, std::abs(sumOf(sums, objective)));
        int bi = -1, bj = -1;
        for (size_t i = 0; i < moves.size(); ++i) {
            if (moves[i].d[objective] < best && fits(moves[i], nullptr)) {
                best = moves[i].d[objective];
                bi = int(i);
                bj = -1;
            }
            for (size_t j = i + 1; j < moves.size(); ++j) {
                if (moves[j].layer == moves[i].layer) continue;
                const double d = moves[i].d[objective] + moves[j].d[objective];
                if (d < best && fits(moves[i], &moves[j])) {
                    best = d;
                    bi = int(i);
                    bj = int(j);
                }
            }
        }
        if (bi < 0) break;
        choice[moves[size_t(bi)].layer] = moves[size_t(bi)].option;
        if (bj >= 0) choice[moves[size_t(bj)].layer] = moves[size_t(bj)].option;
        sumChoice(problem, choice, sums);
    }
    return choice;
}

/// With one budget row: the layers with two or more columns not in @p off solved by dynamic
/// programming over the budget cut into kRoundedCells equal cells, each column's use rounded up
/// to whole cells (so whatever the table picks fits the real budget), the layers with one open
/// column fixed to it. Near the optimum, not at it (the rounding gives up to a cell a layer);
/// an incumbent this close leaves branch and bound little to prove. Empty when there is more
/// than one budget row or nothing fits.
std::vector<int> Allocator::Impl::roundedKnapsack(const std::vector<char>& off, const double rhs[]) const {
    constexpr int kRoundedCells = 4096;
    int q = -1;
    for (int k = 0; k < kQuantities; ++k)
        if (structure.constrained[k]) {
            if (q >= 0) return {};
            q = k;
        }
    if (q < 0) return {};
    const size_t L = problem.layerCount();
    std::vector<std::vector<int>> open(L);  // per layer: its open columns (0-based)
    for (int c = 0; c < columns; ++c)
        if (!off[size_t(c)]) open[size_t(columnData[size_t(c)].layer)].push_back(c);
    std::vector<int> choiceColumn(L, -1);
    std::vector<size_t> free;  // layers with a choice left
    double rest = rhs[q];
    for (size_t l = 0; l < L; ++l) {
        if (fixedChoice[l] >= 0) continue;
        if (open[l].empty()) return {};
        double least = std::numeric_limits<double>::infinity();
        for (int c : open[l]) least = std::min(least, columnData[size_t(c)].row[q]);
        rest -= least;
        if (open[l].size() == 1) choiceColumn[l] = open[l][0];
        else free.push_back(l);
    }
    if (rest < -1e-12) return {};
    const double cell = std::max(rest, 1e-300) / kRoundedCells;
    const double inf = std::numeric_limits<double>::infinity();
    // best[w]: the least objective of the free layers so far using at most w cells above each
    // layer's cheapest open column; pick[i][w]: the column layer i took there.
    std::vector<double> best(kRoundedCells + 1, 0.0), next(kRoundedCells + 1);
    std::vector<std::vector<int>> pick(free.size(), std::vector<int>(kRoundedCells + 1, -1));
    for (size_t i = 0; i < free.size(); ++i) {
        const std::vector<int>& cols = open[free[i]];
        double least = inf;
        for (int c : cols) least = std::min(least, columnData[size_t(c)].row[q]);
        std::fill(next.begin(), next.end(), inf);
        for (int c : cols) {
            const double extra = (columnData[size_t(c)].row[q] - least) / cell;
            if (extra > kRoundedCells) continue;
            const int w = int(std::lround(extra));
            const double v = columnData[size_t(c)].objective;
            for (int t = w; t <= kRoundedCells; ++t) {
                const double candidate = best[size_t(t - w)] + v;
                if (candidate < next[size_t(t)]) {
                    next[size_t(t)] = candidate;
                    pick[i][size_t(t)] = c;
                }
            }
        }
        best.swap(next);
    }
    // Rounded to the nearest cell, the table's answer at the full budget can overshoot the real
    // one by a few cells: step down until the real sum fits.
    const double fixedUse = [&] {
        double sum = 0;
        for (size_t l = 0; l < L; ++l)
            if (fixedChoice[l] < 0 && open[l].size() == 1) sum += columnData[size_t(open[l][0])].row[q];
        return sum;
    }();
    bool found = false;
    for (int top = kRoundedCells; top >= 0 && top > kRoundedCells - 256 && !found; --top) {
        if (!std::isfinite(best[size_t(top)])) continue;
        int t = top;
        double use = fixedUse;
        bool ok = true;
        for (size_t i = free.size(); i-- > 0 && ok;) {
            const int c = pick[i][size_t(t)];
            if (c < 0) {
                ok = false;
                break;
            }
            choiceColumn[free[i]] = c;
            double least = inf;
            for (int k : open[free[i]]) least = std::min(least, columnData[size_t(k)].row[q]);
            t -= int(std::lround((columnData[size_t(c)].row[q] - least) / cell));
            use += columnData[size_t(c)].row[q];
        }
        found = ok && t >= 0 && use <= rhs[q] + 1e-9 * std::max(1.0, rhs[q]);
    }
    if (!found) return {};
    std::vector<int> choice(L);
    for (size_t l = 0; l < L; ++l) {
        if (fixedChoice[l] >= 0) {
            choice[l] = fixedChoice[l];
            continue;
        }
        for (size_t k = 0; k < columnOf[l].size(); ++k)
            if (columnOf[l][k] == choiceColumn[l] + 1) choice[l] = keptOptions[l][k];
    }
    return choice;
}

/// The best feasible allocation among the previous answer repaired to fit and the relaxed
/// (Lagrangian) answer repaired to fit, each then improved greedily; empty when neither fits.
std::vector<int> Allocator::Impl::incumbentFor(const LagrangianPrices& prices, const Budgets& budgets,
                                               int objective) const {
    const size_t L = problem.layerCount();
    std::vector<std::vector<int>> candidates;
    if (previous.size() == L) candidates.push_back(repair(previous, budgets, objective));
    // Slightly dearer prices than the optimum: the relaxed answer then leans to fitting.
    double lambda[kQuantities];
    for (int q = 0; q < kQuantities; ++q) lambda[q] = prices.lambda[q] * (1 + 1e-7) + (structure.constrained[q] ? 1e-12 : 0);
    std::vector<int> relaxed(L);
    const std::vector<int> cols = lagrangianChoice(columnData, lambda);
    for (size_t l = 0; l < L; ++l) relaxed[l] = fixedChoice[l];
    for (int c : cols) {
        const int l = columnData[size_t(c)].layer;
        for (size_t k = 0; k < columnOf[size_t(l)].size(); ++k)
            if (columnOf[size_t(l)][k] == c + 1) relaxed[size_t(l)] = keptOptions[size_t(l)][k];
    }
    candidates.push_back(repair(relaxed, budgets, objective));
    std::vector<int> best;
    double bestValue = std::numeric_limits<double>::infinity();
    for (auto& c : candidates) {
        if (c.empty()) continue;
        c = improve(c, budgets, objective);
        AllocationResult sums;
        sumChoice(problem, c, sums);
        if (sumOf(sums, objective) < bestValue) {
            bestValue = sumOf(sums, objective);
            best = c;
        }
    }
    return best;
}


}  // namespace ptq
