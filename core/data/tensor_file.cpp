#include "core/data/tensor_file.h"

#include "core/data/idx.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace ptq {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw invalidInput("The tensor file " + path + " " + what);
}

/// The value stored under @p key of a dict with string keys; an undefined IValue when absent.
c10::IValue member(const c10::IValue& value, const std::string& key) {
    for (const auto& entry : value.toGenericDict())
        if (entry.key().isString() && entry.key().toStringRef() == key) return entry.value();
    return {};
}

}  // namespace

InMemoryDataset loadTensorDataset(const std::string& path, const Normalization& normalization, bool allowLabels) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        fail(path, "does not exist or is not a file; check the path.");
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty()) fail(path, "is empty; save the tensor again with torch.save.");
    c10::IValue value;
    try {
        value = torch::jit::pickle_load(bytes);
    } catch (const std::exception&) {
        fail(path, "is not a file torch.save wrote (or it is damaged); save a tensor, or a dict with \"images\", "
                   "with torch.save.");
    }
    c10::IValue imagesValue = value, labelsValue;
    if (value.isGenericDict()) {
        imagesValue = member(value, "images");
        labelsValue = member(value, "labels");
        if (imagesValue.isNone()) fail(path, "holds a dict without \"images\"; store the images under that key.");
        if (!labelsValue.isNone() && !allowLabels)
            fail(path, "holds labels, but distilled data is unlabelled; load it as tensor:" + path + " instead.");
    }
    if (!imagesValue.isTensor())
        fail(path, "holds neither a tensor nor a dict with an \"images\" tensor; save one of those.");
    at::Tensor images = imagesValue.toTensor();
    if (images.dim() == 3) images = images.unsqueeze(1);
    if (images.dim() != 4)
        fail(path, "holds a tensor of rank " + std::to_string(images.dim()) +
                   "; images must be N x C x H x W (or N x H x W for one channel).");
    if (images.size(0) == 0 || images.numel() == 0) fail(path, "holds no images; save at least one.");
    std::vector<int64_t> sampleShape{images.size(1), images.size(2), images.size(3)};
    const int64_t samples = images.size(0);
    std::vector<float> data;
    if (images.scalar_type() == at::kByte) {
        const at::Tensor c = images.contiguous();
        data = normalizePixels(c.data_ptr<uint8_t>(), samples, sampleShape[0], sampleShape[1] * sampleShape[2],
                               normalization);
    } else if (images.scalar_type() == at::kFloat || images.scalar_type() == at::kDouble) {
        const at::Tensor c = images.to(at::kFloat).contiguous();
        if (!at::isfinite(c).all().item<bool>())
            fail(path, "holds values that are not finite (NaN or infinity); fix the data.");
        data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    } else {
        fail(path, "holds images of type " + std::string(c10::toString(images.scalar_type())) +
                   "; use float32 (already normalized) or uint8 pixels.");
    }
    std::vector<int64_t> labels;
    if (!labelsValue.isNone()) {
        if (!labelsValue.isTensor()) fail(path, "holds \"labels\" that are not a tensor; store an int64 tensor.");
        const at::Tensor l = labelsValue.toTensor();
        if (l.dim() != 1 || l.size(0) != samples || at::isFloatingType(l.scalar_type()))
            fail(path, "holds " + std::to_string(l.numel()) + " labels for " + std::to_string(samples) +
                       " images; store one integer label per image.");
        const at::Tensor c = l.to(at::kLong).contiguous();
        labels.assign(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
        for (int64_t v : labels)
            if (v < 0) fail(path, "holds a negative label; labels are class indices from 0.");
    }
    const std::string name = std::filesystem::path(path).filename().string();
    return InMemoryDataset(std::move(sampleShape), std::move(data), std::move(labels), {},
                           (allowLabels ? "tensor " : "distilled ") + name + ", " + std::to_string(samples) + " images");
}

}  // namespace ptq
