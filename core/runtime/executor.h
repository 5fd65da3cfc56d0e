#pragma once
/// @file
/// Runs a Graph with ATen ops, one node at a time in topological order, freeing each
/// intermediate after its last consumer (peak memory near the graph's widest cut).

#include "core/graph/graph.h"

#include <vector>

namespace ptq {

class Executor {
public:
    /// Keeps a reference to @p graph: the graph must outlive the executor and not change.
    explicit Executor(const Graph& graph);

    /// Runs the graph on @p input (N x C x H x W) and returns its outputs. Const and re-entrant:
    /// several threads may run the same executor. Throws ptq::Error when an op fails.
    std::vector<at::Tensor> run(const at::Tensor& input) const;

    const Graph& graph() const { return graph_; }

private:
    const Graph& graph_;
    std::vector<int> lastUse_;  ///< per value: index of the last node that reads it; -1 never freed
};

}  // namespace ptq
