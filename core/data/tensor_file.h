#pragma once
/// @file
/// PyTorch tensor files as data sources: `tensor:FILE.pt` and `distilled:FILE.pt`. The file is
/// what torch.save writes (and saveDistilled, core/methods/distill.h): a tensor of images, or a
/// dict with "images" and, for tensor:, optional "labels" (int64, one per image).

#include "core/data/dataset.h"

#include <string>

namespace ptq {

/// Loads the images (N x C x H x W, or N x H x W for one channel) of the file at @p path.
/// float32/float64 values are taken as already in the model's input space (normalized, as
/// distilled data is); uint8 values are scaled to [0, 1] and normalized with @p normalization.
/// @p allowLabels: whether a dict's "labels" are read (tensor:) or refused (distilled:, which
/// is unlabelled by nature). Any thread; blocks while it reads.
/// Throws ptq::Error (InvalidInput) for a missing file, a file torch.load would not read, a
/// content that is not a tensor or such a dict, another rank or dtype, zero images, labels that
/// do not fit, or non-finite values.
InMemoryDataset loadTensorDataset(const std::string& path, const Normalization& normalization, bool allowLabels);

}  // namespace ptq
