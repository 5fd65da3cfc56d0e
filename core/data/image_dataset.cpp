#include "core/data/image_dataset.h"

#include "core/data/image_decode.h"
#include "core/data/image_resample.h"
#include "core/util/error.h"

#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

namespace ptq {

namespace {

int defaultThreads() { return std::max(1, int(std::thread::hardware_concurrency())); }

std::string countOf(int64_t n, const std::string& noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace

void parallelFor(int64_t count, int threads, const std::function<void(int64_t)>& work) {
    const int64_t workers = std::min<int64_t>(std::max(1, threads), count);
    if (workers <= 1) {
        for (int64_t i = 0; i < count; ++i) work(i);
        return;
    }
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mutex;
    int64_t failedAt = count;
    std::exception_ptr error;
    auto run = [&] {
        for (int64_t i = next++; i < count && !failed; i = next++) {
            try {
                work(i);
            } catch (...) {
                const std::lock_guard<std::mutex> lock(mutex);
                if (i < failedAt) {
                    failedAt = i;
                    error = std::current_exception();
                }
                failed = true;
            }
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(size_t(workers - 1));
    for (int64_t t = 1; t < workers; ++t) pool.emplace_back(run);
    run();
    for (std::thread& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

ImageFileDataset::ImageFileDataset(ImageListing listing, const Normalization& normalization,
                                   const ImageSourceOptions& options)
    : labelled_(listing.labelled), origin_(listing.origin), classNames_(std::move(listing.classNames)), transform_(options.transform),
      threads_(options.threads > 0 ? options.threads : defaultThreads()) {
    const std::string& origin = listing.origin;
    const double ratio = transform_.cropRatio;
    if (!(ratio > 0.0 && ratio <= 1.0))
        throw invalidInput("The crop ratio of " + origin + " is " + std::to_string(ratio) +
                           "; it must be above 0 and at most 1 (0.875 crops 224 from 256).");
    if (!options.sampleShape.empty() && options.sampleShape.size() != 3)
        throw invalidInput("The sample shape " + shapeToString(options.sampleShape) + " asked of " + origin +
                           " is not channels x height x width; check the model's input shape.");
    if (!options.sampleShape.empty() && options.sampleShape[0] != 1 && options.sampleShape[0] != 3)
        throw invalidInput("Images from " + origin + " cannot be given " + std::to_string(options.sampleShape[0]) +
                           " channels; image sources make grey (1) or RGB (3) images.");
    if (!options.sampleShape.empty() && (options.sampleShape[1] < 1 || options.sampleShape[2] < 1))
        throw invalidInput("The sample shape " + shapeToString(options.sampleShape) + " asked of " + origin +
                           " has an empty side; check the model's input shape.");

    // Every file's header and structure, on worker threads; nothing is kept.
    std::vector<ImageProbe> probes(listing.files.size());
    parallelFor(int64_t(probes.size()), threads_,
                [&](int64_t i) { probes[size_t(i)] = probeImage(listing.files[size_t(i)].path); });
    bool allGrey = true;
    const ImageProbe* firstGood = nullptr;
    for (size_t i = 0; i < probes.size(); ++i) {
        const ImageProbe& probe = probes[i];
        if (!probe.damage.empty()) {
            if (!options.skipBad)
                throw Error(Error::Kind::InvalidInput,
                            "The file " + listing.files[i].path + " in " + origin + " cannot be used: " + probe.damage +
                                "; remove it or replace it, or skip bad images.",
                            "skip bad images");
            if (skipped_++ == 0) firstSkipped_ = listing.files[i].path;
            continue;
        }
        if (!firstGood) firstGood = &probe;
        allGrey = allGrey && probe.grey;
        files_.push_back(std::move(listing.files[i]));
    }
    if (files_.empty())
        throw invalidInput("None of the " + countOf(int64_t(probes.size()), "file") + " in " + origin +
                           " is a readable image (the first, " + firstSkipped_ + ", is not); give readable JPEG or PNG files.");

    shape_ = options.sampleShape;
    if (shape_.empty()) shape_ = {allGrey ? 1 : 3, firstGood->height, firstGood->width};
    norm_ = normalization.resolvedFor(shape_[0]);
    description_ = listing.name + ", " + countOf(size(), "image");
    if (labelled_ && !classNames_.empty()) description_ += " in " + std::to_string(classNames_.size()) + " classes";
    else if (!labelled_) description_ += ", unlabelled";
    if (skipped_ > 0) description_ += " (" + std::to_string(skipped_) + " unreadable skipped)";
}

void ImageFileDataset::readChecked(int64_t first, int64_t count, float* images, int64_t* labels) const {
    const int channels = int(shape_[0]), height = int(shape_[1]), width = int(shape_[2]);
    const size_t plane = size_t(height) * size_t(width);
    const size_t perSample = plane * size_t(channels);
    // One 256-entry table per channel: (pixel / 255 - mean) / std.
    std::vector<std::array<float, 256>> tables(static_cast<size_t>(channels));
    for (int c = 0; c < channels; ++c)
        for (int v = 0; v < 256; ++v)
            tables[size_t(c)][size_t(v)] = (float(v) / 255.0f - norm_.mean[size_t(c)]) / norm_.std[size_t(c)];
    parallelFor(count, threads_, [&](int64_t i) {
        const ImageFileEntry& file = files_[size_t(first + i)];
        Image8 decoded;
        std::string why;
        if (!decodeImage(file.path, channels, decoded, why))
            throw invalidInput("The image " + file.path + " in " + origin_ + " passed the checks made when the "
                               "data was opened but does not decode (" + why +
                               "), so it is damaged inside; remove it or replace it and run again.");
        const bool exact = decoded.width == width && decoded.height == height && transform_.cropRatio == 1.0;
        const Image8 sample = exact ? std::move(decoded) : resizeAndCentreCrop(decoded, height, width, transform_.cropRatio);
        float* out = images + size_t(i) * perSample;
        const uint8_t* px = sample.pixels.data();
        for (size_t p = 0; p < plane; ++p)
            for (int c = 0; c < channels; ++c) out[size_t(c) * plane + p] = tables[size_t(c)][px[p * size_t(channels) + size_t(c)]];
        if (labels) labels[i] = file.label;
    });
}

}  // namespace ptq
