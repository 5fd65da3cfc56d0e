#pragma once
/// @file
/// Image folders laid out like torchvision's ImageFolder: DIR/<class>/<image>, classes sorted
/// by name, images decoded with Qt's image readers (PNG, JPEG, BMP, ...).

#include "core/data/dataset.h"

#include <cstdint>
#include <string>

namespace ptq {

/// Loads every image under @p dir's class sub-folders, labelled by the sorted index of its
/// sub-folder, converted to @p channels channels (1: grey, 3: RGB; 0: grey when every image
/// is grey, else RGB), scaled to [0, 1] and normalized. Hidden files are skipped. Any thread.
/// Throws ptq::Error (InvalidInput) for a missing or empty folder, a file that is not an image
/// (named), images of different sizes (two named with their sizes) and unsupported @p channels.
InMemoryDataset loadImageFolder(const std::string& dir, const Normalization& normalization,
                                int64_t channels = 0);

}  // namespace ptq
