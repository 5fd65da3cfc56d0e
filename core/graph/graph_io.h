#pragma once
/// @file
/// The graph IR as bytes: what the import helper (app/import_main.cpp, `ptq-import`) sends back
/// to the process that asked for an import (core/graph/import_process.h). Everything a Graph
/// holds goes over: nodes (op, name, scope, inputs, outputs, every attribute variant), values
/// (name, shape, producer, parameter key, consumers), the graph's input and outputs, the
/// parameter tensors (dtype, shape and raw bytes; float, double, half, bfloat16, int64, int32,
/// int16, int8, uint8 and bool) and the buffer marks.
///
/// The stream is little-endian and its tensor bytes are in the machine's order: it is for two
/// processes of one installation on one machine, not a file format to keep.
///
/// Reading trusts nothing: the stream comes from another process, which may have been stopped
/// half-way or be another build. Every count, length, id, dtype and tensor size is checked
/// against the stream and the graph's own structure (each node's outputs are produced by it, each
/// value's consumers are the nodes that read it, parameter keys name tensors in the stream), and
/// a bad stream is a ptq::Error (Failed) naming what is wrong and where, never undefined behaviour.

#include "core/graph/graph.h"

#include <cstddef>
#include <string>

namespace ptq {

/// The bytes of @p graph. Pure; any thread. Throws ptq::Error (Failed) for a parameter tensor of
/// a dtype the stream does not carry.
std::string writeGraph(const Graph& graph);

/// The graph the @p size bytes at @p data describe (as writeGraph wrote them). Any thread.
/// Throws ptq::Error (Failed) with one sentence for a stream that is cut, has bytes left over,
/// or describes an impossible graph.
Graph readGraph(const char* data, size_t size);

}  // namespace ptq
