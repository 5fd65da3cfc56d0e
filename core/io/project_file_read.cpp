// Reading a project file: the whole file is parsed into a Project and checked before it is
// returned, and every error names the JSON path of the value that is wrong.
#include "core/io/project_file.h"

#include "core/alloc/sensitivity_table.h"
#include "core/data/data_source.h"
#include "core/methods/adaquant.h"
#include "core/quant/range_calibration.h"
#include "core/util/error.h"
#include "core/workflow/settings.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QtEndian>

#include <cmath>
#include <limits>
#include <set>
#include <string>

namespace ptq {

namespace {

/// What a measured allocation's pipeline may be called: a named pipeline, or the tuning steps
/// that ran on its ranges, in order (core/workflow/settings.h).
bool isPipelineName(const std::string& name) {
    try {
        pipelineFromName(name);
        return true;
    } catch (const Error&) {
        return false;
    }
}

QString q(const std::string& s) { return QString::fromStdString(s); }
std::string inQuotes(const std::string& s) { return "\"" + s + "\""; }
std::string at(const std::string& where, int i) { return where + "[" + std::to_string(i) + "]"; }

struct Reader {
    std::string file;
    [[noreturn]] void fail(const std::string& where, const std::string& what) const {
        throw invalidInput("The project " + file + " cannot be opened: " + where + ": " + what +
                           ". Fix that entry or save the project again; nothing was changed.");
    }
    QJsonValue member(const QJsonObject& o, const std::string& where, const char* key) const {
        if (!o.contains(QLatin1String(key))) fail(where + (where.empty() ? "" : ".") + key, "is missing");
        return o[QLatin1String(key)];
    }
    static std::string path(const std::string& where, const char* key) {
        return where.empty() ? std::string(key) : where + "." + key;
    }
    QJsonObject object(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isObject()) fail(path(where, key), "is not an object");
        return v.toObject();
    }
    QJsonArray array(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isArray()) fail(path(where, key), "is not an array");
        return v.toArray();
    }
    /// An array that may be absent (an empty one).
    QJsonArray optionalArray(const QJsonObject& o, const std::string& where, const char* key) const {
        return o.contains(QLatin1String(key)) ? array(o, where, key) : QJsonArray();
    }
    std::string string(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isString()) fail(path(where, key), "is not a string");
        return v.toString().toStdString();
    }
    double number(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isDouble() || !std::isfinite(v.toDouble())) fail(path(where, key), "is not a number");
        return v.toDouble();
    }
    int64_t integer(const QJsonObject& o, const std::string& where, const char* key) const {
        const double v = number(o, where, key);
        if (v != std::floor(v) || std::abs(v) > 9e15) fail(path(where, key), "is not a whole number");
        return int64_t(v);
    }
    bool boolean(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonValue v = member(o, where, key);
        if (!v.isBool()) fail(path(where, key), "is not true or false");
        return v.toBool();
    }
    int bits(const QJsonObject& o, const std::string& where, const char* key) const {
        const int64_t b = integer(o, where, key);
        if (b < 2 || b > 16) fail(path(where, key), std::to_string(b) + " is out of range (2 to 16 bits)");
        return int(b);
    }
    BitOption option(const QJsonValue& v, const std::string& where) const {
        if (!v.isString()) fail(where, "is not an option name such as \"w4a8\"");
        try {
            return BitOption::parse(v.toString().toStdString());
        } catch (const Error& e) {
            fail(where, e.what());
        }
    }
    std::vector<float> floats(const QJsonObject& o, const std::string& where, const char* key) const {
        const QByteArray text = string(o, where, key).c_str();
        const auto decoded = QByteArray::fromBase64Encoding(text, QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded || decoded.decoded.size() % 4 != 0)
            fail(path(where, key), "is not base64 of little-endian float32 values");
        std::vector<float> v(size_t(decoded.decoded.size() / 4));
        for (size_t i = 0; i < v.size(); ++i) v[i] = qFromLittleEndian<float>(decoded.decoded.constData() + i * 4);
        return v;
    }
    /// A whole number of at most 1e9 in magnitude (zero points, shifts).
    int32_t smallInteger(const QJsonValue& v, const std::string& where) const {
        const double d = v.toDouble(0.5);
        if (!v.isDouble() || d != std::floor(d) || std::abs(d) > 1e9) fail(where, "is not a whole number of at most 1e9");
        return int32_t(d);
    }
    QuantParams params(const QJsonObject& o, const std::string& where, const char* key) const {
        const QJsonObject p = object(o, where, key);
        const std::string w = path(where, key);
        QuantParams r;
        const QJsonArray scale = array(p, w, "scale"), zero = array(p, w, "zero_point");
        const QJsonArray shift = optionalArray(p, w, "shift");
        for (int i = 0; i < scale.size(); ++i) {
            const double s = scale[i].toDouble(-1);
            if (!(std::abs(s) <= double(std::numeric_limits<float>::max()) && float(s) > 0.f))  // nor 0 once a float
                fail(at(w + ".scale", i), "is not a positive number a 32-bit float holds");
            r.scale.push_back(float(s));
        }
        if (zero.size() != scale.size()) fail(w + ".zero_point", "has not one value per scale");
        for (int i = 0; i < zero.size(); ++i) r.zeroPoint.push_back(smallInteger(zero[i], at(w + ".zero_point", i)));
        if (!shift.isEmpty() && shift.size() != scale.size()) fail(w + ".shift", "has not one value per scale");
        for (int i = 0; i < shift.size(); ++i) r.shift.push_back(smallInteger(shift[i], at(w + ".shift", i)));
        return r;
    }
    /// Option names, one per layer of @p table.
    std::vector<int> choice(const QJsonObject& o, const std::string& where, const SensitivityResult& table) const {
        const QJsonArray a = array(o, where, "choice");
        const std::string w = path(where, "choice");
        if (size_t(a.size()) != table.layers.size())
            fail(w, "has " + std::to_string(a.size()) + " entries for the table's " +
                        std::to_string(table.layers.size()) + " layers");
        std::vector<int> choice;
        for (int i = 0; i < a.size(); ++i) choice.push_back(optionIndex(a[i], at(w, i), table));
        return choice;
    }
    int optionIndex(const QJsonValue& v, const std::string& where, const SensitivityResult& table) const {
        const BitOption b = option(v, where);
        for (size_t k = 0; k < table.options.size(); ++k)
            if (table.options[k] == b) return int(k);
        fail(where, inQuotes(b.name()) + " is not an option of the sensitivity table");
    }
};

