#include "core/workflow/sensitivity.h"

#include "core/analysis/sensitivity_estimate.h"
#include "core/data/data_source.h"
#include "core/io/sensitivity_cache.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "core/workflow/model.h"

#include <QtCore/QFileInfo>

namespace ptq {

TableProvenance sensitivityProvenance(const std::string& modelPath, const SensitivityJob& job) {
    TableProvenance p = provenanceFor(modelPath, job.calibrationSource.text, job.request, job.seed);
    if (job.adaquant) p.adaQuantIterations = job.adaquant->iterations;
    p.estimate = job.estimate;
    return p;
}

SensitivityOutcome reusableSensitivity(const std::string& modelPath, const SensitivityJob& job,
                                       const SensitivityReuse& reuse) {
    if (!job.calibrationSource.given()) throw invalidInput("Measuring sensitivity needs calibration data.");
    SensitivityOutcome out;
    if (reuse.force || (!reuse.cache && reuse.file.empty())) return out;
    const TableProvenance wanted = sensitivityProvenance(modelPath, job);
    if (reuse.cache)
        if (auto stored = reuse.cache->load(wanted)) {
            logger()->info("Sensitivity of {} on {} read from the cache", modelPath, job.calibrationSource.text);
            out.table = {wanted, std::move(*stored)};
            out.reused = true;
            return out;
        }
    if (reuse.file.empty() || !QFileInfo::exists(QString::fromStdString(reuse.file))) return out;
    try {
        SensitivityTable old = readSensitivityTable(reuse.file);
        out.notReusedBecause = old.provenance.differenceFrom(wanted);
        if (out.notReusedBecause.empty()) {
            out.table = {wanted, std::move(old.result)};
            out.reused = true;
        }
    } catch (const Error& e) {
        out.notReusedBecause = e.what();
    }
    return out;
}

SensitivityTable measureSensitivityTable(const LoadedModel& model, const SensitivityJob& job,
                                         const SensitivityReuse& reuse, const Progress* progress) {
    SensitivityTable table;
    table.provenance = sensitivityProvenance(model.path(), job);
    const auto data = model.openData(job.calibrationSource);
    if (job.estimate) {
        if (job.adaquant)
            throw invalidInput("An estimated table has no AdaQuant cells: estimate it without AdaQuant, or "
                               "measure it with AdaQuant instead of estimating.");
        EstimateSettings settings;
        settings.seed = job.seed;
        table.result = estimateSensitivity(model.graph(), *data, job.request, settings, progress);
        table.result.skippedSamples = data->skippedSamples();
        if (!reuse.file.empty()) writeSensitivityTable(reuse.file, table);
        return table;  // never in the cache: a later lookup wants the measured table
    }
    if (job.adaquant) {
        // Every layer tuned at every option first (one cache fill), then measured with it.
        job.adaquant->validate();
        AdaQuantStore store;
        table.result = measureSensitivityWithAdaQuant(model.graph(), *data, job.request, *job.adaquant, store, progress);
    } else {
        table.result = measureSensitivity(model.graph(), *data, job.request, progress);
    }
    table.result.skippedSamples = data->skippedSamples();
    if (reuse.cache) reuse.cache->store(table.provenance, table.result);
    if (!reuse.file.empty()) writeSensitivityTable(reuse.file, table);
    return table;
}

SensitivityOutcome sensitivityFor(const LoadedModel& model, const SensitivityJob& job, const SensitivityReuse& reuse,
                                  const Progress* progress) {
    SensitivityOutcome out = reusableSensitivity(model.path(), job, reuse);
    if (!out.reused) out.table = measureSensitivityTable(model, job, reuse, progress);
    return out;
}

}  // namespace ptq
