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

uint64_t le64(const unsigned char* p) { return uint64_t(le(p, 4)) | (uint64_t(le(p + 4, 4)) << 32); }

/// The zip64 values of a central-directory entry: an extra field 0x0001 holds, in this order,
/// those of the uncompressed size, compressed size and local offset whose 32-bit field is
/// 0xffffffff. False when the field is missing or short.
bool readZip64Extra(const unsigned char* extra, uint32_t length, uint64_t& size, uint64_t& compressed,
                    uint64_t& local) {
    for (uint32_t at = 0; at + 4 <= length;) {
        const uint32_t id = le(extra + at, 2), bytes = le(extra + at + 2, 2);
        if (at + 4 + bytes > length) return false;
        if (id == 0x0001) {
            uint32_t k = at + 4;
            for (uint64_t* v : {&size, &compressed, &local}) {
                if (*v != 0xffffffffu) continue;
                if (k + 8 > at + 4 + bytes) return false;
                *v = le64(extra + k);
                k += 8;
            }
            return true;
        }
        at += 4 + bytes;
    }
    return false;
}

}  // namespace

std::string findZipDamage(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    in.seekg(0, std::ios::end);
    const auto fileSize = static_cast<uint64_t>(in.tellg());
    auto readAt = [&](uint64_t offset, void* to, uint64_t bytes) {
        if (offset > fileSize || bytes > fileSize - offset) return false;
        in.clear();
        in.seekg(static_cast<std::streamoff>(offset));
        return bool(in.read(static_cast<char*>(to), static_cast<std::streamsize>(bytes)));
    };
    // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
    const uint64_t tailSize = std::min<uint64_t>(fileSize, 22 + 65535);
    std::vector<unsigned char> tail(tailSize);
    if (!readAt(fileSize - tailSize, tail.data(), tailSize)) return {};
    size_t eocd = std::string::npos;
    for (size_t i = tailSize >= 22 ? tailSize - 22 + 1 : 0; i-- > 0;)
        if (le(&tail[i], 4) == 0x06054b50) {
            eocd = i;
            break;
        }
    if (eocd == std::string::npos) return {};  // no end record: LibTorch's reader says it is not a zip or cut
    uint64_t entries = le(&tail[eocd + 10], 2);
    uint64_t cdSize = le(&tail[eocd + 12], 4);
    uint64_t cdOffset = le(&tail[eocd + 16], 4);
    if (entries == 0xffff || cdSize == 0xffffffffu || cdOffset == 0xffffffffu) {
        // zip64 (archives over 4 GB): the locator just before the end record names the zip64 end record.
        const uint64_t eocdAt = fileSize - tailSize + eocd;
        unsigned char locator[20], record[56];
        if (eocdAt < 20 || !readAt(eocdAt - 20, locator, 20) || le(locator, 4) != 0x07064b50 ||
            !readAt(le64(locator + 8), record, 56) || le(record, 4) != 0x06064b50)
            return "its zip64 end record is missing or damaged";
        entries = le64(record + 32);
        cdSize = le64(record + 40);
        cdOffset = le64(record + 48);
    }
    if (cdOffset > fileSize || cdSize > fileSize - cdOffset || entries > cdSize / 46)
        return "its central directory does not fit the file";
    std::vector<unsigned char> cd(cdSize);
    if (!readAt(cdOffset, cd.data(), cdSize)) return "its central directory cannot be read";
    std::vector<char> buffer(1 << 16);
    size_t at = 0;
    for (uint64_t e = 0; e < entries; ++e) {
        if (at + 46 > cd.size() || le(&cd[at], 4) != 0x02014b50)
            return "its central directory is damaged at entry " + std::to_string(e + 1);
        const uint32_t flags = le(&cd[at + 8], 2);
        const uint32_t method = le(&cd[at + 10], 2);
        const uint32_t crc = le(&cd[at + 16], 4);
        uint64_t compressed = le(&cd[at + 20], 4);
        uint64_t size = le(&cd[at + 24], 4);
        const uint32_t nameLength = le(&cd[at + 28], 2);
        const uint32_t extraLength = le(&cd[at + 30], 2);
        const uint32_t commentLength = le(&cd[at + 32], 2);
        uint64_t local = le(&cd[at + 42], 4);
        if (at + 46 + nameLength + extraLength + commentLength > cd.size())
            return "its central directory is damaged at entry " + std::to_string(e + 1);
        const std::string name(reinterpret_cast<const char*>(&cd[at + 46]), nameLength);
        if ((compressed == 0xffffffffu || size == 0xffffffffu || local == 0xffffffffu) &&
            !readZip64Extra(&cd[at + 46 + nameLength], extraLength, size, compressed, local))
            return "the entry " + name + " lacks the zip64 sizes its directory entry promises";
        at += 46 + nameLength + extraLength + commentLength;
        if (flags & 1) return "the entry " + name + " is marked encrypted, which no saved model is";
        if (method != 0 && method != 8)
            return "the entry " + name + " uses compression method " + std::to_string(method) +
                   ", which no saved model uses";
        unsigned char header[30];
        if (!readAt(local, header, 30) || le(header, 4) != 0x04034b50)
            return "the local header of the entry " + name + " is damaged";
        const uint64_t data = local + 30 + le(header + 26, 2) + le(header + 28, 2);
        if (data > fileSize || compressed > fileSize - data)
            return "the entry " + name + " runs past the end of the file";
        in.clear();
        in.seekg(static_cast<std::streamoff>(data));
        const EntryCheck got = method == 0 ? readStored(in, compressed, buffer) : readDeflated(in, compressed, size, buffer);
        if (!got.readable) return "the entry " + name + " cannot be read";
        if (!got.inflated) return "the entry " + name + " holds compressed data that does not inflate";
        if (got.size != size)
            return "the entry " + name + " holds " + std::to_string(got.size) + " bytes where its directory says " +
                   std::to_string(size);
        if (got.crc != crc) return "the entry " + name + " does not match its CRC-32";
    }
    return {};
}

}  // namespace ptq
