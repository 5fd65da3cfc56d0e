#pragma once
/// @file
/// A fast estimate of every cell of the sensitivity table (core/analysis/sensitivity.h), for a
/// first allocation long before the measured table is in: one forward and one backward pass of
/// the FP model over the calibration data, then each layer at each option on its own captured
/// input.
///
/// The estimate is a Taylor expansion at the FP model: with y a layer's output, g = dL/dy the
/// gradient of a sample's loss and d the change of y when the layer alone takes the option (its
/// weight and input quantized at the option's bits, on the same FP input),
///     dL ~= (g . d) + 1/2 (g . d)^2,
/// per sample, the Hessian taken as the sample's gradient outer product g g' (the empirical
/// Fisher; unlike its diagonal it sees that a weight's rounding error moves every position of a
/// channel alike), summed over the samples and divided by their number, minus the same figure
/// at the base option: a cell is relative to the base model, as the measured one. L is the
/// cross-entropy on labelled data: the first-order term is what moves a small cell of the
/// measured table up or down on the same samples. On unlabelled data (the table's KL metric)
/// the first-order term is 0 at the FP model and g is the gradient of the cross-entropy against a
/// label drawn from the FP model's own prediction, so E[g g'] is the Fisher, the Hessian of the
/// KL there.
///
/// Each cell's deltaTop1 is its deltaLoss times the base model's top-1 change per unit of loss
/// change against FP32 (measured in the same pass; 0 when the base lost no loss); localMse is
/// the layer's output error on the FP input. Every cell is marked estimated.
///
/// Cost: a range calibration pass, the forward and backward passes (kept in batches that fit
/// memoryBytes), one pass of the base model for its loss and top-1, and per option one run of
/// each layer alone: for ResNet-50 and two options about a sixth of the measured table's suffix
/// runs.

#include "core/analysis/sensitivity.h"
#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/util/progress.h"

#include <cstdint>

namespace ptq {

struct EstimateSettings {
    /// Bound on the activations the backward pass keeps (a batch's forward and the captured
    /// layer inputs and outputs); the batch shrinks to fit it.
    int64_t memoryBytes = int64_t(3) << 30;
    uint64_t seed = 0;  ///< the labels drawn from the FP model on unlabelled data
};

/// Estimates the table @p request describes (options, base, quantizer settings; first, onCell
/// and adaQuant are not used) on @p graph (BatchNorm folded) over @p data, with the samples the
/// measured table would use (request.cacheBytes bounds them alike). Long (a few forward
/// equivalents); any one thread; progress and cancel through @p progress. Throws as
/// measureSensitivity does.
SensitivityResult estimateSensitivity(const Graph& graph, const Dataset& data, const SensitivityRequest& request,
                                      const EstimateSettings& settings = {}, const Progress* progress = nullptr);

/// Spearman's rank correlation of the deltaLoss of @p estimate's cells against @p measured's
/// (same layers and options), over every cell but the base option's (0 in both by definition);
/// NaN when fewer than two cells or one side has no spread. Ties get their mean rank.
double cellRankCorrelation(const SensitivityResult& estimate, const SensitivityResult& measured);

}  // namespace ptq
