#pragma once
/// @file
/// The typed settings both front ends hand to the workflow layer: how tensors are quantized
/// (QuantizerSettings, core/quant/quantizer_settings.h), which pipeline runs (as a list of typed steps, defined once here), and which export format
/// is written. Each is parsed from text once, at the edge (the command line's flags, the GUI's
/// combo boxes, a project or allocation file), and carried as a value from there on. Errors
/// name the setting, not a flag: each front end words them for its own user. Plain C++; any
/// thread.

#include "core/quant/quantizer_settings.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// One step that changes a calibrated model, in the order a pipeline runs them.
enum class TuningStep { AdaQuantParallel, AdaQuantSequential, AdaQuantBlocks, BatchNorm, BiasCorrection, BiasTuning };

/// "adaquant-parallel", "adaquant-sequential", "adaquant-blocks" (block reconstruction), "bn-tuning",
/// "bias-correction", "bias-tuning".
const char* tuningStepName(TuningStep step);
/// Parses tuningStepName's spelling; throws ptq::Error (InvalidInput) listing the valid names.
TuningStep tuningStepFromString(const std::string& name);
/// True for the AdaQuant flavours (per layer, parallel or sequential, and over blocks).
inline bool isAdaQuant(TuningStep step) {
    return step == TuningStep::AdaQuantParallel || step == TuningStep::AdaQuantSequential ||
           step == TuningStep::AdaQuantBlocks;
}

/// The pipelines of the AdaQuant paper (Hubara et al., ICML 2021), range calibration first:
/// - None: range calibration only;
/// - Light: BN tuning and bias correction, no backprop;
/// - Advanced: AdaQuant, BN tuning and bias tuning.
enum class PipelineKind { None, Light, Advanced };

/// "none", "light", "advanced".
const char* pipelineKindName(PipelineKind kind);
/// Parses pipelineKindName's spelling; throws ptq::Error (InvalidInput) saying what each is.
PipelineKind pipelineKindFromString(const std::string& name);

/// The steps of @p kind after range calibration, in the order they run. The one definition of
/// each pipeline: the command line, the GUI's menu and the exporters all run this list.
/// @p sequentialAdaQuant picks AdaQuant's flavour in the advanced pipeline.
std::vector<TuningStep> pipelineSteps(PipelineKind kind, bool sequentialAdaQuant = false);
/// The advanced pipeline with block reconstruction in per-layer AdaQuant's place: block
/// reconstruction, then bias tuning. No BN tuning: the blocks were fitted to the FP outputs
/// with their BatchNorms folded in, and re-estimating the statistics after them undoes part
/// of it (docs/RESULTS.md, "Low-bit settings"). Other kinds: pipelineSteps(kind).
std::vector<TuningStep> pipelineStepsWithBlocks(PipelineKind kind);

/// Adds @p step to @p steps at its place in the canonical order (AdaQuant, BN tuning, bias
/// correction, bias tuning), once; an AdaQuant step replaces the other flavour.
void addTuningStep(std::vector<TuningStep>& steps, TuningStep step);

/// The name of a step list, what result files record as the pipeline: "none", "light",
/// "advanced", "advanced-seq" for the pipelines' own lists, else the steps' names joined by
/// '+' in the order they ran ("adaquant-parallel+bn-tuning"; a step the GUI ran twice is named
/// twice).
std::string pipelineName(const std::vector<TuningStep>& steps);
/// pipelineName, with "range equalization + " before it when the model was range-equalized
/// first (QuantizeRequest::equalizeRanges), "range equalization with dense readers + " when
/// that also rescaled the groups dense convs read: what results and files record.
std::string pipelineName(const std::vector<TuningStep>& steps, bool equalized, bool denseReaders = false);
/// Parses pipelineName's spelling (either form: the steps, equalized or not), and the older "none+adaquant-seq+bn-tuning" form of
/// configuration files. Throws ptq::Error (InvalidInput) for anything else.
std::vector<TuningStep> pipelineFromName(const std::string& name);

/// What an export writes.
enum class ExportFormat {
    Json,         ///< PTQ Studio's configuration (ptq-config v1)
    Aimet,        ///< AIMET encodings (the version is a separate setting)
    Csv,          ///< one row per layer
    Html,         ///< the self-contained report of an allocation
    TorchScript,  ///< the model with quantized weights, as TorchScript
    Onnx,         ///< ONNX QDQ: integer weights, QuantizeLinear/DequantizeLinear on activations
    OnnxFp32,     ///< ONNX in float: the model as the executor runs it
};

/// "json", "aimet", "csv", "html", "torchscript", "onnx", "onnx-fp32".
const char* exportFormatName(ExportFormat format);
/// Parses exportFormatName's spelling; throws ptq::Error (InvalidInput) listing the formats.
ExportFormat exportFormatFromString(const std::string& name);
/// The format a file name asks for by its extension (.json, .encodings, .csv, .html, .pt, .onnx
/// for ONNX QDQ);
/// throws ptq::Error (InvalidInput) when the extension says none.
ExportFormat exportFormatForPath(const std::string& path);

}  // namespace ptq
