#include "cli/commands.h"

#include "cli/common.h"
#include "cli/target_args.h"
#include "core/alloc/sensitivity_table.h"
#include "core/analysis/sensitivity.h"
#include "core/data/data_source.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"
#include "core/target/target_costs.h"
#include "core/util/error.h"

#include <QtCore/QFileInfo>

#include <cstdio>

namespace ptq::cli {

int runSensitivity(const std::vector<std::string>& argv) {
    const Args a(argv, {"json", "force"},
                 {"calib", "options", "granularity", "weight-range", "act-range", "batch", "input-shape", "out", "seed",
                  "target"},
                 "sensitivity");
    const std::string path = modelArg(a, "sensitivity");
    if (!a.has("calib"))
        throw invalidInput("'ptq sensitivity' needs --calib SRC, the data to measure on (for example "
                           "--calib fmnist:train:1000).");
    SensitivityRequest req;
    if (a.has("options")) req.options = BitOption::parseList(a.value("options"));
    req.granularity = granularityFromString(a.value("granularity", "per-channel"));
    if (const TargetInfo* target = targetArg(a)) {
        // Only what the target runs is worth measuring: its options, at its granularity.
        if (!a.has("granularity")) req.granularity = granularityFromString(target->granularities.first().toStdString());
        if (!a.has("options")) req.options = targetOptions(*target);
        for (const BitOption& o : req.options)
            requireSupported(*target, o.weightBits, o.activationBits, o.weightPoints, granularityName(req.granularity));
    }
    req.weightMethod = rangeMethodFromString(a.value("weight-range", "minmax"));
    req.activationMethod = rangeMethodFromString(a.value("act-range", "minmax"));
    req.batchSize = a.integer("batch", 256);
    if (req.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    std::vector<int64_t> shape = inputShapeArg(a);
    const std::string out = a.value("out");
    SensitivityTable table;
    table.provenance = provenanceFor(path, a.value("calib"), req, uint64_t(a.integer("seed", 0)));
    bool reused = false;
    if (!out.empty() && !a.flag("force") && QFileInfo::exists(QString::fromStdString(out))) {
        // A table measured on the same model content, data and options is reused as it is.
        std::string why;
        try {
            const SensitivityTable old = readSensitivityTable(out);
            why = old.provenance.differenceFrom(table.provenance);
            if (why.empty()) {
                table.result = old.result;
                reused = true;
            }
        } catch (const Error& e) {
            why = e.what();
        }
        std::fprintf(stderr, reused ? "ptq: reused the sensitivity table %s (same model, data and options; --force "
                                      "measures again)\n"
                                    : "ptq: measuring again, %s does not match: %s\n",
                     out.c_str(), why.c_str());
    }
    if (!reused) {
        const auto card = loadModelCard(path);
        if (shape.empty() && card) shape = card->inputShape;
        Graph graph = importTorchScript(path, shape);
        foldBatchNorms(graph);
        const Normalization norm = card ? Normalization::fromModelCard(*card) : Normalization::fashionMnist();
        const auto data = openDataSource(a.value("calib"), norm, graph.sampleShape(graph.inputValue()));
        table.result = measureSensitivity(graph, *data, req);
        if (!out.empty()) writeSensitivityTable(out, table);
    }
    const SensitivityResult& r = table.result;

    if (a.flag("json")) {
        QJsonObject o;
        o["model"] = QString::fromStdString(path);
        o["data"] = QString::fromStdString(a.value("calib"));
        o["base"] = QString::fromStdString(r.base.name());
        addSensitivitySummary(o, r);
        o["reused"] = reused;
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
    std::printf("  %.1f s, %.1f full-forward equivalents for %zu layers x %zu options\n\n", r.seconds,
                r.forwardEquivalents, r.layers.size(), r.options.size());
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
