#pragma once
/// @file
/// Opening a model: the one path from a model file to what every other step works on. It reads
/// the model card (the sidecar JSON), decides the input shape and the normalization, imports
/// the file into the graph IR, summarises it, folds its BatchNorms and describes the graph for
/// drawing. The command line's sub-commands, the GUI, the benchmarks and the tests all open
/// models here, so a rule about models (a default, a check, a notice) is written once.
///
/// The file is read in the import helper, a child process (core/graph/import_process.h): a file
/// that crashes LibTorch's TorchScript reader is a ptq::Error here, not the end of the program.
/// When the helper is not found, the import runs in this process and the log warns.
///
/// Threads: openModel() is a long synchronous call for a worker thread; a LoadedModel is
/// immutable once made, so it can be shared between threads.

#include "core/data/data_source.h"
#include "core/data/dataset.h"
#include "core/model/model_card.h"
#include "core/model/model_summary.h"
#include "core/util/progress.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

class Graph;

/// Which model to open and what the user said about it beyond the file and its sidecar. What
/// is given here wins over the sidecar, field by field. Plain data.
struct ModelRequest {
    std::string path;                  ///< a TorchScript or ONNX file
    std::vector<int64_t> inputShape;   ///< one sample, C x H x W; empty: from the sidecar
    /// Per-channel normalization (one value applies to every channel); both or neither.
    std::vector<float> mean, std;
    /// A normalization preset (normalizationPresets()): its mean, std and crop ratio. Not
    /// together with mean and std.
    std::string preset;
    std::optional<double> cropRatio;   ///< overrides the card's and the preset's
    std::vector<std::string> classNames;

    /// Whether the request itself says how pixels are normalized.
    bool givesNormalization() const { return !preset.empty() || !mean.empty() || !std.empty(); }
};

/// A request that opens @p path with @p card whatever its sidecar says (a project's card, the
/// model card dialog's): the shape, the preset (or mean and std), crop ratio and class names.
ModelRequest requestWithCard(const std::string& path, const ModelCard& card);

/// Where a loaded model's normalization came from.
enum class NormalizationOrigin {
    Request,  ///< the user's request (mean/std or a preset)
    Sidecar,  ///< the model card next to the file
    FileMetadata,  ///< the ONNX file's own metadata (written by this app's ONNX export)
    Default   ///< neither said: pixels go in as [0, 1]
};

/// The model card that applies when @p request is opened: the sidecar's (when there is one)
/// with the request's fields over it, checked (validateModelCard). Sets @p origin. Reads only
/// the sidecar; any thread. Throws ptq::Error (InvalidInput) for a bad sidecar or request.
ModelCard effectiveModelCard(const ModelRequest& request, NormalizationOrigin* origin = nullptr);

/// One IR node as the graph view draws it.
struct DrawableNode {
    std::string name;
    std::string op;                      ///< displayOp(): "conv2d", "relu6", "add", ...
    std::vector<int64_t> outputShape;    ///< one sample, no batch dimension
    std::vector<int64_t> weightShape;    ///< conv/linear only
    int64_t params = 0, macs = 0;        ///< conv/linear only
    int layer = -1;                      ///< index into ModelSummary::layers; -1 when not an allocation layer
};

/// Every node of the graph (graph input first, as node 0 named "input") and the data-flow
/// edges between them, as (from, to) indices into nodes.
struct DrawableGraph {
    std::vector<DrawableNode> nodes;
    std::vector<std::pair<int, int>> edges;
};

/// Builds the drawable description of @p graph. Pure; any thread.
DrawableGraph describeGraph(const Graph& graph);

/// A model opened for work: its graph (BatchNorms folded), summary, drawing and the
/// normalization its data gets. Immutable; shareable between threads.
class LoadedModel {
public:
    ~LoadedModel();
    const ModelSummary& summary() const { return summary_; }
    const DrawableGraph& drawing() const { return drawing_; }
    /// The graph with its BatchNorms folded into their producers (core/graph/passes.h).
    const Graph& graph() const;
    const std::string& path() const { return summary_.path; }
    /// One sample's shape, C x H x W.
    const std::vector<int64_t>& inputShape() const { return summary_.inputShape; }
    /// What 8-bit pixels of this model's data are normalized with (from the model card).
    const Normalization& normalization() const { return normalization_; }
    NormalizationOrigin normalizationOrigin() const { return origin_; }
    /// The model card in force: the sidecar's with the request's fields over it, the input
    /// shape resolved. What the GUI's model card dialog shows and can save.
    const ModelCard& card() const { return card_; }

    /// Opens the data source @p source with this model's normalization and crop ratio (images of
    /// another size are resized and centre-cropped), checked against its input shape. Long; any
    /// thread. Throws ptq::Error (InvalidInput) as openDataSource does.
    std::unique_ptr<Dataset> openData(const DataSourceSpec& source) const;
    /// A copy of the graph with its BatchNorms unfolded, as imported: what data-free
    /// distillation matches statistics on. Any thread.
    Graph unfoldedGraph() const;

private:
    friend std::shared_ptr<const LoadedModel> openModel(const ModelRequest&, const Progress*);
    LoadedModel();
    struct Impl;
    std::unique_ptr<Impl> impl_;
    ModelSummary summary_;
    DrawableGraph drawing_;
    Normalization normalization_;
    NormalizationOrigin origin_ = NormalizationOrigin::Default;
    ModelCard card_;
};

/// Opens the model @p request names: its card, input shape (the request's, else the card's),
/// import, summary, BatchNorm folding and drawing. Long; any thread; @p progress is checked for
/// cancel between the stages and every 50 ms while the helper imports (a cancel kills it). Throws ptq::Error (InvalidInput) with a sentence naming what is
/// wrong with the file or the shape, ptq::Cancelled when asked to stop.
std::shared_ptr<const LoadedModel> openModel(const ModelRequest& request, const Progress* progress = nullptr);

/// Whether the model file @p path says how its input is prepared without asking anyone: a
/// sidecar model card next to it, or an ONNX file whose metadata (this app's ONNX export) gives
/// the normalization and whose input fixes the shape. Reads only the sidecar or the metadata and
/// the input; any thread; false for a file that does not read.
bool carriesModelCard(const std::string& path);

/// A guess at the input shape of the model file @p path for a person to confirm (the model
/// card dialog): from its first layer's weight (core/graph/torchscript_importer.h,
/// guessInputShape); empty when nothing fits. Long (loads the file); any thread. Throws
/// ptq::Error (InvalidInput) for a file that does not load as TorchScript.
std::vector<int64_t> suggestInputShape(const std::string& path);

/// The summary of the model @p request names, without folding or drawing (ptq info).
ModelSummary summarizeModel(const ModelRequest& request);

}  // namespace ptq
