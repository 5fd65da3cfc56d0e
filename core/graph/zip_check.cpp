#include "core/graph/zip_check.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <vector>

namespace ptq {

namespace {

uint32_t le(const unsigned char* p, int bytes) {
    uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

std::string findZipDamage(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    in.seekg(0, std::ios::end);
    const auto fileSize = static_cast<uint64_t>(in.tellg());
    // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
    const uint64_t tailSize = std::min<uint64_t>(fileSize, 22 + 65535);
    std::vector<unsigned char> tail(tailSize);
    in.seekg(static_cast<std::streamoff>(fileSize - tailSize));
    if (!in.read(reinterpret_cast<char*>(tail.data()), static_cast<std::streamsize>(tailSize))) return {};
    size_t eocd = std::string::npos;
    for (size_t i = tailSize >= 22 ? tailSize - 22 + 1 : 0; i-- > 0;)
        if (le(&tail[i], 4) == 0x06054b50) {
            eocd = i;
            break;
        }
    if (eocd == std::string::npos) return {};  // LibTorch's reader says it is not a zip
    const uint32_t entries = le(&tail[eocd + 10], 2);
    const uint32_t cdSize = le(&tail[eocd + 12], 4);
    const uint32_t cdOffset = le(&tail[eocd + 16], 4);
    if (entries == 0xffff || cdSize == 0xffffffffu || cdOffset == 0xffffffffu) return {};  // zip64
    if (uint64_t(cdOffset) + cdSize > fileSize) return {};
    std::vector<unsigned char> cd(cdSize);
    in.seekg(cdOffset);
    if (!in.read(reinterpret_cast<char*>(cd.data()), cdSize)) return {};
    std::vector<char> buffer(1 << 16);
    size_t at = 0;
    for (uint32_t e = 0; e < entries; ++e) {
        if (at + 46 > cd.size() || le(&cd[at], 4) != 0x02014b50) return {};
        const uint32_t method = le(&cd[at + 10], 2);
        const uint32_t crc = le(&cd[at + 16], 4);
        const uint32_t compressed = le(&cd[at + 20], 4);
        const uint32_t nameLength = le(&cd[at + 28], 2);
        const uint32_t extraLength = le(&cd[at + 30], 2);
        const uint32_t commentLength = le(&cd[at + 32], 2);
        const uint32_t local = le(&cd[at + 42], 4);
        if (at + 46 + nameLength > cd.size()) return {};
        const std::string name(reinterpret_cast<const char*>(&cd[at + 46]), nameLength);
        at += 46 + nameLength + extraLength + commentLength;
        if (method != 0 || compressed == 0xffffffffu || local == 0xffffffffu) continue;  // not read here
        unsigned char header[30];
        in.seekg(local);
        if (!in.read(reinterpret_cast<char*>(header), 30) || le(header, 4) != 0x04034b50) return {};
        const uint64_t data = uint64_t(local) + 30 + le(header + 26, 2) + le(header + 28, 2);
        if (data + compressed > fileSize) return {};  // cut: LibTorch's reader says so
        in.seekg(static_cast<std::streamoff>(data));
        uLong sum = crc32(0L, Z_NULL, 0);
        for (uint64_t left = compressed; left > 0;) {
            const auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, buffer.size()));
            if (!in.read(buffer.data(), n)) return {};
            sum = crc32(sum, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(n));
            left -= static_cast<uint64_t>(n);
        }
        if (static_cast<uint32_t>(sum) != crc) return "the entry " + name + " does not match its CRC-32";
    }
    return {};
}

}  // namespace ptq
