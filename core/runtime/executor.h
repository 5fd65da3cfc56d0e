#pragma once
/// @file
/// Runs a Graph with ATen ops, one node at a time in topological order, freeing each
/// intermediate after its last consumer (peak memory near the graph's widest cut). Hooks let
/// callers observe or replace any node's output, swap parameters (quantized weights), stop
/// after a node, or start at a node from cached values (suffix runs).

#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/util/progress.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

/// Per-run customisation. Every member is optional.
struct RunHooks {
    /// Called before a node runs with its inputs (data then parameters); may replace them
    /// (fake-quantize a layer's input activation, observe it for range calibration).
    std::function<void(const Node& node, std::vector<at::Tensor>& inputs)> beforeNode;
    /// Called after a node ran, with its inputs (data then parameters) and outputs; may replace
    /// outputs (fake-quantize an activation, capture a layer's output).
    std::function<void(const Node& node, const std::vector<at::Tensor>& inputs, std::vector<at::Tensor>& outputs)>
        afterNode;
    /// Called after beforeNode: may compute the node's outputs itself (an integer kernel for a
    /// quantized layer) and return true, or return false to let the node's op run on the
    /// (possibly changed) inputs.
    std::function<bool(const Node& node, std::vector<at::Tensor>& inputs, std::vector<at::Tensor>& outputs)> runNode;
    /// Returns the tensor to use for a parameter key instead of the graph's (nullptr: the graph's).
    std::function<const at::Tensor*(const std::string& key)> paramOverride;
    /// Stop after this node id (the run returns that node's outputs); -1 runs to the end.
    int stopAfter = -1;
    /// Filled with the largest total of live intermediate bytes seen during the run when set.
    int64_t* peakLiveBytes = nullptr;
};

/// Values given to a suffix run: value id and its tensor.
using LiveValues = std::vector<std::pair<int, at::Tensor>>;

class Executor {
public:
    /// Keeps a reference to @p graph: the graph must outlive the executor and not change.
    explicit Executor(const Graph& graph);

    /// Runs the graph on @p input (N x C x H x W). Const and re-entrant: several threads may run
    /// one executor. Throws ptq::Error when the input shape is wrong or an op fails.
    std::vector<at::Tensor> run(const at::Tensor& input, const RunHooks& hooks = {}) const;

    /// Runs nodes from @p startNode on, given every value they read that was made before it
    /// (see cutValues), typically captured by an earlier run. Returns the graph's outputs (or
    /// the stopAfter node's).
    std::vector<at::Tensor> runFrom(int startNode, const LiveValues& given, int64_t batch,
                                    const RunHooks& hooks = {}) const;

    /// Runs nodes [@p startNode, @p endNode) given the values cut before @p startNode and returns
    /// the values cut before @p endNode (see cutValues): a run advanced in steps, for methods
    /// that change the model layer by layer and keep the calibration set's activations between.
    LiveValues runSegment(int startNode, const LiveValues& given, int endNode, int64_t batch,
                          const RunHooks& hooks = {}) const;

    /// Values made before @p startNode (or the graph input) that nodes from @p startNode on read.
    std::vector<int> cutValues(int startNode) const;

    /// Runs every batch of @p data through the graph and hands the outputs to @p onBatch, on the
    /// calling thread, with progress and cancel through @p progress (throws ptq::Cancelled).
    void runDataset(const Dataset& data, int64_t batchSize,
                    const std::function<void(const Batch& batch, const std::vector<at::Tensor>& outputs)>& onBatch,
                    const Progress* progress = nullptr, const RunHooks& hooks = {}) const;

    const Graph& graph() const { return graph_; }

private:
    std::vector<at::Tensor> execute(int startNode, std::vector<at::Tensor>& live, int64_t batch,
                                    const RunHooks& hooks) const;

    const Graph& graph_;
    std::vector<int> lastUse_;  ///< per value: the last node that reads it; -1 never freed
};

}  // namespace ptq
