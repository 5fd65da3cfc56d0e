#include "core/io/project_file.h"

#include "core/alloc/sensitivity_table.h"
#include "core/methods/adaquant.h"
#include "core/quant/range_calibration.h"
#include "core/util/error.h"
#include "core/util/file_hash.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>
#include <QtCore/QtEndian>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ptq {

namespace {

constexpr int kVersion = 1;
const char* kFormat = "ptq-project";

QString q(const std::string& s) { return QString::fromStdString(s); }

/// Float arrays as base64 of little-endian float32: a third of the text of decimal numbers
/// and exact (AdaQuant's tuned weights are most of a project's bytes).
QString floatBlob(const std::vector<float>& v) {
    QByteArray bytes(qsizetype(v.size() * 4), Qt::Uninitialized);
    for (size_t i = 0; i < v.size(); ++i) qToLittleEndian(v[i], bytes.data() + i * 4);
    return QString::fromLatin1(bytes.toBase64());
}

QJsonArray numbers(const std::vector<float>& v) {
    QJsonArray a;
    for (float x : v) a.append(double(x));
    return a;
}
template <typename Int>
QJsonArray integers(const std::vector<Int>& v) {
    QJsonArray a;
    for (Int x : v) a.append(qint64(x));
    return a;
}

QJsonObject paramsJson(const QuantParams& p) {
    QJsonObject o{{"scale", numbers(p.scale)}, {"zero_point", integers(p.zeroPoint)}};
    if (!p.shift.empty()) o["shift"] = integers(p.shift);
    return o;
}

QJsonArray choiceJson(const std::vector<int>& choice, const SensitivityResult& table) {
    QJsonArray a;
    for (int option : choice) a.append(q(table.options.at(size_t(option)).name()));
    return a;
}

QJsonObject budgetJson(const BudgetRequest& b) {
    return {{"kind", b.kind == BudgetKind::Cost ? "cost" : "degradation"},
            {"metric", costMetricName(b.metric)},
            {"reference", costReferenceName(b.reference)},
            {"cost_ratio", b.costRatio},
            {"max_degradation", b.maxDegradation}};
}

QJsonObject requestJson(const SensitivityRequest& r) {
    QJsonArray options;
    for (const BitOption& o : r.options) options.append(q(o.name()));
    return {{"options", options},
            {"base", q(r.base.name())},
            {"granularity", granularityName(r.quantizer.granularity)},
            {"weight_range", rangeMethodName(r.quantizer.weightRange)},
            {"act_range", rangeMethodName(r.quantizer.activationRange)},
            {"batch", qint64(r.quantizer.batchSize)},
            {"cache_bytes", qint64(r.cacheBytes)}};
}

QJsonObject adaQuantJson(const AdaQuantLayerResult& r) {
    QJsonObject o{{"layer", q(r.layer)},
                  {"w_bits", r.weightBits},
                  {"a_bits", r.activationBits},
                  {"weight_shape", integers(r.weightShape)},
                  {"weight", floatBlob(r.weight)},
                  {"bias", floatBlob(r.bias)},
                  {"weight_params", paramsJson(r.weightParams)},
                  {"activation_params", paramsJson(r.activationParams)},
                  {"mse_before", r.mseBefore},
                  {"mse_after", r.mseAfter},
                  {"applied", r.applied},
                  {"relu_in_loss", r.reluInLoss},
                  {"iterations", r.iterations},
                  {"samples", qint64(r.samples)},
                  {"seconds", r.seconds},
                  {"macs_per_sample", qint64(r.macsPerSample)}};
    return o;
}

}  // namespace

Project projectFromSession(const Session& session, const SensitivityRequest& request, const BudgetRequest& budget) {
    if (!session.model) throw invalidInput("There is no model to save in a project: open a model first.");
    Project p;
    p.modelPath = QFileInfo(q(session.model->summary().path)).absoluteFilePath().toStdString();
    p.modelSha256 = fileSha256(p.modelPath);
    p.modelCard = session.model->card();
    p.calibrationSource = session.calibrationSource.text;
    p.evaluationSource = session.evaluationSource.text;
    p.calibrationSkipBad = session.calibrationSource.skipBad;
    p.evaluationSkipBad = session.evaluationSource.skipBad;
    p.sensitivityRequest = request;
    p.sensitivity = session.sensitivity;
    p.budget = budget;
    p.budget.pins.clear();
    p.allocation = session.allocation;
    p.pins = session.pins;
    p.measured = session.measured;
    p.adaquant = session.adaquant;
    return p;
}

