#include "cli/common.h"

#include "core/util/error.h"

#include <QtCore/QJsonDocument>

#include <cstdio>
#include <iostream>

namespace ptq::cli {


std::string shapeText(const std::vector<int64_t>& s, const char* sep) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? sep : "") + std::to_string(s[i]);
    return out;
}

QJsonArray jsonInts(const std::vector<int64_t>& v) {
    QJsonArray a;
    for (auto x : v) a.append(qint64(x));
    return a;
}

std::string human(double v) {
    char buf[32];
    if (v >= 1e9) std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
    else if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
    else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%.1f k", v / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

void printJson(const QJsonObject& o) {
    std::cout << QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString();
}

std::string modelArg(const Args& a, const std::string& command) {
    if (a.positionals().size() != 1)
        throw invalidInput("'ptq " + command + "' takes one model file (a TorchScript .pt): ptq " + command +
                           " MODEL.pt");
    return a.positionals()[0];
}

std::vector<int64_t> inputShapeArg(const Args& a) {
    std::vector<int64_t> shape;
    for (long long v : a.integers("input-shape")) shape.push_back(v);
    if (!shape.empty() && shape.size() != 3)
        throw invalidInput("--input-shape takes channels,height,width (for example 1,28,28).");
    return shape;
}

ModelRequest modelRequestArg(const Args& a, const std::string& command) {
    ModelRequest r;
    r.path = modelArg(a, command);
    r.inputShape = inputShapeArg(a);
    return r;
}

DataSourceSpec dataSourceArg(const Args& a, const std::string& option, const std::string& fallback) {
    const std::string text = a.value(option, fallback);
    return text.empty() ? DataSourceSpec{} : parseDataSource(text);
}

QuantizerSettings quantizerArgs(const Args& a, QuantizerSettings q) {
    if (a.has("granularity")) q.granularity = granularityFromString(a.value("granularity"));
    if (a.has("weight-range")) q.weightRange = rangeMethodFromString(a.value("weight-range"));
    if (a.has("act-range")) q.activationRange = rangeMethodFromString(a.value("act-range"));
    q.batchSize = a.integer("batch", q.batchSize);
    if (q.batchSize < 1) throw invalidInput("--batch must be at least 1.");
    return q;
}

}  // namespace ptq::cli
