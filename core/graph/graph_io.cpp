#include "core/graph/graph_io.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

namespace ptq {

namespace {

constexpr char kMagic[8] = {'P', 'T', 'Q', 'G', 'R', 'A', 'P', 'H'};
constexpr uint32_t kVersion = 2;  // 2: the input's kind and token limit
constexpr uint32_t kMaxDims = 32;           // LibTorch's tensors have at most 25
constexpr int64_t kMaxElements = int64_t(1) << 40;

// The dtypes the stream carries, by a code of its own (LibTorch's enum values are not promised).
struct DtypeCode {
    uint8_t code;
    at::ScalarType type;
};
constexpr DtypeCode kDtypes[] = {
    {1, at::kFloat}, {2, at::kDouble}, {3, at::kHalf}, {4, at::kBFloat16}, {5, at::kLong},
    {6, at::kInt},   {7, at::kShort},  {8, at::kChar}, {9, at::kByte},     {10, at::kBool},
};

enum AttrTag : uint8_t { kInt = 0, kDouble = 1, kString = 2, kInts = 3 };

// ---------------------------------------------------------------- writing

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}
    void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
    void u8(uint8_t v) { out_.push_back(char(v)); }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) out_.push_back(char((v >> (8 * i)) & 0xff));
    }
    void u64(uint64_t v) {
        for (int i = 0; i < 8; ++i) out_.push_back(char((v >> (8 * i)) & 0xff));
    }
    void i32(int32_t v) { u32(uint32_t(v)); }
    void i64(int64_t v) { u64(uint64_t(v)); }
    void f64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        u64(bits);
    }
    void str(const std::string& s) {
        u32(uint32_t(s.size()));
        raw(s.data(), s.size());
    }
    void ids(const std::vector<int>& v) {
        u32(uint32_t(v.size()));
        for (int id : v) i32(id);
    }
    void shape(const std::vector<int64_t>& v) {
        u32(uint32_t(v.size()));
        for (int64_t d : v) i64(d);
    }

private:
    std::string& out_;
};

uint8_t dtypeCode(at::ScalarType type, const std::string& key) {
    for (const DtypeCode& d : kDtypes)
        if (d.type == type) return d.code;
    throw failed("The graph's parameter '" + key + "' has the dtype " + std::string(c10::toString(type)) +
                 ", which the import helper cannot pass on.");
}

}  // namespace

std::string writeGraph(const Graph& graph) {
    std::string out;
    size_t tensorBytes = 0;
    for (const std::string& key : graph.paramKeys()) tensorBytes += graph.param(key).nbytes();
    out.reserve(tensorBytes + 256 * (graph.nodes().size() + graph.values().size()) + 64);
    Writer w(out);
    w.raw(kMagic, sizeof kMagic);
    w.u32(kVersion);

    w.u32(uint32_t(graph.nodes().size()));
    for (const Node& n : graph.nodes()) {
        w.u32(uint32_t(n.op));
        w.str(n.name);
        w.str(n.scope);
        w.ids(n.inputs);
        w.ids(n.outputs);
        w.u32(uint32_t(n.attrs.size()));
        for (const auto& [key, value] : n.attrs) {
            w.str(key);
            if (auto i = std::get_if<int64_t>(&value)) {
                w.u8(kInt);
                w.i64(*i);
            } else if (auto d = std::get_if<double>(&value)) {
                w.u8(kDouble);
                w.f64(*d);
            } else if (auto s = std::get_if<std::string>(&value)) {
                w.u8(kString);
                w.str(*s);
            } else {
                w.u8(kInts);
                w.shape(std::get<std::vector<int64_t>>(value));
            }
        }
    }

    w.u32(uint32_t(graph.values().size()));
    for (const Value& v : graph.values()) {
        w.str(v.name);
        w.shape(v.shape);
        w.i32(v.producer);
        w.i32(v.producerOutput);
        w.str(v.param);
        w.ids(v.consumers);
    }
    w.i32(graph.inputValue());
    w.u8(uint8_t(graph.inputKind()));
    w.i64(graph.tokenLimit());
    w.ids(graph.outputValues());

    const std::vector<std::string> keys = graph.paramKeys();
    w.u32(uint32_t(keys.size()));
    for (const std::string& key : keys) {
        const at::Tensor t = graph.param(key).contiguous();
        w.str(key);
        w.u8(dtypeCode(t.scalar_type(), key));
        w.shape(t.sizes().vec());
        w.u64(uint64_t(t.nbytes()));
        w.raw(t.data_ptr(), t.nbytes());
    }
    const std::vector<std::string> buffers = graph.bufferKeys();
    w.u32(uint32_t(buffers.size()));
    for (const std::string& key : buffers) w.str(key);
    return out;
}

// ---------------------------------------------------------------- reading

/// Friend of Graph: fills its members from a checked stream.
class GraphReader {
public:
    GraphReader(const char* data, size_t size) : p_(reinterpret_cast<const uint8_t*>(data)), size_(size) {}

