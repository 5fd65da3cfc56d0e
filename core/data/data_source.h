#pragma once
/// @file
/// The data source names of the command line and the GUI (design.md, "The command line"):
/// fmnist:train, fmnist:test, fmnist:train:N, idx:IMAGES[,LABELS], folder:DIR, npy:FILE.npy,
/// tensor:FILE.pt (torch.save of images, or a dict with "images" and "labels") and
/// distilled:FILE.pt (ptq distill's output: unlabelled images in the model's input space).

#include "core/data/dataset.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ptq {

/// A parsed data source name. Plain data; any thread.
struct DataSourceSpec {
    enum class Kind { FashionMnist, Idx, Folder, Npy, Tensor, Distilled };

    Kind kind = Kind::FashionMnist;
    std::string text;        ///< the name as given, for messages
    std::string split;       ///< fmnist: "train" or "test"
    int64_t limit = -1;      ///< fmnist: keep the first N samples; -1 keeps all
    std::string path;        ///< idx: the images file; folder: the folder; npy, tensor, distilled: the file
    std::string labelsPath;  ///< idx: the labels file, empty when none was given

    /// False for a default-made spec: no data was named.
    bool given() const { return !text.empty(); }
};

/// The valid forms, for usage text and error messages.
std::string dataSourceForms();

/// Parses a data source name; reads the file system only to suggest folder: for a bare
/// folder path in its error. Any thread.
/// Throws ptq::Error (InvalidInput) with the valid forms for a malformed name (fmnist:valid,
/// fmnist:train:-3, an unknown scheme).
DataSourceSpec parseDataSource(const std::string& text);

/// Opens and loads a data source into memory, scaling 8-bit pixels to [0, 1] and applying
/// @p normalization (float32 .npy data is taken as already normalized). When
/// @p expectedSampleShape (C, H, W) is given, folder images are converted to its channel count
/// and data of another shape is refused. Any thread; blocks while it reads.
/// Throws ptq::Error (InvalidInput) for a bad name, missing or damaged files, N larger than the
/// set, or a shape that differs from @p expectedSampleShape.
std::unique_ptr<Dataset> openDataSource(const std::string& text, const Normalization& normalization,
                                        const std::vector<int64_t>& expectedSampleShape = {});
/// As above, for an already parsed name.
std::unique_ptr<Dataset> openDataSource(const DataSourceSpec& spec, const Normalization& normalization,
                                        const std::vector<int64_t>& expectedSampleShape = {});

/// Where the Fashion-MNIST files are read from: $PTQ_FASHION_MNIST_DIR when set, else the
/// folder of Debian's dataset-fashion-mnist package. Any thread.
std::string fashionMnistDirectory();

/// The ten Fashion-MNIST class names, indexed by label ("T-shirt/top" ... "Ankle boot").
std::vector<std::string> fashionMnistClassNames();

}  // namespace ptq
