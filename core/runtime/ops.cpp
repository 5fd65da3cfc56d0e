#include "core/runtime/ops.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

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
    case OpKind::Embedding: return at::embedding(in[0], constantIndex(n, "indices"));  // indices, indices_shape
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
    default: break;
    }
    throw failed(std::string("internal: no kernel for op ") + opName(n.op));
}

std::vector<at::Tensor> run(const Node& n, const std::vector<at::Tensor>& in, int64_t batch) {
    switch (n.op) {
    case OpKind::Conv2d: {
        const at::Tensor bias = optionalInput(in, 2);
        const std::string padMode = n.attrString("padding_mode");
        if (!padMode.empty())
            return {at::conv2d(in[0], in[1], bias, n.attrInts("stride"), padMode, n.attrInts("dilation"),
                               n.attrInt("groups", 1))};
        return {at::conv2d(in[0], in[1], bias, n.attrInts("stride"), n.attrInts("padding"), n.attrInts("dilation"),
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
        std::string what = e.what_without_backtrace();
        if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
        throw failed("Operation '" + node.name + "' (" + displayOp(node) + ") failed: " + what);
    }
}

}  // namespace ptq
