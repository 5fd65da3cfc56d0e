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
    }
    throw failed(std::string("internal: no kernel for op ") + opName(n.op));
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
