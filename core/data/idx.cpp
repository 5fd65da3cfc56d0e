#include "core/data/idx.h"

#include "core/util/error.h"

#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace ptq {

namespace {

constexpr uint8_t kUnsignedByte = 0x08;
// Guards the allocation against a damaged header that promises absurd sizes.
constexpr int64_t kMaxDataBytes = int64_t(1) << 36;

std::string hexByte(uint8_t b) {
    char text[8];
    std::snprintf(text, sizeof text, "%02x", b);
    return text;
}

const char* idxTypeName(uint8_t type) {
    switch (type) {
    case 0x08: return "unsigned bytes";
    case 0x09: return "signed bytes";
    case 0x0b: return "16-bit integers";
    case 0x0c: return "32-bit integers";
    case 0x0d: return "32-bit floats";
    case 0x0e: return "64-bit floats";
    default: return nullptr;
    }
}

std::string dimsText(const std::vector<int64_t>& dims) { return shapeToString(dims); }

std::string dimensionCount(const std::vector<int64_t>& dims) {
    return std::to_string(dims.size()) + (dims.size() == 1 ? " dimension" : " dimensions");
}

/// Bytes of a file, inflated on the fly when it starts with the gzip magic 1f 8b.
class ByteStream {
public:
    explicit ByteStream(const std::string& path) : path_(path) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec))
            throw invalidInput("The IDX file " + path + " does not exist; check the path.");
        if (std::filesystem::is_directory(path, ec))
            throw invalidInput("The IDX file " + path + " is a folder; give the file inside it.");
        file_ = std::fopen(path.c_str(), "rb");
        if (!file_)
            throw invalidInput("Cannot open the IDX file " + path + " (" + std::strerror(errno) +
                               "); check its permissions.");
        std::setvbuf(file_, nullptr, _IOFBF, 1 << 18);
        std::array<uint8_t, 2> magic{};
        gzip_ = std::fread(magic.data(), 1, 2, file_) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        std::rewind(file_);
        if (gzip_) {
            input_.resize(1 << 18);
            if (inflateInit2(&zip_, 16 + MAX_WBITS) != Z_OK) {
                std::fclose(file_);  // the destructor does not run for a throwing constructor
                throw failed("zlib could not start decompressing " + path + "; try again.");
            }
        }
    }
    ~ByteStream() {
        if (gzip_) inflateEnd(&zip_);
        if (file_) std::fclose(file_);
    }
    ByteStream(const ByteStream&) = delete;
    ByteStream& operator=(const ByteStream&) = delete;

    bool gzip() const { return gzip_; }
    /// True once a gzip file ended before its stream did (the file was cut short).
    bool cutShort() const { return cutShort_; }

    /// Reads up to @p n bytes; fewer only at the end of the data.
    size_t read(uint8_t* out, size_t n) {
        if (!gzip_) return std::fread(out, 1, n, file_);
        size_t done = 0;
        while (done < n && !finished_) {
            if (zip_.avail_in == 0 && !refillInput()) {
                cutShort_ = !memberEnded_;
                finished_ = true;
                break;
            }
            if (memberEnded_) {
                // gzip allows several members back to back; anything else after one is ignored,
                // as gunzip does.
                if (zip_.avail_in >= 2 && zip_.next_in[0] == 0x1f && zip_.next_in[1] == 0x8b) {
                    inflateReset(&zip_);
                    memberEnded_ = false;
                } else {
                    finished_ = true;
                    break;
                }
            }
            const size_t chunk = std::min<size_t>(n - done, 1u << 30);
            zip_.next_out = out + done;
            zip_.avail_out = uInt(chunk);
            const int rc = inflate(&zip_, Z_NO_FLUSH);
            done += chunk - zip_.avail_out;
            if (rc == Z_STREAM_END) {
                memberEnded_ = true;
            } else if (rc == Z_BUF_ERROR && zip_.avail_in == 0) {
                continue;  // needs more input
            } else if (rc != Z_OK) {
                throw invalidInput("The IDX file " + path_ + " is a damaged gzip file (zlib: " +
                                   (zip_.msg ? zip_.msg : "error " + std::to_string(rc)) +
                                   "); copy or download it again.");
            }
        }
        return done;
    }

private:
    bool refillInput() {
        const size_t got = std::fread(input_.data(), 1, input_.size(), file_);
        zip_.next_in = input_.data();
        zip_.avail_in = uInt(got);
        return got > 0;
    }

    std::string path_;
    std::FILE* file_ = nullptr;
    bool gzip_ = false;
    z_stream zip_{};
    std::vector<uint8_t> input_;
    bool memberEnded_ = false;
    bool finished_ = false;
    bool cutShort_ = false;
};

