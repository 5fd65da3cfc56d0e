#pragma once
/// @file
/// The sidecar JSON next to a model file (`<model>.json`): what the file alone cannot say.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ptq {

/// Facts about a model that travel with it: input shape, normalization, class names and the
/// FP32 accuracy measured when it was made. Plain data; any thread.
struct ModelCard {
    std::string name;
    std::vector<int64_t> inputShape;  ///< one sample, C x H x W
    std::vector<float> mean;          ///< per channel, applied after scaling pixels to [0, 1]
    std::vector<float> std;
    std::vector<std::string> classNames;
    double fp32Top1 = -1.0;           ///< percent on the test set; negative when unknown
    int testImages = 0;
    std::string dataset;
};

/// The sidecar path for @p modelPath: same folder and stem, `.json`.
std::string modelCardPath(const std::string& modelPath);

/// Reads the sidecar next to @p modelPath; std::nullopt when there is none.
/// Throws ptq::Error (InvalidInput) when the sidecar exists but is malformed.
std::optional<ModelCard> loadModelCard(const std::string& modelPath);

/// The bundled demo model (ResNet-20 trained on Fashion-MNIST): next to the executable's
/// share folder when installed, else in the source tree. Empty when it cannot be found.
std::string demoModelPath();

}  // namespace ptq
