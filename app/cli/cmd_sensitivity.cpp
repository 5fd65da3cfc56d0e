#include "cli/commands.h"

#include "cli/common.h"
#include "cli/terminal_progress.h"
#include "cli/target_args.h"
#include "core/alloc/sensitivity_table.h"
#include "core/analysis/sensitivity.h"
#include "core/methods/adaquant.h"
#include "core/workflow/sensitivity.h"
#include "core/target/target_costs.h"
#include "core/util/error.h"

#include <QtCore/QFileInfo>

#include <cstdio>

namespace ptq::cli {

int runSensitivity(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "force", "adaquant", "skip-bad", "estimate"},
                 withModelCard({"calib", "options", "granularity", "weight-range", "act-range", "batch", "out", "seed",
                                "target", "adaquant-iters"}),
                 "sensitivity");
    TerminalProgress progress(a.flag("json"));
    const ModelRequest model = modelRequestArg(a, "sensitivity");
    const std::string& path = model.path;
    if (!a.has("calib"))
        throw invalidInput("'ptq sensitivity' needs --calib SRC, the data to measure on (for example "
                           "--calib fmnist:train:1000).");
    SensitivityJob job;
    job.calibrationSource = dataSourceArg(a, "calib");
    SensitivityRequest& req = job.request;
    if (a.has("options")) req.options = BitOption::parseList(a.value("options"));
    req.quantizer = quantizerArgs(a);
    if (const TargetInfo* target = targetArg(a)) {
        // Only what the target runs is worth measuring: its options, at its granularity.
        if (!a.has("granularity"))
            req.quantizer.granularity = granularityFromString(target->granularities.first().toStdString());
        if (!a.has("options")) req.options = targetOptions(*target);
        for (const BitOption& o : req.options)
            requireSupported(*target, o.weightBits, o.activationBits, o.weightPoints,
                             granularityName(req.quantizer.granularity));
    }
    job.seed = uint64_t(a.integer("seed", 0));
    if (a.has("adaquant-iters") && !a.flag("adaquant"))
        throw invalidInput("--adaquant-iters sets AdaQuant's steps per layer: add --adaquant to tune.");
    if (a.flag("adaquant")) {
        AdaQuantOptions ada;
        ada.seed = job.seed;
        ada.iterations = int(a.integer("adaquant-iters", ada.iterations));
        ada.validate();
        job.adaquant = ada;
    }
    job.estimate = a.flag("estimate");
    if (job.estimate && job.adaquant)
        throw invalidInput("--estimate and --adaquant do not go together: an estimate has no AdaQuant cells; drop "
                           "one of them.");
    SensitivityReuse reuse;
    reuse.file = a.value("out");
    reuse.force = a.flag("force");
    // A table measured on the same model content, data and options is reused as it is.
    SensitivityOutcome outcome = reusableSensitivity(path, job, reuse);
    if (outcome.reused)
        std::fprintf(stderr, "ptq: reused the sensitivity table %s (same model, data and options; --force measures "
                             "again)\n", reuse.file.c_str());
    else if (!outcome.notReusedBecause.empty())
        std::fprintf(stderr, "ptq: measuring again, %s does not match: %s\n", reuse.file.c_str(),
                     outcome.notReusedBecause.c_str());
    if (!outcome.reused) {
        // Written after the cancel point: a cancelled run leaves an existing --out file as it was.
        const std::string file = reuse.file;
        reuse.file.clear();
        outcome.table = measureSensitivityTable(*openModelForData(model, progress.get()), job, reuse, progress.get());
        progress.finish();
        reuse.file = file;
        if (!file.empty()) {
            writeSensitivityTable(file, outcome.table);
            progress.wrote(file);
        }
    }
    const SensitivityTable& table = outcome.table;
    const bool reused = outcome.reused;
    const std::string& out = reuse.file;
    const SensitivityResult& r = table.result;
    reportSkipped(job.calibrationSource, r.skippedSamples);

    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(path);
        o["data"] = QString::fromStdString(a.value("calib"));
        o["base"] = QString::fromStdString(r.base.name());
        addSensitivitySummary(o, r);
        o["reused"] = reused;
        addSkipped(o, job.calibrationSource, r.skippedSamples, "calib");
        if (!out.empty()) o["out"] = QString::fromStdString(out);
        QJsonArray options;
        for (const BitOption& opt : r.options) options.append(QString::fromStdString(opt.name()));
        o["options"] = options;
        o["layers"] = sensitivityLayersToJson(r);
        printJson(o);
        return 0;
    }
    std::printf("%s: sensitivity on %lld samples of %s (%s), base %s; FP32 top-1 %.2f %%, base top-1 %.2f %%\n",
                path.c_str(), (long long)r.samples, a.value("calib").c_str(),
                r.metric == "kl" ? "KL to FP32" : "cross-entropy", r.base.name().c_str(), r.fp32Top1, r.baseTop1);
    std::printf("  %.1f s, %.1f full-forward equivalents for %zu layers x %zu options\n", r.seconds,
                r.forwardEquivalents, r.layers.size(), r.options.size());
    if (const size_t estimated = r.estimatedCells())
        std::printf("  %zu of %zu cells are estimates (gradients at the FP32 model, not measured): measure the table "
                    "without --estimate before trusting a prediction\n",
                    estimated, r.layers.size() * r.options.size());
    if (r.usedAdaQuant()) {
        size_t tuned = 0, cells = 0;
        for (const auto& row : r.cells)
            for (const SensitivityCell& c : row) tuned += c.adaQuant, ++cells;
        std::printf("  %zu of %zu cells measured with AdaQuant parameters (%d iterations, %lld samples)\n", tuned,
                    cells, r.adaQuantIterations, (long long)r.adaQuantSamples);
    }
    std::printf("\n");
    std::printf("  %-28s", r.metric == "kl" ? "delta KL" : "delta loss");
    for (const BitOption& opt : r.options) std::printf(" %9s", opt.name().c_str());
    std::printf("\n");
    for (size_t i = 0; i < r.layers.size(); ++i) {
        std::printf("  %-28s", r.layers[i].name.c_str());
        for (const SensitivityCell& c : r.cells[i]) std::printf(" %9.4f", c.deltaLoss);
        std::printf("\n");
    }
    return 0;
}

}  // namespace ptq::cli
