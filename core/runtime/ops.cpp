#include "core/runtime/ops.h"

#include "core/util/error.h"
#include "core/util/log.h"

#include <ATen/ATen.h>

#include <cstdlib>

#include <map>

namespace ptq {

namespace {

at::Tensor optionalInput(const std::vector<at::Tensor>& in, size_t i) {
    return i < in.size() ? in[i] : at::Tensor();
}

// The second operand of a binary op: a tensor input, or the scalar kept in the attributes.
at::Tensor binary(const Node& n, const std::vector<at::Tensor>& in) {
    const bool scalar = n.hasAttr("scalar");
    const at::Scalar other = scalar ? at::Scalar(n.attrDouble("scalar")) : at::Scalar(0);
    const bool reversed = n.attrInt("reversed", 0) != 0;  // scalar - x, scalar / x
    switch (n.op) {
    case OpKind::Add: {
        const at::Scalar alpha(n.attrDouble("alpha", 1.0));
        return scalar ? at::add(in[0], other, alpha) : at::add(in[0], in[1], alpha);
    }
    case OpKind::Sub: {
        const at::Scalar alpha(n.attrDouble("alpha", 1.0));
        if (scalar) return reversed ? at::rsub(in[0], other, alpha) : at::sub(in[0], other, alpha);
        return at::sub(in[0], in[1], alpha);
    }
    case OpKind::Mul:
        return scalar ? at::mul(in[0], other) : at::mul(in[0], in[1]);
    case OpKind::Div: {
        const std::string mode = n.attrString("rounding_mode");
        if (scalar) {
            if (reversed) return at::reciprocal(in[0]).mul(other);
            return mode.empty() ? at::div(in[0], other) : at::div(in[0], other, mode);
        }
        return mode.empty() ? at::div(in[0], in[1]) : at::div(in[0], in[1], mode);
    }
    default: break;
    }
    throw failed(std::string("internal: not a binary op: ") + opName(n.op));
}

std::vector<int64_t> withBatch(std::vector<int64_t> shape, int64_t batch) {
    for (auto& d : shape)
        if (d == kBatchDim) d = batch;
    return shape;
}

// A scalar attribute with the type the model gave it (pow(x, 2) keeps an integer exponent).
at::Scalar scalarOf(const Node& n, const std::string& key, double fallback) {
    auto it = n.attrs.find(key);
    if (it == n.attrs.end()) return at::Scalar(fallback);
    if (auto i = std::get_if<int64_t>(&it->second)) return at::Scalar(*i);
    return at::Scalar(n.attrDouble(key, fallback));
}

c10::optional<at::Scalar> optionalScalar(const Node& n, const std::string& key) {
    if (!n.hasAttr(key)) return c10::nullopt;
    return scalarOf(n, key, 0.0);
}

c10::optional<double> optionalDouble(const Node& n, const std::string& key) {
    if (!n.hasAttr(key)) return c10::nullopt;
    return n.attrDouble(key);
}

at::Tensor constantIndex(const Node& n, const std::string& key) {
    const auto values = n.attrInts(key);
    return at::tensor(values, at::kLong).reshape(n.attrInts(key + "_shape"));
}

// The dtypes a Cast or FullLike names (the names torch prints without "torch.").
at::ScalarType dtypeOf(const std::string& name) {
    static const std::map<std::string, at::ScalarType> types = {
        {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
        {"int64", at::kLong},    {"int32", at::kInt},      {"int16", at::kShort},  {"int8", at::kChar},
        {"uint8", at::kByte},    {"bool", at::kBool}};
    auto it = types.find(name);
    if (it == types.end()) throw failed("internal: no dtype called '" + name + "'");
    return it->second;
}

// x == y, x < 2.0, ...: a tensor operand or the scalar attribute.
at::Tensor compare(const Node& n, const std::vector<at::Tensor>& in) {
    const std::string cmp = n.attrString("cmp");
    const bool scalar = n.hasAttr("scalar");
    const at::Scalar s = scalarOf(n, "scalar", 0.0);
    if (cmp == "eq") return scalar ? at::eq(in[0], s) : at::eq(in[0], in[1]);
    if (cmp == "ne") return scalar ? at::ne(in[0], s) : at::ne(in[0], in[1]);
    if (cmp == "lt") return scalar ? at::lt(in[0], s) : at::lt(in[0], in[1]);
    if (cmp == "le") return scalar ? at::le(in[0], s) : at::le(in[0], in[1]);
    if (cmp == "gt") return scalar ? at::gt(in[0], s) : at::gt(in[0], in[1]);
    if (cmp == "ge") return scalar ? at::ge(in[0], s) : at::ge(in[0], in[1]);
    throw failed("internal: no comparison called '" + cmp + "'");
}

// Float layers and ops beyond the quantizable set (see OpKind): the same ATen call the
// TorchScript op makes, with the arguments it was given.
at::Tensor runMore(const Node& n, const std::vector<at::Tensor>& in, int64_t batch) {
    switch (n.op) {
    case OpKind::Conv1d: {
        const at::Tensor bias = optionalInput(in, 2);
        const std::string padMode = n.attrString("padding_mode");
        if (!padMode.empty())
            return at::conv1d(in[0], in[1], bias, n.attrInts("stride"), padMode, n.attrInts("dilation"), n.attrInt("groups", 1));
        return at::conv1d(in[0], in[1], bias, n.attrInts("stride"), n.attrInts("padding"), n.attrInts("dilation"),
                          n.attrInt("groups", 1));
    }
    case OpKind::ConvTranspose2d:
        return at::conv_transpose2d(in[0], in[1], optionalInput(in, 2), n.attrInts("stride"), n.attrInts("padding"),
                                    n.attrInts("output_padding"), n.attrInt("groups", 1), n.attrInts("dilation"));
    case OpKind::Embedding:  // constant indices (attrs indices, indices_shape), else inputs: indices, table
        if (!n.hasAttr("indices")) return at::embedding(in[1], in[0]);
        return at::embedding(in[0], constantIndex(n, "indices"));
    case OpKind::GroupNorm: {
        size_t i = 1;
        const at::Tensor w = n.attrInt("has_weight") ? in.at(i++) : at::Tensor();
        const at::Tensor b = n.attrInt("has_bias") ? in.at(i++) : at::Tensor();
        return at::group_norm(in[0], n.attrInt("groups"), w, b, n.attrDouble("eps", 1e-5), false);
    }
    case OpKind::InstanceNorm: {
        size_t i = 1;
        const at::Tensor w = n.attrInt("has_weight") ? in.at(i++) : at::Tensor();
        const at::Tensor b = n.attrInt("has_bias") ? in.at(i++) : at::Tensor();
        at::Tensor mean = n.attrInt("has_stats") ? in.at(i++) : at::Tensor();
        at::Tensor var = n.attrInt("has_stats") ? in.at(i++) : at::Tensor();
        const bool inputStats = n.attrInt("use_input_stats") != 0;
        // ATen's instance_norm writes the batch mean of its repeated running statistics back
        // into them, even in evaluation: with input statistics that would train them, and
        // without, the mean of b equal copies can land one rounding away (b = 5, say), so the
        // next run would see other figures. The graph's parameters are never written: with
        // input statistics none are passed, without them copies are.
        if (inputStats) mean = var = at::Tensor();
        else if (mean.defined()) {
            mean = mean.clone();
            var = var.clone();
        }
        return at::instance_norm(in[0], w, b, mean, var, inputStats, n.attrDouble("momentum", 0.1),
                                 n.attrDouble("eps", 1e-5), false);
    }
    case OpKind::Prelu: return at::prelu(in[0], in[1]);
    case OpKind::LeakyRelu: return at::leaky_relu(in[0], scalarOf(n, "negative_slope", 0.01));
    case OpKind::Elu:
        return at::elu(in[0], scalarOf(n, "alpha", 1.0), scalarOf(n, "scale", 1.0), scalarOf(n, "input_scale", 1.0));
    case OpKind::Mish: return at::mish(in[0]);
    case OpKind::Softplus: return at::softplus(in[0], scalarOf(n, "beta", 1.0), scalarOf(n, "threshold", 20.0));
    case OpKind::LogSoftmax: return at::log_softmax(in[0], n.attrInt("dim"));
    case OpKind::Pow:
        if (n.hasAttr("exponent")) return at::pow(in[0], scalarOf(n, "exponent", 1.0));
        if (n.hasAttr("base")) return at::pow(scalarOf(n, "base", 1.0), in[0]);
        return at::pow(in[0], in[1]);
    case OpKind::Sqrt: return at::sqrt(in[0]);
    case OpKind::Rsqrt: return at::rsqrt(in[0]);
    case OpKind::Exp: return at::exp(in[0]);
    case OpKind::Log: return at::log(in[0]);
    case OpKind::Neg: return at::neg(in[0]);
    case OpKind::Abs: return at::abs(in[0]);
    case OpKind::Clamp: return at::clamp(in[0], optionalScalar(n, "min"), optionalScalar(n, "max"));
    case OpKind::Minimum: return at::minimum(in[0], in[1]);
    case OpKind::Maximum: return at::maximum(in[0], in[1]);
    case OpKind::Sum:
        if (n.attrInt("full")) return at::sum(in[0]);
        return at::sum(in[0], n.attrInts("dims"), n.attrInt("keepdim") != 0);
    case OpKind::Amax: return at::amax(in[0], n.attrInts("dims"), n.attrInt("keepdim") != 0);
    case OpKind::Var: {
        if (n.attrInt("full")) return at::var(in[0], n.attrInt("correction") != 0);
        const std::vector<int64_t> dimList = n.attrInts("dims");  // outlives the call below
        const at::OptionalIntArrayRef dims =
            n.hasAttr("dims") ? at::OptionalIntArrayRef(dimList) : at::OptionalIntArrayRef(c10::nullopt);
        return at::var(in[0], dims, c10::optional<int64_t>(n.attrInt("correction", 1)), n.attrInt("keepdim") != 0);
    }
    case OpKind::Pad:
        return at::pad(in[0], n.attrInts("pad"), n.attrString("mode"), optionalDouble(n, "value"));
    case OpKind::Upsample: {
        const bool bilinear = n.attrString("mode") == "bilinear";
        const bool corners = n.attrInt("align_corners") != 0;
        if (!n.hasAttr("output_size")) {  // the size follows from the scale factors
            const std::vector<double> scales{n.attrDouble("scale_h"), n.attrDouble("scale_w")};
            if (bilinear) return at::upsample_bilinear2d(in[0], c10::nullopt, corners, at::ArrayRef<double>(scales));
            return at::upsample_nearest2d(in[0], c10::nullopt, at::ArrayRef<double>(scales));
        }
        const auto size = n.attrInts("output_size");
        if (bilinear)
            return at::upsample_bilinear2d(in[0], size, corners, optionalDouble(n, "scale_h"), optionalDouble(n, "scale_w"));
        return at::upsample_nearest2d(in[0], size, optionalDouble(n, "scale_h"), optionalDouble(n, "scale_w"));
    }
    case OpKind::Slice: {
        const c10::optional<int64_t> start = n.hasAttr("start") ? c10::optional<int64_t>(n.attrInt("start")) : c10::nullopt;
        const c10::optional<int64_t> end = n.hasAttr("end") ? c10::optional<int64_t>(n.attrInt("end")) : c10::nullopt;
        return at::slice(in[0], n.attrInt("dim"), start, end, n.attrInt("step", 1));
    }
    case OpKind::Select: return at::select(in[0], n.attrInt("dim"), n.attrInt("index"));
    case OpKind::Index: {
        c10::List<c10::optional<at::Tensor>> indices;
        for (int64_t d = 0; d < n.attrInt("index_count"); ++d) indices.push_back(c10::nullopt);
        for (int64_t d : n.attrInts("index_dims")) indices.set(size_t(d), constantIndex(n, "index" + std::to_string(d)));
        return at::index(in[0], indices);
    }
    case OpKind::Unsqueeze: return at::unsqueeze(in[0], n.attrInt("dim"));
    case OpKind::Squeeze: {
        at::Tensor x = in[0];
        for (int64_t d : n.attrInts("dims")) x = at::squeeze(x, d);  // highest dimension first
        return x;
    }
    case OpKind::Expand: return in[0].expand(withBatch(n.attrInts("sizes"), batch));
    case OpKind::Repeat: return in[0].repeat(withBatch(n.attrInts("repeats"), batch));
    case OpKind::ChannelShuffle: return at::channel_shuffle(in[0], n.attrInt("groups"));
    case OpKind::MaxPool1d:
        return at::max_pool1d(in[0], n.attrInts("kernel"), n.attrInts("stride"), n.attrInts("padding"),
                              n.attrInts("dilation"), n.attrInt("ceil_mode") != 0);
    case OpKind::AvgPool1d:
        return at::avg_pool1d(in[0], n.attrInts("kernel"), n.attrInts("stride"), n.attrInts("padding"),
                              n.attrInt("ceil_mode") != 0, n.attrInt("count_include_pad", 1) != 0);
    case OpKind::AdaptiveAvgPool1d: return at::adaptive_avg_pool1d(in[0], n.attrInts("output_size"));
    case OpKind::MaskedSoftmax: {  // what nn.MultiheadAttention's fused kernel calls with a mask
        int64_t dim = n.attrInt("dim", -1);
        if (dim < 0) dim += in[0].dim();
        at::Tensor mask = in[1].scalar_type() == at::kBool ? in[1] : in[1].to(at::kBool);
        const int64_t type = n.attrInt("mask_type", -1);
        const auto sizes = in[0].sizes();
        if (mask.dim() == 2 && in[0].dim() == 4) {  // keys of each sample (1: B x L) or of every query (0: L x L)
            mask = type == 1 ? mask.view({sizes[0], 1, 1, sizes[3]}) : mask.view({1, 1, sizes[2], sizes[3]});
            mask = mask.expand(sizes);
        }
        return at::_masked_softmax(in[0], mask, dim, type < 0 ? c10::nullopt : c10::optional<int64_t>(type));
    }
    case OpKind::Roll: return at::roll(in[0], n.attrInts("shifts"), n.attrInts("dims"));
    case OpKind::Compare: return compare(n, in);
    case OpKind::MaskedFill: return at::masked_fill(in[0], in[1], at::Scalar(n.attrDouble("value")));
    case OpKind::Cast: return in[0].to(dtypeOf(n.attrString("dtype")));
    case OpKind::LogicalNot: return at::logical_not(in[0]);
    case OpKind::FullLike: {
        const std::string dtype = n.attrString("dtype");
        return at::full_like(in[0], scalarOf(n, "value", 0.0),
                             dtype.empty() ? at::TensorOptions() : at::TensorOptions().dtype(dtypeOf(dtype)));
    }
    default: break;
    }
    throw failed(std::string("internal: no kernel for op ") + opName(n.op));
}

/// A 2-D convolution's input in channels-last order (NHWC strides, same shape): oneDNN runs
/// such convolutions without reordering the activation in and out, and the output keeps the
/// order, so a chain of convolutions and elementwise ops converts once, at the first one.
at::Tensor convInput(const at::Tensor& x) {
    static const bool off = std::getenv("PTQ_NCHW") != nullptr;
    // Inference only: with autograd (AdaQuant, distillation, the estimate's backward pass) the
    // channels-last backward of small convolutions is several times slower here.
    if (off || x.dim() != 4 || !x.is_floating_point() || at::GradMode::is_enabled()) return x;
    return x.contiguous(at::MemoryFormat::ChannelsLast);
}

std::vector<at::Tensor> run(const Node& n, const std::vector<at::Tensor>& in, int64_t batch) {
    switch (n.op) {
    case OpKind::Conv2d: {
        const at::Tensor bias = optionalInput(in, 2);
        const at::Tensor x = convInput(in[0]);
        const std::string padMode = n.attrString("padding_mode");
        if (!padMode.empty())
            return {at::conv2d(x, in[1], bias, n.attrInts("stride"), padMode, n.attrInts("dilation"),
                               n.attrInt("groups", 1))};
        return {at::conv2d(x, in[1], bias, n.attrInts("stride"), n.attrInts("padding"), n.attrInts("dilation"),
                           n.attrInt("groups", 1))};
    }
    case OpKind::Linear: return {at::linear(in[0], in[1], optionalInput(in, 2))};
    case OpKind::MatMul: return {at::matmul(in[0], in[1])};
    case OpKind::BatchNorm: {
        // inputs: x, running_mean, running_var, [weight, bias] (weight/bias absent when affine=False)
        const at::Tensor w = n.attrInt("affine", 1) ? optionalInput(in, 3) : at::Tensor();
        const at::Tensor b = n.attrInt("affine", 1) ? optionalInput(in, 4) : at::Tensor();
        return {at::batch_norm(in[0], w, b, in[1], in[2], false, 0.0, n.attrDouble("eps", 1e-5), true)};
    }
    case OpKind::LayerNorm:
        return {at::layer_norm(in[0], n.attrInts("normalized_shape"), optionalInput(in, 1), optionalInput(in, 2),
                               n.attrDouble("eps", 1e-5))};
    case OpKind::Relu: return {at::relu(in[0])};
    case OpKind::Hardtanh: return {at::hardtanh(in[0], n.attrDouble("min_val", -1.0), n.attrDouble("max_val", 1.0))};
    case OpKind::Hardswish: return {at::hardswish(in[0])};
    case OpKind::Hardsigmoid: return {at::hardsigmoid(in[0])};
    case OpKind::Silu: return {at::silu(in[0])};
    case OpKind::Sigmoid: return {at::sigmoid(in[0])};
    case OpKind::Gelu: {
        const std::string approx = n.attrString("approximate");
        return {at::gelu(in[0], approx.empty() ? "none" : approx)};
    }
    case OpKind::Tanh: return {at::tanh(in[0])};
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div: return {binary(n, in)};
    case OpKind::Cat: return {at::cat(in, n.attrInt("dim"))};
    case OpKind::Flatten: return {at::flatten(in[0], n.attrInt("start_dim", 0), n.attrInt("end_dim", -1))};
    case OpKind::Reshape: return {at::reshape(in[0], withBatch(n.attrInts("shape"), batch))};
    case OpKind::Permute: return {in[0].permute(n.attrInts("dims"))};
    case OpKind::Transpose: return {in[0].transpose(n.attrInt("dim0"), n.attrInt("dim1"))};
    case OpKind::Chunk: return at::chunk(in[0], n.attrInt("chunks"), n.attrInt("dim"));
    case OpKind::Split: {
        const auto sizes = n.attrInts("sizes");
        if (!sizes.empty()) return at::split_with_sizes(in[0], sizes, n.attrInt("dim"));
        return at::split(in[0], n.attrInt("split_size"), n.attrInt("dim"));
    }
    case OpKind::MaxPool2d:
        return {at::max_pool2d(in[0], n.attrInts("kernel"), n.attrInts("stride"), n.attrInts("padding"),
                               n.attrInts("dilation"), n.attrInt("ceil_mode") != 0)};
    case OpKind::AvgPool2d: {
        c10::optional<int64_t> divisor;
        if (n.hasAttr("divisor_override")) divisor = n.attrInt("divisor_override");
        return {at::avg_pool2d(in[0], n.attrInts("kernel"), n.attrInts("stride"), n.attrInts("padding"),
                               n.attrInt("ceil_mode") != 0, n.attrInt("count_include_pad", 1) != 0, divisor)};
    }
    case OpKind::AdaptiveAvgPool2d: return {at::adaptive_avg_pool2d(in[0], n.attrInts("output_size"))};
    case OpKind::AdaptiveMaxPool2d: return {std::get<0>(at::adaptive_max_pool2d(in[0], n.attrInts("output_size")))};
    case OpKind::Mean: return {at::mean(in[0], n.attrInts("dims"), n.attrInt("keepdim") != 0)};
    case OpKind::Softmax: return {at::softmax(in[0], n.attrInt("dim"))};
    default: return {runMore(n, in, batch)};
    }
}

}  // namespace

std::vector<at::Tensor> runOp(const Node& node, const std::vector<at::Tensor>& inputs, int64_t batch) {
    try {
        return run(node, inputs, batch);
    } catch (const c10::Error& e) {
        // LibTorch's own text (an assert, a kernel's check) is for the log; the user gets the op,
        // where it is and what it was given
        logger()->debug("{} ({}): {}", node.name, displayOp(node), e.what_without_backtrace());
        std::string shapes;
        for (const at::Tensor& t : inputs) {
            std::string s;
            for (int64_t d : t.sizes()) s += (s.empty() ? "" : "x") + std::to_string(d);
            shapes += (shapes.empty() ? "" : ", ") + (s.empty() ? std::string("a scalar") : s);
        }
        throw failed("Operation '" + node.name + "' (" + displayOp(node) +
                     (node.scope.empty() ? std::string() : ", in " + node.scope) + ") cannot run on inputs of shape " +
                     shapes + ".");
    }
}

}  // namespace ptq
