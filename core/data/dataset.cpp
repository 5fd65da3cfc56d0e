#include "core/data/dataset.h"

#include "core/model/model_card.h"
#include "core/util/error.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace ptq {

namespace {

int64_t product(const std::vector<int64_t>& dims) {
    return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<int64_t>());
}

std::string countOf(int64_t n, const std::string& noun, const std::string& plural = {}) {
    return std::to_string(n) + " " + (n == 1 ? noun : plural.empty() ? noun + "s" : plural);
}

std::string inQuotes(const std::string& description) { return "'" + description + "'"; }

}  // namespace

Normalization Normalization::fashionMnist() { return {{0.2860f}, {0.3530f}}; }

Normalization Normalization::none() { return {{0.0f}, {1.0f}}; }

Normalization Normalization::fromModelCard(const ModelCard& card) {
    if (!card.hasNormalization()) return none();
    return {card.mean, card.std};
}

Normalization Normalization::resolvedFor(int64_t channels) const {
    const Normalization given = (mean.empty() && std.empty()) ? none() : *this;
    auto expand = [&](const std::vector<float>& values, const char* what) {
        if (values.size() == 1) return std::vector<float>(size_t(channels), values[0]);
        if (int64_t(values.size()) == channels) return values;
        throw invalidInput("The normalization gives " + std::to_string(values.size()) + " " +
                           what + " values for data with " + countOf(channels, "channel") +
                           "; give one value or one per channel.");
    };
    Normalization resolved{expand(given.mean, "mean"), expand(given.std, "std")};
    for (float s : resolved.std)
        if (!(s > 0.f))
            throw invalidInput("The normalization has a std of " + std::to_string(s) +
                               "; every std must be positive.");
    return resolved;
}

int64_t Dataset::sampleElements() const { return product(sampleShape()); }

void Dataset::read(int64_t first, int64_t count, float* images, int64_t* labels) const {
    const int64_t n = size();
    if (first < 0 || count < 0 || first > n || count > n - first)
        throw invalidInput("Cannot read samples " + std::to_string(first) + " to " +
                           std::to_string(first + count - 1) + " of " + inQuotes(description()) +
                           ": it holds " + countOf(n, "sample") + " (0 to " +
                           std::to_string(n - 1) + "); ask for a range inside it.");
    if (labels && !hasLabels())
        throw invalidInput("The data set " + inQuotes(description()) +
                           " has no labels; use a labelled source for evaluation.");
    if (count == 0) return;
    readChecked(first, count, images, labels);
}

InMemoryDataset::InMemoryDataset(std::vector<int64_t> sampleShape, std::vector<float> images,
                                 std::vector<int64_t> labels,
                                 std::vector<std::string> classNames, std::string description)
    : sampleShape_(std::move(sampleShape)), images_(std::move(images)),
      labels_(std::move(labels)), classNames_(std::move(classNames)),
      description_(std::move(description)) {
    const bool shapeValid = sampleShape_.size() == 3 &&
        std::all_of(sampleShape_.begin(), sampleShape_.end(), [](int64_t d) { return d > 0; });
    if (!shapeValid)
        throw invalidInput("The data set " + inQuotes(description_) + " has samples of shape " +
                           shapeToString(sampleShape_) +
                           "; a sample must be channels x height x width, each at least 1.");
    const int64_t perSample = product(sampleShape_);
    if (int64_t(images_.size()) % perSample != 0)
        throw invalidInput("The data set " + inQuotes(description_) + " holds " +
                           std::to_string(images_.size()) + " values, not a whole number of " +
                           shapeToString(sampleShape_) + " samples; the source is damaged.");
    count_ = int64_t(images_.size()) / perSample;
    if (!labels_.empty() && int64_t(labels_.size()) != count_)
        throw invalidInput("The data set " + inQuotes(description_) + " has " + countOf(count_, "image") +
                           " but " + countOf(int64_t(labels_.size()), "label") +
                           "; give one label per image.");
    if (!classNames_.empty()) {
        const int64_t classes = int64_t(classNames_.size());
        for (size_t i = 0; i < labels_.size(); ++i)
            if (labels_[i] < 0 || labels_[i] >= classes)
                throw invalidInput("The data set " + inQuotes(description_) + " gives sample " +
                                   std::to_string(i) + " the label " +
                                   std::to_string(labels_[i]) + ", outside its " +
                                   countOf(classes, "class", "classes") + "; fix the labels.");
    }
}

