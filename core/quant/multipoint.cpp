#include "core/quant/multipoint.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <cmath>
#include <queue>
#include <string>

namespace ptq {

double MultipointWeight::meanPoints() const {
    if (pointsPerChannel.empty()) return 0.0;
    double sum = 0;
    for (int p : pointsPerChannel) sum += p;
    return sum / double(pointsPerChannel.size());
}

at::Tensor outputErrorWeights(const at::Tensor& weight, const std::vector<double>& inputEnergy) {
    if (inputEnergy.empty()) return at::ones_like(weight);
    if (weight.dim() < 2)
        throw invalidInput("Multipoint quantization needs a weight with output and input channels.");
    const int64_t out = weight.size(0), perGroup = weight.size(1);
    const int64_t in = int64_t(inputEnergy.size());
    if (perGroup == 0 || in % perGroup != 0 || out % (in / perGroup) != 0)
        throw invalidInput("The input energies (" + std::to_string(in) + " channels) do not fit a weight of " +
                           std::to_string(out) + " x " + std::to_string(perGroup) + " channels.");
    const int64_t groups = in / perGroup;
    // Output channel c reads the input channels of its group, g = c / (out / groups).
    const at::Tensor energy = at::tensor(inputEnergy, at::kDouble).to(weight.scalar_type()).view({groups, 1, perGroup});
    at::Tensor perOut = energy.expand({groups, out / groups, perGroup}).reshape({out, perGroup});
    std::vector<int64_t> shape{out, perGroup};
    for (int64_t d = 2; d < weight.dim(); ++d) shape.push_back(1);
    return perOut.view(shape).expand_as(weight).contiguous();
}

MultipointWeight multipointQuantize(const at::Tensor& weight, const QuantSpec& spec, RangeMethod method,
                                    double points, const std::vector<double>& inputEnergy, at::Tensor& out) {
    if (!(points >= 1.0) || points > double(kMaxWeightPoints))
        throw invalidInput("Multipoint quantization takes 1 to " + std::to_string(kMaxWeightPoints) +
                           " points per channel on average, not " + std::to_string(points) + ".");
    validateQuantSpec(spec);
    const at::NoGradGuard noGrad;
    const at::Tensor w = weight.detach();
    const int64_t channels = w.size(0);
    const int64_t extra = std::llround((points - 1.0) * double(channels));
    const int maxPoints = extra == 0 ? 1 : kMaxWeightPoints;

    // Every level of the greedy residual chain, for all channels at once: approx[k] is the sum
    // of the first k+1 points, err[k][c] channel c's weighted squared error with k+1 points.
    const at::Tensor errWeights = outputErrorWeights(w, inputEnergy);
    const std::vector<int64_t> reduceDims = [&] {
        std::vector<int64_t> d;
        for (int64_t i = 1; i < w.dim(); ++i) d.push_back(i);
        return d;
    }();
    MultipointWeight result;
    std::vector<at::Tensor> approx;
    std::vector<std::vector<double>> err;
    at::Tensor residual = w;
    at::Tensor sum = at::zeros_like(w);
    for (int k = 0; k < maxPoints; ++k) {
        const QuantParams p = weightParams(residual, spec, method);
        const at::Tensor q = fakeQuantize(residual, spec, p);
        sum = sum + q;
        residual = w - sum;
        approx.push_back(sum);
        result.pointParams.push_back(p);
        const at::Tensor e = (residual.pow(2) * errWeights).to(at::kDouble);
        const at::Tensor perChannel = reduceDims.empty() ? e : e.sum(reduceDims);
        err.emplace_back(perChannel.data_ptr<double>(), perChannel.data_ptr<double>() + channels);
    }

    // Spend the extra points where the error drops most. Gains of one channel shrink from point
    // to point in practice; the queue takes each channel's next gain as it is, so a channel whose
    // next point gains nothing (an exact residual) is simply passed over.
    result.pointsPerChannel.assign(size_t(channels), 1);
    using Gain = std::pair<double, int64_t>;
    std::priority_queue<Gain> queue;
    auto nextGain = [&](int64_t c) {
        const int have = result.pointsPerChannel[size_t(c)];
        if (have < maxPoints) queue.push({err[size_t(have) - 1][size_t(c)] - err[size_t(have)][size_t(c)], c});
    };
    for (int64_t c = 0; c < channels; ++c) nextGain(c);
    for (int64_t given = 0; given < extra && !queue.empty(); ++given) {
        const int64_t c = queue.top().second;
        queue.pop();
        ++result.pointsPerChannel[size_t(c)];
        nextGain(c);
    }

    // Each channel takes the level of its point count.
    std::vector<int64_t> maskShape(size_t(w.dim()), 1);
    maskShape[0] = channels;
    const at::Tensor count = at::tensor(std::vector<int64_t>(result.pointsPerChannel.begin(),
                                                             result.pointsPerChannel.end()), at::kLong)
                                 .view(maskShape);
    out = approx[0];
    for (size_t k = 1; k < approx.size(); ++k) out = at::where(count == int64_t(k) + 1, approx[k], out);
    return result;
}

}  // namespace ptq
