#pragma once
/// @file
/// The evaluation transform applied to every decoded image of an image source (folder:,
/// list:): the shorter side resized to round(max(H, W) / cropRatio), then a centre crop of the
/// model's H x W, as torchvision's Resize(round(max(H, W) / cropRatio)) + CenterCrop((H, W)) on
/// PIL images. Plain C++: ui includes it through data_source.h.

namespace ptq {

/// How decoded images are brought to the model's input size. Plain data; any thread.
struct ImageTransform {
    /// The crop's share of the resized shorter side, in (0, 1]: 0.875 with 224 is
    /// torchvision's Resize(256) + CenterCrop(224); 1.0 is Resize(H) + CenterCrop(H), and an
    /// image already H x W passes through unchanged.
    double cropRatio = 1.0;
};

}  // namespace ptq
