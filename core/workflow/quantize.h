#pragma once
/// @file
/// One quantization run as the command line's `ptq quantize`, `ptq evaluate` and `ptq export`
/// and the GUI's allocation jobs start it: open the model (core/workflow/model.h), configure,
/// calibrate, run the pipeline's tuning steps (one step runner for every caller), evaluate FP32
/// and quantized.

#include "core/analysis/layer_error.h"
#include "core/analysis/sensitivity.h"
#include "core/methods/adaquant.h"
#include "core/methods/distill.h"
#include "core/methods/bias_tuning.h"
#include "core/graph/graph.h"
#include "core/quant/quant_config.h"
#include "core/quant/quantized_model.h"
#include "core/methods/bn_tuning.h"
#include "core/methods/range_equalization.h"
#include "core/util/progress.h"
#include "core/workflow/model.h"
#include "core/workflow/settings.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ptq {

/// Settings of the tuning steps and the live figures they report (called on the working thread;
/// may be empty; must be cheap).
struct TuningOptions {
    /// Its onIteration feeds the AdaQuant loss plot, its onLayer the MSE before/after bars;
    /// its sequential flag is set by the step that runs.
    AdaQuantOptions adaquant;
    BiasTuningOptions biasTuning;        ///< its onIteration feeds the bias-tuning plot
    /// After each BatchNorm re-estimated.
    std::function<void(const BatchNormTuneTick&)> onBatchNorm;
    /// Throws ptq::Error (InvalidInput) for a bad setting of a step in @p steps.
    void validateFor(const std::vector<TuningStep>& steps) const;
};

/// What one tuning step did.
struct StepReport {
    TuningStep step = TuningStep::BatchNorm;
    std::string summary;                 ///< one line for the log
    /// A sentence for the user when the step could do nothing on this model (BN tuning on a
    /// model without BatchNorm layers); empty otherwise. The summary says it too.
    std::string note;
    double seconds = 0;
    AdaQuantReport adaquant;             ///< AdaQuant steps
    int batchNormsTuned = 0;             ///< BN tuning
    int biasesCorrected = 0;             ///< bias correction
    BiasTuningResult biasTuning;         ///< bias tuning
};

/// Runs @p step on @p model with its calibration data @p calib: the one step runner of the
/// command line's pipelines and the GUI's jobs. Parallel AdaQuant results also go into @p store
/// when given (only when the step succeeds). On ptq::Cancelled or any error, @p model and
/// @p store are left exactly as they were. Long; any one thread.
StepReport runTuningStep(QuantizedModel& model, const Dataset& calib, TuningStep step, const TuningOptions& options,
                         int64_t batchSize, AdaQuantStore* store = nullptr, const Progress* progress = nullptr);

struct QuantizeRequest {
    ModelRequest model;                ///< the file and what the user said about it
    /// The model already open (the GUI's session): used instead of opening model again.
    std::shared_ptr<const LoadedModel> opened;
    DataSourceSpec calibSource;        ///< parsed where the user named it (parseDataSource)
    /// Data-free (ZeroQ): calibrate on images distilled from the model's BatchNorm statistics
    /// (distillOptions) instead of calibSource, which must then be empty.
    bool dataFree = false;
    DistillOptions distillOptions;
    DataSourceSpec evalSource;         ///< not given(): no evaluation
    int weightBits = 8;
    int activationBits = 8;
    /// Multipoint weights: points per channel on average for every layer quantized at
    /// weightBits (not the 8-bit first/last layers); 1 is plain quantization.
    int weightPoints = 1;
    QuantizerSettings quantizer;
    /// Range equalization of depthwise inputs (core/methods/range_equalization.h; residual streams too
    /// with equalization.denseReaders) on the
    /// calibration data, before anything is quantized: the run then quantizes the rescaled graph.
    /// Needs per-channel weights (a per-tensor weight quantizer would pay for the rescale).
    bool equalizeRanges = false;
    RangeEqualizationOptions equalization;
    bool keepFirstLast8bit = false;
    /// The tuning steps after range calibration, in the order they run (pipelineSteps()).
    std::vector<TuningStep> steps;
    TuningOptions tuning;
    bool layerErrors = false;     ///< measure each layer's local error on the calibration set
    bool evaluateFp32 = true;     ///< false: skip the FP32 pass (sweeps that know it already)
    bool evalEachStep = false;    ///< also measure top-1 after calibration and after each tuning step
    /// Per-layer settings over the uniform weightBits/activationBits (a mixed allocation, e.g.
    /// from ptq allocate), by layer name; every name must be a quantizable layer of the model.
    std::map<std::string, LayerQuant> layerOverrides;
    /// The allocation file layerOverrides came from (named in errors); when set, the overrides
    /// must also cover every quantizable layer, as a complete allocation does.
    std::string layerOverridesFile;
    /// Mixed precision in one go: measure the sensitivity table of mixedOptions on the
    /// calibration data (KL to FP32 on unlabelled or distilled data), then the integer program's
    /// allocation of least summed degradation under this weight-size budget (a fraction of the
    /// FP32 weights), before calibration. Its layers override the uniform bits.
    std::optional<double> maxSizeRatio;
    std::vector<BitOption> mixedOptions = {{2, 8}, {3, 8}, {4, 8}, {5, 8}, {6, 8}, {8, 8}};

