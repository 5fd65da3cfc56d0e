#pragma once
/// @file
/// The state a user works on in the GUI, as plain C++ (no LibTorch types): the open model
/// (its graph, summary and a drawable description of the graph), the calibration source, the
/// sensitivity table, the current allocation and the layers pinned by hand.
///
/// Threads: loadModel() and computeSensitivity() are long synchronous calls for a worker
/// thread; a LoadedModel is immutable once made, so it can be shared between threads. A
/// Session value is owned and changed by one thread (the UI thread in ptq-studio).

#include "core/analysis/sensitivity.h"
#include "core/model/model_summary.h"
#include "core/session/allocation.h"
#include "core/util/progress.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

class SensitivityCache;
class AdaQuantStore;

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

/// A model imported (BatchNorm folded) with its summary and drawing. Immutable; shareable.
class LoadedModel {
public:
    ~LoadedModel();
    const ModelSummary& summary() const { return summary_; }
    const DrawableGraph& drawing() const { return drawing_; }
    const Graph& graph() const;

private:
    friend std::shared_ptr<const LoadedModel> loadModel(const std::string&, const std::vector<int64_t>&);
    LoadedModel();
    struct Impl;
    std::unique_ptr<Impl> impl_;
    ModelSummary summary_;
    DrawableGraph drawing_;
};

/// Imports the TorchScript file at @p path (input shape from @p inputShape or the model card)
/// and folds its BatchNorms. Long; any thread. Throws ptq::Error with a sentence.
std::shared_ptr<const LoadedModel> loadModel(const std::string& path, const std::vector<int64_t>& inputShape = {});

/// Measures (or reads from @p cache, when given and it holds an entry for this model, source
/// and request) the sensitivity table of @p model on the calibration source @p source (a data
/// source name such as "fmnist:train:256"). @p fromCache tells which happened. Long; any
/// thread. Throws ptq::Error for a bad source, ptq::Cancelled on cancel.
SensitivityResult computeSensitivity(const LoadedModel& model, const std::string& source,
                                     const SensitivityRequest& request, SensitivityCache* cache,
                                     const Progress* progress, bool* fromCache = nullptr);

/// The real accuracy of one allocation, measured on an evaluation set (a point beside the
/// predicted frontier).
struct MeasuredAllocation {
    std::vector<int> choice;             ///< option index per layer, as BudgetAllocation::choice
    std::string pipeline;                ///< "none", "light" or "advanced"
    std::string evaluationSource;        ///< data source name, e.g. "fmnist:test"
    double top1 = 0;                     ///< percent
    double fp32Top1 = 0;                 ///< percent, the FP model on the same set
    double loss = 0;                     ///< mean cross-entropy
    double fp32Loss = 0;                 ///< mean cross-entropy of the FP model on the same set
    double predictedDeltaTop1 = 0;       ///< the table's prediction for this choice (points)
    double sizeBytes = 0, bops = 0;
    double seconds = 0;                  ///< quantizing, tuning and evaluating
};

/// What the user works on. Plain data with a few helpers; one thread.
struct Session {
    std::shared_ptr<const LoadedModel> model;
    std::string calibrationSource;
    std::shared_ptr<const SensitivityResult> sensitivity;
    /// Built from sensitivity: the costs and degradations the solver reads.
    std::shared_ptr<const BudgetProblem> problem;
    BudgetAllocation allocation;               ///< current; empty choice before the first solve
    std::map<int, int> pins;             ///< layer index -> option index chosen by hand
    std::string evaluationSource;        ///< labelled set for measuring allocations
    /// Parallel AdaQuant results by (layer, weight bits, activation bits); null before any run.
    std::shared_ptr<const AdaQuantStore> adaquant;
    /// Allocations measured on evaluationSource, oldest first.
    std::vector<MeasuredAllocation> measured;

    bool hasTable() const { return sensitivity != nullptr; }
    /// Installs a new table (and problem); forgets the allocation and pins.
    void setSensitivity(std::shared_ptr<const SensitivityResult> table);
};

}  // namespace ptq
