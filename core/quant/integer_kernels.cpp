#include "core/quant/integer_kernels.h"

#include "core/graph/graph.h"
#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdlib>
#include <map>
#include <mutex>

namespace ptq {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

const dnnl::engine& cpuEngine() {
    static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

bool hasVnni() {
    try {
        const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
        return isa == dnnl::cpu_isa::avx512_core_vnni || isa == dnnl::cpu_isa::avx512_core_bf16 ||
               isa == dnnl::cpu_isa::avx512_core_amx || isa == dnnl::cpu_isa::avx2_vnni;
    } catch (const dnnl::error&) {
        return false;
    }
}

/// One shape's primitive and the weight in the layout it chose.
struct Prepared {
    dnnl::primitive primitive;
    dnnl::memory weights;
    dnnl::memory::desc dst, bias;
    size_t scratchpadBytes = 0;
};

}  // namespace

bool integerKernelsAvailable() {
    static const bool available = [] {
        if (std::getenv("PTQ_NO_INT8")) return false;
        const bool vnni = hasVnni();
        if (!vnni) logger()->debug("Integer kernels off: the CPU has no VNNI (oneDNN's u8 x s8 sums would saturate)");
        return vnni;
    }();
    return available;
}

struct IntegerLayerKernel::Impl {
    bool conv = true;
    at::Tensor weight;      ///< dequantized, as given
    at::Tensor intWeight;   ///< int8, OIHW / OI contiguous
    at::Tensor outScale;    ///< float [O]: input scale x weight scale per output channel
    std::vector<float> outScales;
    QuantSpec inputSpec;
    QuantParams inputParams;
    int64_t outChannels = 0, groups = 1;
    dnnl::memory::dims strides, dilates, padLeft, padRight;

    mutable std::mutex mutex;
    mutable std::map<std::vector<int64_t>, std::shared_ptr<const Prepared>> byShape;
    mutable bool warned = false;

    dnnl::primitive_attr attributes() const {
        dnnl::primitive_attr attr;
        attr.set_output_scales(1 << 1, outScales);  // dim 1: the conv's and the matmul's output channels
        if (inputParams.zeroPoint[0] != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {inputParams.zeroPoint[0]});
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // one per run: runs may overlap
        return attr;
    }

    /// The primitive for an input of @p dims (N, C, H, W for a convolution, M, K for a matmul).
    std::shared_ptr<const Prepared> prepared(const std::vector<int64_t>& dims, bool withBias) const {
        std::vector<int64_t> key = dims;
        key.push_back(withBias ? 1 : 0);
        {
            const std::lock_guard<std::mutex> lock(mutex);
            auto it = byShape.find(key);
            if (it != byShape.end()) return it->second;
        }
        const dnnl::engine& engine = cpuEngine();
        auto p = std::make_shared<Prepared>();
        dnnl::memory::desc userWeights, weightsAny;
        if (conv) {
            const int64_t kh = intWeight.size(2), kw = intWeight.size(3);
            const int64_t oh = (dims[2] + padLeft[0] + padRight[0] - ((kh - 1) * (dilates[0] + 1) + 1)) / strides[0] + 1;
            const int64_t ow = (dims[3] + padLeft[1] + padRight[1] - ((kw - 1) * (dilates[1] + 1) + 1)) / strides[1] + 1;
            const dnnl::memory::desc src({dims[0], dims[1], dims[2], dims[3]}, dt::u8, tag::nhwc);
            p->dst = dnnl::memory::desc({dims[0], outChannels, oh, ow}, dt::f32, tag::nhwc);
            dnnl::memory::dims wdims = {outChannels, intWeight.size(1), kh, kw};
            tag wtag = tag::oihw;
            if (groups > 1) {
                wdims = {groups, outChannels / groups, intWeight.size(1), kh, kw};
                wtag = tag::goihw;
            }
            userWeights = dnnl::memory::desc(wdims, dt::s8, wtag);
            weightsAny = dnnl::memory::desc(wdims, dt::s8, tag::any);
            p->bias = dnnl::memory::desc({outChannels}, dt::f32, tag::x);
            const dnnl::convolution_forward::desc desc =
                withBias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                           dnnl::algorithm::convolution_direct, src, weightsAny,
                                                           p->bias, p->dst, strides, dilates, padLeft, padRight)
                         : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                                           dnnl::algorithm::convolution_direct, src, weightsAny,
                                                           p->dst, strides, dilates, padLeft, padRight);
            const dnnl::convolution_forward::primitive_desc pd(desc, attributes(), engine);
            p->primitive = dnnl::convolution_forward(pd);
            p->weights = dnnl::memory(pd.weights_desc(), engine);
            p->scratchpadBytes = pd.scratchpad_desc().get_size();
        } else {
            const int64_t k = intWeight.size(1);
            const dnnl::memory::desc src({dims[0], k}, dt::u8, tag::ab);
            p->dst = dnnl::memory::desc({dims[0], outChannels}, dt::f32, tag::ab);
            userWeights = dnnl::memory::desc({k, outChannels}, dt::s8, tag::ba);  // the OI weight, transposed
            weightsAny = dnnl::memory::desc({k, outChannels}, dt::s8, tag::any);
            p->bias = dnnl::memory::desc({1, outChannels}, dt::f32, tag::ab);
            const dnnl::matmul::desc desc = withBias ? dnnl::matmul::desc(src, weightsAny, p->bias, p->dst)
                                                     : dnnl::matmul::desc(src, weightsAny, p->dst);
            const dnnl::matmul::primitive_desc pd(desc, attributes(), engine);
            p->primitive = dnnl::matmul(pd);
            p->weights = dnnl::memory(pd.weights_desc(), engine);
            p->scratchpadBytes = pd.scratchpad_desc().get_size();
        }
        dnnl::memory user(userWeights, engine, intWeight.data_ptr());
        dnnl::stream stream(engine);
        dnnl::reorder(user, p->weights).execute(stream, user, p->weights);
        stream.wait();
        const std::lock_guard<std::mutex> lock(mutex);
        return byShape.emplace(key, p).first->second;
    }

};

