#pragma once
/// @file
/// The per-layer report of a quantized model as CSV, for people and spreadsheets: option, bits,
/// granularity, points, parameters, MACs, weight bits, BOPs, scale ranges, activation params.

#include <string>

namespace ptq {

class QuantizedModel;

/// Writes the report of @p model (calibrated) atomically. Any one thread. Throws ptq::Error
/// (Failed) when the file cannot be written.
void writeLayerCsv(const std::string& path, const QuantizedModel& model);

}  // namespace ptq
