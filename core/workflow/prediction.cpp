#include "core/workflow/prediction.h"

#include "core/util/error.h"
#include "core/util/log.h"

#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include <cmath>
#include <map>

namespace ptq {

std::vector<std::vector<int>> frontierAnchorChoices(const BudgetProblem& problem, int count, double fromRatio,
                                                    double toRatio) {
    if (count < 1) throw invalidInput("Measure at least 1 allocation to anchor the predictions; got " +
                                      std::to_string(count) + ".");
    if (!(fromRatio > 0.0) || !(toRatio <= 1.0) || !(fromRatio < toRatio))
        throw invalidInput("The budgets to anchor the predictions between must satisfy 0 < from < to <= 1 (ratios of "
                           "the FP32 weight size); got " + std::to_string(fromRatio) + " and " +
                           std::to_string(toRatio) + ".");
    BudgetRequest request;
    request.metric = CostMetric::Size;
    request.reference = CostReference::Fp32;
    std::vector<BudgetPoint> inRange;
    for (BudgetPoint& p : problem.pareto(request))
        if (p.costRatio >= fromRatio - 1e-12 && p.costRatio <= toRatio + 1e-12) inRange.push_back(std::move(p));
    // The cheapest frontier point within the range's start: the tightest budget's allocation.
    if (inRange.empty())
        throw invalidInput("No allocation of the table lies between " + std::to_string(fromRatio) + " and " +
                           std::to_string(toRatio) + " of the FP32 weight size: widen the range.");
    std::vector<double> loads;
    for (const BudgetPoint& p : inRange) loads.push_back(p.deltaLoss);
    std::vector<std::vector<int>> choices;
    for (size_t i : spreadAnchors(loads, count)) choices.push_back(inRange[i].choice);
    return choices;
}

std::vector<MeasuredAllocation> measureAllocations(const BudgetProblem& problem, AllocationSpec spec,
                                                   const std::vector<std::vector<int>>& choices,
                                                   const std::vector<TuningStep>& steps, const TuningOptions& tuning,
                                                   const DataSourceSpec& evaluationSource,
                                                   const std::function<void(const MeasuredAllocation&)>& onMeasured,
                                                   const Progress* progress) {
    std::vector<MeasuredAllocation> out;
    std::optional<Fp32Figures> fp32;
    const double n = double(std::max<size_t>(choices.size(), 1));
    for (size_t k = 0; k < choices.size(); ++k) {
        spec.choice = choices[k];
        const double from = double(k) / n, to = double(k + 1) / n;
        const std::string stage = "Allocation " + std::to_string(k + 1) + "/" + std::to_string(choices.size());
        std::unique_ptr<TunedModel> tuned;
        {
            const ScaledProgress p(progress, from, from + 0.1 * (to - from), stage + ": calibrating");
            tuned = calibrateAllocation(spec, p.get());
        }
        for (size_t s = 0; s < steps.size(); ++s) {
            const double a = from + (0.1 + 0.7 * double(s) / double(steps.size())) * (to - from);
            const double b = from + (0.1 + 0.7 * double(s + 1) / double(steps.size())) * (to - from);
            const ScaledProgress p(progress, a, b, stage + ": " + tuningStepName(steps[s]));
            applyTuningStep(*tuned, steps[s], tuning, nullptr, p.get());
        }
        const ScaledProgress p(progress, from + 0.8 * (to - from), to, stage + ": evaluating");
        MeasuredAllocation m = measureTuned(*tuned, evaluationSource, fp32, p.get());
        fp32 = Fp32Figures{m.fp32Top1, m.fp32Loss};
        const BudgetAllocation predicted = problem.evaluate(m.choice);
        m.predictedDeltaTop1 = predicted.deltaTop1;
        m.sizeBytes = predicted.sizeBytes;
        m.bops = predicted.bops;
        logger()->info("Anchor {}/{}: {:.4f} of FP32, load {:.5f}: top-1 {:.2f} % (FP32 {:.2f} %)", k + 1,
                       choices.size(), predicted.sizeBytes / std::max(problem.referenceCost(CostMetric::Size,
                                                                                           CostReference::Fp32),
                                                                      1e-30),
                       predicted.deltaLoss, m.top1, m.fp32Top1);
        if (onMeasured) onMeasured(m);
        out.push_back(std::move(m));
    }
    return out;
}

DropModel dropModelFor(const BudgetProblem& problem, const std::vector<MeasuredAllocation>& measured,
                       const std::string& pipeline, const std::string& evaluationSource) {
    std::vector<PredictionAnchor> anchors;
    const double fp32Size = problem.referenceCost(CostMetric::Size, CostReference::Fp32);
    for (const MeasuredAllocation& m : measured) {
        if (m.pipeline != pipeline || m.evaluationSource != evaluationSource) continue;
        if (int(m.choice.size()) != problem.layerCount()) continue;
        PredictionAnchor a;
        a.load = problem.deltaLossOf(m.choice);
        a.measuredDrop = m.fp32Top1 - m.top1;
        a.measuredTop1 = m.top1;
        a.samples = m.evaluationSamples;
        a.costRatio = fp32Size > 0 ? problem.evaluate(m.choice).sizeBytes / fp32Size : 0.0;
        anchors.push_back(a);
    }
    // The table's own drop per unit load: minus its fitted top-1 per unit loss.
    return DropModel(std::move(anchors), -problem.top1PerLoss());
}

void writeAnchors(const std::string& path, const AnchorSet& set) {
    QJsonObject o;
    o["format"] = "ptq-anchors";
    o["version"] = 1;
    o["pipeline"] = QString::fromStdString(set.pipeline);
    o["evaluation"] = QString::fromStdString(set.evaluationSource);
    o["table"] = QString::fromStdString(set.table);
    o["model_sha256"] = QString::fromStdString(set.modelSha256);
    QJsonArray measured;
    for (const MeasuredAllocation& m : set.measured) {
        QJsonObject choice;
        for (size_t l = 0; l < m.choice.size() && l < set.layers.size(); ++l)
            choice[QString::fromStdString(set.layers[l])] = QString::fromStdString(set.options.at(size_t(m.choice[l])));
        measured.append(QJsonObject{{"choice", choice},
                                    {"top1", m.top1},
                                    {"fp32_top1", m.fp32Top1},
                                    {"loss", m.loss},
                                    {"fp32_loss", m.fp32Loss},
                                    {"evaluation_samples", qint64(m.evaluationSamples)},
                                    {"size_bytes", m.sizeBytes},
                                    {"seconds", m.seconds}});
    }
    o["measured"] = measured;
    QSaveFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(o).toJson(QJsonDocument::Indented)) < 0 || !f.commit())
        throw failed("Could not write the anchors file " + path + ": check that its folder exists and is writable.");
}

