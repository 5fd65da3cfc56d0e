#pragma once
/// @file
/// The image sources (folder:, list:) as a streaming Dataset: opening lists the files and
/// checks every file's header and structure on worker threads (no pixels are kept); each
/// read() decodes the asked range on worker threads, brings every image to the sample shape
/// with the evaluation transform (image_transform.h, image_resample.h), normalizes it into the
/// caller's buffer and keeps nothing. Memory is bounded by the batch, not by the set.
///
/// Bad files. Every file is checked when the source is opened: empty files, files Qt cannot
/// read, PNGs that stop early or fail a CRC, JPEGs cut before their end marker. Such a file is
/// refused with its path, or, when bad images are skipped (DataSourceSpec::skipBad), left out
/// and counted (skippedSamples()). The set's size is fixed when it opens, so a file that passes
/// those checks but fails to decode later (damage deep inside its compressed data) stops the
/// read with its path and the advice to remove it, whether or not bad images are skipped:
/// substituting or dropping a sample in the middle of a run would change the results silently.

#include "core/data/dataset.h"
#include "core/data/image_folder.h"
#include "core/data/image_transform.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ptq {

/// How an image source is opened.
struct ImageSourceOptions {
    /// The sample shape (C, H, W); empty: the first image's size, grey (1) when every image is
    /// stored grey, else RGB (3).
    std::vector<int64_t> sampleShape;
    ImageTransform transform;
    bool skipBad = false;  ///< leave out (and count) files that fail the checks at open
    int threads = 0;       ///< decoding threads; 0: one per core
};

class ImageFileDataset : public Dataset {
public:
    /// Checks @p listing's files (on worker threads) and fixes the sample shape. Throws
    /// ptq::Error (InvalidInput) for a bad file (unless skipped), a set with no good images,
    /// a channel count other than 1 or 3, or a crop ratio outside (0, 1].
    ImageFileDataset(ImageListing listing, const Normalization& normalization, const ImageSourceOptions& options);

    int64_t size() const override { return int64_t(files_.size()); }
    std::vector<int64_t> sampleShape() const override { return shape_; }
    bool hasLabels() const override { return labelled_; }
    std::vector<std::string> classNames() const override { return classNames_; }
    std::string description() const override { return description_; }
    int64_t skippedSamples() const override { return skipped_; }
    std::string firstSkipped() const override { return firstSkipped_; }

protected:
    void readChecked(int64_t first, int64_t count, float* images, int64_t* labels) const override;

private:
    std::vector<ImageFileEntry> files_;
    bool labelled_ = false;
    std::string origin_;  ///< "the image folder DIR", for messages
    std::vector<std::string> classNames_;
    std::string description_;
    std::vector<int64_t> shape_;
    Normalization norm_;  ///< resolved for shape_[0]
    ImageTransform transform_;
    int threads_ = 1;
    int64_t skipped_ = 0;
    std::string firstSkipped_;
};

/// Runs @p work(i) for i in [0, @p count) on up to @p threads threads (the caller's among
/// them); rethrows the exception of the lowest index that threw, after all have stopped.
void parallelFor(int64_t count, int threads, const std::function<void(int64_t)>& work);

}  // namespace ptq
