#pragma once
/// @file
/// ZeroQ's distilled data (Cai et al., CVPR 2020): a calibration batch made from noise, with no
/// real data, by optimising the images so that the batch statistics at the input of every
/// BatchNorm match the BatchNorm's running statistics, and the input itself has mean 0 and
/// std 1 per channel (the input space of a model trained on normalized data).
///
/// Plain C++ header (the GUI reads the result); LibTorch only in the .cpp.

#include "core/graph/graph.h"
#include "core/util/progress.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ptq {

struct DistillOptions {
    int64_t count = 32;      ///< images to make (one batch)
    int iterations = 500;    ///< Adam steps (ZeroQ's setting)
    double lr = 0.5;         ///< Adam's learning rate on the pixels (ZeroQ's setting)
    int patience = 100;      ///< reduce-on-plateau: steps without a new best before lr /= 10
    double minLr = 1e-4;     ///< ... down to this
    uint64_t seed = 0;       ///< the starting noise
    /// Weight of a cross-entropy term that gives image i the class i mod (the model's classes),
    /// on top of ZeroQ's statistics loss. The statistics say nothing about the layers after the
    /// last BatchNorm: without the term, distilled images reach the classifier with features
    /// several times smaller than real ones, and its activation range comes out that much too
    /// narrow. 0 is ZeroQ's loss alone; the term is skipped for a model whose output is not
    /// [N, classes].
    double labelWeight = 1.0;
    /// Called after every step with the step (1-based) and the loss; for plots. Same thread.
    std::function<void(int iteration, int iterations, double loss)> onIteration;
    /// Throws ptq::Error (InvalidInput) naming the bad value.
    void validate() const;
};

struct DistillResult {
    std::vector<int64_t> shape;   ///< N x C x H x W
    std::vector<float> images;    ///< in the model's input space (already normalized)
    std::vector<double> loss;     ///< per step
    int batchNorms = 0;           ///< BatchNorm layers whose statistics were matched
    double seconds = 0;
    double finalLoss() const { return loss.empty() ? 0.0 : loss.back(); }
};

/// Distils a batch for @p graph (as imported: BatchNorms not folded; folded ones are unfolded in
/// a copy of their statistics' use, the graph is not changed) with input shape @p sampleShape
/// (C x H x W). Long (tens of seconds); any one thread; progress, cancel (ptq::Cancelled) and
/// per-step loss through @p progress / options.onIteration. Throws ptq::Error (InvalidInput)
/// when the model has no BatchNorm layer: data-free calibration needs their statistics.
DistillResult distillData(const Graph& graph, const std::vector<int64_t>& sampleShape, const DistillOptions& options,
                          const Progress* progress = nullptr);

/// Writes @p result as a PyTorch file (torch.load reads it): a dict with "images" (float
/// N x C x H x W), "loss" and "model" (@p modelPath, for the record). Atomic (QSaveFile).
/// Throws ptq::Error (Failed) when the file cannot be written.
void saveDistilled(const std::string& path, const DistillResult& result, const std::string& modelPath);

}  // namespace ptq
