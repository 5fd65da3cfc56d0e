// ptq export --format html: the allocation file and its sensitivity table as core/io's HTML
// report (plain text with inline SVG plots: no widgets, no QGuiApplication).
#include "cli/commands.h"
#include "cli/common.h"

#include "core/alloc/allocation.h"
#include "core/analysis/evaluate.h"
#include "core/workflow/quantize.h"
#include "core/util/error.h"
#include "core/io/html_report.h"

#include <cmath>

namespace ptq::cli {

void writeHtmlAllocationReport(const std::string& path, const AllocationFile& alloc, const QuantizeRequest& req,
                               const EvalResult* quant, const EvalResult* fp) {
    if (alloc.tablePath.empty())
        throw invalidInput("The allocation does not name its sensitivity table, which the report plots: allocate "
                           "again with ptq allocate --table TABLE.");
    const SensitivityTable table = readSensitivityTable(alloc.tablePath);
    ReportData d;
    d.modelPath = req.model.path;
    d.modelSha256 = alloc.modelSha256;
    d.table = table.result;
    // The allocation's layers by name onto the table's rows and options.
    for (const SensitivityLayer& layer : d.table.layers) {
        int option = -1;
        for (const AllocatedLayer& l : alloc.layers) {
            if (l.name != layer.name) continue;
            for (size_t k = 0; k < d.table.options.size(); ++k)
                if (d.table.options[k] == l.option) option = int(k);
            if (option < 0)
                throw invalidInput("The allocation gives layer " + l.name + " the option " + l.option.name() +
                                   ", which its table " + alloc.tablePath + " did not measure: allocate again.");
        }
        if (option < 0)
            throw invalidInput("The allocation has no option for layer " + layer.name + " of its table " +
                               alloc.tablePath + ": allocate again.");
        d.choice.push_back(option);
    }
    for (const auto& [layer, option] : alloc.locks)
        for (size_t i = 0; i < d.table.layers.size(); ++i)
            if (d.table.layers[i].name == layer) d.pins[int(i)] = d.choice[i];
    d.metric = alloc.maxBopsRatio ? CostMetric::Bops : CostMetric::Size;
    d.reference = alloc.reference == "int8" ? CostReference::Int8 : CostReference::Fp32;
    d.settings.push_back({"sensitivity table", alloc.tablePath});
    d.settings.push_back({"calibration data", req.calibSource.text});
    d.settings.push_back({"pipeline", req.pipelineName()});
    d.settings.push_back({"granularity", table.provenance.granularity});
    std::string budget;
    const auto num = [](double v) { return QString::number(v, 'g', 4).toStdString(); };
    if (alloc.maxSizeRatio) budget = "size ≤ " + num(*alloc.maxSizeRatio) + " of " + alloc.reference;
    if (alloc.maxBopsRatio) budget = "BOPs ≤ " + num(*alloc.maxBopsRatio) + " of " + alloc.reference;
    if (alloc.maxDegradation) budget = "Σ degradation ≤ " + num(*alloc.maxDegradation);
    d.settings.push_back({"budget", budget});
    if (quant) {
        d.measuredTop1 = quant->top1();
        d.evaluationSource = req.evalSource.text + " (pipeline " + req.pipelineName() + ")";
        d.measured.push_back({d.choice, quant->top1(), quant->crossEntropy, fp ? fp->crossEntropy : d.table.baseLoss,
                              req.pipelineName()});
    }
    if (fp) d.fp32Top1 = fp->top1();
    // The figure `ptq allocate` printed; older files without the fit leave it to the table.
    if (std::isfinite(alloc.predictedTop1FromLoss())) d.predictedTop1FromLoss = alloc.predictedTop1FromLoss();
    if (const auto& m = alloc.measuredPrediction)
        d.measuredFit = ReportData::FitPrediction{m->drop, m->uncertainty, m->anchors, m->interpolated, m->pipeline,
                                                  m->evaluation};
    writeHtmlReport(path, d);
}

}  // namespace ptq::cli