IntegerLayerKernel::IntegerLayerKernel(std::unique_ptr<Impl> impl) : d(std::move(impl)) {}
IntegerLayerKernel::~IntegerLayerKernel() = default;

const at::Tensor& IntegerLayerKernel::weight() const { return d->weight; }

std::shared_ptr<const IntegerLayerKernel> IntegerLayerKernel::prepare(const Node& node, const at::Tensor& weight,
                                                                      const QuantSpec& weightSpec,
                                                                      const QuantParams& weightParams,
                                                                      const QuantSpec& inputSpec,
                                                                      const QuantParams& inputParams,
                                                                      std::string* whyNot) {
    const auto no = [&](const std::string& why) -> std::shared_ptr<const IntegerLayerKernel> {
        if (whyNot) *whyNot = why;
        return nullptr;
    };
    if (!integerKernelsAvailable()) return no("no integer kernels on this machine");
    if (node.op != OpKind::Conv2d && node.op != OpKind::Linear) return no("not a convolution or linear layer");
    if (inputSpec.bits > 8 || inputSpec.signedGrid || perChannelParams(inputSpec.granularity) ||
        inputParams.scale.size() != 1 || inputParams.zeroPoint.size() != 1)
        return no("the input quantizer is not an unsigned per-tensor grid of at most 8 bits");
    if (weightSpec.bits > 8 || !weightSpec.signedGrid || !weightSpec.symmetric ||
        (perChannelParams(weightSpec.granularity) && weightSpec.channelAxis != 0))
        return no("the weight quantizer is not a symmetric signed grid of at most 8 bits per output channel");
    if (weight.scalar_type() != at::kFloat || weight.dim() != (node.op == OpKind::Conv2d ? 4 : 2))
        return no("the weight is not a float tensor of the layer's rank");
    for (int32_t z : weightParams.zeroPoint)
        if (z != 0) return no("the weight grid has a zero point");

    if (weight.numel() == 0) return no("the weight is empty");
    auto d = std::make_unique<Impl>();
    d->conv = node.op == OpKind::Conv2d;
    d->weight = weight;
    d->outChannels = weight.size(0);
    d->inputSpec = inputSpec;
    d->inputParams = inputParams;
    const size_t channels = weightParams.scale.size();
    if (channels != 1 && channels != size_t(d->outChannels)) return no("the weight has another channel count");
    at::Tensor scale = at::tensor(std::vector<float>(weightParams.scale), at::kFloat);
    if (channels == 1) scale = scale.expand({d->outChannels}).contiguous();
    std::vector<int64_t> shape(size_t(weight.dim()), 1);
    shape[0] = d->outChannels;
    const at::Tensor w = weight.contiguous();
    const at::Tensor q = at::round(w / scale.view(shape));
    const double lo = double(gridMin(weightSpec)), hi = double(gridMax(weightSpec));
    if (q.numel() > 0 && (q.min().item<double>() < lo || q.max().item<double>() > hi))
        return no("the weight is off its grid");
    // Exactly on the grid (to float rounding of the scale): a multipoint or free weight is not.
    const at::Tensor err = (q * scale.view(shape) - w).abs().reshape({d->outChannels, -1}).amax(1);
    const at::Tensor tol = scale * 1e-4f;
    if (w.numel() > 0 && (err > tol).any().item<bool>()) return no("the weight is not on one integer grid");
    d->intWeight = q.to(at::kChar).contiguous();
    d->outScale = (scale * inputParams.scale[0]).contiguous();
    d->outScales.assign(d->outScale.data_ptr<float>(), d->outScale.data_ptr<float>() + d->outChannels);

    if (d->conv) {
        d->groups = node.attrInt("groups", 1);
        const std::vector<int64_t> stride = node.attrInts("stride"), dilation = node.attrInts("dilation");
        if (stride.size() != 2 || dilation.size() != 2 || d->groups < 1) return no("the convolution is not 2-D");
        d->strides = {stride[0], stride[1]};
        d->dilates = {dilation[0] - 1, dilation[1] - 1};
        const std::string padMode = node.attrString("padding_mode");
        if (padMode.empty()) {
            const std::vector<int64_t> padding = node.attrInts("padding");
            if (padding.size() != 2) return no("the padding is not two numbers");
            d->padLeft = d->padRight = {padding[0], padding[1]};
        } else if (padMode == "valid") {
            d->padLeft = d->padRight = {0, 0};
        } else if (padMode == "same" && stride[0] == 1 && stride[1] == 1) {
            d->padLeft = d->padRight = {0, 0};
            for (int i = 0; i < 2; ++i) {
                const int64_t total = dilation[size_t(i)] * (weight.size(2 + i) - 1);
                d->padLeft[size_t(i)] = total / 2;
                d->padRight[size_t(i)] = total - total / 2;
            }
        } else {
            return no("padding mode '" + padMode + "'");
        }
        if (d->outChannels % d->groups != 0) return no("the groups do not divide the channels");
    }
    return std::shared_ptr<const IntegerLayerKernel>(new IntegerLayerKernel(std::move(d)));
}

