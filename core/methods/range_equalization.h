#pragma once
/// @file
/// Range equalization before depthwise layers: a rescale of the FP graph that leaves its function
/// unchanged and evens out, across channels, the input of every depthwise convolution, so that a
/// per-tensor activation quantizer there spends its levels on every channel (MobileNet-style
/// inverted residuals, whose expanded channels' ranges differ widely, lose most of their 4-bit
/// accuracy at that input).
///
/// For a producer P (a conv whose output feeds only a homogeneous activation: none, ReLU,
/// LeakyReLU, or a clamp from 0 such as ReLU6) and the depthwise conv D it feeds, channel c of
/// P's output is multiplied by s_c and D's filters on channel c are divided by s_c. With weights
/// quantized per channel both rescales cost the weights nothing (each channel's scale follows),
/// so the only effect is on the activation quantizer between. s_c brings channel c's range on
/// the calibration data up to the widest channel's (s_c >= 1, capped at maxScale), which keeps a
/// clamp's upper bound exact on that data: the tensor's range stays what it was.
///
/// Where P's output channel is scaled: through the affine parameters of a BatchNorm folded into
/// P (so BN tuning's refold keeps the rescale), else P's own weight and bias.

#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/util/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// A producer and the depthwise layer it feeds, as found in a graph. Plain data.
struct EqualizationPair {
    std::string producer;  ///< the conv whose output channels are scaled
    std::string consumer;  ///< the depthwise conv whose filters are divided
    std::string activation;  ///< the op between ("relu6", "relu", ...; "" when none)
    int64_t channels = 0;
};

/// Every pair of @p graph (BatchNorms folded) that range equalization can rescale, in execution
/// order. A producer whose output is also read elsewhere, a BatchNorm without affine
/// parameters, or an activation that does not commute with a positive scale end a pair.
std::vector<EqualizationPair> equalizationPairs(const Graph& graph);

struct RangeEqualizationOptions {
    /// The largest factor a channel is scaled by (a nearly dead channel is not blown up).
    double maxScale = 64.0;
    /// At most this many calibration samples are run to measure the channels' ranges.
    int64_t maxSamples = 1024;
    int64_t batchSize = 256;
    /// Throws ptq::Error (InvalidInput) naming the bad setting.
    void validate() const;
};

/// What one pair's rescale did. Plain data.
struct EqualizedPair {
    EqualizationPair pair;
    int64_t scaledChannels = 0;  ///< channels with s_c > 1
    double largestScale = 1.0;
    /// The median over channels of a channel's range divided by the tensor's widest channel's,
    /// before and after (1 when every channel spans the tensor's range).
    double medianRangeBefore = 0, medianRangeAfter = 0;
};

struct RangeEqualizationReport {
    std::vector<EqualizedPair> pairs;
    int64_t samples = 0;
    double seconds = 0;
    /// One line for the log and the command line.
    std::string summary() const;
};

/// Measures each pair's per-channel ranges on (at most options.maxSamples of) @p calib through
/// @p graph in FP32 and rescales the pairs in @p graph (new parameter tensors: a clone's shared
/// tensors are not touched), then refolds its BatchNorms. A graph without pairs is left as it
/// was (the report says so). Long; any one thread; cancel through @p progress, in which case
/// @p graph is unchanged. Throws ptq::Error (InvalidInput) for bad options or data of the
/// wrong shape, ptq::Cancelled.
RangeEqualizationReport equalizeDepthwiseInputs(Graph& graph, const Dataset& calib,
                                                const RangeEqualizationOptions& options = {},
                                                const Progress* progress = nullptr);

}  // namespace ptq
