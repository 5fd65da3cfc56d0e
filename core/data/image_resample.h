#pragma once
/// @file
/// The resampling of image sources, written to give the same bytes as Pillow's
/// Image.resize(..., BILINEAR) (a triangle filter whose support widens with the downscale
/// factor, i.e. bilinear with antialias; fixed-point coefficients, a horizontal pass then a
/// vertical one, each rounded to 8 bits) followed by torchvision's centre crop
/// (int(round((size - crop) / 2.0)), Python's round: halves to even). Plain C++; any thread.

#include <cstdint>
#include <vector>

namespace ptq {

/// An 8-bit image, rows of width * channels interleaved bytes.
struct Image8 {
    int width = 0, height = 0, channels = 0;
    std::vector<uint8_t> pixels;
};

/// The size torchvision's Resize(@p shorter) gives a @p width x @p height image: the shorter
/// side becomes @p shorter, the longer one int(shorter * longer / shorter_side).
void resizedSize(int width, int height, int shorter, int& outWidth, int& outHeight);

/// torchvision's centre-crop offset: int(round((size - crop) / 2.0)) with halves to even.
int centreCropOffset(int size, int crop);

/// @p image resized so its shorter side is round(max(@p height, @p width) / @p cropRatio) and
/// centre-cropped to @p height x @p width (Resize + CenterCrop). Only the cropped pixels are
/// computed; they are those Pillow's full resize then the crop would give. @p cropRatio must
/// be in (0, 1] (checked by the caller).
Image8 resizeAndCentreCrop(const Image8& image, int height, int width, double cropRatio);

}  // namespace ptq
