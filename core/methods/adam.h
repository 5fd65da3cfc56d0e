#pragma once
/// @file
/// Adam (Kingma & Ba) over groups of leaf tensors, one learning rate per group: the optimiser
/// of AdaQuant and bias tuning. Core .cpp only (LibTorch types). One thread.

#include <memory>
#include <vector>

namespace at {
class Tensor;
}

namespace ptq {

class Adam {
public:
    Adam(double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
    ~Adam();
    /// Adds tensors (leaves that require grad) updated with learning rate @p lr.
    void addGroup(const std::vector<at::Tensor>& params, double lr);
    bool empty() const;
    /// Sets every parameter's learning rate (a schedule such as reduce-on-plateau); the moment
    /// estimates are kept.
    void setLearningRate(double lr);
    /// Clears the gradients of every parameter.
    void zeroGrad();
    /// One update from the current gradients (parameters without a gradient are skipped).
    void step();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace ptq
