#include "core/alloc/solver.h"

#include "core/alloc/one_row.h"
#include "core/alloc/solver_impl.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

// lp_solve's header defines TRUE, FALSE, NORMAL, REAL, MIN, MAX... as macros: this file only.
#include <lp_lib.h>

namespace ptq {

using namespace alloc_detail;

namespace {

Budgets budgetsOf(const AllocationBudget& b) {
    Budgets out;
    if (b.maxDegradation) out.value[Deg] = *b.maxDegradation;
    if (b.maxSize) out.value[Size] = *b.maxSize;
    if (b.maxBops) out.value[Bops] = *b.maxBops;
    return out;
}

int objectiveOf(const AllocationBudget& b) {
    return b.minimisesDegradation() ? Deg : (b.minimise == CostKind::Size ? Size : Bops);
}

std::string figure(const AllocationProblem& p, int q, double v) {
    char buf[160];
    if (q == Deg) {
        std::snprintf(buf, sizeof buf, "%.6g", v);
    } else {
        const double ref = q == Size ? p.referenceSize : p.referenceBops;
        if (ref > 0)
            std::snprintf(buf, sizeof buf, "%.6g %s (%.4f of FP32)", v, q == Size ? "bits" : "BOPs", v / ref);
        else
            std::snprintf(buf, sizeof buf, "%.6g %s", v, q == Size ? "bits" : "BOPs");
    }
    return buf;
}

/// lp_solve's abort callback: true past the solve's deadline or on a cancel.
int __WINAPI stopRequested(lprec*, void* handle) {
    const auto* d = static_cast<const Allocator::Impl*>(handle);
    if (d->options.progress && d->options.progress->isCancelled()) return TRUE;
    return std::chrono::steady_clock::now() > d->deadline ? TRUE : FALSE;
}

}  // namespace

double minimumAchievable(const AllocationProblem& p, const std::string& quantity) {
    const int q = quantity == "degradation" ? Deg : quantity == "size" ? Size : Bops;
    double total = 0;
    for (size_t l = 0; l < p.layerCount(); ++l) {
        double best = std::numeric_limits<double>::infinity();
        for (size_t o = 0; o < p.optionCount(); ++o)
            if (p.allowed(l, o)) best = std::min(best, valueOf(p, q, l, o));
        total += best;
    }
    return total;
}

void Allocator::Impl::release() {
    if (lp) delete_lp(lp);
    lp = nullptr;
    built = false;
    previous.clear();
}

void Allocator::Impl::build(const Structure& s) {
    release();
    structure = s;
    bool used[kQuantities];
    for (int q = 0; q < kQuantities; ++q) used[q] = s.constrained[q] || s.objective == q;
    const size_t L = problem.layerCount(), O = problem.optionCount();
    keptOptions.assign(L, {});
    fixedChoice.assign(L, -1);
    columnOf.assign(L, {});
    for (size_t l = 0; l < L; ++l) {
        std::vector<int>& kept = keptOptions[l];
        for (size_t o = 0; o < O; ++o) {
            if (!problem.allowed(l, o)) continue;
            bool dominated = false;
            for (size_t k = 0; k < O && options.prune && !dominated; ++k) {
                if (k == o || !problem.allowed(l, k)) continue;
                bool noWorse = true, better = false;
                for (int q = 0; q < kQuantities; ++q) {
                    if (!used[q]) continue;
                    const double a = valueOf(problem, q, l, k), b = valueOf(problem, q, l, o);
                    noWorse = noWorse && a <= b;
                    better = better || a < b;
                }
                // Equal on every counted figure: keep the first of them.
                dominated = noWorse && (better || k < o);
            }
            if (!dominated) kept.push_back(int(o));
        }
        if (kept.size() == 1) fixedChoice[l] = kept[0];
    }
    // Shift each layer's values by its smallest (one option a layer: a constant), then scale
    // each row to a largest coefficient of 1, so lp_solve sees numbers near one.
    double maxCoef[kQuantities] = {0, 0, 0};
    for (int q = 0; q < kQuantities; ++q) {
        offset[q] = 0;
        for (size_t l = 0; l < L; ++l) {
            double lo = std::numeric_limits<double>::infinity();
            for (int o : keptOptions[l]) lo = std::min(lo, valueOf(problem, q, l, size_t(o)));
            offset[q] += lo;
            for (int o : keptOptions[l]) maxCoef[q] = std::max(maxCoef[q], valueOf(problem, q, l, size_t(o)) - lo);
        }
        scale[q] = maxCoef[q] > 0 ? maxCoef[q] : 1.0;
    }
    columns = 0;
    for (size_t l = 0; l < L; ++l)
        if (fixedChoice[l] < 0)
            for (size_t k = 0; k < keptOptions[l].size(); ++k) columnOf[l].push_back(++columns);
    ++modelsBuilt;
    built = true;
    if (columns == 0) return;  // every layer has one option left: nothing to solve

    lp = make_lp(0, columns);
    if (!lp) throw failed("lp_solve could not create a model (out of memory?).");
    set_verbose(lp, CRITICAL);
    set_add_rowmode(lp, TRUE);
    std::vector<double> row(size_t(columns) + 1);
    std::vector<int> cols(size_t(columns) + 1);
    auto coefficients = [&](int q) {
        int n = 0;
        for (size_t l = 0; l < L; ++l) {
            if (fixedChoice[l] >= 0) continue;
            double lo = std::numeric_limits<double>::infinity();
            for (int o : keptOptions[l]) lo = std::min(lo, valueOf(problem, q, l, size_t(o)));
            for (size_t k = 0; k < keptOptions[l].size(); ++k) {
                cols[size_t(n)] = columnOf[l][k];
                row[size_t(n)] = (valueOf(problem, q, l, size_t(keptOptions[l][k])) - lo) / scale[q];
                ++n;
            }
        }
        return n;
    };
    const int n = coefficients(s.objective);
    set_obj_fnex(lp, n, row.data(), cols.data());
    for (size_t l = 0; l < L; ++l) {
        if (fixedChoice[l] >= 0) continue;
        std::vector<double> ones(columnOf[l].size(), 1.0);
        add_constraintex(lp, int(ones.size()), ones.data(), columnOf[l].data(), EQ, 1.0);
    }
    int rows = get_Nrows(lp);
    for (int q = 0; q < kQuantities; ++q) {
        budgetRow[q] = 0;
        if (!s.constrained[q]) continue;
        const int m = coefficients(q);
        add_constraintex(lp, m, row.data(), cols.data(), LE, 0.0);
        budgetRow[q] = ++rows;
    }
    set_add_rowmode(lp, FALSE);
    for (int c = 1; c <= columns; ++c) set_binary(lp, c, TRUE);
    columnData.assign(size_t(columns), {});
    for (size_t l = 0; l < L; ++l) {
        if (fixedChoice[l] >= 0) continue;
        for (size_t k = 0; k < keptOptions[l].size(); ++k) {
            OneHotColumn& c = columnData[size_t(columnOf[l][k] - 1)];
            c.layer = int(l);
            for (int q = 0; q < kQuantities; ++q) {
                double lo = std::numeric_limits<double>::infinity();
                for (int o : keptOptions[l]) lo = std::min(lo, valueOf(problem, q, l, size_t(o)));
                const double v = (valueOf(problem, q, l, size_t(keptOptions[l][k])) - lo) / scale[q];
                if (q == s.objective) c.objective = v;
                if (s.constrained[q]) c.row[q] = v;
            }
        }
    }
    set_minim(lp);
    // Zero gaps: the answer is the optimum, not one within a tolerance of it.
    set_mip_gap(lp, TRUE, 0.0);
    set_mip_gap(lp, FALSE, 0.0);
    // lp_solve 5.5 keeps one "equal-valued" solution by default and then, with a minimum
    // objective step it derives from the objective (bb_deltaOF), drops branches whose bound
    // improves on the incumbent by less than that step: 44 of 180,000 random problems came back
    // non-optimal against brute force. Keeping count of many equal solutions removes it (0 of
    // 180,000); tests/alloc/test_solver.cpp holds it to brute force.
    set_solutionlimit(lp, 1 << 30);
}

AllocationResult Allocator::Impl::solve(const Budgets& budgets, int objective, bool explain) {
    const auto t0 = std::chrono::steady_clock::now();
    deadline = options.timeLimitMs > 0
                   ? t0 + std::chrono::microseconds(int64_t(options.timeLimitMs * 1000))
                   : std::chrono::steady_clock::time_point::max();
    bool proved = true;
    Structure s;
    for (int q = 0; q < kQuantities; ++q) s.constrained[q] = budgets.has(q);
    s.objective = objective;
    if (!built || !options.keepModel || !(s == structure)) build(s);

    AllocationResult r;
    const size_t L = problem.layerCount();
    bool feasible = true;
    for (int q = 0; q < kQuantities && feasible; ++q) {
        if (!budgets.has(q)) continue;
        const double slack = budgets.value[q] - offset[q];
        if (slack < -budgetTolerance(budgets.value[q])) {
            feasible = false;
        } else if (lp) {
            set_rh(lp, budgetRow[q], std::max(0.0, slack) / scale[q]);
        }
    }
    std::vector<int> choice(L, -1);
    if (feasible && lp) {
        // Warm start: the previous answer (or the relaxed one), repaired to fit the new budget,
        // is an incumbent. Columns whose Lagrangian bound cannot beat it are left out, and
        // branch and bound, bounded by it (set_obj_bound), runs on a small lp of the layers that
        // still have a choice. Without an incumbent the kept lp answers.
        double rhs[kQuantities] = {0, 0, 0};
        for (int q = 0; q < kQuantities; ++q)
            if (budgets.has(q)) rhs[q] = std::max(0.0, budgets.value[q] - offset[q]) / scale[q];
        double incumbent = std::numeric_limits<double>::infinity();
        std::vector<int> start;
        std::vector<char> off(size_t(columns), 0);
        double price = 0;
        if (options.warmStart) {
            const LagrangianPrices prices = maximiseLagrangian(columnData, structure.constrained, rhs);
            for (int q = 0; q < kQuantities; ++q) price = std::max(price, prices.lambda[q]);
            start = incumbentFor(prices, budgets, objective);
            if (!start.empty()) {
                AllocationResult known;
                sumChoice(problem, start, known);
                incumbent = (sumOf(known, objective) - offset[objective]) / scale[objective];
                off = columnsThatCannotBeat(columnData, prices, incumbent);
                // A better incumbent from two-layer moves among the columns left fixes more.
                std::vector<int> better = improvePairs(start, budgets, objective, off);
                if (better != start) {
                    start = std::move(better);
                    sumChoice(problem, start, known);
                    incumbent = (sumOf(known, objective) - offset[objective]) / scale[objective];
                    off = columnsThatCannotBeat(columnData, prices, incumbent);
                }
            }
            // Many columns still open: the rounded dynamic programme over them (one budget row)
            // gives an incumbent near the optimum, which switches off most of the rest. At 500 x 9
            // it cuts the slowest re-solves five- to tenfold (docs/RESULTS.md, ptq bench ip).
            int stillOpen = 0;
            for (int c = 0; c < columns; ++c) stillOpen += off[size_t(c)] ? 0 : 1;
            if (stillOpen > kRoundedKnapsackFrom) {
                std::vector<int> rounded = roundedKnapsack(off, rhs);
                if (!rounded.empty()) rounded = improve(rounded, budgets, objective);
                if (!rounded.empty()) {
                    ++roundedIncumbents;
                    AllocationResult known;
                    sumChoice(problem, rounded, known);
                    const double value = (sumOf(known, objective) - offset[objective]) / scale[objective];
                    if (value < incumbent) {
                        start = improvePairs(rounded, budgets, objective, columnsThatCannotBeat(columnData, prices, value));
                        sumChoice(problem, start, known);
                        incumbent = (sumOf(known, objective) - offset[objective]) / scale[objective];
                        off = columnsThatCannotBeat(columnData, prices, incumbent);
                    }
                }
            }
        }
        openColumns = 0;
        for (int c = 0; c < columns; ++c) openColumns += off[size_t(c)] ? 0 : 1;
        int row = -1, rows = 0;
        for (int q = 0; q < kQuantities; ++q)
            if (structure.constrained[q]) row = q, ++rows;
        OneRowResult exact;
        if (options.warmStart && rows == 1)
            exact = solveOneRow(columnData, off, row, rhs[row], incumbent, price, kOneRowStates, deadline);
        int ret;
        if (exact.status == OneRowResult::Status::Optimal) {
            ++oneRowSolves;
            ret = OPTIMAL;
            if (exact.choice.empty() && start.empty()) {
                ret = INFEASIBLE;
            } else if (exact.choice.empty()) {
                choice = start;
            } else {
                for (size_t l = 0; l < exact.choice.size() && l < L; ++l) {
                    const int c = exact.choice[l];
                    if (c < 0) continue;
                    for (size_t k = 0; k < columnOf[l].size(); ++k)
                        if (columnOf[l][k] == c + 1) choice[l] = keptOptions[l][k];
                }
            }
        } else if (exact.status == OneRowResult::Status::Infeasible) {
            ret = start.empty() ? INFEASIBLE : OPTIMAL;
            if (!start.empty()) choice = start;
        } else if (std::isfinite(incumbent)) {
            ++lpSolves;
            timedOut = false;
            ret = solveResidual(off, rhs, incumbent, choice);
            if (timedOut) proved = false;
        } else {
            ++lpSolves;
            put_abortfunc(lp, stopRequested, this);
            ret = ::solve(lp);
            if (ret == SUBOPTIMAL) proved = false, ret = OPTIMAL;  // stopped at the limit with an allocation
            if (ret == OPTIMAL || ret == PRESOLVED) {
                REAL* x = nullptr;
                get_ptr_variables(lp, &x);
                for (size_t l = 0; l < L; ++l) {
                    if (fixedChoice[l] >= 0) continue;
                    size_t best = 0;
                    for (size_t k = 1; k < columnOf[l].size(); ++k)
                        if (x[columnOf[l][k] - 1] > x[columnOf[l][best] - 1]) best = k;
                    choice[l] = keptOptions[l][best];
                }
            }
        }
        if (options.progress) options.progress->throwIfCancelled();
        if ((ret == USERABORT || ret == TIMEOUT) && options.timeLimitMs > 0) {
            proved = false;  // at the time limit: the incumbent, if any, is the best known
            if (start.empty()) feasible = false;
            else choice = start;
        } else if (ret == INFEASIBLE && !start.empty()) {
            choice = start;  // nothing beats the incumbent: it is the optimum
        } else if (ret == INFEASIBLE) {
            feasible = false;
        } else if (ret != OPTIMAL && ret != PRESOLVED) {
            throw failed("lp_solve stopped with status " + std::to_string(ret) + " on the allocation problem; "
                         "report this with the sensitivity table.");
        }
    }
    if (feasible) {
        for (size_t l = 0; l < L; ++l)
            if (fixedChoice[l] >= 0) choice[l] = fixedChoice[l];
        r.choice = choice;
        sumChoice(problem, choice, r);
        for (int q = 0; q < kQuantities; ++q)
            if (budgets.has(q) && sumOf(r, q) > budgets.value[q] + 1e3 * budgetTolerance(budgets.value[q]))
                throw failed(std::string("lp_solve returned an allocation over the ") + quantityName(q) +
                             " budget; report this with the sensitivity table.");
        r.status = AllocationStatus::Optimal;
        r.objective = sumOf(r, objective);
        r.proved = proved;
        previous = choice;
    } else {
        r.status = AllocationStatus::Infeasible;
        r.proved = proved;
        if (!proved) {
            r.message = "No allocation was found within the solver's time limit of " +
                        std::to_string(int(options.timeLimitMs)) + " ms; solve again without a limit.";
        } else if (explain) {
            explainInfeasible(budgets, r);
        }
    }
    r.solveMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

void Allocator::Impl::explainInfeasible(const Budgets& budgets, AllocationResult& r) {
    // One budget on its own below what any allocation reaches.
    for (int q : {Size, Bops, Deg}) {
        if (!budgets.has(q)) continue;
        const double least = minimumAchievable(problem, quantityName(q));
        if (budgets.value[q] < least - budgetTolerance(budgets.value[q])) {
            r.tightBudget = quantityName(q);
            r.nearestFeasible = least;
            r.message = std::string("The ") + quantityName(q) + " budget of " + figure(problem, q, budgets.value[q]) +
                        " is too tight: the smallest " + quantityName(q) + " the allowed options reach is " +
                        figure(problem, q, least) + "; raise the budget to at least that, or unlock layers and "
                        "allow smaller options.";
            return;
        }
    }
    // Each budget alone is reachable, together they are not: keep the cost budgets and report
    // the least degradation under them; with no degradation budget, the least BOPs under the
    // size budget.
    Impl sub;
    sub.problem = problem;
    sub.options = options;
    Budgets relaxed = budgets;
    int q = Deg;
    if (budgets.has(Deg)) {
        relaxed.value[Deg] = NAN;
    } else {
        q = Bops;
        relaxed.value[Bops] = NAN;
    }
    const AllocationResult best = sub.solve(relaxed, q, false);
    r.tightBudget = quantityName(q);
    r.nearestFeasible = best.optimal() ? sumOf(best, q) : NAN;
    r.message = std::string("The ") + quantityName(q) + " budget of " + figure(problem, q, budgets.value[q]) +
                " is too tight for the other budgets: under them the smallest " + quantityName(q) + " is " +
                (best.optimal() ? figure(problem, q, r.nearestFeasible) : std::string("out of reach")) +
                "; raise it to at least that, or loosen the other budgets.";
}

/// A fresh small lp of the layers that still have two or more open columns (the others fixed
/// into the right-hand sides); fills @p choice for every free layer on success.
int Allocator::Impl::solveResidual(const std::vector<char>& off, const double rhs[], double incumbent,
                                   std::vector<int>& choice) {
    const size_t L = problem.layerCount();
    std::vector<int> open;  // columns (0-based) in the small lp
    double rest[kQuantities] = {rhs[0], rhs[1], rhs[2]};
    double constant = 0;
    std::vector<std::vector<int>> layerOpen(L);
    for (int c = 0; c < columns; ++c)
        if (!off[size_t(c)]) layerOpen[size_t(columnData[size_t(c)].layer)].push_back(c);
    for (size_t l = 0; l < L; ++l) {
        if (fixedChoice[l] >= 0) continue;
        if (layerOpen[l].size() == 1) {
            const OneHotColumn& c = columnData[size_t(layerOpen[l][0])];
            for (int q = 0; q < kQuantities; ++q) rest[q] -= c.row[q];
            constant += c.objective;
        } else {
            for (int c : layerOpen[l]) open.push_back(c);
        }
    }
    auto pick = [&](int c) {
        const int l = columnData[size_t(c)].layer;
        for (size_t k = 0; k < columnOf[size_t(l)].size(); ++k)
            if (columnOf[size_t(l)][k] == c + 1) choice[size_t(l)] = keptOptions[size_t(l)][k];
    };
    for (size_t l = 0; l < L; ++l)
        if (fixedChoice[l] < 0 && layerOpen[l].size() == 1) pick(layerOpen[l][0]);
    if (open.empty()) {
        for (int q = 0; q < kQuantities; ++q)
            if (structure.constrained[q] && rest[q] < -1e-9) return INFEASIBLE;
        return OPTIMAL;
    }
    lprec* small = make_lp(0, int(open.size()));
    set_verbose(small, CRITICAL);
    set_add_rowmode(small, TRUE);
    std::vector<double> row(open.size());
    std::vector<int> cols(open.size());
    for (size_t i = 0; i < open.size(); ++i) {
        cols[i] = int(i) + 1;
        row[i] = columnData[size_t(open[i])].objective;
    }
    set_obj_fnex(small, int(open.size()), row.data(), cols.data());
    for (size_t i = 0; i < open.size();) {
        size_t j = i;
        std::vector<double> ones;
        std::vector<int> idx;
        while (j < open.size() && columnData[size_t(open[j])].layer == columnData[size_t(open[i])].layer) {
            ones.push_back(1.0);
            idx.push_back(int(j) + 1);
            ++j;
        }
        add_constraintex(small, int(idx.size()), ones.data(), idx.data(), EQ, 1.0);
        i = j;
    }
    for (int q = 0; q < kQuantities; ++q) {
        if (!structure.constrained[q]) continue;
        for (size_t i = 0; i < open.size(); ++i) row[i] = columnData[size_t(open[i])].row[q];
        add_constraintex(small, int(open.size()), row.data(), cols.data(), LE, rest[q]);
    }
    set_add_rowmode(small, FALSE);
    for (size_t i = 0; i < open.size(); ++i) set_binary(small, int(i) + 1, TRUE);
    set_minim(small);
    set_mip_gap(small, TRUE, 0.0);
    set_mip_gap(small, FALSE, 0.0);
    set_solutionlimit(small, 1 << 30);
    // Reduced-cost fixing inside branch and bound: halves the slowest re-solves at 500 x 9.
    set_bb_rule(small, NODE_FIRSTSELECT | NODE_RCOSTFIXING);
    if (std::isfinite(incumbent)) {
        const double v = incumbent - constant;
        set_obj_bound(small, v + 1e-9 * std::max(1.0, std::abs(incumbent)));
    }
    put_abortfunc(small, stopRequested, this);
    int ret = ::solve(small);
    if (ret == SUBOPTIMAL) {
        ret = OPTIMAL;  // better than the incumbent, stopped at the time limit before the proof
        timedOut = true;
    }
    if (ret == OPTIMAL || ret == PRESOLVED) {
        REAL* x = nullptr;
        get_ptr_variables(small, &x);
        for (size_t i = 0; i < open.size();) {
            size_t j = i, best = i;
            while (j < open.size() && columnData[size_t(open[j])].layer == columnData[size_t(open[i])].layer) {
                if (x[j] > x[best]) best = j;
                ++j;
            }
            pick(open[best]);
            i = j;
        }
    }
    delete_lp(small);
    return ret;
}

Allocator::Allocator(AllocationProblem problem, AllocatorOptions options) : d(std::make_unique<Impl>()) {
    problem.validate();
    d->problem = std::move(problem);
    d->options = options;
}

Allocator::~Allocator() = default;

AllocationResult Allocator::solve(const AllocationBudget& budget) {
    if (!budget.any())
        throw invalidInput("An allocation needs a budget: a maximum degradation, a maximum size or a maximum BOPs.");
    return d->solve(budgetsOf(budget), objectiveOf(budget), true);
}

const AllocationProblem& Allocator::problem() const { return d->problem; }

void Allocator::setProblem(AllocationProblem problem) {
    problem.validate();
    d->release();
    d->problem = std::move(problem);
}

int Allocator::modelsBuilt() const { return d->modelsBuilt; }
int Allocator::lpSolves() const { return d->lpSolves; }
int Allocator::roundedIncumbents() const { return d->roundedIncumbents; }
int Allocator::oneRowSolves() const { return d->oneRowSolves; }
void Allocator::setTimeLimitMs(double ms) { d->options.timeLimitMs = std::max(0.0, ms); }
int Allocator::columns() const { return d->columns; }

std::vector<std::pair<int, int>> writeAllocationMps(const AllocationProblem& problem, const AllocationBudget& budget,
                                                    const std::string& path) {
    if (!budget.any()) throw invalidInput("An allocation needs a budget to write its program.");
    problem.validate();
    Allocator::Impl d;
    d.problem = problem;
    d.options = {false, false, false};
    const Budgets budgets = budgetsOf(budget);
    Structure s;
    for (int q = 0; q < kQuantities; ++q) s.constrained[q] = budgets.has(q);
    s.objective = objectiveOf(budget);
    d.build(s);
    std::vector<std::pair<int, int>> columns(size_t(d.columns));
    for (size_t l = 0; l < problem.layerCount(); ++l)
        for (size_t k = 0; k < d.columnOf[l].size(); ++k)
            columns[size_t(d.columnOf[l][k] - 1)] = {int(l), d.keptOptions[l][k]};
    if (!d.lp) return columns;
    // Written here rather than by lp_solve's write_freemps, which rounds to 12 digits: a budget
    // met with equality would move by the rounding and another solver see another optimum.
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw failed("The allocation program could not be written to " + path + ".");
    std::fprintf(f, "NAME ALLOCATION FREE\nROWS\n N OBJ\n");
    for (size_t l = 0; l < problem.layerCount(); ++l)
        if (!d.columnOf[l].empty()) std::fprintf(f, " E L%zu\n", l);
    for (int q = 0; q < kQuantities; ++q)
        if (budgets.has(q)) std::fprintf(f, " L B%d\n", q);
    std::fprintf(f, "COLUMNS\n MARKER 'MARKER' 'INTORG'\n");
    for (size_t c = 0; c < d.columnData.size(); ++c) {
        const OneHotColumn& col = d.columnData[c];
        std::fprintf(f, " C%zu OBJ %.17g\n C%zu L%d 1\n", c + 1, col.objective, c + 1, col.layer);
        for (int q = 0; q < kQuantities; ++q)
            if (budgets.has(q) && col.row[q] != 0) std::fprintf(f, " C%zu B%d %.17g\n", c + 1, q, col.row[q]);
    }
    std::fprintf(f, " MARKER 'MARKER' 'INTEND'\nRHS\n");
    for (size_t l = 0; l < problem.layerCount(); ++l)
        if (!d.columnOf[l].empty()) std::fprintf(f, " RHS L%zu 1\n", l);
    for (int q = 0; q < kQuantities; ++q)
        if (budgets.has(q))
            std::fprintf(f, " RHS B%d %.17g\n", q, std::max(0.0, budgets.value[q] - d.offset[q]) / d.scale[q]);
    std::fprintf(f, "BOUNDS\n");
    for (size_t c = 0; c < d.columnData.size(); ++c) std::fprintf(f, " BV BND C%zu\n", c + 1);
    std::fprintf(f, "ENDATA\n");
    const bool ok = std::ferror(f) == 0;
    if (std::fclose(f) != 0 || !ok) throw failed("The allocation program could not be written to " + path + ".");
    return columns;
}

AllocationResult solveAllocation(const AllocationProblem& problem, const AllocationBudget& budget,
                                 AllocatorOptions options) {
    Allocator a(problem, options);
    return a.solve(budget);
}

}  // namespace ptq
