#pragma once
/// @file
/// NumPy .npy files (format versions 1 to 3) of images: little-endian float32 or uint8,
/// C order, shape (N, C, H, W) or (N, H, W).

#include "core/data/dataset.h"

#include <string>

namespace ptq {

/// Loads images from the .npy file at @p path. uint8 values are scaled to [0, 1] and
/// normalized with @p normalization; float32 values are taken as already normalized.
/// The set has no labels. Any thread.
/// Throws ptq::Error (InvalidInput) for a missing file, a file that is not .npy, a dtype other
/// than float32 or uint8, Fortran order, a shape of another rank, zero size, truncation or
/// non-finite floats.
InMemoryDataset loadNpyDataset(const std::string& path, const Normalization& normalization);

}  // namespace ptq