void InMemoryDataset::readChecked(int64_t first, int64_t count, float* images,
                                  int64_t* labels) const {
    const int64_t perSample = product(sampleShape_);
    std::memcpy(images, images_.data() + first * perSample, sizeof(float) * size_t(count * perSample));
    if (labels) std::memcpy(labels, labels_.data() + first, sizeof(int64_t) * size_t(count));
}

InMemoryDataset InMemoryDataset::subset(int64_t first, int64_t count) const {
    if (first < 0 || count < 0 || first > count_ || count > count_ - first)
        throw invalidInput("Cannot take samples " + std::to_string(first) + " to " +
                           std::to_string(first + count - 1) + " of " + inQuotes(description_) +
                           ": it holds " + countOf(count_, "sample") +
                           "; ask for a range inside it.");
    const int64_t perSample = product(sampleShape_);
    std::vector<float> images(images_.begin() + first * perSample,
                              images_.begin() + (first + count) * perSample);
    std::vector<int64_t> labels;
    if (!labels_.empty()) labels.assign(labels_.begin() + first, labels_.begin() + first + count);
    std::string description = description_ + ", samples " + std::to_string(first) + " to " +
                              std::to_string(first + count - 1);
    return InMemoryDataset(sampleShape_, std::move(images), std::move(labels), classNames_,
                           std::move(description));
}

InMemoryDataset InMemoryDataset::head(int64_t n) const {
    return subset(0, std::clamp<int64_t>(n, 0, count_));
}

void forEachBatch(const Dataset& dataset, int64_t batchSize,
                  const std::function<void(const Batch&)>& onBatch, const Progress* progress,
                  const std::string& stage) {
    if (batchSize <= 0)
        throw invalidInput("The batch size is " + std::to_string(batchSize) +
                           "; it must be at least 1.");
    const int64_t total = dataset.size();
    const std::vector<int64_t> sampleShape = dataset.sampleShape();
    const int64_t perSample = product(sampleShape);
    const float* inMemoryImages = dataset.contiguousImages();
    const int64_t* inMemoryLabels = dataset.contiguousLabels();
    const bool labelled = dataset.hasLabels();

    // Only sources that do not live in memory need a buffer; it is reused across batches.
    std::vector<float> imageBuffer;
    std::vector<int64_t> labelBuffer;
    if (!inMemoryImages) {
        imageBuffer.resize(size_t(std::min(batchSize, total) * perSample));
        if (labelled) labelBuffer.resize(size_t(std::min(batchSize, total)));
    }

    Batch batch;
    for (int64_t first = 0; first < total; first += batchSize) {
        reportProgress(progress, double(first) / double(total), stage);
        batch.first = first;
        batch.count = std::min(batchSize, total - first);
        batch.shape = {batch.count};
        batch.shape.insert(batch.shape.end(), sampleShape.begin(), sampleShape.end());
        if (inMemoryImages) {
            batch.images = inMemoryImages + first * perSample;
            batch.labels = inMemoryLabels ? inMemoryLabels + first : nullptr;
        } else {
            dataset.read(first, batch.count, imageBuffer.data(),
                         labelled ? labelBuffer.data() : nullptr);
            batch.images = imageBuffer.data();
            batch.labels = labelled ? labelBuffer.data() : nullptr;
        }
        onBatch(batch);
    }
    reportProgress(progress, 1.0, stage);
}

InMemoryDataset inMemoryCopy(const Dataset& data, int64_t batchSize, const Progress* progress) {
    const int64_t perSample = data.sampleElements();
    std::vector<float> images;
    images.reserve(size_t(data.size() * perSample));
    std::vector<int64_t> labels;
    if (data.hasLabels()) labels.reserve(size_t(data.size()));
    forEachBatch(data, batchSize, [&](const Batch& b) {
        images.insert(images.end(), b.images, b.images + b.count * perSample);
        if (b.labels) labels.insert(labels.end(), b.labels, b.labels + b.count);
    }, progress, "Reading data");
    return InMemoryDataset(data.sampleShape(), std::move(images), std::move(labels), data.classNames(),
                           data.description());
}

std::string shapeToString(const std::vector<int64_t>& shape) {
    std::string text;
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? "x" : "") + std::to_string(shape[i]);
    return text.empty() ? "(scalar)" : text;
}

}  // namespace ptq
