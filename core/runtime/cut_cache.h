#pragma once
/// @file
/// A data set's activations held at one cut of the graph, batch by batch, and moved forward
/// segment by segment. Methods that walk the model layer by layer (BN tuning, the sensitivity
/// table) use it so each node runs a bounded number of times over the data instead of once per
/// layer downstream of it: the cost of a layer's experiment is its suffix, not a full forward.

#include "core/data/dataset.h"
#include "core/runtime/executor.h"
#include "core/util/progress.h"

#include <cstdint>
#include <vector>

namespace ptq {

class CutCache {
public:
    /// Reads the samples of @p data (the first @p maxSamples when that is not negative) into
    /// batches of @p batchSize at the graph input (node 0). Throws ptq::Error (InvalidInput) for
    /// an empty set or samples of the wrong shape, ptq::Cancelled when asked to stop.
    CutCache(const Executor& executor, const Dataset& data, int64_t batchSize, const Progress* progress = nullptr,
             int64_t maxSamples = -1);

    /// Bytes the cache would hold at its widest over the cuts before @p nodes, for @p samples
    /// samples (float32), from the graph's static shapes: what a caller compares to its bound.
    static int64_t widestBytes(const Executor& executor, const std::vector<int>& nodes, int64_t samples);

    /// The node the cached values are cut before.
    int position() const { return position_; }
    size_t batches() const { return values_.size(); }
    int64_t count(size_t batch) const { return counts_[batch]; }
    const LiveValues& values(size_t batch) const { return values_[batch]; }
    /// The batch's labels (int64, [count]) or an undefined tensor when the set has none.
    const at::Tensor& labels(size_t batch) const { return labels_[batch]; }
    bool hasLabels() const { return hasLabels_; }
    int64_t samples() const { return samples_; }

    /// Runs every batch from position() up to (not including) @p node with @p hooks and keeps the
    /// values cut before @p node. Cancel and progress per batch through @p progress.
    void advanceTo(int node, const RunHooks& hooks = {}, const Progress* progress = nullptr);

    /// Back to the graph input (position 0): the samples as read, for a second walk.
    void rewind();

private:
    const Executor& executor_;
    std::vector<LiveValues> inputs_;  ///< the batches at the graph input, as read
    int position_ = 0;
    bool hasLabels_ = false;
    int64_t samples_ = 0;
    std::vector<LiveValues> values_;
    std::vector<int64_t> counts_;
    std::vector<at::Tensor> labels_;
};

}  // namespace ptq
