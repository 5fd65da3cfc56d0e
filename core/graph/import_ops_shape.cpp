// The importer's op table, part 2: shapes, indexing, padding, resampling and pooling (see
// import_ops.h). The batch dimension stays free: an op that would pick, cut or squeeze samples
// of the batch is refused with a sentence saying so.
#include "core/graph/import_ops.h"

#include <algorithm>

namespace ptq {

namespace {

int64_t normalDim(int64_t dim, size_t rank) { return dim < 0 ? dim + int64_t(rank) : dim; }

int64_t rankOf(OpArgs& a, int value) { return int64_t(a.graph().value(value).shape.size()); }

// A dimension's position, checked to be a dimension of the value; the batch dimension refused
// with @p batchWhat when the value carries the batch.
int64_t checkedDim(OpArgs& a, int value, int64_t dim, const char* batchWhat) {
    const int64_t rank = rankOf(a, value);
    const int64_t d = normalDim(dim, size_t(rank));
    if (d < 0 || d >= rank) a.fail("dimension " + std::to_string(dim) + " of a tensor with " + std::to_string(rank) + " dimensions");
    if (batchWhat && a.batchDim(value, d))
        a.fail(std::string(batchWhat) + "; PTQ Studio keeps the batch dimension free (every sample runs alike)");
    return d;
}

bool mapSlicing(OpArgs& a) {
    const std::string& op = a.op();
    if (op != "slice" && op != "select" && op != "index") return false;
    const int x = a.tensor(0);
    if (op == "slice") {  // slice(x, dim, start?, end?, step)
        const int64_t rank = rankOf(a, x);
        const int64_t dim = normalDim(a.integer(1), size_t(rank));
        const bool hasStart = !a.isNone(2), hasEnd = !a.isNone(3);
        const int64_t start = hasStart ? a.integer(2) : 0, end = hasEnd ? a.integer(3) : 0;
        const int64_t step = a.size() > 4 ? a.integer(4) : 1;
        if (a.batchDim(x, dim)) {
            // x[:, ...] slices every sample (a traced model writes it as slice(x, 0, 0, INT64_MAX))
            const bool whole = start == 0 && (!hasEnd || end == kBatchDim || end >= (int64_t(1) << 62)) && step == 1;
            if (!whole) checkedDim(a, x, dim, "a slice of the batch dimension");
            a.result(x);
            return true;
        }
        checkedDim(a, x, dim, nullptr);
        if (start == kBatchDim || end == kBatchDim) a.fail("a slice bounded by the batch size");
        Attributes attrs{{"dim", dim}, {"step", step}};
        if (hasStart) attrs["start"] = start;
        if (hasEnd) attrs["end"] = end;
        return a.emit(OpKind::Slice, {x}, attrs);
    }
    if (op == "select") {  // select(x, dim, index)
        const int64_t dim = checkedDim(a, x, a.integer(1), "a selection of one sample of the batch");
        return a.emit(OpKind::Select, {x}, {{"dim", dim}, {"index", a.integer(2)}});
    }
    if (op == "index") {  // index(x, [None, tensor, ...]): x[:, [0, 2]]
        const std::vector<IndexArg> items = a.indexList(1);
        Attributes attrs;
        std::vector<int64_t> dims;
        for (size_t d = 0; d < items.size(); ++d) {
            if (items[d].kind == IndexArg::None) continue;
            if (items[d].kind == IndexArg::Computed) {
                a.unsupported("indices computed inside the model");
                return true;
            }
            checkedDim(a, x, int64_t(d), "an index into the batch dimension");
            dims.push_back(int64_t(d));
            attrs["index" + std::to_string(d)] = items[d].values;
            attrs["index" + std::to_string(d) + "_shape"] = items[d].shape;
        }
        if (dims.empty()) {
            a.result(x);
            return true;
        }
        attrs["index_dims"] = dims;
        attrs["index_count"] = int64_t(items.size());
        return a.emit(OpKind::Index, {x}, attrs);
    }
    return false;
}

bool mapReshaping(OpArgs& a) {
    const std::string& op = a.op();
    if (op == "cat" || op == "concat") return a.emit(OpKind::Cat, a.tensorList(0), {{"dim", a.integer(1)}});
    const int x = a.tensor(0);
    // Pass-through ops: no IR node at all.
    if (op == "dropout" || op == "feature_dropout" || op == "alpha_dropout" || op == "feature_alpha_dropout") {
        // F.dropout's default is training=True: harmless with p = 0 (Swin's attention dropout)
        if (a.integer(2) != 0 && a.number(1) != 0.0) a.fail("dropout in training mode");
        a.result(x);
        return true;
    }
    if (op == "contiguous" || op == "detach" || op == "clone" || op == "identity") {
        a.result(x);
        return true;
    }
    if (op == "chunk" || op == "split" || op == "split_with_sizes") {
        Attributes attrs{{"dim", a.integer(2)}};
        OpKind kind = OpKind::Split;
        if (op == "chunk") {
            kind = OpKind::Chunk;
            attrs["chunks"] = a.integer(1);
        } else if (a.isSequence(1)) {
            attrs["sizes"] = a.ints(1);
        } else {
            attrs["split_size"] = a.integer(1);
        }
        a.listResult(a.add(kind, "", {x}, attrs));
        return true;
    }
    if (op == "flatten") return a.emit(OpKind::Flatten, {x}, {{"start_dim", a.integer(1)}, {"end_dim", a.integer(2)}});
    if (op == "reshape" || op == "view") return a.emit(OpKind::Reshape, {x}, {{"shape", a.shape(1)}});
    if (op == "permute") return a.emit(OpKind::Permute, {x}, {{"dims", a.ints(1)}});
    if (op == "transpose") return a.emit(OpKind::Transpose, {x}, {{"dim0", a.integer(1)}, {"dim1", a.integer(2)}});
    if (op == "unsqueeze") {
        const int64_t dim = normalDim(a.integer(1), size_t(rankOf(a, x) + 1));
        if (dim < 0 || dim > rankOf(a, x)) a.fail("an unsqueeze at dimension " + std::to_string(a.integer(1)));
        return a.emit(OpKind::Unsqueeze, {x}, {{"dim", dim}});
    }
    if (op == "squeeze") {
        // squeeze(x) drops the size-1 dimensions of the sample only: at batch 1 TorchScript
        // would drop the batch dimension too, which no batched run does.
        std::vector<int64_t> dims;
        if (a.size() > 1) {
            dims.push_back(checkedDim(a, x, a.integer(1), "a squeeze of the batch dimension"));
        } else {
            const auto& shape = a.graph().value(x).shape;
            for (size_t d = shape.size(); d-- > 0;)
                if (shape[d] == 1 && !a.batchDim(x, int64_t(d))) dims.push_back(int64_t(d));
        }
        return a.emit(OpKind::Squeeze, {x}, {{"dims", dims}});  // highest first: later positions stay put
    }
    if (op == "expand") return a.emit(OpKind::Expand, {x}, {{"sizes", a.ints(1)}});
    if (op == "repeat") return a.emit(OpKind::Repeat, {x}, {{"repeats", a.ints(1)}});
    if (op == "roll") {  // roll(x, shifts, dims): Swin's cyclic shift of the windows
        const std::vector<int64_t> dims = a.ints(2);
        if (dims.empty()) a.fail("a roll of the flattened tensor, which mixes the samples of the batch");
        for (int64_t d : dims) checkedDim(a, x, d, "a roll along the batch dimension");
        return a.emit(OpKind::Roll, {x}, {{"shifts", a.ints(1)}, {"dims", dims}});
    }
    if (op == "channel_shuffle" || op == "native_channel_shuffle")
        return a.emit(OpKind::ChannelShuffle, {x}, {{"groups", a.integer(1)}});
    return false;
}

bool mapResampling(OpArgs& a) {
    const std::string& op = a.op();
    if (op != "pad" && op != "constant_pad_nd" && op.rfind("upsample_", 0) != 0) return false;
    const int x = a.tensor(0);
    if (op == "pad" || op == "constant_pad_nd") {
        // pad(x, pad, mode, value?) and the traced constant_pad_nd(x, pad, value)
        Attributes attrs{{"pad", a.ints(1)}};
        attrs["mode"] = op == "pad" ? a.text(2) : std::string("constant");
        const size_t value = op == "pad" ? 3 : 2;
        if (a.size() > value && !a.isNone(value)) attrs["value"] = a.number(value);
        if (a.ints(1).size() % 2 != 0) a.fail("a padding list of odd length");
        return a.emit(OpKind::Pad, {x}, attrs);
    }
    if (op == "upsample_nearest2d" || op == "upsample_bilinear2d") {
        // nearest: (x, output_size?, scale_factors?) or (x, output_size, scales_h?, scales_w?)
        // bilinear: (x, output_size?, align_corners, scale_factors?) or (x, output_size, align_corners, scales_h?, scales_w?)
        const bool bilinear = op == "upsample_bilinear2d";
        const size_t scales = bilinear ? 3 : 2;
        const bool vec = a.size() == scales + 1;
        Attributes attrs{{"mode", std::string(bilinear ? "bilinear" : "nearest")}};
        if (bilinear) attrs["align_corners"] = a.integer(2);
        if (!a.isNone(1)) attrs["output_size"] = a.ints(1);
        if (vec && !a.isNone(scales)) {
            const std::vector<double> s = a.numbers(scales);
            if (s.size() != 2) a.fail("an upsampling with " + std::to_string(s.size()) + " scale factors");
            attrs["scale_h"] = s[0];
            attrs["scale_w"] = s[1];
        } else if (!vec) {
            if (!a.isNone(scales)) attrs["scale_h"] = a.number(scales);
            if (!a.isNone(scales + 1)) attrs["scale_w"] = a.number(scales + 1);
        }
        if (!attrs.count("output_size") && !(attrs.count("scale_h") && attrs.count("scale_w")))
            a.fail("an upsampling without an output size or scale factors");
        return a.emit(OpKind::Upsample, {x}, attrs);
    }
    return false;
}

bool mapPooling(OpArgs& a) {
    const std::string& op = a.op();
    if (op.find("pool") == std::string::npos) return false;
    const int x = a.tensor(0);
    const bool withIndices = op == "max_pool2d_with_indices" || op == "max_pool1d_with_indices";
    if (op == "max_pool2d" || op == "max_pool1d" || withIndices) {
        const bool twoD = op == "max_pool2d" || op == "max_pool2d_with_indices";
        const auto outs = a.add(twoD ? OpKind::MaxPool2d : OpKind::MaxPool1d, "", {x},
                                {{"kernel", a.ints(1)}, {"stride", a.ints(2)}, {"padding", a.ints(3)},
                                 {"dilation", a.ints(4)}, {"ceil_mode", a.integer(5)}});
        a.result(outs.at(0));
        if (withIndices) a.unusedResult(1);
        return true;
    }
    if (op == "avg_pool2d" || op == "avg_pool1d") {
        Attributes attrs{{"kernel", a.ints(1)}, {"stride", a.ints(2)}, {"padding", a.ints(3)},
                         {"ceil_mode", a.integer(4)}, {"count_include_pad", a.integer(5)}};
        if (op == "avg_pool2d" && !a.isNone(6)) attrs["divisor_override"] = a.integer(6);
        return a.emit(op == "avg_pool2d" ? OpKind::AvgPool2d : OpKind::AvgPool1d, {x}, attrs);
    }
    if (op == "adaptive_avg_pool2d" || op == "adaptive_avg_pool1d")
        return a.emit(op == "adaptive_avg_pool2d" ? OpKind::AdaptiveAvgPool2d : OpKind::AdaptiveAvgPool1d, {x},
                      {{"output_size", a.ints(1)}});
    if (op == "adaptive_max_pool2d") {
        a.result(a.add(OpKind::AdaptiveMaxPool2d, "", {x}, {{"output_size", a.ints(1)}}).at(0));
        a.unusedResult(1);  // indices: unused by inference
        return true;
    }
    return false;
}

}  // namespace

const std::set<std::string>& shapeOpNames() {
    static const std::set<std::string> names = {
        "cat", "concat", "dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout", "contiguous",
        "detach", "clone", "identity", "chunk", "split", "split_with_sizes", "slice", "select", "index", "flatten", "reshape", "view", "permute", "transpose", "unsqueeze", "squeeze",
        "expand", "repeat", "roll", "channel_shuffle", "native_channel_shuffle", "pad", "constant_pad_nd",
        "upsample_nearest2d", "upsample_bilinear2d", "max_pool2d", "max_pool1d", "max_pool2d_with_indices",
        "max_pool1d_with_indices", "avg_pool2d", "avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool1d",
        "adaptive_max_pool2d"};
    return names;
}

bool mapShapeOp(OpArgs& a) {
    if (!shapeOpNames().count(a.op())) return false;
    if (a.op() == "cat" || a.op() == "concat" ? !a.isSequence(0) : !a.isTensor(0)) return false;
    return mapSlicing(a) || mapReshaping(a) || mapResampling(a) || mapPooling(a);
}

}  // namespace ptq
