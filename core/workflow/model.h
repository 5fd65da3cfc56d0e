#pragma once
/// @file
/// Opening a model: the one path from a model file to what every other step works on. It reads
/// the model card (the sidecar JSON), decides the input shape and the normalization, imports
/// the file into the graph IR, summarises it, folds its BatchNorms and describes the graph for
/// drawing. The command line's sub-commands, the GUI, the benchmarks and the tests all open
/// models here, so a rule about models (a default, a check, a notice) is written once.
///
/// Threads: openModel() is a long synchronous call for a worker thread; a LoadedModel is
/// immutable once made, so it can be shared between threads.

#include "core/data/data_source.h"
#include "core/data/dataset.h"
#include "core/model/model_summary.h"
#include "core/util/progress.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

class Graph;

/// Which model to open and what the user said about it beyond the file and its sidecar.
struct ModelRequest {
    std::string path;                  ///< a TorchScript file
    std::vector<int64_t> inputShape;   ///< one sample, C x H x W; empty: from the sidecar
};

/// One IR node as the graph view draws it.
struct DrawableNode {
    std::string name;
    std::string op;                      ///< displayOp(): "conv2d", "relu6", "add", ...
    std::vector<int64_t> outputShape;    ///< one sample, no batch dimension
    std::vector<int64_t> weightShape;    ///< conv/linear only
    int64_t params = 0, macs = 0;        ///< conv/linear only
    int layer = -1;                      ///< index into ModelSummary::layers; -1 when not quantizable
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

    /// Opens the data source @p source with this model's normalization, checked against its
    /// input shape. Long; any thread. Throws ptq::Error (InvalidInput) as openDataSource does.
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
};

/// Opens the model @p request names: its card, input shape (the request's, else the card's),
/// import, summary, BatchNorm folding and drawing. Long; any thread; @p progress is checked for
/// cancel between the stages. Throws ptq::Error (InvalidInput) with a sentence naming what is
/// wrong with the file or the shape, ptq::Cancelled when asked to stop.
std::shared_ptr<const LoadedModel> openModel(const ModelRequest& request, const Progress* progress = nullptr);

/// The summary of the model @p request names, without folding or drawing (ptq info).
ModelSummary summarizeModel(const ModelRequest& request);

}  // namespace ptq
