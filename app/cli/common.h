#pragma once
// Helpers shared by the `ptq` sub-commands: argument conversions and output formatting.

#include "cli/options.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdint>
#include <string>
#include <vector>

namespace ptq::cli {

/// "1x28x28" (with @p sep between the numbers).
std::string shapeText(const std::vector<int64_t>& s, const char* sep = "x");
QJsonArray jsonInts(const std::vector<int64_t>& v);
/// 1234567 -> "1.23 M".
std::string human(double v);
/// Writes @p o, indented, to stdout.
void printJson(const QJsonObject& o);
/// The one positional MODEL argument; throws a usage error naming @p command otherwise.
std::string modelArg(const Args& a, const std::string& command);
/// --input-shape C,H,W, or empty when absent.
std::vector<int64_t> inputShapeArg(const Args& a);

}  // namespace ptq::cli
