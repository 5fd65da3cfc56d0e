#pragma once
/// @file
/// One IR node's computation with ATen. Shared by the executor and by the importer's shape
/// probe, so that what is imported is exactly what runs.

#include "core/graph/graph.h"

#include <vector>

namespace ptq {

/// Runs @p node on @p inputs (data inputs then parameters, as in Node::inputs). @p batch is the
/// run's batch size (it replaces kBatchDim in reshape targets). Any thread; no grad handling.
/// Throws ptq::Error (Failed) with the node's name when ATen rejects the inputs.
std::vector<at::Tensor> runOp(const Node& node, const std::vector<at::Tensor>& inputs, int64_t batch);

}  // namespace ptq
