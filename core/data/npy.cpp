#include "core/data/npy.h"

#include "core/data/idx.h"
#include "core/util/error.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.cpp copies little-endian float32 data as is; add byte swapping for this host."
#endif

namespace ptq {

namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;

struct NpyHeader {
    std::string descr;
    bool fortranOrder = false;
    std::vector<int64_t> shape;
    int64_t dataOffset = 0;
};

[[noreturn]] void fail(const std::string& path, const std::string& whatAndWhatToDo) {
    throw invalidInput("The .npy file " + path + " " + whatAndWhatToDo);
}

void skipSpaces(const std::string& text, size_t& pos) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
}

/// Position just after "'key':" in the header's dict literal, or npos.
size_t valueStart(const std::string& header, const std::string& key) {
    for (const char quote : {'\'', '"'}) {
        const size_t at = header.find(quote + key + quote);
        if (at == std::string::npos) continue;
        size_t pos = at + key.size() + 2;
        skipSpaces(header, pos);
        if (pos < header.size() && header[pos] == ':') {
            ++pos;
            skipSpaces(header, pos);
            return pos;
        }
    }
    return std::string::npos;
}

NpyHeader parseHeader(const std::string& path, const std::string& header, int64_t dataOffset) {
    std::string shown = header.substr(0, 120);
    while (!shown.empty() && std::isspace(static_cast<unsigned char>(shown.back()))) shown.pop_back();
    const std::string malformed = "has a malformed header (" + shown + "); save it again with numpy.save.";
    NpyHeader parsed;
    parsed.dataOffset = dataOffset;

    size_t pos = valueStart(header, "descr");
    if (pos == std::string::npos) fail(path, malformed);
    if (header[pos] != '\'' && header[pos] != '"')
        fail(path, "holds a structured dtype; save a plain float32 or uint8 array.");
    const size_t descrEnd = header.find(header[pos], pos + 1);
    if (descrEnd == std::string::npos) fail(path, malformed);
    parsed.descr = header.substr(pos + 1, descrEnd - pos - 1);

    pos = valueStart(header, "fortran_order");
    if (pos == std::string::npos) fail(path, malformed);
    if (header.compare(pos, 4, "True") == 0) parsed.fortranOrder = true;
    else if (header.compare(pos, 5, "False") != 0) fail(path, malformed);

    pos = valueStart(header, "shape");
    if (pos == std::string::npos || header[pos] != '(') fail(path, malformed);
    const size_t shapeEnd = header.find(')', pos);
    if (shapeEnd == std::string::npos) fail(path, malformed);
    const std::string dims = header.substr(pos + 1, shapeEnd - pos - 1);
    size_t at = 0;
    while (at < dims.size()) {
        skipSpaces(dims, at);
        if (at >= dims.size()) break;
        size_t used = 0;
        try {
            parsed.shape.push_back(std::stoll(dims.substr(at), &used));
        } catch (const std::exception&) {
            fail(path, malformed);
        }
        if (parsed.shape.back() < 0) fail(path, malformed);
        at += used;
        skipSpaces(dims, at);
        if (at < dims.size() && dims[at] != ',') fail(path, malformed);
        ++at;
    }
    return parsed;
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

InMemoryDataset loadNpyDataset(const std::string& path, const Normalization& normalization) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        fail(path, std::filesystem::exists(path, ec) ? "is not a regular file; give a .npy file."
                                                     : "does not exist; check the path.");
    const int64_t fileBytes = int64_t(std::filesystem::file_size(path, ec));
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file)
        fail(path, "cannot be opened (" + std::string(std::strerror(errno)) +
                   "); check its permissions.");

    unsigned char preamble[12] = {};
    const size_t preambleRead = std::fread(preamble, 1, 10, file.get());
    if (preambleRead < 10 || std::memcmp(preamble, kMagic, kMagicBytes) != 0)
        fail(path, "is not a NumPy .npy file (wrong magic: it does not start with \\x93NUMPY); "
                   "save the array with numpy.save.");
    const int major = preamble[6];
    if (major < 1 || major > 3)
        fail(path, "uses .npy format version " + std::to_string(major) +
                   ", which is not supported; save it with numpy.save (versions 1 to 3).");
    int64_t headerBytes = preamble[8] | (preamble[9] << 8);
    int64_t dataOffset = 10;
    if (major >= 2) {
        if (std::fread(preamble + 10, 1, 2, file.get()) < 2)
            fail(path, "is truncated inside its header; save it again.");
        headerBytes = int64_t(preamble[8]) | (int64_t(preamble[9]) << 8) |
                      (int64_t(preamble[10]) << 16) | (int64_t(preamble[11]) << 24);
        dataOffset = 12;
    }
    if (dataOffset + headerBytes > fileBytes)
        fail(path, "is truncated (expected a header of " + std::to_string(headerBytes) +
                   " bytes, found " + std::to_string(std::max<int64_t>(0, fileBytes - dataOffset)) +
                   "); save it again.");
    std::string headerText(size_t(headerBytes), '\0');
    if (std::fread(headerText.data(), 1, headerText.size(), file.get()) < headerText.size())
        fail(path, "could not be read to the end of its header; check the file.");
    dataOffset += headerBytes;
    const NpyHeader header = parseHeader(path, headerText, dataOffset);

    const std::string& d = header.descr;
    const bool isFloat32 = d == "<f4" || d == "f4";
    const bool isUint8 = d == "|u1" || d == "u1" || d == "<u1" || d == ">u1" || d == "=u1";
    if (d == ">f4")
        fail(path, "holds big-endian float32 (dtype '>f4'); save it little-endian with "
                   "array.astype('<f4').");
    if (!isFloat32 && !isUint8)
        fail(path, "has dtype '" + d + "', which is not supported; save float32 or uint8 images "
                   "with array.astype(numpy.float32) or array.astype(numpy.uint8).");
    if (header.fortranOrder)
        fail(path, "is stored in Fortran order; save it in C order with "
                   "numpy.save(path, numpy.ascontiguousarray(array)).");
    if (header.shape.size() != 3 && header.shape.size() != 4)
        fail(path, "has shape " + shapeToString(header.shape) + " of " +
                   std::to_string(header.shape.size()) +
                   " dimensions; images need (N, C, H, W) or (N, H, W).");
    for (int64_t dim : header.shape)
        if (dim == 0)
            fail(path, "has shape " + shapeToString(header.shape) +
                       " with a zero dimension, so it holds no data; save at least one image.");

    std::vector<int64_t> sampleShape(header.shape.begin() + 1, header.shape.end());
    if (sampleShape.size() == 2) sampleShape.insert(sampleShape.begin(), 1);
    const int64_t samples = header.shape[0];
    const int64_t perSample = sampleShape[0] * sampleShape[1] * sampleShape[2];
    const int64_t itemBytes = isFloat32 ? 4 : 1;
    const int64_t found = fileBytes - dataOffset;
    if (perSample > (int64_t(1) << 36) / itemBytes / samples)
        fail(path, "claims shape " + shapeToString(header.shape) +
                   ", more than 64 GiB, so its header is damaged; save it again.");
    const int64_t expected = samples * perSample * itemBytes;
    if (found < expected)
        fail(path, "is truncated (expected " + std::to_string(expected) + " bytes of data, found " +
                   std::to_string(found) + "); save or copy it again.");
    if (found > expected)
        fail(path, "has " + std::to_string(found - expected) +
                   " bytes after its data; it is damaged, so save it again.");

    std::vector<float> images;
    if (isFloat32) {
        images.resize(size_t(samples * perSample));
        if (std::fread(images.data(), 4, images.size(), file.get()) < images.size())
            fail(path, "could not be read to the end; check the file.");
        for (size_t i = 0; i < images.size(); ++i)
            if (!std::isfinite(images[i]))
                fail(path, "holds a value that is not finite (NaN or infinity) in sample " +
                           std::to_string(int64_t(i) / perSample) + "; fix the data.");
    } else {
        std::vector<uint8_t> pixels(size_t(samples * perSample));
        if (std::fread(pixels.data(), 1, pixels.size(), file.get()) < pixels.size())
            fail(path, "could not be read to the end; check the file.");
        images = normalizePixels(pixels.data(), samples, sampleShape[0],
                                 sampleShape[1] * sampleShape[2], normalization);
    }
    const std::string name = std::filesystem::path(path).filename().string();
    return InMemoryDataset(std::move(sampleShape), std::move(images), {}, {},
                           "npy " + name + ", " + std::to_string(samples) + " images (" +
                               (isFloat32 ? "float32" : "uint8") + ")");
}

}  // namespace ptq
