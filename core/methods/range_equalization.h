#pragma once
/// @file
/// Range equalization: a rescale of the FP graph that leaves its function unchanged and evens
/// out, across channels, the activations that per-tensor quantizers see at the inputs of
/// depthwise convolutions and along residual streams (MobileNet-style inverted residuals, whose
/// channels' ranges differ widely, lose most of their 3- and 4-bit accuracy there).
///
/// A group is a set of activation tensors that share their channels and can be scaled together,
/// channel c by s_c: the convs that produce them (their output channels multiplied by s_c,
/// through the affine parameters of a BatchNorm folded into them, so BN tuning's refold keeps the
/// rescale, else through their own weight and bias), the ops in between that commute with a
/// positive per-channel scale (ReLU, LeakyReLU, a clamp from 0 such as ReLU6, a folded
/// BatchNorm, residual adds of two group tensors), and the convs that read them (a depthwise
/// conv's filters on channel c divided by s_c; a dense conv's input columns on channel c divided
/// by s_c). Every tensor of a group is read only by ops of the group, and none is a model
/// output. Groups are grown from every depthwise conv's input and every residual add's output.
/// By default only groups read by depthwise convs alone are rescaled (the expand -> ReLU6 ->
/// depthwise pairs of an inverted residual): those cost per-channel weights nothing. With
/// RangeEqualizationOptions::denseReaders the groups read by dense convs are rescaled too (the
/// residual streams, the first inverted residual's input), whose readers' weights pay.
///
/// s_c >= 1 brings channel c up to the widest channel's range of each tensor the group's
/// quantizers see (the inputs of its convs) and of each bounded activation's output, on the
/// calibration data, the smallest such factor over those tensors, capped at maxScale: every such
/// tensor's range stays what it was, and a clamp's upper bound is not crossed on that data. With
/// weights quantized per channel the scaled producers and depthwise filters pay nothing for it;
/// a dense reader's weights pay the factor of the columns it divides.

#include "core/data/dataset.h"
#include "core/graph/graph.h"
#include "core/util/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// A group of tensors range equalization rescales together, as found in a graph. Plain data.
struct EqualizationGroup {
    std::vector<std::string> producers;  ///< convs whose output channels are scaled
    std::vector<std::string> depthwise;  ///< depthwise convs whose filters are divided
    std::vector<std::string> dense;      ///< convs whose input columns are divided
    int adds = 0;                        ///< residual adds inside the group
    int64_t channels = 0;
};

/// Every group of @p graph (BatchNorms folded) that range equalization can rescale, in the
/// execution order of their first reader. A tensor read by an op that does not commute with a
/// per-channel scale (pooling, a reshape, a concatenation, a BatchNorm not folded), a model
/// output, or a producer that is not a conv ends a group's candidacy.
/// Groups read by dense convs only with @p denseReaders (see the file comment).
std::vector<EqualizationGroup> equalizationGroups(const Graph& graph, bool denseReaders = false);

struct RangeEqualizationOptions {
    /// The largest factor a channel is scaled by (a nearly dead channel is not blown up).
    double maxScale = 64.0;
    /// At most this many calibration samples are run to measure the channels' ranges.
    int64_t maxSamples = 1024;
    int64_t batchSize = 256;
    /// Also the groups read by dense convs (residual streams): far finer 3- and 4-bit
    /// activations before any tuning, at a cost to those convs' weights (see the file comment).
    bool denseReaders = false;
    /// Throws ptq::Error (InvalidInput) naming the bad setting.
    void validate() const;
};

/// What one group's rescale did. Plain data.
struct EqualizedGroup {
    EqualizationGroup group;
    int64_t scaledChannels = 0;  ///< channels with s_c > 1
    double largestScale = 1.0;
    /// Over the group's measured tensors, the mean of the median over channels of a channel's
    /// range divided by the tensor's widest channel's, before and after (1 when every channel
    /// spans the tensor's range).
    double medianRangeBefore = 0, medianRangeAfter = 0;
};

struct RangeEqualizationReport {
    std::vector<EqualizedGroup> groups;
    bool denseReaders = false;  ///< the options' denseReaders
    int64_t samples = 0;
    double seconds = 0;
    /// One line for the log and the command line.
    std::string summary() const;
};

/// Measures each group's per-channel ranges on (at most options.maxSamples of) @p calib through
/// @p graph in FP32 and rescales the groups in @p graph (new parameter tensors: a clone's shared
/// tensors are not touched), then refolds its BatchNorms. A graph without groups is left as it
/// was (the report says so). Long; any one thread; cancel through @p progress, in which case
/// @p graph is unchanged. Throws ptq::Error (InvalidInput) for bad options or data of the
/// wrong shape, ptq::Cancelled.
RangeEqualizationReport equalizeActivationRanges(Graph& graph, const Dataset& calib,
                                                 const RangeEqualizationOptions& options = {},
                                                 const Progress* progress = nullptr);

}  // namespace ptq
