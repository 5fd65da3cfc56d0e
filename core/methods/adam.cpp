#include "core/methods/adam.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>

namespace ptq {

struct Adam::Impl {
    struct Param {
        at::Tensor value, m, v;
        double lr;
    };
    std::vector<Param> params;
    double beta1, beta2, eps;
    int64_t steps = 0;
};

Adam::Adam(double beta1, double beta2, double eps) : d(std::make_unique<Impl>()) {
    d->beta1 = beta1;
    d->beta2 = beta2;
    d->eps = eps;
}

Adam::~Adam() = default;

void Adam::addGroup(const std::vector<at::Tensor>& params, double lr) {
    for (const at::Tensor& p : params)
        d->params.push_back({p, at::zeros_like(p).detach(), at::zeros_like(p).detach(), lr});
}

bool Adam::empty() const { return d->params.empty(); }

void Adam::setLearningRate(double lr) {
    for (auto& p : d->params) p.lr = lr;
}

void Adam::zeroGrad() {
    for (auto& p : d->params)
        if (p.value.grad().defined()) p.value.mutable_grad() = at::Tensor();
}

namespace {
bool fusable(const at::Tensor& t, const at::Tensor& g) {
    return t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous() && t.numel() == g.numel();
}

/// One update of @p n float values in one pass: the tensor ops' arithmetic element by element,
/// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, value += (-lr / c1) m / (sqrt(v / c2) + eps).
void fusedStep(float* value, const float* g, float* m, float* v, int64_t n, double lr, double beta1, double beta2,
               double eps, double c1, double c2) {
    const float b1 = float(beta1), a1 = float(1.0 - beta1);
    const float b2 = float(beta2), a2 = float(1.0 - beta2);
    const float fc2 = float(c2), feps = float(eps), rate = float(-lr / c1);
    // Parameters of up to some hundred thousand values (AdaQuant's, biases) are done before
    // threads would start; larger ones split.
    at::parallel_for(0, n, int64_t(1) << 18, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const float gi = g[i];
            m[i] = m[i] * b1 + gi * a1;
            v[i] = v[i] * b2 + a2 * gi * gi;
            value[i] += rate * m[i] / (std::sqrt(v[i] / fc2) + feps);
        }
    });
}
}  // namespace

void Adam::step() {
    const at::NoGradGuard noGrad;
    ++d->steps;
    const double c1 = 1.0 - std::pow(d->beta1, double(d->steps));
    const double c2 = 1.0 - std::pow(d->beta2, double(d->steps));
    for (auto& p : d->params) {
        const at::Tensor g = p.value.grad();
        if (!g.defined()) continue;
        if (fusable(g, g) && fusable(p.value, g) && fusable(p.m, g) && fusable(p.v, g)) {
            fusedStep(p.value.data_ptr<float>(), g.data_ptr<float>(), p.m.data_ptr<float>(), p.v.data_ptr<float>(),
                      g.numel(), p.lr, d->beta1, d->beta2, d->eps, c1, c2);
            continue;
        }
        p.m.mul_(d->beta1).add_(g, 1.0 - d->beta1);
        p.v.mul_(d->beta2).addcmul_(g, g, 1.0 - d->beta2);
        const at::Tensor denom = (p.v / c2).sqrt_().add_(d->eps);
        p.value.addcdiv_(p.m, denom, -p.lr / c1);
    }
}

}  // namespace ptq
