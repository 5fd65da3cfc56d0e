#include "core/data/image_resample.h"

#include <algorithm>
#include <cmath>

namespace ptq {

namespace {

/// Pillow's fixed-point precision for 8-bit images: 32 - 8 - 2 bits.
constexpr int kPrecisionBits = 22;

/// One output pixel's window on the input axis and its fixed-point weights.
struct Window {
    int first = 0, count = 0;
    std::vector<int32_t> weights;
};

/// The triangle filter (Pillow's bilinear_filter).
double triangle(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/// Windows of output positions [@p outFirst, @p outFirst + @p outCount) of an axis resized
/// from @p inSize to @p outSize, as Pillow's precompute_coeffs and normalize_coeffs_8bpc make
/// them: the support is 1 (bilinear) times the downscale factor when shrinking.
std::vector<Window> windows(int inSize, int outSize, int outFirst, int outCount) {
    const double scale = double(inSize) / double(outSize);
    const double filterScale = std::max(scale, 1.0);
    const double support = 1.0 * filterScale;
    const double invScale = 1.0 / filterScale;
    std::vector<Window> out(static_cast<size_t>(outCount));
    std::vector<double> k;
    for (int i = 0; i < outCount; ++i) {
        const int xx = outFirst + i;
        const double center = (xx + 0.5) * scale;
        int xmin = int(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = int(center + support + 0.5);
        if (xmax > inSize) xmax = inSize;
        xmax -= xmin;
        k.assign(size_t(std::max(xmax, 0)), 0.0);
        double sum = 0.0;
        for (int x = 0; x < xmax; ++x) {
            k[size_t(x)] = triangle((x + xmin - center + 0.5) * invScale);
            sum += k[size_t(x)];
        }
        Window& w = out[size_t(i)];
        w.first = xmin;
        w.count = std::max(xmax, 0);
        w.weights.resize(size_t(w.count));
        for (int x = 0; x < w.count; ++x) {
            const double v = sum != 0.0 ? k[size_t(x)] / sum : k[size_t(x)];
            const double scaled = v * double(1 << kPrecisionBits);
            w.weights[size_t(x)] = v < 0 ? int32_t(-0.5 + scaled) : int32_t(0.5 + scaled);
        }
    }
    return out;
}

uint8_t clip8(int64_t v) {
    if (v >= (int64_t(1) << kPrecisionBits << 8)) return 255;
    if (v <= 0) return 0;
    return uint8_t(v >> kPrecisionBits);
}

/// Python's round() of a non-negative value: halves go to the even neighbour.
int roundHalfEven(double v) {
    const double down = std::floor(v);
    const double diff = v - down;
    if (diff > 0.5) return int(down) + 1;
    if (diff < 0.5) return int(down);
    return (int64_t(down) % 2 == 0) ? int(down) : int(down) + 1;
}

}  // namespace

void resizedSize(int width, int height, int shorter, int& outWidth, int& outHeight) {
    // torchvision 0.14 _compute_resized_output_size: int(size * long / short) in floating point.
    if (width <= height) {
        outWidth = shorter;
        outHeight = int(double(shorter) * double(height) / double(width));
    } else {
        outHeight = shorter;
        outWidth = int(double(shorter) * double(width) / double(height));
    }
}

int centreCropOffset(int size, int crop) { return roundHalfEven(double(size - crop) / 2.0); }

Image8 resizeAndCentreCrop(const Image8& image, int height, int width, double cropRatio) {
    const int channels = image.channels;
    const int shorter = roundHalfEven(double(std::max(height, width)) / cropRatio);
    int rw = 0, rh = 0;
    resizedSize(image.width, image.height, shorter, rw, rh);
    const int top = centreCropOffset(rh, height), left = centreCropOffset(rw, width);
    const bool horizontal = rw != image.width, vertical = rh != image.height;

    // The source rows the vertical pass reads (or the cropped rows when it does not run).
    std::vector<Window> rows;
    int rowFirst = top, rowLast = top + height;
    if (vertical) {
        rows = windows(image.height, rh, top, height);
        rowFirst = rows.front().first;
        rowLast = rows.back().first + rows.back().count;
    }

    // Horizontal pass over those rows, cropped columns only: rowLast - rowFirst rows of width.
    const int midRows = rowLast - rowFirst;
    const size_t srcStride = size_t(image.width) * size_t(channels);
    const size_t dstStride = size_t(width) * size_t(channels);
    std::vector<uint8_t> mid(size_t(midRows) * dstStride);
    if (horizontal) {
        const std::vector<Window> cols = windows(image.width, rw, left, width);
        for (int y = 0; y < midRows; ++y) {
            const uint8_t* src = image.pixels.data() + size_t(rowFirst + y) * srcStride;
            uint8_t* dst = mid.data() + size_t(y) * dstStride;
            for (int x = 0; x < width; ++x) {
                const Window& w = cols[size_t(x)];
                for (int c = 0; c < channels; ++c) {
                    int64_t sum = int64_t(1) << (kPrecisionBits - 1);
                    const uint8_t* p = src + size_t(w.first) * size_t(channels) + size_t(c);
                    for (int i = 0; i < w.count; ++i) sum += int64_t(p[size_t(i) * size_t(channels)]) * w.weights[size_t(i)];
                    dst[size_t(x) * size_t(channels) + size_t(c)] = clip8(sum);
                }
            }
        }
    } else {
        for (int y = 0; y < midRows; ++y)
            std::copy_n(image.pixels.data() + size_t(rowFirst + y) * srcStride + size_t(left) * size_t(channels),
                        dstStride, mid.data() + size_t(y) * dstStride);
    }

    Image8 out;
    out.width = width;
    out.height = height;
    out.channels = channels;
    if (!vertical) {
        out.pixels = std::move(mid);
        return out;
    }
    out.pixels.resize(size_t(height) * dstStride);
    std::vector<int64_t> acc(dstStride, 0);
    for (int y = 0; y < height; ++y) {
        const Window& w = rows[size_t(y)];
        std::fill(acc.begin(), acc.end(), int64_t(1) << (kPrecisionBits - 1));
        for (int i = 0; i < w.count; ++i) {
            const uint8_t* src = mid.data() + size_t(w.first - rowFirst + i) * dstStride;
            const int64_t k = w.weights[size_t(i)];
            for (size_t j = 0; j < dstStride; ++j) acc[j] += int64_t(src[j]) * k;
        }
        uint8_t* dst = out.pixels.data() + size_t(y) * dstStride;
        for (size_t j = 0; j < dstStride; ++j) dst[j] = clip8(acc[j]);
    }
    return out;
}

}  // namespace ptq
