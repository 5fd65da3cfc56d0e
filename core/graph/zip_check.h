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

/// Empty when every stored or deflated entry's content matches its size and CRC-32 (or the
/// archive uses a layout the check does not read: zip64 directory fields, other compression
/// methods; LibTorch decides there); otherwise which entry is damaged and how.
std::string findZipDamage(const std::string& path);

}  // namespace ptq