    /// steps = pipelineSteps(@p kind), AdaQuant's flavour from tuning.adaquant.sequential.
    void setPipeline(PipelineKind kind);
    /// Adds one step at its place in the pipeline order (addTuningStep).
    void addStep(TuningStep step) { addTuningStep(steps, step); }
    bool runs(TuningStep step) const;
    bool runsAdaQuant() const {
        return runs(TuningStep::AdaQuantParallel) || runs(TuningStep::AdaQuantSequential) ||
               runs(TuningStep::AdaQuantBlocks);
    }
    std::string pipelineName() const { return ptq::pipelineName(steps); }
};

struct QuantizeResult {
    double fp32Top1 = 0, quantTop1 = 0;
    int64_t quantCorrect = 0;        ///< evaluation samples the quantized model got right
    double fp32CrossEntropy = 0, quantCrossEntropy = 0;
    int64_t calibSamples = 0, evalSamples = 0;
    /// Images left out as unreadable when the calibration / evaluation data opened (bad images skipped).
    int64_t calibSkipped = 0, evalSkipped = 0;
    int layers = 0;
    int bnTuned = 0, biasesCorrected = 0;
    double calibrateSeconds = 0, tuneSeconds = 0, fp32EvalSeconds = 0, quantEvalSeconds = 0;
    double adaQuantSeconds = 0, bnTuningSeconds = 0, biasTuningSeconds = 0, distillSeconds = 0;
    double distillLoss = 0;          ///< the distillation's final loss (data-free)
    /// With maxSizeRatio: the table's time, the solve time and the allocation's figures.
    double sensitivitySeconds = 0, allocateMs = 0;
    double allocatedSizeRatio = 0, predictedDegradation = 0;
    AdaQuantReport adaQuant;         ///< filled when AdaQuant ran
    /// With evalEachStep: top-1 after "calibration" and after each step that ran ("adaquant",
    /// "bn-tuning", "bias-correction", "bias-tuning"; the names older scripts read), in order.
    std::vector<std::pair<std::string, double>> stepTop1;
    BiasTuningResult biasTuning;     ///< filled when bias tuning ran
    RangeEqualizationReport equalization;  ///< filled when equalizeRanges
    QuantConfig config;
    std::vector<LayerError> layerErrors;  ///< filled when asked for, in execution order
    std::vector<std::string> notes;  ///< the steps' notes (StepReport::note), for the user
    double drop() const { return fp32Top1 - quantTop1; }
};

/// The model a request makes, for exporters and the GUI: the opened model (BatchNorms folded),
/// the calibrated and tuned QuantizedModel over its graph, the data it used, and the figures of
/// the steps that ran. Not evaluated (quantTop1 and fp32Top1 stay 0). Move-only; the quantized
/// model refers to graph(), which the run keeps alive.
struct QuantizedRun {
    std::shared_ptr<const LoadedModel> source;
    /// With range equalization: the rescaled copy of source's graph that the model quantizes.
    std::shared_ptr<const Graph> equalized;
    std::unique_ptr<Dataset> calib, eval;  ///< eval only when request.evalSource was given
    std::unique_ptr<QuantizedModel> model;
    QuantizeResult result;
    /// The graph the quantized model runs: the equalized one, else the opened model's. Its FP32
    /// function is the opened model's (the FP32 figures are measured on source's graph).
    const Graph& graph() const { return equalized ? *equalized : source->graph(); }
};

/// Imports, calibrates and tunes as @p request says, without the final evaluations (evalSource
/// may be empty unless evalEachStep). Same errors as quantizeAndEvaluate.
QuantizedRun quantizeModel(const QuantizeRequest& request, const Progress* progress = nullptr);

/// Where the evaluations that follow a quantizeModel run begin on its progress (fractions of
/// the whole): the FP32 one at fp32From, the quantized one at quantFrom; both end at 1.
struct EvaluationShares {
    double fp32From = 1.0, quantFrom = 1.0;
};

/// quantizeModel for a caller that evaluates run.eval next (evaluateRun): the progress plans
/// those evaluations too, so quantizeModel's own reports end at @p evaluation.fp32From, and an
/// ETA drawn from it holds through the evaluations.
QuantizedRun quantizeModel(const QuantizeRequest& request, const Progress* progress, EvaluationShares& evaluation);

/// Evaluates @p run (made from @p request) on its evaluation data: FP32 (unless
/// request.evaluateFp32 is false) and quantized. Returns run's figures with the accuracies
/// filled in. With @p shares (from quantizeModel) the reports continue the same progress; without,
/// they span it. Long; any one thread. Throws ptq::Error (InvalidInput) when the run has no
/// evaluation data, ptq::Cancelled.
QuantizeResult evaluateRun(const QuantizedRun& run, const QuantizeRequest& request, const Progress* progress = nullptr,
                           const EvaluationShares* shares = nullptr);

/// Runs @p request end to end (quantizeModel, then evaluateRun). Long (tens of seconds); any one thread; progress and cancel
/// through @p progress. Throws ptq::Error (InvalidInput) for a bad model, data source, bits or
/// data of the wrong shape; ptq::Cancelled when asked to stop.
QuantizeResult quantizeAndEvaluate(const QuantizeRequest& request, const Progress* progress = nullptr);

}  // namespace ptq