    Graph read() {
        if (size_ < sizeof kMagic || std::memcmp(p_, kMagic, sizeof kMagic) != 0)
            bad("it does not start with the graph stream's mark");
        pos_ = sizeof kMagic;
        if (const uint32_t version = u32(); version != kVersion)
            bad("it is version " + std::to_string(version) + ", not " + std::to_string(kVersion));
        Graph g;
        readNodes(g);
        readValues(g);
        g.input_ = i32();
        const uint8_t kind = u8();
        if (kind > uint8_t(InputKind::Tokens)) bad("its input has the unknown kind " + std::to_string(kind));
        g.inputKind_ = InputKind(kind);
        g.tokenLimit_ = i64();
        if (g.tokenLimit_ < 0 || (g.inputKind_ == InputKind::Tokens && g.tokenLimit_ == 0))
            bad("its token input has a limit of " + std::to_string(g.tokenLimit_));
        g.outputs_ = ids("the graph's outputs");
        readParams(g);
        if (pos_ != size_) bad(std::to_string(size_ - pos_) + " bytes are left after the graph");
        checkStructure(g);
        return g;
    }

private:
    [[noreturn]] void bad(const std::string& what) const {
        throw failed("The graph stream is damaged: " + what + " (byte " + std::to_string(pos_) + " of " +
                     std::to_string(size_) + ").");
    }
    void need(size_t n) const {
        if (n > size_ - pos_) bad("it ends in the middle of an entry");
    }
    uint64_t le(int bytes) {
        need(size_t(bytes));
        uint64_t v = 0;
        for (int i = 0; i < bytes; ++i) v |= uint64_t(p_[pos_ + size_t(i)]) << (8 * i);
        pos_ += size_t(bytes);
        return v;
    }
    uint8_t u8() { return uint8_t(le(1)); }
    uint32_t u32() { return uint32_t(le(4)); }
    uint64_t u64() { return le(8); }
    int32_t i32() { return int32_t(u32()); }
    int64_t i64() { return int64_t(u64()); }
    double f64() {
        const uint64_t bits = u64();
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    /// A count of entries that take at least @p minBytes each: never more than the rest can hold.
    size_t count(size_t minBytes, const char* what) {
        const uint32_t n = u32();
        if (size_t(n) > (size_ - pos_) / std::max<size_t>(minBytes, 1))
            bad(std::string(what) + " claims " + std::to_string(n) + " entries, more than the stream holds");
        return n;
    }
    std::string str() {
        const uint32_t n = u32();
        need(n);
        std::string s(reinterpret_cast<const char*>(p_ + pos_), n);
        pos_ += n;
        return s;
    }
    std::vector<int> ids(const char* what) {
        const size_t n = count(4, what);
        std::vector<int> v(n);
        for (int& id : v) id = i32();
        return v;
    }
    std::vector<int64_t> shape(const std::string& what, bool tensor) {
        const uint32_t n = u32();
        if (n > kMaxDims) bad(what + " has " + std::to_string(n) + " dimensions");
        std::vector<int64_t> v(n);
        for (int64_t& d : v) {
            d = i64();
            if (tensor && d < 0) bad(what + " has a dimension of " + std::to_string(d));
        }
        return v;
    }

    // An attribute's integer list: any length the stream holds (Swin's relative-position
    // indices are thousands), unlike a shape.
    std::vector<int64_t> ints(const std::string& what) {
        const size_t n = count(8, what.c_str());
        std::vector<int64_t> v(n);
        for (int64_t& d : v) d = i64();
        return v;
    }

    void readNodes(Graph& g) {
        const size_t n = count(4 + 4 + 4 + 4 + 4 + 4, "the node list");
        g.nodes_.resize(n);
        for (size_t i = 0; i < n; ++i) {
            Node& node = g.nodes_[i];
            node.id = int(i);
            const uint32_t op = u32();
            if (op >= uint32_t(kOpKindCount)) bad("node " + std::to_string(i) + " has the unknown op " + std::to_string(op));
            node.op = OpKind(op);
            node.name = str();
            node.scope = str();
            node.inputs = ids("a node's inputs");
            node.outputs = ids("a node's outputs");
            const size_t attrs = count(4 + 1, "a node's attributes");
            for (size_t a = 0; a < attrs; ++a) {
                std::string key = str();
                AttrValue value;
                switch (u8()) {
                case kInt: value = i64(); break;
                case kDouble: value = f64(); break;
                case kString: value = str(); break;
                case kInts: value = ints("the attribute '" + key + "'"); break;
                default: bad("the attribute '" + key + "' of node " + std::to_string(i) + " has an unknown type");
                }
                if (!node.attrs.emplace(std::move(key), std::move(value)).second)
                    bad("node " + std::to_string(i) + " has an attribute twice");
            }
        }
    }

    void readValues(Graph& g) {
        const size_t n = count(4 + 4 + 4 + 4 + 4 + 4, "the value list");
        g.values_.resize(n);
        for (size_t i = 0; i < n; ++i) {
            Value& v = g.values_[i];
            v.id = int(i);
            v.name = str();
            v.shape = shape("value " + std::to_string(i), true);
            v.producer = i32();
            v.producerOutput = i32();
            v.param = str();
            v.consumers = ids("a value's consumers");
        }
    }

    void readParams(Graph& g) {
        const size_t n = count(4 + 1 + 4 + 8, "the parameter list");
        for (size_t i = 0; i < n; ++i) {
            std::string key = str();
            const uint8_t code = u8();
            const DtypeCode* dtype = nullptr;
            for (const DtypeCode& d : kDtypes)
                if (d.code == code) dtype = &d;
            if (!dtype) bad("the parameter '" + key + "' has the unknown dtype " + std::to_string(code));
            const std::vector<int64_t> sizes = shape("the parameter '" + key + "'", true);
            int64_t elements = 1;
            for (int64_t d : sizes) {
                if (d != 0 && elements > kMaxElements / d) bad("the parameter '" + key + "' claims too many elements");
                elements *= d;
            }
            const uint64_t bytes = u64();
            const uint64_t expected = uint64_t(elements) * c10::elementSize(dtype->type);
            if (bytes != expected)
                bad("the parameter '" + key + "' has " + std::to_string(bytes) + " bytes for " +
                    std::to_string(expected));
            need(size_t(bytes));
            at::Tensor t = at::empty(sizes, at::TensorOptions().dtype(dtype->type));
            if (bytes) std::memcpy(t.data_ptr(), p_ + pos_, size_t(bytes));
            if (dtype->type == at::kBool)  // a bool byte other than 0 or 1 is undefined behaviour to read
                for (uint64_t b = 0; b < bytes; ++b)
                    if (p_[pos_ + b] > 1) bad("the bool parameter '" + key + "' holds a byte other than 0 or 1");
            pos_ += size_t(bytes);
            if (g.hasParam(key)) bad("the parameter '" + key + "' comes twice");
            g.setParam(key, t);
        }
        const size_t buffers = count(4, "the buffer list");
        for (size_t i = 0; i < buffers; ++i) g.markBuffer(str());
    }

    // The cross-references: ids in range, producers and consumers agreeing with the nodes.
    void checkStructure(const Graph& g) const {
        const int nodes = int(g.nodes_.size()), values = int(g.values_.size());
        auto valueId = [&](int id, const std::string& where) {
            if (id < 0 || id >= values) structure(where + " names value " + std::to_string(id) + " of " + std::to_string(values));
        };
        std::vector<std::vector<int>> readers(static_cast<size_t>(values));
        for (const Node& n : g.nodes_) {
            const std::string where = "node " + std::to_string(n.id);
            for (int in : n.inputs) {
                valueId(in, where);
                readers[size_t(in)].push_back(n.id);
            }
            for (size_t o = 0; o < n.outputs.size(); ++o) {
                valueId(n.outputs[o], where);
                const Value& v = g.values_[size_t(n.outputs[o])];
                if (v.producer != n.id || v.producerOutput != int(o))
                    structure(where + "'s output " + std::to_string(o) + " is not produced by it");
            }
        }
        for (const Value& v : g.values_) {
            const std::string where = "value " + std::to_string(v.id);
            if (v.producer < -1 || v.producer >= nodes) structure(where + " names node " + std::to_string(v.producer));
            if (v.producer >= 0) {
                const auto& outs = g.nodes_[size_t(v.producer)].outputs;
                if (v.producerOutput < 0 || size_t(v.producerOutput) >= outs.size() ||
                    outs[size_t(v.producerOutput)] != v.id)
                    structure(where + " is not an output of its producer");
            } else if (v.producerOutput != 0) {
                structure(where + " has no producer but an output index");
            }
            if (!v.param.empty() && !g.hasParam(v.param)) structure(where + " names the missing parameter '" + v.param + "'");
            std::vector<int> consumers = v.consumers;
            std::sort(consumers.begin(), consumers.end());
            std::vector<int> expected = readers[size_t(v.id)];
            std::sort(expected.begin(), expected.end());
            if (consumers != expected) structure(where + "'s consumers are not the nodes that read it");
        }
        if (g.input_ != -1) valueId(g.input_, "the graph input");
        for (int out : g.outputs_) valueId(out, "the graph's outputs");
    }
    [[noreturn]] void structure(const std::string& what) const {
        throw failed("The graph stream is damaged: " + what + ".");
    }

    const uint8_t* p_;
    size_t size_;
    size_t pos_ = 0;
};

Graph readGraph(const char* data, size_t size) {
    if (!data && size) throw failed("The graph stream is damaged: it has no data.");
    return GraphReader(data, size).read();
}

}  // namespace ptq
