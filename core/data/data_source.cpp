#include "core/data/data_source.h"

#include "core/data/idx.h"
#include "core/data/image_dataset.h"
#include "core/data/image_folder.h"
#include "core/data/npy.h"
#include "core/data/tensor_file.h"
#include "core/util/error.h"

#include <exception>
#include <cstdlib>
#include <filesystem>
#include <limits>

namespace ptq {

namespace {

constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

[[noreturn]] void malformed(const std::string& text, const std::string& why) {
    throw invalidInput("The data source '" + text + "' " + why + "; valid forms are " +
                       dataSourceForms() + ".");
}

/// Parses the N of fmnist:SPLIT:N: decimal digits only, at least 1.
int64_t parseSampleCount(const std::string& text, const std::string& digits) {
    if (digits.empty()) malformed(text, "ends with ':' but gives no sample count");
    if (digits[0] == '-') malformed(text, "asks for a negative number of samples");
    int64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9')
            malformed(text, "has '" + digits + "' where the number of samples should be");
        if (value > (std::numeric_limits<int64_t>::max() - 9) / 10)
            malformed(text, "asks for more samples than any data set holds");
        value = value * 10 + (c - '0');
    }
    if (value == 0) malformed(text, "asks for 0 samples");
    return value;
}

/// The file of a Fashion-MNIST part; prefers the packaged .gz and also takes a gunzipped copy.
std::string fashionMnistFile(const std::string& stem) {
    const std::filesystem::path dir = fashionMnistDirectory();
    for (const std::string& name : {stem + ".gz", stem}) {
        std::error_code ec;
        if (std::filesystem::exists(dir / name, ec)) return (dir / name).string();
    }
    throw invalidInput("Fashion-MNIST's file " + stem + ".gz is not in " + dir.string() +
                       "; install the Debian package dataset-fashion-mnist or point "
                       "PTQ_FASHION_MNIST_DIR at a folder with the four IDX files.");
}

std::unique_ptr<Dataset> openFashionMnist(const DataSourceSpec& spec, const Normalization& norm) {
    const std::string prefix = spec.split == "train" ? "train" : "t10k";
    IdxLoadOptions options;
    options.normalization = norm;
    options.classNames = fashionMnistClassNames();
    options.maxSamples = spec.limit;
    InMemoryDataset data = loadIdxDataset(fashionMnistFile(prefix + "-images-idx3-ubyte"),
                                          fashionMnistFile(prefix + "-labels-idx1-ubyte"), options);
    // A limited read stops early, so a set smaller than the limit shows as a short result.
    if (spec.limit > data.size())
        throw invalidInput("The data source '" + spec.text + "' asks for the first " +
                           std::to_string(spec.limit) + " samples but Fashion-MNIST " + spec.split +
                           " holds only " + std::to_string(data.size()) +
                           "; ask for at most that many.");
    data.setDescription("Fashion-MNIST " + spec.split + ", " + (spec.limit > 0 ? "first " : "") +
                        std::to_string(data.size()) + " images");
    return std::make_unique<InMemoryDataset>(std::move(data));
}

}  // namespace

std::string dataSourceForms() {
    return "fmnist:train, fmnist:test, fmnist:train:N or fmnist:test:N (the first N), "
           "idx:IMAGES[,LABELS], folder:DIR (a sub-folder per class, or flat and unlabelled), list:FILE (lines of "
           "PATH [LABEL]), npy:FILE.npy, tensor:FILE.pt and distilled:FILE.pt";
}

DataSourceSpec parseDataSource(const std::string& text) {
    DataSourceSpec spec;
    spec.text = text;
    const size_t colon = text.find(':');
    if (text.empty()) malformed(text, "is empty");
    if (colon == std::string::npos) {
        // A bare path is the likeliest slip: suggest the scheme it probably needs.
        std::error_code ec;
        const bool npyFile = text.size() > 4 && text.compare(text.size() - 4, 4, ".npy") == 0;
        std::string hint;
        if (npyFile) hint = " (did you mean npy:" + text + "?)";
        else if (std::filesystem::is_directory(text, ec)) hint = " (did you mean folder:" + text + "?)";
        malformed(text, "has no scheme such as fmnist: or folder:" + hint);
    }
    const std::string scheme = text.substr(0, colon);
    const std::string rest = text.substr(colon + 1);

    if (scheme == "fmnist") {
        spec.kind = DataSourceSpec::Kind::FashionMnist;
        const size_t second = rest.find(':');
        spec.split = rest.substr(0, second);
        if (spec.split != "train" && spec.split != "test")
            malformed(text, "names the split '" + spec.split +
                                "' but Fashion-MNIST has only train and test");
        if (second != std::string::npos) spec.limit = parseSampleCount(text, rest.substr(second + 1));
        return spec;
    }
    if (scheme != "idx" && scheme != "folder" && scheme != "list" && scheme != "npy" && scheme != "tensor" &&
        scheme != "distilled")
        malformed(text, "has the unknown scheme '" + scheme + ":'");
    if (rest.empty()) malformed(text, "gives no path after '" + scheme + ":'");

    if (scheme == "idx") {
        spec.kind = DataSourceSpec::Kind::Idx;
        const size_t comma = rest.find(',');
        spec.path = rest.substr(0, comma);
        if (comma != std::string::npos) {
            spec.labelsPath = rest.substr(comma + 1);
            if (spec.path.empty() || spec.labelsPath.empty())
                malformed(text, "has an empty file name around its ','");
        }
    } else if (scheme == "folder" || scheme == "list") {
        spec.kind = scheme == "folder" ? DataSourceSpec::Kind::Folder : DataSourceSpec::Kind::List;
        spec.path = rest;
    } else {
        spec.kind = scheme == "npy"      ? DataSourceSpec::Kind::Npy
                    : scheme == "tensor" ? DataSourceSpec::Kind::Tensor
                                         : DataSourceSpec::Kind::Distilled;
        spec.path = rest;
    }
    return spec;
}

