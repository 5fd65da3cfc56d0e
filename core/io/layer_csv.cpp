#include "core/io/layer_csv.h"

#include "core/graph/graph.h"
#include "core/quant/quantized_model.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <QtCore/QSaveFile>

#include <algorithm>
#include <cstdio>

namespace ptq {

void writeLayerCsv(const std::string& path, const QuantizedModel& model) {
    const Graph& g = model.graph();
    std::string text = "layer,op,option,w_bits,a_bits,granularity,points,params,macs,weight_bits,bops,"
                       "weight_scale_min,weight_scale_max,activation_scale,activation_zero_point\n";
    for (int id : g.allocationNodes()) {
        const Node& n = g.node(id);
        const LayerQuant& c = model.config().layer(n.name);
        const int64_t macs = g.macs(n);
        const bool qa = c.activationBits < 32;
        if (g.isActivationMatMul(n)) {  // no weight: a, and BOPs of two activation operands
            char line[512];
            std::snprintf(line, sizeof line, "%s,%s,a%d,,%d,,,0,%lld,0,%lld,,,%s,%s\n", n.name.c_str(), displayOp(n).c_str(),
                          c.activationBits, c.activationBits, (long long)macs,
                          (long long)(macs * c.activationBits * c.activationBits),
                          qa ? std::to_string(model.activationParams(n.name).scale[0]).c_str() : "",
                          qa ? std::to_string(model.activationParams(n.name).zeroPoint[0]).c_str() : "");
            text += line;
            continue;
        }
        const int64_t params = model.floatParam(g.paramOf(n, 1)).numel();
        const int wb = c.weightBits * c.weightPoints;
        const std::string option = "w" + std::to_string(c.weightBits) +
                                   (c.weightPoints > 1 ? "x" + std::to_string(c.weightPoints) : "") + "a" +
                                   std::to_string(c.activationBits);
        double smin = 0, smax = 0;
        if (c.weightBits < 32) {
            const QuantParams& p = model.weightParams(n.name);
            smin = *std::min_element(p.scale.begin(), p.scale.end());
            smax = *std::max_element(p.scale.begin(), p.scale.end());
        }
        char line[512];
        std::snprintf(line, sizeof line, "%s,%s,%s,%d,%d,%s,%d,%lld,%lld,%lld,%lld,%.9g,%.9g,%s,%s\n", n.name.c_str(),
                      displayOp(n).c_str(), option.c_str(), c.weightBits, c.activationBits,
                      granularityName(c.granularity), c.weightPoints, (long long)params, (long long)macs,
                      (long long)(params * wb), (long long)(macs * wb * c.activationBits), smin, smax,
                      qa ? std::to_string(model.activationParams(n.name).scale[0]).c_str() : "",
                      qa ? std::to_string(model.activationParams(n.name).zeroPoint[0]).c_str() : "");
        text += line;
    }
    QSaveFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::WriteOnly) || file.write(text.data(), qint64(text.size())) != qint64(text.size()) ||
        !file.commit())
        throw failed("Could not write " + path + ": " + file.errorString().toStdString() + ".");
}

}  // namespace ptq
