#include "core/workflow/settings.h"

#include "core/util/error.h"

#include <algorithm>
#include <cctype>

namespace ptq {

namespace {
struct StepName {
    TuningStep step;
    const char* name;
};
constexpr StepName kSteps[] = {{TuningStep::AdaQuantParallel, "adaquant-parallel"},
                               {TuningStep::AdaQuantSequential, "adaquant-sequential"},
                               {TuningStep::AdaQuantBlocks, "adaquant-blocks"},
                               {TuningStep::BatchNorm, "bn-tuning"},
                               {TuningStep::BiasCorrection, "bias-correction"},
                               {TuningStep::BiasTuning, "bias-tuning"}};

/// The canonical order: one AdaQuant flavour first, then BN tuning, bias correction, bias tuning.
int rank(TuningStep step) {
    switch (step) {
    case TuningStep::AdaQuantParallel:
    case TuningStep::AdaQuantSequential:
    case TuningStep::AdaQuantBlocks: return 0;
    case TuningStep::BatchNorm: return 1;
    case TuningStep::BiasCorrection: return 2;
    case TuningStep::BiasTuning: return 3;
    }
    return 4;
}

}  // namespace

const char* tuningStepName(TuningStep step) {
    for (const StepName& s : kSteps)
        if (s.step == step) return s.name;
    return "?";
}

TuningStep tuningStepFromString(const std::string& name) {
    for (const StepName& s : kSteps)
        if (name == s.name) return s.step;
    throw invalidInput("Unknown tuning step '" + name +
                       "'; the steps are adaquant-parallel, adaquant-sequential, adaquant-blocks, bn-tuning, bias-correction and "
                       "bias-tuning.");
}

const char* pipelineKindName(PipelineKind kind) {
    switch (kind) {
    case PipelineKind::None: return "none";
    case PipelineKind::Light: return "light";
    case PipelineKind::Advanced: return "advanced";
    }
    return "?";
}

PipelineKind pipelineKindFromString(const std::string& name) {
    if (name == "none") return PipelineKind::None;
    if (name == "light") return PipelineKind::Light;
    if (name == "advanced") return PipelineKind::Advanced;
    throw invalidInput("Unknown pipeline '" + name + "'; the pipelines are none (range calibration only), light "
                       "(ranges, BN tuning and bias correction) and advanced (AdaQuant, BN tuning and bias tuning).");
}

std::vector<TuningStep> pipelineSteps(PipelineKind kind, bool sequentialAdaQuant) {
    switch (kind) {
    case PipelineKind::None: return {};
    case PipelineKind::Light: return {TuningStep::BatchNorm, TuningStep::BiasCorrection};
    case PipelineKind::Advanced:
        return {sequentialAdaQuant ? TuningStep::AdaQuantSequential : TuningStep::AdaQuantParallel,
                TuningStep::BatchNorm, TuningStep::BiasTuning};
    }
    return {};
}

std::vector<TuningStep> pipelineStepsWithBlocks(PipelineKind kind) {
    if (kind == PipelineKind::Advanced) return {TuningStep::AdaQuantBlocks, TuningStep::BiasTuning};
    return pipelineSteps(kind);
}

void addTuningStep(std::vector<TuningStep>& steps, TuningStep step) {
    steps.erase(std::remove_if(steps.begin(), steps.end(), [&](TuningStep s) { return rank(s) == rank(step); }),
                steps.end());
    const auto at = std::find_if(steps.begin(), steps.end(), [&](TuningStep s) { return rank(s) > rank(step); });
    steps.insert(at, step);
}

namespace {
const std::string kEqualizedPrefix = "range equalization + ";
const std::string kDenseEqualizedPrefix = "range equalization with dense readers + ";
}

std::string pipelineName(const std::vector<TuningStep>& steps, bool equalized, bool denseReaders) {
    return (equalized ? denseReaders ? kDenseEqualizedPrefix : kEqualizedPrefix : "") + pipelineName(steps);
}

std::string pipelineName(const std::vector<TuningStep>& steps) {
    if (steps.empty()) return "none";
    if (steps == pipelineSteps(PipelineKind::Light)) return "light";
    if (steps == pipelineSteps(PipelineKind::Advanced)) return "advanced";
    if (steps == pipelineSteps(PipelineKind::Advanced, true)) return "advanced-seq";
    if (steps == pipelineStepsWithBlocks(PipelineKind::Advanced)) return "advanced-blocks";
    std::string name;
    for (TuningStep s : steps) name += (name.empty() ? "" : "+") + std::string(tuningStepName(s));
    return name;
}

std::vector<TuningStep> pipelineFromName(const std::string& name) {
    if (name.rfind(kEqualizedPrefix, 0) == 0) return pipelineFromName(name.substr(kEqualizedPrefix.size()));
    if (name.rfind(kDenseEqualizedPrefix, 0) == 0) return pipelineFromName(name.substr(kDenseEqualizedPrefix.size()));
    if (name == "none" || name.empty()) return {};
    if (name == "light") return pipelineSteps(PipelineKind::Light);
    if (name == "advanced") return pipelineSteps(PipelineKind::Advanced);
    if (name == "advanced-seq") return pipelineSteps(PipelineKind::Advanced, true);
    if (name == "advanced-blocks") return pipelineStepsWithBlocks(PipelineKind::Advanced);
    // Steps joined by '+', in the order they ran; older files start with "none+" and call the
    // AdaQuant flavours "adaquant" and "adaquant-seq".
    const bool legacy = name.rfind("none+", 0) == 0;
    std::vector<TuningStep> steps;
    size_t from = legacy ? 5 : 0;
    while (from <= name.size()) {
        const size_t plus = std::min(name.find('+', from), name.size());
        const std::string part = name.substr(from, plus - from);
        const TuningStep step = part == "adaquant"       ? TuningStep::AdaQuantParallel
                                : part == "adaquant-seq" ? TuningStep::AdaQuantSequential
                                                         : tuningStepFromString(part);
        steps.push_back(step);
        from = plus + 1;
    }
    return steps;
}

namespace {
struct FormatName {
    ExportFormat format;
    const char* name;
};
constexpr FormatName kFormats[] = {{ExportFormat::Json, "json"},
                                   {ExportFormat::Aimet, "aimet"},
                                   {ExportFormat::Csv, "csv"},
                                   {ExportFormat::Html, "html"},
                                   {ExportFormat::TorchScript, "torchscript"},
                                   {ExportFormat::Onnx, "onnx"},
                                   {ExportFormat::OnnxFp32, "onnx-fp32"}};
}  // namespace

const char* exportFormatName(ExportFormat format) {
    for (const FormatName& f : kFormats)
        if (f.format == format) return f.name;
    return "?";
}

ExportFormat exportFormatFromString(const std::string& name) {
    for (const FormatName& f : kFormats)
        if (name == f.name) return f.format;
    throw invalidInput("Unknown export format '" + name + "'; the formats are json, aimet, torchscript, onnx, onnx-fp32, csv and html.");
}

ExportFormat exportFormatForPath(const std::string& path) {
    const size_t dot = path.rfind('.');
    const size_t slash = path.find_last_of('/');
    std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext == "json") return ExportFormat::Json;
    if (ext == "encodings") return ExportFormat::Aimet;
    if (ext == "csv") return ExportFormat::Csv;
    if (ext == "html" || ext == "htm") return ExportFormat::Html;
    if (ext == "pt" || ext == "torchscript") return ExportFormat::TorchScript;
    if (ext == "onnx") return ExportFormat::Onnx;
    throw invalidInput("The file name " + path + " does not say which format to write (.json, .encodings, .csv, "
                       ".html, .pt or .onnx): name the format.");
}

}  // namespace ptq
