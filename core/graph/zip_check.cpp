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

struct EntryCheck {
    bool readable = true;  ///< false: the file ended early (LibTorch's reader reports that)
    bool inflated = true;  ///< false: deflate data that zlib refuses
    uint64_t size = 0;     ///< bytes of content (inflated), at most the declared size + 1
    uint32_t crc = 0;
};

EntryCheck readStored(std::ifstream& in, uint64_t bytes, std::vector<char>& buffer) {
    EntryCheck out;
    uLong sum = crc32(0L, Z_NULL, 0);
    for (uint64_t left = bytes; left > 0;) {
        const auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, buffer.size()));
        if (!in.read(buffer.data(), n)) {
            out.readable = false;
            return out;
        }
        sum = crc32(sum, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(n));
        left -= static_cast<uint64_t>(n);
    }
    out.size = bytes;
    out.crc = static_cast<uint32_t>(sum);
    return out;
}

/// Inflates @p bytes of raw deflate data in chunks (never more than one chunk in memory), with
/// the CRC-32 of what comes out; stops once the output passes @p declared.
EntryCheck readDeflated(std::ifstream& in, uint64_t bytes, uint64_t declared, std::vector<char>& buffer) {
    EntryCheck out;
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return out;  // no memory: let LibTorch decide
    std::vector<unsigned char> plain(1 << 16);
    uLong sum = crc32(0L, Z_NULL, 0);
    int rc = Z_OK;
    for (uint64_t left = bytes;;) {
        if (z.avail_in == 0 && left > 0) {
            const auto n = static_cast<std::streamsize>(std::min<uint64_t>(left, buffer.size()));
            if (!in.read(buffer.data(), n)) {
                out.readable = false;
                break;
            }
            left -= static_cast<uint64_t>(n);
            z.next_in = reinterpret_cast<Bytef*>(buffer.data());
            z.avail_in = static_cast<uInt>(n);
        }
        z.next_out = plain.data();
        z.avail_out = static_cast<uInt>(plain.size());
        rc = inflate(&z, Z_NO_FLUSH);  // Z_BUF_ERROR once the data ends before the stream does
        const size_t produced = plain.size() - z.avail_out;
        sum = crc32(sum, plain.data(), static_cast<uInt>(produced));
        out.size += produced;
        if (rc != Z_OK || out.size > declared) break;
    }
    out.inflated = out.readable && (rc == Z_STREAM_END || out.size > declared);
    out.crc = static_cast<uint32_t>(sum);
    inflateEnd(&z);
    return out;
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
        const uint32_t size = le(&cd[at + 24], 4);
        const uint32_t nameLength = le(&cd[at + 28], 2);
        const uint32_t extraLength = le(&cd[at + 30], 2);
        const uint32_t commentLength = le(&cd[at + 32], 2);
        const uint32_t local = le(&cd[at + 42], 4);
        if (at + 46 + nameLength > cd.size()) return {};
        const std::string name(reinterpret_cast<const char*>(&cd[at + 46]), nameLength);
        at += 46 + nameLength + extraLength + commentLength;
        if ((method != 0 && method != 8) || compressed == 0xffffffffu || size == 0xffffffffu || local == 0xffffffffu)
            continue;  // not read here
        unsigned char header[30];
        in.seekg(local);
        if (!in.read(reinterpret_cast<char*>(header), 30) || le(header, 4) != 0x04034b50) return {};
        const uint64_t data = uint64_t(local) + 30 + le(header + 26, 2) + le(header + 28, 2);
        if (data + compressed > fileSize) return {};  // cut: LibTorch's reader says so
        in.seekg(static_cast<std::streamoff>(data));
        const EntryCheck got = method == 0 ? readStored(in, compressed, buffer) : readDeflated(in, compressed, size, buffer);
        if (!got.readable) return {};
        if (!got.inflated) return "the entry " + name + " holds compressed data that does not inflate";
        if (got.size != size)
            return "the entry " + name + " holds " + std::to_string(got.size) + " bytes where its directory says " +
                   std::to_string(size);
        if (got.crc != crc) return "the entry " + name + " does not match its CRC-32";
    }
    return {};
}

}  // namespace ptq
