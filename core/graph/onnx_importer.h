#pragma once
/// @file
/// ONNX (.onnx) → Graph IR: the file is read by core/onnx's reader (Debian's libonnx protobuf
/// classes), its initializers become parameters, its nodes IR ops (core/graph/onnx_import_ops.cpp
/// lists them), constant subgraphs (shape arithmetic, Constant nodes, weight transposes) are
/// folded at import, and every shape is probed by running the IR ops as the TorchScript importer
/// does, at a batch of one and again at two.

#include "core/graph/graph.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// Whether @p path names an ONNX file (extension .onnx, any case).
bool isOnnxPath(const std::string& path);

/// Imports the ONNX model at @p path. @p sampleShape (one sample, no batch) may be empty when the
/// file fixes every dimension but the batch; when given it must agree with the file's fixed
/// dimensions. Any thread. Throws ptq::Error (InvalidInput) with one sentence for: a missing,
/// empty, damaged or truncated file, a missing external-data file, ops of another domain or
/// without a mapping (each named, with how often), more than one input or a non-float one, a
/// dynamic dimension the sample shape does not give, shapes fixed to the exported batch.
Graph importOnnx(const std::string& path, const std::vector<int64_t>& sampleShape);

/// One sample's shape as the file fixes it (its input's dimensions after the first, C x H x W for
/// an NHWC input); empty when
/// a dimension is symbolic. Throws ptq::Error (InvalidInput) for a file that does not read.
std::vector<int64_t> onnxInputShape(const std::string& path);

/// How the file's input is laid out, read in one pass.
struct OnnxInputLayout {
    /// The file takes NHWC images that its first nodes transpose to NCHW (tf2onnx-style exports).
    /// The imported graph then takes NCHW, as every other model: one sample's shape is C x H x W
    /// and the transposes are gone.
    bool nhwc = false;
    /// The input's batch dimension as the file fixes it, or -1 when it is symbolic (any batch).
    int64_t fixedBatch = -1;
};

/// The input layout of the ONNX file at @p path. Throws as onnxInputShape.
OnnxInputLayout onnxInputLayout(const std::string& path);

}  // namespace ptq
