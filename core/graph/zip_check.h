#pragma once
/// @file
/// Checks the entries of a zip archive (a TorchScript .pt), stored or deflated, against the size
/// and CRC-32 its central directory records, before LibTorch reads them: LibTorch's zip reader
/// does not check them (its code entries are deflated, its data stored),
/// so a file damaged on disk or in transfer reached its TorchScript compiler and unpickler,
/// where damaged code can crash the process (fuzz_importer found a segmentation fault there).
/// Plain C++ (zlib); any thread.

#include <string>

namespace ptq {

/// Empty when every entry's content matches its size and CRC-32, or when the file has no zip
/// end record (LibTorch's reader then says it is not a zip or is cut); otherwise what is damaged,
/// as words that follow "is damaged: ": a directory or local header that does not parse, an
/// entry past the end, a compression method or flag no saved model uses, deflate data that
/// does not inflate, a size or CRC-32 that does not match. Reads zip64 layouts.
std::string findZipDamage(const std::string& path);

}  // namespace ptq
