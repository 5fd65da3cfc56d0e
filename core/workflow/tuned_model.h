#pragma once
/// @file
/// The quantized model of one allocation as the GUI's jobs build it up step by step: calibrate
/// the ranges, then AdaQuant, BN tuning, bias correction or bias tuning on it (the workflow's one
/// step runner, core/workflow/quantize.h), then measure its real top-1. Each call is long and synchronous (for a worker thread) and takes the core's
/// progress/cancel object. A step that fails or is cancelled leaves the model exactly as it
/// was, so a session that holds it is unchanged.
///
/// Threads: a TunedModel is used by one thread at a time (the GUI's one-thread job pool); its
/// state() is a plain copy the caller hands to the UI thread.

#include "core/analysis/sensitivity.h"
#include "core/methods/adaquant.h"
#include "core/methods/bias_tuning.h"
#include "core/methods/bn_tuning.h"
#include "core/session/session.h"
#include "core/workflow/quantize.h"
#include "core/util/progress.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ptq {

/// What one allocation's quantization is and what was done to it. Plain data.
struct TunedState {
    std::vector<int> choice;             ///< option index per layer of the table it was made from
    std::string calibrationSource;
    int64_t calibrationSamples = 0;
    /// The tuning steps that ran after calibration, in order.
    std::vector<TuningStep> steps;
    /// The newest AdaQuant run's per-layer output MSE before and after, execution order.
    std::vector<AdaQuantLayerResult> adaquantLayers;
    BiasTuningResult biasTuning;         ///< the newest bias tuning (iterations 0: none)
    int batchNormsTuned = 0, biasesCorrected = 0;
    /// Whether range equalization rescaled the model before calibration, and what it did.
    bool equalizedRanges = false;
    bool equalizedDense = false;         ///< with dense readers (RangeEqualizationOptions::denseReaders)
    std::string equalization;            ///< RangeEqualizationReport::summary(); empty without
};

/// Which allocation to quantize and how: the open model, the table whose options the choice
/// indexes, the quantizer settings the table was measured with, and the calibration data.
struct AllocationSpec {
    std::shared_ptr<const LoadedModel> model;
    std::shared_ptr<const SensitivityResult> table;
    QuantizerSettings quantizer;         ///< the table's granularity, range methods and batch
    std::vector<int> choice;
    DataSourceSpec calibrationSource;
    /// Range equalization first (QuantizeRequest::equalizeRanges).
    bool equalizeRanges = false;
    bool equalizeDense = false;  ///< also the groups dense convs read (RangeEqualizationOptions::denseReaders)
};

/// The FP model's figures on an evaluation set (to measure it once per set).
struct Fp32Figures {
    double top1 = 0, loss = 0;
};

class TunedModel {
public:
    ~TunedModel();
    TunedModel(const TunedModel&) = delete;
    TunedModel& operator=(const TunedModel&) = delete;
    /// A copy of what it is and what ran on it.
    TunedState state() const;
    /// The calibrated and tuned model, for exporters. Read it on the thread that owns this.
    const QuantizedRun& run() const;

    struct Impl;

private:
    explicit TunedModel(std::unique_ptr<Impl> impl);
    friend std::unique_ptr<TunedModel> calibrateAllocation(const AllocationSpec&, const Progress*);
    friend std::string applyTuningStep(TunedModel&, TuningStep, const TuningOptions&, AdaQuantStore*,
                                       const Progress*);
    friend MeasuredAllocation measureTuned(const TunedModel&, const DataSourceSpec&, std::optional<Fp32Figures>,
                                           const Progress*);
    std::unique_ptr<Impl> impl_;
};

/// Configures each layer of the open model at its chosen option and calibrates the ranges on
/// spec.calibrationSource. Long; any thread. Throws ptq::Error (InvalidInput) for a choice
/// that does not fit the table, a bad source or data of the wrong shape; ptq::Cancelled.
std::unique_ptr<TunedModel> calibrateAllocation(const AllocationSpec& spec, const Progress* progress = nullptr);

/// Runs @p step on @p model with its calibration data. Parallel AdaQuant results also go into
/// @p store when given (put only when the step succeeds). Returns a one-line summary for the
/// log. On ptq::Cancelled or any error, @p model and @p store are left exactly as they were.
std::string applyTuningStep(TunedModel& model, TuningStep step, const TuningOptions& options,
                            AdaQuantStore* store = nullptr, const Progress* progress = nullptr);

/// Measures top-1 and cross-entropy of @p model on the labelled @p evaluationSource, and of the
/// FP model unless @p fp32 is given. The result's choice is the model's; predicted figures
/// and costs are left for the caller (it has the problem). Long; any thread.
MeasuredAllocation measureTuned(const TunedModel& model, const DataSourceSpec& evaluationSource,
                                std::optional<Fp32Figures> fp32 = std::nullopt, const Progress* progress = nullptr);

}  // namespace ptq