std::string truncatedMessage(const std::string& path, const ByteStream& stream,
                             int64_t expected, int64_t found) {
    return "The IDX file " + path + " is truncated (expected " + std::to_string(expected) +
           " bytes" + (stream.gzip() ? " after decompression" : "") + ", found " +
           std::to_string(found) + "); copy or download it again.";
}

std::string fileName(const std::string& path) {
    return std::filesystem::path(path).filename().string();
}

}  // namespace

IdxArray readIdxFile(const std::string& path, int64_t maxItems) {
    ByteStream stream(path);
    std::array<uint8_t, 4> magic{};
    const size_t magicRead = stream.read(magic.data(), magic.size());
    if (magicRead == 0)
        throw invalidInput("The IDX file " + path + " is empty; give an IDX images or labels file.");
    if (magicRead < 4) throw invalidInput(truncatedMessage(path, stream, 4, int64_t(magicRead)));
    if (magic[0] != 0 || magic[1] != 0 || !idxTypeName(magic[2]) || magic[3] == 0)
        throw invalidInput("The file " + path + " is not an IDX file (wrong magic: it starts with " +
                           hexByte(magic[0]) + " " + hexByte(magic[1]) + " " + hexByte(magic[2]) +
                           " " + hexByte(magic[3]) + (stream.gzip() ? " once gunzipped" : "") +
                           ", IDX starts with 00 00, a type byte and a dimension count); give an "
                           "IDX file such as train-images-idx3-ubyte.gz.");
    if (magic[2] != kUnsignedByte)
        throw invalidInput("The IDX file " + path + " holds " + idxTypeName(magic[2]) +
                           " (unsupported dtype 0x" + hexByte(magic[2]) +
                           "); only unsigned bytes (0x08) are read, so convert it to 8-bit "
                           "pixels and labels or save the images as npy.");

    const int dimCount = magic[3];
    std::vector<uint8_t> dimBytes(size_t(4 * dimCount));
    const size_t dimsRead = stream.read(dimBytes.data(), dimBytes.size());
    const int64_t headerBytes = 4 + int64_t(dimBytes.size());
    if (dimsRead < dimBytes.size())
        throw invalidInput(truncatedMessage(path, stream, headerBytes, 4 + int64_t(dimsRead)));

    IdxArray array;
    int64_t itemBytes = 1;
    for (int i = 0; i < dimCount; ++i) {
        const uint8_t* b = &dimBytes[size_t(4 * i)];
        const int64_t dim = (int64_t(b[0]) << 24) | (int64_t(b[1]) << 16) | (int64_t(b[2]) << 8) | b[3];
        array.dims.push_back(dim);
        // Saturate rather than multiply past int64 (four dimensions of 2^32 - 1 would overflow).
        if (i > 0 && dim > 0)
            itemBytes = dim > (kMaxDataBytes + 1) / itemBytes ? kMaxDataBytes + 1 : itemBytes * dim;
    }
    for (int64_t dim : array.dims)
        if (dim == 0)
            throw invalidInput("The IDX file " + path + " has a zero dimension (" +
                               dimsText(array.dims) +
                               "), so it holds data of zero size; give a file with at least one item.");
    const int64_t fileItems = array.dims[0];
    if (itemBytes > kMaxDataBytes || fileItems > kMaxDataBytes / itemBytes)
        throw invalidInput("The IDX file " + path + " claims dimensions " + dimsText(array.dims) +
                           ", more than 64 GiB of data, so its header is damaged; copy or "
                           "download it again.");

    array.itemsRead = maxItems < 0 ? fileItems : std::min(maxItems, fileItems);
    const int64_t wanted = array.itemsRead * itemBytes;
    // Grow in doubling steps (1 MiB up to 64 MiB) so that a header that lies about its size
    // costs at most about twice the bytes the file really holds, not the size it claims.
    int64_t step = int64_t(1) << 20;
    int64_t have = 0;
    while (have < wanted) {
        const int64_t chunk = std::min(step, wanted - have);
        step = std::min(step * 2, int64_t(1) << 26);
        array.bytes.resize(size_t(have + chunk));
        const size_t got = stream.read(array.bytes.data() + have, size_t(chunk));
        have += int64_t(got);
        if (int64_t(got) < chunk) {
            // Say how much the whole file holds, not just the part we asked for.
            std::vector<uint8_t> rest(1 << 16);
            while (size_t more = stream.read(rest.data(), rest.size())) have += int64_t(more);
            throw invalidInput(truncatedMessage(path, stream, headerBytes + fileItems * itemBytes,
                                                headerBytes + have));
        }
    }
    if (array.itemsRead == fileItems) {
        uint8_t extra = 0;
        if (stream.read(&extra, 1) > 0)
            throw invalidInput("The IDX file " + path + " has bytes after the " +
                               std::to_string(headerBytes + wanted) +
                               " its header accounts for; it is damaged or two files joined, so "
                               "copy or download it again.");
        if (stream.cutShort())
            throw invalidInput("The IDX file " + path + " is truncated (its gzip stream ends "
                               "before its checksum); copy or download it again.");
    }
    return array;
}

