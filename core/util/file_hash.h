#pragma once
/// @file
/// Content hashes of user files (model identity in tables, allocations and configs).

#include <string>

namespace ptq {

/// SHA-256 of the file at @p path, lower-case hex. Any thread; reads the whole file.
/// Throws ptq::Error (InvalidInput) when the file cannot be read.
std::string fileSha256(const std::string& path);

}  // namespace ptq
