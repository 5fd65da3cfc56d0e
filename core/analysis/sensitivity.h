#pragma once
/// @file
/// The per-layer sensitivity measurement behind the bit-allocation integer program: for each
/// quantizable layer and each candidate (weight bits, activation bits) option, how much the
/// model's loss and top-1 change when only that layer takes the option and every other layer
/// stays at the base option (8/8), and the layer's own output error under the option.
///
/// Cost: one pass of the data to calibrate, then, layer by layer in execution order, a suffix
/// run from that layer's cached input per option (core/runtime/cut_cache.h): the sum of the
/// suffixes, not one full forward per (layer, option).

#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/quant/quant_config.h"
#include "core/quant/quantizer_settings.h"
#include "core/util/progress.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

class AdaQuantStore;
struct AdaQuantOptions;

/// A candidate setting of one layer, named like "w4a8", or "w4x2a8" for multipoint weights
/// (a sum of two 4-bit tensors; core/quant/multipoint.h).
struct BitOption {
    int weightBits = 8;
    int activationBits = 8;
    int weightPoints = 1;  ///< multipoint: how many weightBits-bit tensors sum to the weight
    std::string name() const;
    /// Stored weight bits per weight element: every point counts (size and BOPs costs).
    int weightBitsTotal() const { return weightBits * weightPoints; }
    bool operator==(const BitOption& o) const {
        return weightBits == o.weightBits && activationBits == o.activationBits && weightPoints == o.weightPoints;
    }
    /// "w4a8" -> {4, 8}, "w4x2a8" -> {4, 8, 2 points}; throws ptq::Error (InvalidInput) naming
    /// the text when it is not of that form, the bits are outside 2..8 and 16 or the points
    /// outside 1..4.
    static BitOption parse(const std::string& text);
    /// "w2a4,w4a8,..." (comma separated); duplicates are an error.
    static std::vector<BitOption> parseList(const std::string& text);
    /// W in {2, 4, 8} x A in {4, 8}.
    static std::vector<BitOption> defaults();
};

struct SensitivityCell {
    double deltaLoss = 0;  ///< loss with the layer at the option minus the base model's loss
    double deltaTop1 = 0;  ///< top-1 (points) with the option minus the base model's top-1
    double localMse = 0;   ///< the layer's output MSE under the option vs FP, on the same input
    bool adaQuant = false; ///< measured with the layer's AdaQuant-tuned parameters at the option
    /// Estimated, not measured (core/analysis/sensitivity_estimate.h): deltaLoss from gradients,
    /// deltaTop1 from it; localMse is measured on the FP model's input.
    bool estimated = false;
};

struct SensitivityRequest {
    std::vector<BitOption> options = BitOption::defaults();
    BitOption base;  ///< what every other layer keeps (8/8)
    QuantizerSettings quantizer;  ///< granularity, range methods, batch
    /// Bound on the activations kept between layers (the widest cut times the samples).
    int64_t cacheBytes = int64_t(2) << 30;
    /// Parallel AdaQuant results (core/methods/adaquant.h), or nullptr. A cell whose (layer,
    /// weight bits, activation bits) has an applied result is measured with the tuned weight,
    /// bias and quantizer parameters; other cells (multipoint options included) as without.
    /// Must outlive the call.
    const AdaQuantStore* adaQuant = nullptr;
    /// Cells to measure first, [layer][option] of the table (non-zero: first), or empty: one
    /// pass in execution order. The rest follow in a second pass, which costs one more prefix
    /// run from the graph input. For a caller that shows an estimated table and wants the cells
    /// that decide its current budget measured before the others.
    std::vector<std::vector<char>> first;
    /// Called from the working thread with each cell as soon as it is measured (layer and
    /// option indexes of the table). May be empty; must be cheap.
    std::function<void(size_t layer, size_t option, const SensitivityCell& cell)> onCell;
};

struct SensitivityLayer {
    std::string name;
    std::string kind;      ///< the op, e.g. conv2d or linear
    int64_t params = 0;    ///< weight elements (what weight bits multiply)
    int64_t macs = 0;      ///< per sample
};

struct SensitivityResult {
    /// "cross_entropy" on labelled data; "kl" (KL divergence from the FP model) otherwise. In
    /// the KL case top-1 means agreement with the FP model's top-1.
    std::string metric;
    std::vector<BitOption> options;
    BitOption base;
    std::vector<SensitivityLayer> layers;            ///< execution order
    std::vector<std::vector<SensitivityCell>> cells; ///< [layer][option]
    double fp32Loss = 0, fp32Top1 = 0;               ///< the FP model (loss 0 for kl)
    double baseLoss = 0, baseTop1 = 0;               ///< every layer at the base option
    int64_t samples = 0;
    /// Calibration images left out as unreadable when the data opened (bad images skipped);
    /// for the front ends to report, not saved with the table.
    int64_t skippedSamples = 0;
    double seconds = 0;
    /// Node executions over the data divided by the graph's node count: full-forward
    /// equivalents spent (what the suffix runs save shows against layers x options + 1).
    double forwardEquivalents = 0;
    /// Of the AdaQuant results used (any cell's adaQuant set): Adam steps per layer and the
    /// calibration samples tuned on; 0 when no cell used one.
    int adaQuantIterations = 0;
    int64_t adaQuantSamples = 0;
    bool usedAdaQuant() const { return adaQuantIterations > 0; }
    /// How many cells are estimates (SensitivityCell::estimated).
    size_t estimatedCells() const;
};

/// The table's layers of @p graph (its allocation nodes, execution order): names, kinds, weight
/// elements and MACs.
std::vector<SensitivityLayer> sensitivityLayers(const Graph& graph);

/// Throws ptq::Error (InvalidInput) for a request without options, with bad bits or points, or a
/// batch size below 1.
void validateSensitivityRequest(const SensitivityRequest& request);

/// Measures the table on @p graph (BatchNorm folded) over @p data. Long; any one thread;
/// progress and cancel through @p progress. Throws ptq::Error (InvalidInput) for an empty or
/// mis-shaped set, no options or bad bits; ptq::Cancelled when asked to stop.
SensitivityResult measureSensitivity(const Graph& graph, const Dataset& data, const SensitivityRequest& request,
                                     const Progress* progress = nullptr);

/// The (weight bits, activation bits) pairs AdaQuant can tune for @p request: its single-point
/// options but the base, each once.
std::vector<std::pair<int, int>> adaQuantBitOptions(const SensitivityRequest& request);

/// Tunes every layer with parallel AdaQuant at each of adaQuantBitOptions(@p request) on
/// @p data (one cache fill; core/methods/adaquant.h) into @p store, then measures the table
/// with it (request.adaQuant is replaced by @p store). One progress/cancel object for both;
/// throws as adaQuantOptions and measureSensitivity do.
SensitivityResult measureSensitivityWithAdaQuant(const Graph& graph, const Dataset& data, SensitivityRequest request,
                                                 const AdaQuantOptions& options, AdaQuantStore& store,
                                                 const Progress* progress = nullptr);

}  // namespace ptq