int layerIndex(const SensitivityResult& table, const std::string& name) {
    for (size_t i = 0; i < table.layers.size(); ++i)
        if (table.layers[i].name == name) return int(i);
    return -1;
}

SensitivityRequest readRequest(const Reader& r, const QJsonObject& o) {
    const std::string w = "sensitivity_request";
    SensitivityRequest req;
    req.options.clear();
    const QJsonArray options = r.array(o, w, "options");
    for (int i = 0; i < options.size(); ++i) req.options.push_back(r.option(options[i], at(w + ".options", i)));
    if (req.options.empty()) r.fail(w + ".options", "is empty");
    req.base = r.option(r.member(o, w, "base"), w + ".base");
    try {
        req.quantizer.granularity = granularityFromString(r.string(o, w, "granularity"));
    } catch (const Error& e) {
        r.fail(w + ".granularity", e.what());
    }
    try {
        req.quantizer.weightRange = rangeMethodFromString(r.string(o, w, "weight_range"));
        req.quantizer.activationRange = rangeMethodFromString(r.string(o, w, "act_range"));
    } catch (const Error& e) {
        r.fail(w + ".weight_range", e.what());
    }
    req.quantizer.batchSize = r.integer(o, w, "batch");
    if (req.quantizer.batchSize < 1) r.fail(w + ".batch", "is below 1");
    req.cacheBytes = r.integer(o, w, "cache_bytes");
    return req;
}

BudgetRequest readBudget(const Reader& r, const QJsonObject& o) {
    const std::string w = "budget";
    BudgetRequest b;
    const std::string kind = r.string(o, w, "kind"), metric = r.string(o, w, "metric");
    const std::string reference = r.string(o, w, "reference");
    if (kind != "cost" && kind != "degradation") r.fail(w + ".kind", inQuotes(kind) + " is not cost or degradation");
    if (metric != "size" && metric != "bops") r.fail(w + ".metric", inQuotes(metric) + " is not size or bops");
    if (reference != "fp32" && reference != "int8")
        r.fail(w + ".reference", inQuotes(reference) + " is not fp32 or int8");
    b.kind = kind == "cost" ? BudgetKind::Cost : BudgetKind::Degradation;
    b.metric = metric == "size" ? CostMetric::Size : CostMetric::Bops;
    b.reference = reference == "fp32" ? CostReference::Fp32 : CostReference::Int8;
    b.costRatio = r.number(o, w, "cost_ratio");
    b.maxDegradation = r.number(o, w, "max_degradation");
    if (b.costRatio <= 0) r.fail(w + ".cost_ratio", "is not above 0");
    if (b.maxDegradation < 0) r.fail(w + ".max_degradation", "is below 0");
    return b;
}