at::Tensor IntegerLayerKernel::run(const at::Tensor& x, const at::Tensor& bias) const {
    at::Tensor q = quantizeToInt(x, d->inputSpec, d->inputParams);
    at::Tensor biasScaled;  // oneDNN adds the bias before the output scale
    if (bias.defined()) biasScaled = (bias.to(at::kFloat) / d->outScale).contiguous();
    std::vector<int64_t> dims;
    std::vector<int64_t> outShape;
    if (d->conv) {
        if (q.dim() != 4) throw failed("internal: an integer convolution got a " + std::to_string(q.dim()) + "-D input");
        q = q.contiguous(at::MemoryFormat::ChannelsLast);
        dims = q.sizes().vec();
    } else {
        q = q.contiguous();
        const int64_t k = q.size(-1);
        outShape = q.sizes().vec();
        outShape.back() = d->outChannels;
        dims = {k == 0 ? 0 : q.numel() / k, k};
    }
    std::shared_ptr<const Prepared> p;
    try {
        p = d->prepared(dims, biasScaled.defined());
    } catch (const dnnl::error& e) {
        const std::lock_guard<std::mutex> lock(d->mutex);
        if (!d->warned) logger()->debug("Integer kernel refused a shape ({}); that shape runs in float", e.what());
        d->warned = true;
        p = nullptr;
    }
    const at::TensorOptions floatOptions = at::TensorOptions().dtype(at::kFloat);
    if (!p) {
        // Same values through float: (q - z) * s with the dequantized weight.
        const at::Tensor xq = (q.to(at::kFloat) - float(d->inputParams.zeroPoint[0])) * d->inputParams.scale[0];
        if (!d->conv) return at::linear(xq.view(q.sizes()), d->weight, bias);
        std::vector<int64_t> pad{d->padLeft[0], d->padLeft[1]};
        const at::Tensor padded = d->padLeft == d->padRight
                                      ? xq
                                      : at::constant_pad_nd(xq, {0, d->padRight[1] - d->padLeft[1], 0,
                                                                 d->padRight[0] - d->padLeft[0]});
        return at::conv2d(padded, d->weight, bias, {d->strides[0], d->strides[1]}, pad,
                          {d->dilates[0] + 1, d->dilates[1] + 1}, d->groups);
    }
    const dnnl::memory::dims outDims = p->dst.dims();
    at::Tensor out = d->conv ? at::empty(outDims, floatOptions.memory_format(at::MemoryFormat::ChannelsLast))
                             : at::empty(outDims, floatOptions);
    const dnnl::engine& engine = cpuEngine();
    const dnnl::memory::desc srcDesc = d->conv ? dnnl::memory::desc(dims, dt::u8, tag::nhwc)
                                               : dnnl::memory::desc(dims, dt::u8, tag::ab);
    at::Tensor scratch = at::empty({int64_t(p->scratchpadBytes)}, at::TensorOptions().dtype(at::kByte));
    std::unordered_map<int, dnnl::memory> args{
        {DNNL_ARG_SRC, dnnl::memory(srcDesc, engine, q.data_ptr())},
        {DNNL_ARG_WEIGHTS, p->weights},
        {DNNL_ARG_DST, dnnl::memory(p->dst, engine, out.data_ptr())},
        {DNNL_ARG_SCRATCHPAD, dnnl::memory(dnnl::memory::desc({int64_t(p->scratchpadBytes)}, dt::u8, tag::x), engine,
                                           scratch.data_ptr())}};
    if (biasScaled.defined()) args.emplace(DNNL_ARG_BIAS, dnnl::memory(p->bias, engine, biasScaled.data_ptr()));
    try {
        dnnl::stream stream(engine);
        p->primitive.execute(stream, args);
        stream.wait();
    } catch (const dnnl::error& e) {
        throw failed(std::string("The integer kernel of a quantized layer failed to run (oneDNN status ") +
                     std::to_string(int(e.status)) + "); set PTQ_NO_INT8=1 to run quantized layers in float.");
    }
    return d->conv ? out : out.view(outShape);
}

}  // namespace ptq
