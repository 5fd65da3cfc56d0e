#pragma once
// Helpers shared by the `ptq` sub-commands: argument conversions and output formatting.

#include "cli/options.h"

#include <utility>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/workflow/model.h"
#include "core/workflow/settings.h"

namespace ptq {
struct AllocationFile;
struct EvalResult;
struct QuantizeRequest;
}  // namespace ptq

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
/// Reads --alloc FILE and sets @p req (model path already set) to run it: per-layer options,
/// granularity and ranges of its table, calibration data (--calib, else the table's), --eval,
/// --pipeline, --seed, --sequential, --adaquant-iters. Checks that the allocation was made for
/// the model's content. (cmd_evaluate.cpp)
AllocationFile requestFromAllocation(const Args& a, QuantizeRequest& req);
/// Writes the self-contained HTML report (core/io/html_report.h) of @p alloc, run as @p req
/// says, with the measured top-1 of @p quant and @p fp when given. (export_html.cpp)
void writeHtmlAllocationReport(const std::string& path, const AllocationFile& alloc, const QuantizeRequest& req,
                               const EvalResult* quant, const EvalResult* fp);
/// --pipeline, --sequential and --adaquant-blocks (with --block-iters, --block-layers) into
/// @p req's steps and AdaQuant options: --adaquant-blocks alone adds block reconstruction; with
/// --pipeline advanced it takes the place of per-layer AdaQuant.
void pipelineArgs(const Args& a, QuantizeRequest& req);
/// --input-shape C,H,W, or empty when absent.
std::vector<int64_t> inputShapeArg(const Args& a);
/// @p keys with the model card's options every command that opens a model takes:
/// --input-shape, --mean, --std, --preset, --classes and --crop-ratio.
std::set<std::string> withModelCard(std::set<std::string> keys);
/// The one positional MODEL and the model card's options, as the workflow's model request.
ModelRequest modelRequestArg(const Args& a, const std::string& command);
/// Opens @p request's model for a command that feeds it images; once it is open, says in one
/// line on stderr when neither the options nor the sidecar gave a normalization (pixels go in
/// as [0, 1]).
std::shared_ptr<const LoadedModel> openModelForData(const ModelRequest& request, const Progress* progress = nullptr);
/// The data source named by --@p option (else @p fallback), parsed once here; a default spec
/// (not given()) when neither names one.
DataSourceSpec dataSourceArg(const Args& a, const std::string& option, const std::string& fallback = {});
/// When @p skipped images of @p source were left out (--skip-bad), says so in one line on stderr.
void reportSkipped(const DataSourceSpec& source, int64_t skipped);
/// With --skip-bad on @p source, @p json gets "KEY_skipped": @p skipped (KEY "calib" or "eval").
void addSkipped(QJsonObject& json, const DataSourceSpec& source, int64_t skipped, const std::string& key);
/// --granularity, --weight-range, --act-range and --batch (each optional; defaults as given).
QuantizerSettings quantizerArgs(const Args& a, QuantizerSettings defaults = {});
/// --equalize-ranges and --equalize-dense: whether to range-equalize first, and whether the
/// groups dense convs read are rescaled too. Throws ptq::Error for --equalize-dense alone.
std::pair<bool, bool> equalizationArgs(const Args& a);

}  // namespace ptq::cli
