#pragma once
/// @file
/// What every source of samples (IDX files, image folders, .npy arrays, later tensor files and
/// distilled data) looks like to the rest of the core: a read-only, indexable set of float
/// images in N x C x H x W order with optional integer labels, plus batching over it.
/// Plain C++ on purpose: ui includes this header and must not see LibTorch.

#include "core/util/progress.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ptq {

struct ModelCard;

/// Per-channel normalization applied after scaling 8-bit pixels to [0, 1]:
/// x = (pixel / 255 - mean[c]) / std[c]. Plain data; any thread.
struct Normalization {
    /// Empty means none(): pixels go in as [0, 1], never another model's figures. One value
    /// applies to every channel; otherwise one value per channel.
    std::vector<float> mean;
    std::vector<float> std;

    /// Fashion-MNIST's training-set figures: mean 0.2860, std 0.3530.
    static Normalization fashionMnist();
    /// Mean 0 and std 1: pixels end up in [0, 1].
    static Normalization none();
    /// The model card's figures, or none() when the card gives none.
    static Normalization fromModelCard(const ModelCard& card);

    /// The mean and std for @p channels channels, defaults and broadcasting resolved.
    /// Throws ptq::Error (InvalidInput) when the counts do not fit or a std is not positive.
    Normalization resolvedFor(int64_t channels) const;
};

/// A read-only set of samples. Implementations must make every const member safe to call from
/// several threads at once (they only read); construction happens on one thread.
class Dataset {
public:
    virtual ~Dataset() = default;

    /// Number of samples.
    virtual int64_t size() const = 0;
    /// One sample's shape: channels, height, width.
    virtual std::vector<int64_t> sampleShape() const = 0;
    /// Whether read() fills labels.
    virtual bool hasLabels() const = 0;
    /// Names of the classes, indexed by label; may be empty when the source does not know them.
    virtual std::vector<std::string> classNames() const = 0;
    /// A short line for people, e.g. "Fashion-MNIST test, 10000 images".
    virtual std::string description() const = 0;

    /// Contiguous N x C x H x W floats of the whole set when it lives in memory, else nullptr.
    /// Lets batching hand out pointers instead of copies.
    virtual const float* contiguousImages() const { return nullptr; }
    /// Contiguous labels of the whole set when it lives in memory and has labels, else nullptr.
    virtual const int64_t* contiguousLabels() const { return nullptr; }

    /// Samples left out when the source was opened because they were unreadable (image
    /// sources opened with bad images skipped); 0 for every other source.
    virtual int64_t skippedSamples() const { return 0; }
    /// The path of the first sample skipped, empty when none was.
    virtual std::string firstSkipped() const { return {}; }

    /// Floats in one sample (C * H * W).
    int64_t sampleElements() const;

    /// Copies samples [first, first + count) into @p images (count * sampleElements() floats)
    /// and, when @p labels is not null, their labels (count values). Any thread.
    /// Throws ptq::Error (InvalidInput) when the range is outside the set, or when labels are
    /// asked of a set without labels.
    void read(int64_t first, int64_t count, float* images, int64_t* labels) const;

protected:
    /// read() after the range has been checked; @p labels is null when not wanted.
    virtual void readChecked(int64_t first, int64_t count, float* images, int64_t* labels) const = 0;
};

/// Samples held in memory: the result of every loader in core/data. Any thread may read.
class InMemoryDataset : public Dataset {
public:
    /// Takes @p images (N x C x H x W, N = images.size() / product(sampleShape)) and
    /// @p labels (empty for an unlabelled set, else N values). Throws ptq::Error (InvalidInput)
    /// when the sizes do not agree or a label is outside @p classNames (when names are given).
    InMemoryDataset(std::vector<int64_t> sampleShape, std::vector<float> images,
                    std::vector<int64_t> labels, std::vector<std::string> classNames,
                    std::string description);

    int64_t size() const override { return count_; }
    std::vector<int64_t> sampleShape() const override { return sampleShape_; }
    bool hasLabels() const override { return !labels_.empty(); }
    std::vector<std::string> classNames() const override { return classNames_; }
    std::string description() const override { return description_; }
    /// Renames the set for people (loaders that know better than the file name). Owner only.
    void setDescription(std::string description) { description_ = std::move(description); }
    const float* contiguousImages() const override { return images_.data(); }
    const int64_t* contiguousLabels() const override { return labels_.empty() ? nullptr : labels_.data(); }

    /// All images, N x C x H x W, for zero-copy use (e.g. wrapping in a tensor inside core).
    const float* data() const { return images_.data(); }
    const std::vector<float>& images() const { return images_; }
    /// All labels; empty when the set has none.
    const std::vector<int64_t>& labels() const { return labels_; }

    /// A copy of samples [first, first + count). Throws ptq::Error (InvalidInput) when the range
    /// is outside the set.
    InMemoryDataset subset(int64_t first, int64_t count) const;
    /// A copy of the first min(n, size()) samples.
    InMemoryDataset head(int64_t n) const;

protected:
    void readChecked(int64_t first, int64_t count, float* images, int64_t* labels) const override;

private:
    std::vector<int64_t> sampleShape_;
    std::vector<float> images_;
    std::vector<int64_t> labels_;
    std::vector<std::string> classNames_;
    std::string description_;
    int64_t count_ = 0;
};

/// A run of consecutive samples handed to a forEachBatch callback. The pointers are valid only
/// during the call: they point into the dataset when it lives in memory, else into a buffer.
struct Batch {
    int64_t first = 0;               ///< index of the first sample in the dataset
    int64_t count = 0;               ///< samples in this batch (the last one may be short)
    std::vector<int64_t> shape;      ///< count, C, H, W
    const float* images = nullptr;   ///< count * C * H * W floats
    const int64_t* labels = nullptr; ///< count labels, or nullptr when the set has none
};

/// Calls @p onBatch for consecutive batches of @p batchSize samples covering the set once, in
/// order, on the calling thread. Reports progress (fraction of samples done, @p stage) and
/// checks for cancel before each batch through @p progress: throws ptq::Cancelled when asked
/// to stop. Throws ptq::Error (InvalidInput) when @p batchSize is not positive.
void forEachBatch(const Dataset& dataset, int64_t batchSize,
                  const std::function<void(const Batch&)>& onBatch,
                  const Progress* progress = nullptr,
                  const std::string& stage = "Reading data");

/// The whole of @p data in memory, read in batches of @p batchSize through forEachBatch
/// (progress and cancel through @p progress): for an algorithm that reads a streamed source
/// many times or at random, bounded by that source's size. Labels and class names are kept.
InMemoryDataset inMemoryCopy(const Dataset& data, int64_t batchSize = 256, const Progress* progress = nullptr);

/// "1x28x28" for a shape; used in messages.
std::string shapeToString(const std::vector<int64_t>& shape);

}  // namespace ptq
