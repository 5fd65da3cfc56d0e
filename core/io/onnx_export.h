#pragma once
/// @file
/// ONNX exports (opset 13), written through core/onnx (Debian's libonnx: protobuf classes,
/// checker, shape inference), atomically (QSaveFile), and checked before anything is written:
///
/// - QDQ: the quantized model as the app measured it. Every quantized layer's weight is an
///   int8 (or uint8) initializer of the app's clamped integers with its per-channel (per-axis)
///   or per-tensor scales and zero points, through DequantizeLinear; every quantized layer's
///   input gets its own QuantizeLinear -> DequantizeLinear pair with the layer's activation
///   scale and zero point (uint8 for the app's unsigned grid, int8 for a signed one). Bit-widths
///   below 8 stay on their grid inside int8/uint8: the weight integers are the clamped ones,
///   and an activation below 8 bits is clipped to its grid's range before QuantizeLinear.
///   Layers at 16 bits and float layers are written in float (16-bit weights as the app's
///   fake-quantized values; no QuantizeLinear, which opset 13 has only for 8 bits), and so are
///   multipoint weights (a sum of grids is not one grid). BatchNorms are folded; tuned biases
///   and other tuned float parameters are the model's.
/// - FP32: the graph as the executor runs it (BatchNorms folded), float throughout.
///
/// The model's input is the tensor the executor reads (after the model card's normalization,
/// recorded in the file's metadata); the batch dimension is symbolic ("N"). An IR op without an
/// ONNX mapping is refused in one sentence naming the layer, and nothing is written.
/// Plain C++ header; any one thread.

#include <map>
#include <string>

namespace ptq {

class Graph;
class QuantizedModel;

struct OnnxExportOptions {
    std::string modelName;  ///< the graph's name
    std::map<std::string, std::string> metadata;  ///< metadata_props (normalization, source, ...)
};

struct OnnxExportReport {
    int nodes = 0;            ///< ONNX nodes written
    int quantizedLayers = 0;  ///< layers with integer weights
    int qdqPairs = 0;         ///< QuantizeLinear -> DequantizeLinear pairs on activations
    int floatLayers = 0;      ///< conv/linear layers written with float weights
    /// "ONNX QDQ (opset 13, 20 layers with int8 weights, 20 activation QDQ pairs)"
    std::string description;
};

/// Writes @p model (calibrated) as ONNX QDQ to @p path. Throws ptq::Error (InvalidInput) naming
/// the layer whose op has no ONNX mapping, (Failed) when the file cannot be written.
OnnxExportReport exportQuantizedOnnx(const QuantizedModel& model, const std::string& path,
                                     const OnnxExportOptions& options = {});

/// Writes @p graph in float to @p path. Same errors as exportQuantizedOnnx.
OnnxExportReport exportFloatOnnx(const Graph& graph, const std::string& path, const OnnxExportOptions& options = {});

}  // namespace ptq
