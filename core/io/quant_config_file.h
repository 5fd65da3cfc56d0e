#pragma once
/// @file
/// PTQ Studio's own configuration format ("ptq-config", version 1; docs/config-format.md): the
/// model's identity, how the configuration was made, the measured and predicted figures, and
/// per layer its option, quantizer parameters (scales, zero points, shifts, multipoint terms),
/// integer weights and tuned bias, so that importing it reproduces the same model exactly.
///
/// Plain C++ header; any one thread per call.

#include "core/quant/quant_config.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ptq {

class Graph;
class QuantizedModel;

/// How the configuration was made and what it measured; written as given.
struct ConfigProvenance {
    std::string modelPath;
    std::string pipeline;           ///< e.g. "light", "advanced"
    std::string calibration;        ///< the data source name, or "distilled data"
    uint64_t seed = 0;
    std::string allocation;         ///< the allocation file it came from; empty for uniform bits
    std::string evaluation;         ///< the evaluation data source of the figures below
    std::optional<double> fp32Top1, quantTop1, predictedTop1;
};

/// Writes @p model (calibrated) as a configuration file, atomically (QSaveFile). Throws
/// ptq::Error (Failed) when the file cannot be written, (InvalidInput) when the model file
/// cannot be read for its hash.
void writeQuantConfig(const std::string& path, const QuantizedModel& model, const ConfigProvenance& provenance);

/// A configuration read back, checked against a graph: what QuantizedModel needs to run it.
struct ImportedConfig {
    std::string modelFile, modelSha256;
    ConfigProvenance provenance;
    QuantConfig config;
    struct Layer;  ///< tensors; defined in the .cpp
    std::map<std::string, std::shared_ptr<const Layer>> layers;
};

/// Reads @p path and checks it against @p graph (BatchNorms folded, as for quantizing).
/// Throws ptq::Error (InvalidInput) naming the file and the offending JSON path (for example
/// "layers[3].w_bits") for malformed JSON, another format or version, layer names the model
/// lacks (or layers it has that the file misses), bits out of range, or arrays of the wrong
/// length. Nothing is changed when it throws.
ImportedConfig readQuantConfig(const std::string& path, const Graph& graph);

/// A QuantizedModel over @p graph that runs @p imported exactly (no data needed).
std::unique_ptr<QuantizedModel> restoreQuantizedModel(const Graph& graph, const ImportedConfig& imported);

/// The SHA-256 that @p imported records differs from @p modelPath's content (another or a
/// changed model): a sentence to warn with, or empty when they match.
std::string modelMismatch(const ImportedConfig& imported, const std::string& modelPath);

}  // namespace ptq
