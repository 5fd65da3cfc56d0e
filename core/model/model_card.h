#pragma once
/// @file
/// The sidecar JSON next to a model file (`<model>.json`): what the file alone cannot say.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ptq {

/// Facts about a model that travel with it: input shape, preprocessing (normalization and the
/// centre-crop ratio), class names and the FP32 accuracy measured when it was made. Plain
/// data; any thread.
struct ModelCard {
    std::string name;
    std::vector<int64_t> inputShape;  ///< one sample: C x H x W, or the number of tokens of a text model
    std::vector<float> mean;          ///< per channel, applied after scaling pixels to [0, 1]
    std::vector<float> std;
    /// The normalization preset mean and std came from ("imagenet", "none", ...); "" when given
    /// as values or not at all. Informative: mean and std are what is applied.
    std::string preset;
    /// Images of another size than the input: the shorter side is resized to
    /// max(H, W) / cropRatio, then the centre H x W is cropped. 0: not given (1.0 applies).
    double cropRatio = 0;
    std::vector<std::string> classNames;
    double fp32Top1 = -1.0;           ///< percent on the test set; negative when unknown
    int testImages = 0;
    std::string dataset;

    bool hasNormalization() const { return !mean.empty() && !std.empty(); }
    /// cropRatio, or 1.0 when not given.
    double effectiveCropRatio() const { return cropRatio > 0 ? cropRatio : 1.0; }
};

/// A named preprocessing: the mean and std of a well-known training set and the crop ratio its
/// evaluation uses.
struct NormalizationPreset {
    std::string name;
    std::vector<float> mean, std;
    double cropRatio = 1.0;
    std::string description;  ///< for help and dialogs
};

/// The presets: none (pixels in [0, 1], ToTensor alone), imagenet (mean 0.485, 0.456, 0.406,
/// std 0.229, 0.224, 0.225, crop ratio 0.875: Resize(256) + CenterCrop(224)), fmnist, mnist,
/// cifar10.
const std::vector<NormalizationPreset>& normalizationPresets();
/// The preset named @p name (case-insensitive). Throws ptq::Error (InvalidInput) naming the
/// presets for an unknown name.
const NormalizationPreset& normalizationPreset(const std::string& name);

/// Checks what a card says, as for a sidecar: a 3-dimensional positive input shape, mean and
/// std given together with positive stds, a crop ratio in (0, 1]. @p where names the card in
/// messages ("The model's sidecar X", "The model card"). Throws ptq::Error (InvalidInput).
void validateModelCard(const ModelCard& card, const std::string& where);

/// Writes @p card as the sidecar of @p modelPath (modelCardPath), atomically: an existing
/// sidecar keeps its old content when writing fails. Keys loadModelCard does not know are kept
/// from the existing sidecar. Throws ptq::Error (InvalidInput) for an invalid card, (Failed)
/// when the file cannot be written.
void writeModelCard(const std::string& modelPath, const ModelCard& card);

/// Class names from a text file, one a line (blank lines and lines starting with # skipped;
/// surrounding spaces trimmed). Throws ptq::Error (InvalidInput) for a missing, unreadable or
/// empty file.
std::vector<std::string> readClassNames(const std::string& path);

/// The sidecar path for @p modelPath: same folder and stem, `.json`.
std::string modelCardPath(const std::string& modelPath);

/// Reads the sidecar next to @p modelPath; std::nullopt when there is none.
/// Throws ptq::Error (InvalidInput) when the sidecar exists but is malformed.
std::optional<ModelCard> loadModelCard(const std::string& modelPath);

/// The bundled demo model (ResNet-20 trained on Fashion-MNIST): next to the executable's
/// share folder when installed, else in the source tree. Empty when it cannot be found.
std::string demoModelPath();

/// Every bundled demo model (the .pt files beside demoModelPath(): ResNet-20, MobileNetV2, the
/// ViT), sorted by file name; empty when the demo folder cannot be found. Any thread.
std::vector<std::string> demoModelPaths();

}  // namespace ptq