AdaQuantLayerResult readAdaQuant(const Reader& r, const QJsonObject& o, const std::string& w,
                                 const SensitivityResult* table) {
    AdaQuantLayerResult a;
    a.layer = r.string(o, w, "layer");
    if (table && layerIndex(*table, a.layer) < 0) r.fail(w + ".layer", inQuotes(a.layer) + " is not a layer of the model");
    a.weightBits = r.bits(o, w, "w_bits");
    a.activationBits = r.bits(o, w, "a_bits");
    int64_t elements = 1;
    const QJsonArray shape = r.array(o, w, "weight_shape");
    for (int i = 0; i < shape.size(); ++i) {
        const int64_t d = shape[i].toInteger(-1);
        if (d < 1) r.fail(at(w + ".weight_shape", i), "is not a positive whole number");
        a.weightShape.push_back(d);
        elements *= d;
    }
    if (a.weightShape.empty()) r.fail(w + ".weight_shape", "is empty");
    a.weight = r.floats(o, w, "weight");
    if (int64_t(a.weight.size()) != elements)
        r.fail(w + ".weight", "holds " + std::to_string(a.weight.size()) + " values for a weight of " +
                                  std::to_string(elements));
    a.bias = r.floats(o, w, "bias");
    if (!a.bias.empty() && int64_t(a.bias.size()) != a.weightShape[0])
        r.fail(w + ".bias", "holds " + std::to_string(a.bias.size()) + " values for " +
                                std::to_string(a.weightShape[0]) + " output channels");
    a.weightParams = r.params(o, w, "weight_params");
    if (a.weightParams.scale.empty()) r.fail(w + ".weight_params.scale", "is empty");
    a.activationParams = r.params(o, w, "activation_params");
    a.mseBefore = r.number(o, w, "mse_before");
    a.mseAfter = r.number(o, w, "mse_after");
    a.applied = r.boolean(o, w, "applied");
    a.reluInLoss = r.boolean(o, w, "relu_in_loss");
    a.iterations = int(r.integer(o, w, "iterations"));
    a.samples = r.integer(o, w, "samples");
    a.seconds = r.number(o, w, "seconds");
    a.macsPerSample = r.integer(o, w, "macs_per_sample");
    return a;
}

}  // namespace

