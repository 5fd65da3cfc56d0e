#pragma once
/// @file
/// Graph passes. BatchNorm folding is reversible: the BN node and its parameters stay in the
/// graph (BN tuning re-estimates them and folds again); the producer gets folded copies of its
/// weight and bias, and the folded BN runs as identity.

#include "core/graph/graph.h"

namespace ptq {

/// Folds every BatchNorm whose input comes only from a conv/linear layer with a parameter
/// weight into that layer. Returns how many were folded. Idempotent: already folded BNs are
/// refreshed from their current statistics (this is "refold" after BN tuning).
int foldBatchNorms(Graph& graph);

/// Restores every folded layer's original weight and bias and re-enables its BatchNorm.
/// Returns how many were unfolded.
int unfoldBatchNorms(Graph& graph);

}  // namespace ptq
