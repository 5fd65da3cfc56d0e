#pragma once
/// @file
/// Graph passes. BatchNorm folding is reversible: the BN node and its parameters stay in the
/// graph (BN tuning re-estimates them and folds again); the producer gets folded copies of its
/// weight and bias, and the folded BN runs as identity.

#include "core/graph/graph.h"

#include <optional>
#include <string>

namespace ptq {

/// Folds every BatchNorm whose input comes only from a conv/linear layer with a parameter
/// weight into that layer. Returns how many were folded. Idempotent: already folded BNs are
/// refreshed from their current statistics (this is "refold" after BN tuning).
int foldBatchNorms(Graph& graph);

/// Restores every folded layer's original weight and bias and re-enables its BatchNorm.
/// Returns how many were unfolded.
int unfoldBatchNorms(Graph& graph);

/// What folding did to one layer: the BatchNorm folded into it and the layer's original
/// parameter keys (biasKey empty when the layer had no bias). Plain data.
struct FoldedBatchNorm {
    std::string batchNorm;
    std::string weightKey;
    std::string biasKey;
};
/// The fold of @p layer, or nothing when no BatchNorm is folded into it. Any thread.
std::optional<FoldedBatchNorm> foldedBatchNorm(const Node& layer);

}  // namespace ptq
