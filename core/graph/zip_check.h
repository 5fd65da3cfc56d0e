#pragma once
/// @file
/// Checks the stored entries of a zip archive (a TorchScript .pt) against the CRC-32 its central
/// directory records, before LibTorch reads them: LibTorch's zip reader does not check them,
/// so a file damaged on disk or in transfer reached its TorchScript compiler and unpickler,
/// where damaged code can crash the process (fuzz_importer found a segmentation fault there).
/// Plain C++ (zlib); any thread.

#include <string>

namespace ptq {

/// Empty when every stored entry's bytes match their CRC-32 (or the archive uses a layout the
/// check does not read: zip64 directory fields, compressed entries; LibTorch decides there);
/// otherwise which entry is damaged and how.
std::string findZipDamage(const std::string& path);

}  // namespace ptq
