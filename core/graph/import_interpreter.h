#pragma once
/// @file
/// The importer's abstract interpreter over an inlined TorchScript graph (core-internal).

#include "core/graph/graph.h"

#include <string>
#include <vector>

namespace torch {
namespace jit {
struct Graph;
struct Module;
}  // namespace jit
}  // namespace torch

namespace ptq {

/// Walks @p tsGraph (inlined forward of @p module) once: non-tensor values and module
/// attributes are evaluated, taken branches and loops are followed, tensor ops become IR nodes.
/// @p path only names the file in error sentences.
Graph interpretForward(torch::jit::Graph& tsGraph, const torch::jit::Module& module,
                       const std::vector<int64_t>& sampleShape, const std::string& path);

}  // namespace ptq
