#pragma once
/// @file
/// Lagrangian bounds for the one-hot allocation program (internal to the solver): relaxing the
/// budget rows with prices lambda >= 0 leaves one independent choice a layer, whose sum is a
/// lower bound on every allocation's objective. The same bound with one column forced to 1
/// tells which columns cannot appear in any allocation better than a known one; the solver
/// removes those before branch and bound. Exact: only provably worse columns go. Any thread.

#include <vector>

namespace ptq {

/// One binary column in the solver's scaled units: its layer (columns of a layer are
/// contiguous), objective coefficient and coefficients in up to three budget rows.
struct OneHotColumn {
    int layer = 0;
    double objective = 0;
    double row[3] = {0, 0, 0};
};

struct LagrangianPrices {
    double lambda[3] = {0, 0, 0};  ///< one price a budget row (0 for rows not constrained)
    double bound = 0;              ///< the lower bound on the objective at these prices
};

/// Maximises the Lagrangian bound over the prices of the @p constrained rows (right-hand sides
/// @p rhs) by golden-section coordinate ascent.
LagrangianPrices maximiseLagrangian(const std::vector<OneHotColumn>& columns, const bool constrained[3],
                                    const double rhs[3]);

/// Per layer, the column minimising objective + @p lambda . row, ties to the smaller row
/// usage: the relaxed problem's answer (column indices, one a layer, in layer order).
std::vector<int> lagrangianChoice(const std::vector<OneHotColumn>& columns, const double lambda[3]);

/// Per column: 1 when every allocation using it has a Lagrangian bound above @p incumbent by
/// more than a relative 1e-9, so it cannot be in a better allocation.
std::vector<char> columnsThatCannotBeat(const std::vector<OneHotColumn>& columns, const LagrangianPrices& prices,
                                        double incumbent);

}  // namespace ptq
