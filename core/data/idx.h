#pragma once
/// @file
/// The IDX format of MNIST and Fashion-MNIST: bytes 00 00, a type byte, a dimension count,
/// big-endian 32-bit dimensions, then the values. Files may be gzipped (recognised by their
/// first bytes, not their name). Every bad file is a ptq::Error (InvalidInput) that names it.

#include "core/data/dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// The raw contents of one IDX file. Only unsigned-byte files are read.
struct IdxArray {
    std::vector<int64_t> dims;   ///< as in the header; dims[0] is the item count of the file
    int64_t itemsRead = 0;       ///< items in @ref bytes (dims[0], or fewer when limited)
    std::vector<uint8_t> bytes;  ///< itemsRead * product(dims[1..]) values
};

/// Reads the IDX file at @p path, gzipped or not, keeping at most @p maxItems items (all when
/// negative; the rest of the file is then not read). Any thread.
/// Throws ptq::Error (InvalidInput): missing or unreadable file, not IDX, a type other than
/// unsigned byte, a zero dimension, truncated data, or bytes after the data.
IdxArray readIdxFile(const std::string& path, int64_t maxItems = -1);

/// How loadIdxDataset turns bytes into samples.
struct IdxLoadOptions {
    Normalization normalization;         ///< empty: Fashion-MNIST's figures
    std::vector<std::string> classNames; ///< when given, labels must be below their count
    std::string description;             ///< empty: made from the file names
    int64_t maxSamples = -1;             ///< keep only the first N samples (all when negative)
};

/// Loads an images file (count x H x W, or count x C x H x W) and, when @p labelsPath is not
/// empty, its labels file (count values) into normalized floats. Any thread.
/// Throws ptq::Error (InvalidInput) for bad files, label and image counts that differ, and
/// labels outside options.classNames.
InMemoryDataset loadIdxDataset(const std::string& imagesPath, const std::string& labelsPath,
                               const IdxLoadOptions& options = {});

/// Scales 8-bit pixels in N x C x H x W order to [0, 1] and normalizes them per channel.
/// Any thread. Throws ptq::Error (InvalidInput) when @p normalization does not fit @p channels.
std::vector<float> normalizePixels(const uint8_t* pixels, int64_t samples, int64_t channels,
                                   int64_t pixelsPerChannel, const Normalization& normalization);

}  // namespace ptq