AnchorSet readAnchors(const std::string& path) {
    QFile f(QString::fromStdString(path));
    if (!f.open(QIODevice::ReadOnly))
        throw invalidInput("Cannot open the anchors file " + path + ": check the path (ptq anchors writes one).");
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &err);
    auto bad = [&](const std::string& what) {
        return invalidInput("The anchors file " + path + " " + what + ": measure it again with ptq anchors.");
    };
    if (err.error != QJsonParseError::NoError || !doc.isObject()) throw bad("is not JSON");
    const QJsonObject o = doc.object();
    if (o["format"].toString() != "ptq-anchors") throw bad("is not an anchors file (no \"format\": \"ptq-anchors\")");
    if (o["version"].toInt() != 1) throw bad("has a version this build does not read");
    AnchorSet set;
    set.pipeline = o["pipeline"].toString().toStdString();
    set.evaluationSource = o["evaluation"].toString().toStdString();
    set.table = o["table"].toString().toStdString();
    set.modelSha256 = o["model_sha256"].toString().toStdString();
    if (set.pipeline.empty() || set.evaluationSource.empty()) throw bad("lacks its pipeline or evaluation data");
    if (!o["measured"].isArray()) throw bad("has no \"measured\" list");
    for (const QJsonValue& v : o["measured"].toArray()) {
        const QJsonObject m = v.toObject();
        if (!m["choice"].isObject() || !m["top1"].isDouble() || !m["fp32_top1"].isDouble())
            throw bad("has a measured allocation without its choice, top1 or fp32_top1");
        MeasuredAllocation a;
        a.pipeline = set.pipeline;
        a.evaluationSource = set.evaluationSource;
        a.top1 = m["top1"].toDouble();
        a.fp32Top1 = m["fp32_top1"].toDouble();
        a.loss = m["loss"].toDouble();
        a.fp32Loss = m["fp32_loss"].toDouble();
        a.evaluationSamples = m["evaluation_samples"].toInteger();
        a.sizeBytes = m["size_bytes"].toDouble();
        a.seconds = m["seconds"].toDouble();
        if (!(a.top1 >= 0 && a.top1 <= 100 && a.fp32Top1 >= 0 && a.fp32Top1 <= 100))
            throw bad("has a top-1 outside 0..100");
        // Names are resolved against a table by anchorsForTable; keep them in the choice's order.
        const QJsonObject choice = m["choice"].toObject();
        if (set.layers.empty())
            for (auto it = choice.begin(); it != choice.end(); ++it) set.layers.push_back(it.key().toStdString());
        std::vector<int> c;
        for (const std::string& layer : set.layers) {
            const QString option = choice[QString::fromStdString(layer)].toString();
            if (option.isEmpty()) throw bad("has a measured allocation that leaves out layer '" + layer + "'");
            auto it = std::find(set.options.begin(), set.options.end(), option.toStdString());
            if (it == set.options.end()) {
                set.options.push_back(option.toStdString());
                it = set.options.end() - 1;
            }
            c.push_back(int(it - set.options.begin()));
        }
        if (choice.size() != int(set.layers.size())) throw bad("has measured allocations of different layers");
        a.choice = std::move(c);
        set.measured.push_back(std::move(a));
    }
    return set;
}