Project readProject(const std::string& path) {
    const Reader r{path};
    QFile file(q(path));
    if (!file.open(QIODevice::ReadOnly))
        throw invalidInput("Cannot read the project " + path + ": check that the file exists and is readable.");
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &err);
    if (err.error != QJsonParseError::NoError)
        r.fail("(offset " + std::to_string(err.offset) + ")", "the file is not valid JSON (" +
                                                                  err.errorString().toStdString() + ")");
    if (!doc.isObject()) r.fail("(top level)", "is not a JSON object");
    const QJsonObject o = doc.object();
    if (r.string(o, "", "format") != "ptq-project")
        r.fail("format", inQuotes(o["format"].toString().toStdString()) + " is not \"ptq-project\"");
    const int64_t version = r.integer(o, "", "version");
    if (version != 1)
        r.fail("version", std::to_string(version) + " is not a version this PTQ Studio reads (1); a newer PTQ "
                                                   "Studio may have written it");

    Project p;
    const QJsonObject model = r.object(o, "", "model");
    const std::string relative = r.string(model, "model", "path");
    const std::string absolute = r.string(model, "model", "absolute_path");
    p.modelSha256 = r.string(model, "model", "sha256");
    // The relative path first: a project moved together with its model keeps working.
    const QString besideProject = QFileInfo(q(path)).absoluteDir().absoluteFilePath(q(relative));
    p.modelPath = !relative.empty() && QFileInfo::exists(besideProject) ? QDir::cleanPath(besideProject).toStdString()
                                                                         : absolute;
    if (p.modelPath.empty()) r.fail("model.absolute_path", "is empty");
    if (model.contains(QLatin1String("card"))) {
        const QJsonObject c = r.object(model, "model", "card");
        ModelCard card;
        for (const QJsonValue v : r.array(c, "model.card", "input_shape")) {
            if (!v.isDouble() || v.toDouble() != std::floor(v.toDouble()) || std::abs(v.toDouble()) > 1e9)
                r.fail("model.card.input_shape", "holds something other than whole sizes");
            card.inputShape.push_back(int64_t(v.toDouble()));
        }
        for (const char* key : {"mean", "std"})
            for (const QJsonValue v : r.array(c, "model.card", key)) {
                if (!v.isDouble() || !(std::abs(v.toDouble()) <= double(std::numeric_limits<float>::max())))
                    r.fail(std::string("model.card.") + key, "holds something other than 32-bit float numbers");
                (key[0] == 'm' ? card.mean : card.std).push_back(float(v.toDouble()));
            }
        card.preset = r.string(c, "model.card", "preset");
        card.cropRatio = r.number(c, "model.card", "crop_ratio");
        for (const QJsonValue v : r.array(c, "model.card", "class_names")) {
            if (!v.isString()) r.fail("model.card.class_names", "holds something other than names");
            card.classNames.push_back(v.toString().toStdString());
        }
        try {
            validateModelCard(card, "model.card");
        } catch (const Error& e) {
            std::string why = e.what();
            if (!why.empty() && why.back() == '.') why.pop_back();
            r.fail("model.card", why.substr(std::string("model.card ").size()));
        }
        p.modelCard = card;
    }
    p.calibrationSource = r.string(o, "", "calibration");
    p.evaluationSource = r.string(o, "", "evaluation");
    if (o.contains(QStringLiteral("calibration_skip_bad"))) p.calibrationSkipBad = r.boolean(o, "", "calibration_skip_bad");
    if (o.contains(QStringLiteral("evaluation_skip_bad"))) p.evaluationSkipBad = r.boolean(o, "", "evaluation_skip_bad");
    for (const auto& [key, text] : {std::pair{"calibration", p.calibrationSource}, {"evaluation", p.evaluationSource}})
        if (!text.empty()) try {
                parseDataSource(text);
            } catch (const Error& e) {
                std::string why = e.what();
                if (!why.empty() && why.back() == '.') why.pop_back();
                r.fail(key, why);
            }
    p.sensitivityRequest = readRequest(r, r.object(o, "", "sensitivity_request"));
    p.budget = readBudget(r, r.object(o, "", "budget"));

    std::shared_ptr<SensitivityResult> table;
    if (o.contains("sensitivity")) {
        const QJsonObject t = r.object(o, "", "sensitivity");
        try {
            table = std::make_shared<SensitivityResult>(
                sensitivityTableFromJson(t, "The project " + path + "'s member \"sensitivity\"").result);
        } catch (const Error& e) {
            r.fail("sensitivity", e.what());
        }
        const QJsonArray layers = t["layers"].toArray();
        for (int i = 0; i < layers.size(); ++i)
            if (layerIndex(*table, table->layers[size_t(i)].name) != i)
                r.fail(at("sensitivity.layers", i) + ".name",
                       inQuotes(table->layers[size_t(i)].name) + " appears twice");
        p.sensitivity = table;
    }
    const auto needTable = [&](const char* key) {
        if (!table) r.fail(key, "needs the sensitivity table, which the file lacks");
    };
    if (o.contains("allocation")) {
        needTable("allocation");
        const QJsonObject a = r.object(o, "", "allocation");
        p.allocation.choice = r.choice(a, "allocation", *table);
        p.allocation.feasible = r.boolean(a, "allocation", "feasible");
        p.allocation.status = r.string(a, "allocation", "status");
        p.allocation.deltaLoss = r.number(a, "allocation", "delta_loss");
        p.allocation.deltaTop1 = r.number(a, "allocation", "delta_top1");
        p.allocation.sizeBytes = r.number(a, "allocation", "size_bytes");
        p.allocation.bops = r.number(a, "allocation", "bops");
        p.allocation.solverMs = r.number(a, "allocation", "solver_ms");
    }
    const QJsonArray pins = r.optionalArray(o, "", "pins");
    if (!pins.isEmpty()) needTable("pins");
    for (int i = 0; i < pins.size(); ++i) {
        const std::string w = at("pins", i);
        if (!pins[i].isObject()) r.fail(w, "is not an object");
        const QJsonObject pin = pins[i].toObject();
        const std::string layer = r.string(pin, w, "layer");
        const int index = layerIndex(*table, layer);
        if (index < 0) r.fail(w + ".layer", inQuotes(layer) + " is not a layer of the model");
        if (p.pins.count(index)) r.fail(w + ".layer", inQuotes(layer) + " is pinned twice");
        p.pins[index] = r.optionIndex(r.member(pin, w, "option"), w + ".option", *table);
    }
    const QJsonArray measured = r.optionalArray(o, "", "measured");
    if (!measured.isEmpty()) needTable("measured");
    for (int i = 0; i < measured.size(); ++i) {
        const std::string w = at("measured", i);
        if (!measured[i].isObject()) r.fail(w, "is not an object");
        const QJsonObject m = measured[i].toObject();
        MeasuredAllocation a;
        a.choice = r.choice(m, w, *table);
        a.pipeline = r.string(m, w, "pipeline");
        if (!isPipelineName(a.pipeline))
            r.fail(w + ".pipeline", inQuotes(a.pipeline) +
                                        " is not none, light, advanced or tuning steps joined by + (adaquant-parallel, "
                                        "adaquant-sequential, adaquant-blocks, bn-tuning, bias-correction, bias-tuning)");
        a.evaluationSource = r.string(m, w, "evaluation");
        if (m.contains("evaluation_samples")) a.evaluationSamples = int64_t(r.number(m, w, "evaluation_samples"));
        a.top1 = r.number(m, w, "top1");
        a.fp32Top1 = r.number(m, w, "fp32_top1");
        if (m.contains("fp32_loss")) a.fp32Loss = r.number(m, w, "fp32_loss");
        a.loss = r.number(m, w, "loss");
        a.predictedDeltaTop1 = r.number(m, w, "predicted_delta_top1");
        a.sizeBytes = r.number(m, w, "size_bytes");
        a.bops = r.number(m, w, "bops");
        a.seconds = r.number(m, w, "seconds");
        p.measured.push_back(std::move(a));
    }
    if (o.contains("adaquant")) {
        const QJsonArray results = r.array(o, "", "adaquant");
        auto store = std::make_shared<AdaQuantStore>();
        for (int i = 0; i < results.size(); ++i) {
            const std::string w = at("adaquant", i);
            if (!results[i].isObject()) r.fail(w, "is not an object");
            const AdaQuantLayerResult a = readAdaQuant(r, results[i].toObject(), w, table.get());
            if (store->find(a.layer, a.weightBits, a.activationBits))
                r.fail(w, "repeats layer " + inQuotes(a.layer) + " at w" + std::to_string(a.weightBits) + "a" +
                              std::to_string(a.activationBits));
            store->put(a);
        }
        p.adaquant = store;
    }
    return p;
}

