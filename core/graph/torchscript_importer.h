#pragma once
/// @file
/// TorchScript (.pt) → Graph IR. The importer never runs the model's TorchScript code: it
/// reads the inlined forward graph, resolves module attributes and shape checks at import time,
/// maps each tensor operation to an IR op, and infers shapes by running those IR ops (the same
/// kernels the executor uses) on one zero sample.

#include "core/graph/graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace torch {
namespace jit {
struct Module;
}
}  // namespace torch

namespace ptq {

/// Imports the model at @p path for one input sample of shape @p sampleShape (C x H x W).
/// Any thread. Throws ptq::Error (InvalidInput) with one sentence for: a missing, empty,
/// truncated or non-TorchScript file, a state_dict, a forward with other than one input, a
/// parameter or buffer with no elements or with NaN/Inf values (named), and operations the IR
/// does not know (each named with where it stands and how often).
Graph importTorchScript(const std::string& path, const std::vector<int64_t>& sampleShape);

/// A guess at one input sample's shape (C x H x W) from the model's parameters, for a person to
/// confirm: the first 4-dimensional weight gives the channels (its second dimension), with
/// 224 x 224 for 3 channels and 28 x 28 otherwise; a first 2-dimensional weight whose input width
/// is C x K x K for C of 1 or 3 gives C, K, K. Empty when nothing fits. TorchScript files saved
/// by this LibTorch do not record the traced input's shape, so this is a suggestion only.
/// Any thread. Throws ptq::Error (InvalidInput) as loadTorchScriptModule does.
std::vector<int64_t> guessInputShape(const std::string& path);

/// Loads a TorchScript module in eval mode with the same checks and error sentences as
/// importTorchScript (core .cpp only: needs LibTorch's complete types).
torch::jit::Module loadTorchScriptModule(const std::string& path);

}  // namespace ptq