std::vector<MeasuredAllocation> anchorsForTable(const AnchorSet& set, const SensitivityTable& table) {
    if (!set.modelSha256.empty() && !table.provenance.modelSha256.empty() &&
        set.modelSha256 != table.provenance.modelSha256)
        throw invalidInput("The anchors were measured on another model than the table's: measure them again with ptq "
                           "anchors on this table.");
    std::map<std::string, int> layerIndex, optionIndex;
    for (size_t i = 0; i < table.result.layers.size(); ++i) layerIndex[table.result.layers[i].name] = int(i);
    for (size_t i = 0; i < table.result.options.size(); ++i) optionIndex[table.result.options[i].name()] = int(i);
    std::vector<MeasuredAllocation> out;
    for (const MeasuredAllocation& m : set.measured) {
        MeasuredAllocation a = m;
        a.choice.assign(table.result.layers.size(), -1);
        for (size_t l = 0; l < set.layers.size(); ++l) {
            auto li = layerIndex.find(set.layers[l]);
            if (li == layerIndex.end())
                throw invalidInput("The anchors name layer '" + set.layers[l] + "', which the table lacks: measure "
                                   "them again with ptq anchors on this table.");
            auto oi = optionIndex.find(set.options.at(size_t(m.choice[l])));
            if (oi == optionIndex.end())
                throw invalidInput("The anchors use option '" + set.options.at(size_t(m.choice[l])) +
                                   "', which the table lacks: measure them again with ptq anchors on this table.");
            a.choice[size_t(li->second)] = oi->second;
        }
        for (int c : a.choice)
            if (c < 0)
                throw invalidInput("The anchors leave out some of the table's layers: measure them again with ptq "
                                   "anchors on this table.");
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace ptq