std::unique_ptr<Dataset> openDataSource(const std::string& text, const Normalization& normalization,
                                        const std::vector<int64_t>& expectedSampleShape,
                                        const ImageTransform& transform) {
    return openDataSource(parseDataSource(text), normalization, expectedSampleShape, transform);
}

std::unique_ptr<Dataset> openDataSource(const DataSourceSpec& spec, const Normalization& normalization,
                                        const std::vector<int64_t>& expectedSampleShape,
                                        const ImageTransform& transform) {
    if (!expectedSampleShape.empty() && expectedSampleShape.size() != 3)
        throw invalidInput("The expected sample shape " + shapeToString(expectedSampleShape) +
                           " is not channels x height x width; check the model's input shape.");
    auto shapeRefusal = [&](const Dataset& data) {
        return invalidInput("The data source '" + spec.text + "' gives samples of shape " +
                            shapeToString(data.sampleShape()) + " but the model expects " +
                            shapeToString(expectedSampleShape) +
                            " (channels x height x width); give data of the model's input shape.");
    };
    const bool arrays = spec.kind != DataSourceSpec::Kind::Folder && spec.kind != DataSourceSpec::Kind::List;
    if (arrays && !expectedSampleShape.empty()) {
        // Array data is normalized as it loads, so a model of other channels would be refused for
        // its normalization ("3 mean values for data with 1 channel"); the shape is the real cause.
        std::unique_ptr<Dataset> data;
        try {
            data = openDataSource(spec, normalization, {}, transform);
        } catch (const Error& e) {
            if (e.kind() != Error::Kind::InvalidInput) throw;
            const std::exception_ptr refusal = std::current_exception();
            std::unique_ptr<Dataset> plain;
            try {
                plain = openDataSource(spec, Normalization::none(), {}, transform);
            } catch (const Error&) {
                std::rethrow_exception(refusal);
            }
            if (plain->sampleShape() != expectedSampleShape) throw shapeRefusal(*plain);
            throw;
        }
        if (data->sampleShape() != expectedSampleShape) throw shapeRefusal(*data);
        return data;
    }
    std::unique_ptr<Dataset> data;
    switch (spec.kind) {
    case DataSourceSpec::Kind::FashionMnist:
        data = openFashionMnist(spec, normalization);
        break;
    case DataSourceSpec::Kind::Idx: {
        IdxLoadOptions options;
        options.normalization = normalization;
        data = std::make_unique<InMemoryDataset>(loadIdxDataset(spec.path, spec.labelsPath, options));
        break;
    }
    case DataSourceSpec::Kind::Folder:
    case DataSourceSpec::Kind::List: {
        ImageSourceOptions options;
        options.sampleShape = expectedSampleShape;
        options.transform = transform;
        options.skipBad = spec.skipBad;
        data = std::make_unique<ImageFileDataset>(
            spec.kind == DataSourceSpec::Kind::Folder ? listImageFolder(spec.path) : readImageList(spec.path),
            normalization, options);
        break;
    }
    case DataSourceSpec::Kind::Npy:
        data = std::make_unique<InMemoryDataset>(loadNpyDataset(spec.path, normalization));
        break;
    case DataSourceSpec::Kind::Tensor:
    case DataSourceSpec::Kind::Distilled:
        data = std::make_unique<InMemoryDataset>(
            loadTensorDataset(spec.path, normalization, spec.kind == DataSourceSpec::Kind::Tensor));
        break;
    }
    if (!expectedSampleShape.empty() && data->sampleShape() != expectedSampleShape) throw shapeRefusal(*data);
    return data;
}

std::string fashionMnistDirectory() {
    const char* overridden = std::getenv("PTQ_FASHION_MNIST_DIR");
    return overridden && *overridden ? overridden : kDebianFashionMnistDir;
}

std::vector<std::string> fashionMnistClassNames() {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

}  // namespace ptq