std::vector<float> normalizePixels(const uint8_t* pixels, int64_t samples, int64_t channels,
                                   int64_t pixelsPerChannel, const Normalization& normalization) {
    const Normalization norm = normalization.resolvedFor(channels);
    // One 256-entry table per channel keeps the loop to a lookup per pixel.
    std::vector<std::array<float, 256>> tables(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c)
        for (int v = 0; v < 256; ++v)
            tables[size_t(c)][size_t(v)] = (float(v) / 255.0f - norm.mean[size_t(c)]) / norm.std[size_t(c)];
    std::vector<float> out(size_t(samples * channels * pixelsPerChannel));
    float* dst = out.data();
    const uint8_t* src = pixels;
    for (int64_t s = 0; s < samples; ++s)
        for (int64_t c = 0; c < channels; ++c) {
            const std::array<float, 256>& table = tables[size_t(c)];
            for (int64_t i = 0; i < pixelsPerChannel; ++i) *dst++ = table[*src++];
        }
    return out;
}

InMemoryDataset loadIdxDataset(const std::string& imagesPath, const std::string& labelsPath,
                               const IdxLoadOptions& options) {
    IdxArray images = readIdxFile(imagesPath, options.maxSamples);
    if (images.dims.size() != 3 && images.dims.size() != 4)
        throw invalidInput("The IDX file " + imagesPath + " has " +
                           dimensionCount(images.dims) + " (" +
                           dimsText(images.dims) +
                           ") where images need 3 (count, height, width) or 4 (count, channels, "
                           "height, width); give an images file such as train-images-idx3-ubyte.gz.");
    std::vector<int64_t> sampleShape(images.dims.begin() + 1, images.dims.end());
    if (sampleShape.size() == 2) sampleShape.insert(sampleShape.begin(), 1);

    std::vector<int64_t> labels;
    if (!labelsPath.empty()) {
        const IdxArray labelFile = readIdxFile(labelsPath, options.maxSamples);
        if (labelFile.dims.size() != 1)
            throw invalidInput("The IDX file " + labelsPath + " has " +
                               dimensionCount(labelFile.dims) + " (" +
                               dimsText(labelFile.dims) +
                               ") where labels need 1 (count); give a labels file such as "
                               "train-labels-idx1-ubyte.gz.");
        if (labelFile.dims[0] != images.dims[0])
            throw invalidInput("The labels file " + labelsPath + " holds " +
                               std::to_string(labelFile.dims[0]) + " labels but the images file " +
                               imagesPath + " holds " + std::to_string(images.dims[0]) +
                               " images (labels count mismatch); give the labels that belong to "
                               "these images.");
        labels.assign(labelFile.bytes.begin(), labelFile.bytes.end());
        const int64_t classes = int64_t(options.classNames.size());
        if (classes > 0)
            for (size_t i = 0; i < labels.size(); ++i)
                if (labels[i] >= classes)
                    throw invalidInput("The labels file " + labelsPath + " gives image " +
                                       std::to_string(i) + " the label " +
                                       std::to_string(labels[i]) +
                                       ", out of range for its " + std::to_string(classes) +
                                       " classes (0 to " + std::to_string(classes - 1) +
                                       "); give the labels file that belongs to this data set.");
    }

    const int64_t channels = sampleShape[0];
    std::vector<float> pixels = normalizePixels(images.bytes.data(), images.itemsRead, channels,
                                                sampleShape[1] * sampleShape[2],
                                                options.normalization);
    std::string description = options.description;
    if (description.empty()) {
        description = "IDX " + fileName(imagesPath) + ", " + std::to_string(images.itemsRead) +
                      " images";
        if (images.itemsRead < images.dims[0])
            description += " (first of " + std::to_string(images.dims[0]) + ")";
    }
    return InMemoryDataset(std::move(sampleShape), std::move(pixels), std::move(labels),
                           options.classNames, std::move(description));
}

}  // namespace ptq
