#pragma once
/// @file
/// AIMET encodings: the quantizer parameters in the JSON layouts AIMET documents, version 0.6.1
/// (dicts keyed by tensor name, lists of per-channel entries with bitwidth / is_symmetric /
/// min / max / offset / scale) and version 1.0.0 (lists of entries with name / bw / dtype /
/// enc_type / is_sym / scale[] / offset[]). AIMET's offset is on the unsigned grid: min =
/// scale · offset, max = scale · (2^bits − 1 + offset); a symmetric b-bit weight has offset
/// −2^(b−1).
///
/// Parameters are keyed by the TorchScript parameter of the layer's weight. With a BatchNorm
/// folded into the layer the encodings are those of the folded weight, which is what
/// `ptq export --format torchscript` writes under that name. Activations (each layer's input
/// quantizer) are keyed by the name of the tensor feeding the layer in PTQ Studio's graph
/// (its producer's module path, or "input"). Plain C++ header; any one thread.

#include <string>

namespace ptq {

class QuantizedModel;

enum class AimetVersion { V0_6_1, V1_0_0 };

/// "0.6.1" or "1.0.0" -> the version; throws ptq::Error (InvalidInput) listing both otherwise.
AimetVersion aimetVersionFromString(const std::string& text);

/// Writes @p model's encodings (calibrated) atomically. Shift weights are written as their
/// per-channel scales (S / 2^shift). Throws ptq::Error (InvalidInput) for multipoint layers,
/// which AIMET's format cannot express (export json instead), (Failed) when it cannot write.
void writeAimetEncodings(const std::string& path, const QuantizedModel& model, AimetVersion version);

}  // namespace ptq