Session sessionFromProject(const Project& p, std::shared_ptr<const LoadedModel> model) {
    const ModelSummary& summary = model->summary();
    const auto fail = [&](const std::string& where, const std::string& what) {
        throw invalidInput("The project does not fit the model " + summary.path + ": " + where + ": " + what +
                           ". Open the model it was made for, or measure the table again.");
    };
    const auto modelLayer = [&](const std::string& name) -> const LayerSummary* {
        for (const LayerSummary& l : summary.layers)
            if (l.name == name) return &l;
        return nullptr;
    };
    if (p.sensitivity) {
        const auto& layers = p.sensitivity->layers;
        for (size_t i = 0; i < layers.size(); ++i)
            if (!modelLayer(layers[i].name))
                fail(at("sensitivity.layers", int(i)) + ".name", inQuotes(layers[i].name) + " is not a layer of the model");
        if (layers.size() != summary.layers.size())
            for (const LayerSummary& l : summary.layers)
                if (layerIndex(*p.sensitivity, l.name) < 0)
                    fail("sensitivity.layers", "the model's layer " + inQuotes(l.name) + " is missing");
    }
    if (p.adaquant) {
        int i = 0;
        for (const auto& [key, a] : p.adaquant->results()) {
            const LayerSummary* l = modelLayer(a.layer);
            if (!l) fail(at("adaquant", i) + ".layer", inQuotes(a.layer) + " is not a layer of the model");
            if (l->weightShape != a.weightShape)
                fail(at("adaquant", i) + ".weight_shape", "does not match the model's layer " + inQuotes(a.layer));
            ++i;
        }
    }
    Session s;
    s.model = std::move(model);
    // readProject() checked both names.
    if (!p.calibrationSource.empty()) s.calibrationSource = parseDataSource(p.calibrationSource);
    if (!p.evaluationSource.empty()) s.evaluationSource = parseDataSource(p.evaluationSource);
    s.calibrationSource.skipBad = p.calibrationSkipBad && s.calibrationSource.given();
    s.evaluationSource.skipBad = p.evaluationSkipBad && s.evaluationSource.given();
    s.setSensitivity(p.sensitivity);
    s.allocation = p.allocation;
    s.pins = p.pins;
    s.measured = p.measured;
    s.adaquant = p.adaquant;
    return s;
}

}  // namespace ptq
