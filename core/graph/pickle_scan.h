#pragma once
/// @file
/// A structural check of one pickle stream (protocol 0–5 opcodes) before LibTorch's unpickler
/// reads it: it walks the opcodes and reports a length that runs past the end of the stream or
/// a memo index larger than the stream could have filled. LibTorch trusts both: a damaged
/// LONG_BINPUT index makes its unpickler grow the memo to that size (29.6 GB in a file the
/// importer fuzz target found), a damaged string length makes it read that much. A well-formed
/// pickle never has either, so the check refuses no valid file. Plain C++; any thread.

#include <cstddef>
#include <cstdint>
#include <string>

namespace ptq {

/// Empty when nothing is wrong (or the walk met an opcode it does not know, after which
/// LibTorch's own checks decide); otherwise what is wrong and at which byte.
std::string findPickleDamage(const uint8_t* data, size_t size);

}  // namespace ptq
