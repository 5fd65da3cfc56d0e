#include "core/runtime/cut_cache.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace ptq {

CutCache::CutCache(const Executor& executor, const Dataset& data, int64_t batchSize, const Progress* progress,
                   int64_t maxSamples)
    : executor_(executor), hasLabels_(data.hasLabels()) {
    const Graph& g = executor.graph();
    const auto expected = g.sampleShape(g.inputValue());
    if (data.size() == 0)
        throw invalidInput("The data set is empty: give at least one sample (for example fmnist:train:100).");
    if (data.sampleShape() != expected)
        throw invalidInput("The data gives samples of shape " + shapeToString(data.sampleShape()) +
                           " but the model expects " + shapeToString(expected) + "; give data of the model's input shape.");
    forEachBatch(data, batchSize, [&](const Batch& b) {
        const int64_t n = maxSamples < 0 ? b.count : std::min(b.count, maxSamples - samples_);
        if (n <= 0) return;
        std::vector<int64_t> shape = b.shape;
        shape[0] = n;
        values_.push_back({{g.inputValue(), at::from_blob(const_cast<float*>(b.images), shape, at::kFloat).clone()}});
        counts_.push_back(n);
        labels_.push_back(b.labels ? at::from_blob(const_cast<int64_t*>(b.labels), {n}, at::kLong).clone()
                                   : at::Tensor());
        samples_ += n;
    }, progress, "Reading data");
    inputs_ = values_;  // the tensors are shared until a segment run replaces a batch's values
}

void CutCache::rewind() {
    values_ = inputs_;
    position_ = 0;
}

int64_t CutCache::widestBytes(const Executor& executor, const std::vector<int>& nodes, int64_t samples) {
    const Graph& g = executor.graph();
    int64_t widest = 0;
    for (int node : nodes) {
        int64_t bytes = 0;
        for (int v : executor.cutValues(node)) {
            int64_t n = int64_t(sizeof(float));
            for (int64_t d : g.sampleShape(v)) n *= d;
            bytes += n;
        }
        widest = std::max(widest, bytes);
    }
    return widest * samples;
}

void CutCache::advanceTo(int node, const RunHooks& hooks, const Progress* progress) {
    if (node == position_) return;
    for (size_t b = 0; b < values_.size(); ++b) {
        reportProgress(progress, double(b) / double(values_.size()), "Advancing activations");
        values_[b] = executor_.runSegment(position_, values_[b], node, counts_[b], hooks);
    }
    position_ = node;
}

}  // namespace ptq
