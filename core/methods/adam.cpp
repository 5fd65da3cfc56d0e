#include "core/methods/adam.h"

#include <ATen/ATen.h>

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

void Adam::step() {
    const at::NoGradGuard noGrad;
    ++d->steps;
    const double c1 = 1.0 - std::pow(d->beta1, double(d->steps));
    const double c2 = 1.0 - std::pow(d->beta2, double(d->steps));
    for (auto& p : d->params) {
        const at::Tensor g = p.value.grad();
        if (!g.defined()) continue;
        p.m.mul_(d->beta1).add_(g, 1.0 - d->beta1);
        p.v.mul_(d->beta2).addcmul_(g, g, 1.0 - d->beta2);
        const at::Tensor denom = (p.v / c2).sqrt_().add_(d->eps);
        p.value.addcdiv_(p.m, denom, -p.lr / c1);
    }
}

}  // namespace ptq
