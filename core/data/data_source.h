#pragma once
/// @file
/// The data source names of the command line and the GUI (design.md, "The command line"):
/// fmnist:train, fmnist:test, fmnist:train:N, idx:IMAGES[,LABELS], folder:DIR (class
/// sub-folders of images, or a flat folder of unlabelled ones), list:FILE (lines of PATH
/// [LABEL]), npy:FILE.npy, tensor:FILE.pt (torch.save of images, or a dict with "images" and
/// "labels") and distilled:FILE.pt (ptq distill's output: unlabelled images in the model's
/// input space). Image sources (folder:, list:) stream: see image_dataset.h.

#include "core/data/dataset.h"
#include "core/data/image_transform.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ptq {

/// A parsed data source name. Plain data; any thread.
struct DataSourceSpec {
    enum class Kind { FashionMnist, Idx, Folder, List, Npy, Tensor, Distilled };

    Kind kind = Kind::FashionMnist;
    std::string text;        ///< the name as given, for messages
    std::string split;       ///< fmnist: "train" or "test"
    int64_t limit = -1;      ///< fmnist: keep the first N samples; -1 keeps all
    std::string path;        ///< idx: the images file; folder: the folder; list, npy, tensor, distilled: the file
    std::string labelsPath;  ///< idx: the labels file, empty when none was given
    /// folder, list: leave out (and count) image files found unreadable when the source is
    /// opened, instead of refusing the source. Not part of the name.
    bool skipBad = false;

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

/// Opens a data source, scaling 8-bit pixels to [0, 1] and applying @p normalization (float32
/// .npy data is taken as already normalized). Array sources (fmnist, idx, npy, tensor,
/// distilled) load into memory; image sources (folder, list) list and check their files and
/// decode each batch when it is read. When @p expectedSampleShape (C, H, W) is given, images
/// are converted to its channel count and brought to its size by @p transform (shorter side
/// resized, centre crop), and array data of another shape is refused; without it, images keep
/// the first image's size. Any thread; blocks while it reads.
/// Throws ptq::Error (InvalidInput) for a bad name, missing or damaged files, N larger than the
/// set, a crop ratio outside (0, 1], or a shape that differs from @p expectedSampleShape.
std::unique_ptr<Dataset> openDataSource(const std::string& text, const Normalization& normalization,
                                        const std::vector<int64_t>& expectedSampleShape = {},
                                        const ImageTransform& transform = {});
/// As above, for an already parsed name.
std::unique_ptr<Dataset> openDataSource(const DataSourceSpec& spec, const Normalization& normalization,
                                        const std::vector<int64_t>& expectedSampleShape = {},
                                        const ImageTransform& transform = {});

/// Where the Fashion-MNIST files are read from: $PTQ_FASHION_MNIST_DIR when set, else the
/// folder of Debian's dataset-fashion-mnist package. Any thread.
std::string fashionMnistDirectory();

/// The ten Fashion-MNIST class names, indexed by label ("T-shirt/top" ... "Ankle boot").
std::vector<std::string> fashionMnistClassNames();

}  // namespace ptq
