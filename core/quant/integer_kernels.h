#pragma once
/// @file
/// Integer kernels for quantized layers: a convolution or linear layer whose weight lies on an
/// 8-bit (or narrower) symmetric grid and whose input is quantized to an unsigned grid of at most
/// 8 bits runs as oneDNN's u8 x s8 -> s32 kernel, then one rescale per output channel to float32
/// (plus the float bias). That is the fake-quantized float layer's value computed with exact
/// integer sums: the two agree to float32 rounding (the float path rounds every partial sum,
/// the integer one none), and on this machine's VNNI units the integer kernel is 4-5x faster.
///
/// Used only where the integer multiply-accumulate is exact: a CPU with VNNI (AVX-512 VNNI,
/// AVX-VNNI or AMX); without it oneDNN's u8 x s8 kernels saturate pairs of products to 16 bits.
/// PTQ_NO_INT8=1 turns the kernels off (A/B runs). Inference only (no autograd).
///
/// This header is plain C++; the members taking at::Tensor need LibTorch and are for core .cpp
/// files. A kernel is immutable after prepare() and may run on several threads at once.

#include "core/quant/quantizer.h"

#include <memory>
#include <string>

namespace at {
class Tensor;
}

namespace ptq {

struct Node;

/// Whether integer kernels run on this machine (oneDNN sees VNNI, PTQ_NO_INT8 is not set). Any thread.
bool integerKernelsAvailable();

class IntegerLayerKernel {
public:
    /// A kernel for @p node (a conv2d or linear) with the dequantized weight @p weight, which
    /// must be exactly q * weightParams.scale[c] for integers q on @p weightSpec's grid (checked:
    /// a weight that is not, e.g. multipoint, gets none), and the input quantizer (@p inputSpec,
    /// @p inputParams: unsigned grid, at most 8 bits, one scale). Returns nullptr with the reason
    /// in @p whyNot when the layer does not fit (other op, padding mode, grid, no integer
    /// kernels on this machine). Core .cpp only.
    static std::shared_ptr<const IntegerLayerKernel> prepare(const Node& node, const at::Tensor& weight,
                                                             const QuantSpec& weightSpec,
                                                             const QuantParams& weightParams,
                                                             const QuantSpec& inputSpec,
                                                             const QuantParams& inputParams, std::string* whyNot);
    ~IntegerLayerKernel();

    /// The layer on the float input @p x: x quantized with the input quantizer, the integer
    /// product with the weight, rescaled to float32, plus @p bias (float, one per output channel;
    /// undefined for none). A convolution's output is channels-last. Throws ptq::Error (Failed)
    /// when oneDNN refuses to run. Core .cpp only.
    at::Tensor run(const at::Tensor& x, const at::Tensor& bias) const;
    /// The dequantized weight this kernel was made from (to tell whether a run still uses it).
    const at::Tensor& weight() const;

    struct Impl;

private:
    explicit IntegerLayerKernel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> d;
};

}  // namespace ptq
