#pragma once
/// @file
/// Per quantizable layer, its data input and the FP model's output over a calibration set, held
/// in memory within a byte bound. AdaQuant trains each layer on these; a sensitivity table can
/// re-run layers on them without re-running the model. When the layers asked for do not fit
/// the bound at the full sample count, a seeded random subset of samples is kept (the same
/// samples for every layer of one capture), logged and reported through the progress object.

#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/runtime/executor.h"
#include "core/util/progress.h"

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace at {
class Tensor;
}

namespace ptq {

struct LayerCacheOptions {
    int64_t maxBytes = int64_t(1) << 30;  ///< bound on the tensors held (inputs and outputs)
    int64_t batchSize = 256;              ///< samples per model run while capturing
    uint64_t seed = 0;                    ///< picks the sub-sample when over the bound
};

/// Not thread-safe for capture(); const members may be called from several threads.
class LayerCache {
public:
    /// @p graph and @p data must outlive the cache. Throws ptq::Error (InvalidInput) for a
    /// bound below one byte or a batch size below one.
    LayerCache(const Graph& graph, const Dataset& data, LayerCacheOptions options = {});
    ~LayerCache();
    LayerCache(LayerCache&&) noexcept;
    LayerCache& operator=(LayerCache&&) noexcept;

    /// Bytes one sample of @p layer (a node id) takes in the cache: its input and its output.
    int64_t bytesPerSample(int layer) const;
    /// @p layers (node ids, in execution order) split into consecutive groups that each fit the
    /// bound at the full sample count; a layer that alone does not fit forms its own group.
    std::vector<std::vector<int>> plan(const std::vector<int>& layers) const;

    /// Drops what is held and captures @p layers: their FP outputs and their inputs, from the FP
    /// model when @p inputHooks is null, else from a run with those hooks (a QuantizedModel's,
    /// for the quantized-so-far model; the input is taken before the hooks change it, i.e.
    /// before the layer's own activation quantizer). Runs stop after the last layer asked for.
    /// Long; the calling thread; throws ptq::Cancelled when asked to stop, ptq::Error
    /// (InvalidInput) when not even one sample fits the bound.
    void capture(const std::vector<int>& layers, const RunHooks* inputHooks = nullptr,
                 const Progress* progress = nullptr);
    /// Releases the tensors of what is held.
    void clear();

    bool holds(int layer) const;
    /// Samples held per layer (all of the data set, or the sub-sample).
    int64_t samples() const;
    /// Whether the last capture kept a sub-sample because of the bound.
    bool subsampled() const;
    /// Data-set indices of the held samples, ascending.
    const std::vector<int64_t>& sampleIndices() const;
    /// Bytes held now.
    int64_t bytes() const;
    const LayerCacheOptions& options() const;

    // ---- core .cpp only (LibTorch types) ----
    /// Input of @p layer for held samples [first, first + count): a view, count x (sample shape).
    /// A 2-d convolution's input and output are held channels-last (NHWC strides), the memory
    /// format in which oneDNN trains it fastest; every sample is one contiguous block of memory
    /// in any case. Throws ptq::Error (Failed) when the layer is not held or the range is outside.
    at::Tensor input(int layer, int64_t first, int64_t count) const;
    /// FP output of @p layer for held samples [first, first + count): a view.
    at::Tensor fpOutput(int layer, int64_t first, int64_t count) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace ptq