void writeProject(const std::string& path, const Project& p) {
    const QFileInfo info(q(path));
    QJsonObject o;
    o["format"] = kFormat;
    o["version"] = kVersion;
    QJsonObject model{{"path", info.absoluteDir().relativeFilePath(q(p.modelPath))},
                      {"absolute_path", QFileInfo(q(p.modelPath)).absoluteFilePath()},
                      {"sha256", q(p.modelSha256)}};
    if (p.modelCard) {
        const auto numbers = [](const auto& values) {
            QJsonArray a;
            for (auto v : values) a.append(double(v));
            return a;
        };
        QJsonArray names;
        for (const std::string& n : p.modelCard->classNames) names.append(q(n));
        model["card"] = QJsonObject{{"input_shape", numbers(p.modelCard->inputShape)},
                                    {"mean", numbers(p.modelCard->mean)},
                                    {"std", numbers(p.modelCard->std)},
                                    {"preset", q(p.modelCard->preset)},
                                    {"crop_ratio", p.modelCard->effectiveCropRatio()},
                                    {"class_names", names}};
    }
    o["model"] = model;
    o["calibration"] = q(p.calibrationSource);
    o["evaluation"] = q(p.evaluationSource);
    if (p.calibrationSkipBad) o["calibration_skip_bad"] = true;
    if (p.evaluationSkipBad) o["evaluation_skip_bad"] = true;
    o["sensitivity_request"] = requestJson(p.sensitivityRequest);
    o["budget"] = budgetJson(p.budget);
    if (p.sensitivity) {
        SensitivityTable t;
        t.result = *p.sensitivity;
        t.provenance.modelPath = p.modelPath;
        t.provenance.modelSha256 = p.modelSha256;
        t.provenance.modelBytes = QFileInfo(q(p.modelPath)).size();
        t.provenance.data = p.calibrationSource;
        for (const BitOption& b : p.sensitivity->options) t.provenance.options.push_back(b.name());
        t.provenance.base = p.sensitivity->base.name();
        t.provenance.granularity = granularityName(p.sensitivityRequest.quantizer.granularity);
        t.provenance.weightRange = rangeMethodName(p.sensitivityRequest.quantizer.weightRange);
        t.provenance.activationRange = rangeMethodName(p.sensitivityRequest.quantizer.activationRange);
        t.provenance.batch = p.sensitivityRequest.quantizer.batchSize;
        o["sensitivity"] = sensitivityTableToJson(t);

        const SensitivityResult& table = *p.sensitivity;
        if (!p.allocation.choice.empty()) {
            const BudgetAllocation& a = p.allocation;
            o["allocation"] = QJsonObject{{"choice", choiceJson(a.choice, table)},
                                          {"feasible", a.feasible},
                                          {"status", q(a.status)},
                                          {"delta_loss", a.deltaLoss},
                                          {"delta_top1", a.deltaTop1},
                                          {"size_bytes", a.sizeBytes},
                                          {"bops", a.bops},
                                          {"solver_ms", a.solverMs}};
        }
        QJsonArray pins;
        for (const auto& [layer, option] : p.pins)
            pins.append(QJsonObject{{"layer", q(table.layers.at(size_t(layer)).name)},
                                    {"option", q(table.options.at(size_t(option)).name())}});
        o["pins"] = pins;
        QJsonArray measured;
        for (const MeasuredAllocation& m : p.measured)
            measured.append(QJsonObject{{"choice", choiceJson(m.choice, table)},
                                        {"pipeline", q(m.pipeline)},
                                        {"evaluation", q(m.evaluationSource)},
                                        {"evaluation_samples", qint64(m.evaluationSamples)},
                                        {"top1", m.top1},
                                        {"fp32_top1", m.fp32Top1},
                                        {"fp32_loss", m.fp32Loss},
                                        {"loss", m.loss},
                                        {"predicted_delta_top1", m.predictedDeltaTop1},
                                        {"size_bytes", m.sizeBytes},
                                        {"bops", m.bops},
                                        {"seconds", m.seconds}});
        o["measured"] = measured;
    } else if (!p.pins.empty() || !p.measured.empty() || !p.allocation.choice.empty()) {
        throw failed("internal: a project with pins, an allocation or measured points but no sensitivity table");
    }
    // The AdaQuant results (most of the bytes) are streamed into the file one entry at a time
    // after the rest: no second copy of the whole document in memory. QSaveFile still makes the
    // file appear only once complete.
    QByteArray head = QJsonDocument(o).toJson(QJsonDocument::Indented);
    if (p.adaquant) {
        head.chop(2);  // "}\n": the array goes in before the object's end
        head += ",\n    \"adaquant\": [";
    }
    QSaveFile file(q(path));
    bool ok = file.open(QIODevice::WriteOnly) && file.write(head) >= 0;
    if (p.adaquant && ok) {
        bool first = true;
        for (const auto& [key, r] : p.adaquant->results()) {
            ok = ok && file.write(first ? "\n        " : ",\n        ") >= 0 &&
                 file.write(QJsonDocument(adaQuantJson(r)).toJson(QJsonDocument::Compact)) >= 0;
            first = false;
        }
        ok = ok && file.write("\n    ]\n}\n") >= 0;
    }
    if (!ok || !file.commit())
        throw failed("Could not save the project " + path + ": check that its folder exists, is writable and has "
                     "room; the previous file is unchanged.");
}

std::string projectModelChange(const Project& p) {
    if (!QFileInfo::exists(q(p.modelPath)))
        return "The project's model " + p.modelPath + " is missing: put it back or open the model again.";
    if (fileSha256(p.modelPath) != p.modelSha256)
        return "The project's model " + p.modelPath + " has changed since the project was saved (its SHA-256 "
               "differs): the cached sensitivity table may no longer describe it.";
    return {};
}

std::string autosavePathFor(const std::string& projectPath) { return projectPath + ".autosave"; }

std::string recoverableAutosave(const std::string& projectPath) {
    const QFileInfo autosave(q(autosavePathFor(projectPath)));
    if (!autosave.exists()) return {};
    const QFileInfo project(q(projectPath));
    if (project.exists() && project.lastModified() >= autosave.lastModified()) return {};
    return autosave.filePath().toStdString();
}

}  // namespace ptq
