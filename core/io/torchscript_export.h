#pragma once
/// @file
/// Quantized TorchScript: the user's original module with every quantized layer's weight
/// replaced by its quantized (dequantized, float) values and its bias by the tuned one, so any
/// PyTorch can run the quantized weights as they are. Activations stay float (fake-quant of
/// activations is the app's, not the file's): the file matches the app's weight-only run.
///
/// A BatchNorm that was folded into its layer is kept as a module but set to the identity
/// (mean 0, var 1 - eps, scale 1) with the folded bias as its shift, so the layer's weight is
/// exactly the quantized folded weight. Plain C++ header.

#include <string>

namespace ptq {

class QuantizedModel;

struct TorchScriptExportReport {
    int layers = 0;          ///< quantized layers whose weights were replaced
    int batchNormsAbsorbed = 0;  ///< folded BatchNorms set to identity-with-shift
};

/// Loads @p modelPath (the file @p model's graph was imported from), writes the quantized
/// module to @p outPath atomically (QSaveFile). @p model must be calibrated. Any one thread.
/// Throws ptq::Error (InvalidInput) when the file does not hold the graph's parameters (another
/// model), (Failed) when it cannot be written.
TorchScriptExportReport exportQuantizedTorchScript(const std::string& modelPath, const QuantizedModel& model,
                                                   const std::string& outPath);

}  // namespace ptq
