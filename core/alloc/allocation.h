#pragma once
/// @file
/// A chosen allocation as a file ("ptq-allocation" JSON, version 1): the model and table it was
/// made from, the budget, each layer's option and the predicted figures. `ptq allocate` writes
/// it; `ptq evaluate` and the exporters read it. Plain C++ (the GUI includes it); any thread.

#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"

#include <optional>
#include <string>
#include <vector>

namespace ptq {

struct AllocatedLayer {
    std::string name;
    BitOption option;
    double degradation = 0;  ///< the table's degradation of this option (as the program counted it)
    double deltaTop1 = 0;    ///< the table's measured top-1 change (points, negative = worse)
    double sizeBits = 0;
    double bops = 0;
    double targetCost = 0;   ///< the hardware target's cost of this option (0 without a target)
};

struct AllocationFile {
    std::string model;        ///< the model file the table was measured on
    std::string modelSha256;
    std::string tablePath;
    TableProvenance table;
    std::string metric;       ///< the table's loss: cross_entropy or kl
    std::string measure = "delta-loss";
    /// The budget as given: ratios are of the reference model named by @ref reference.
    std::optional<double> maxDegradation, maxSizeRatio, maxBopsRatio;
    std::string reference = "fp32";  ///< "fp32" or "int8"
    std::vector<std::pair<std::string, std::string>> locks;  ///< layer, option
    std::vector<std::string> excluded;
    std::vector<AllocatedLayer> layers;  ///< execution order
    // Predicted figures (sums over layers of the table's per-layer measurements).
    double degradation = 0;
    double sizeBits = 0, fp32SizeBits = 0;
    double bops = 0, fp32Bops = 0;
    double deltaTop1 = 0;           ///< sum of the layers' measured top-1 changes
    double top1PerLoss = 0;         ///< the table's fit (top1PerLoss); 0: not known (older files)
    double fp32Top1 = 0, baseTop1 = 0;  ///< from the table (its samples)
    double fp32Loss = 0, baseLoss = 0;  ///< from the table (its samples; 0 in older files)
    double solveMs = 0;
    /// The hardware target allocated for (empty: none): its cost unit, the allocation's cost,
    /// the cost of every layer at the target's widest option, and the cost budget if given.
    std::string target, targetUnit;
    double targetCost = 0, targetReference = 0;
    std::optional<double> maxCostRatio;
    /// The prediction that rests on measured allocations (core/alloc/prediction.h), when the
    /// allocation was made with anchors: the drop from FP32, its uncertainty (one standard
    /// deviation), how many measurements it rests on, whether it interpolates them, and the
    /// pipeline and evaluation data they were measured with.
    struct MeasuredPrediction {
        double drop = 0, uncertainty = 0;
        int anchors = 0;
        bool interpolated = false;
        std::string pipeline, evaluation, fit;
    };
    std::optional<MeasuredPrediction> measuredPrediction;

    double sizeRatio() const { return fp32SizeBits > 0 ? sizeBits / fp32SizeBits : 0; }
    double bopsRatio() const { return fp32Bops > 0 ? bops / fp32Bops : 0; }
    /// The base model's top-1 on the table's samples plus the summed changes.
    double predictedTop1() const { return baseTop1 + deltaTop1; }
    /// The FP32 top-1 plus the loss this allocation adds over FP32 (the base's, then the summed
    /// degradation) at the table's fitted top-1 per loss: every step through the loss, which
    /// averages over all samples, none through top-1 counts of a few flipped samples. NaN when
    /// the file does not know the fit (older files) or the degradation is not Δ loss.
    double predictedTop1FromLoss() const;
};

/// core/workflow/allocate.h makes the file of a solved budget (allocateTable, allocationFileFor).

/// Writes atomically (QSaveFile); throws ptq::Error (Failed) when it cannot.
void writeAllocation(const std::string& path, const AllocationFile& allocation);
/// Throws ptq::Error (InvalidInput) naming the file and what is wrong with it.
AllocationFile readAllocation(const std::string& path);

}  // namespace ptq
