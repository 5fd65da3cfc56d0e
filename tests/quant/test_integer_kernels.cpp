// Integer kernels of quantized layers (core/quant/integer_kernels.h) against the fake-quantized
// float layer they stand for: the same values to float rounding, for convolutions of every
// shape kind (1x1, 3x3, strided, dilated, grouped, depthwise, 'same' padding, zero points) and
// linear layers (2-D and 3-D inputs), and no kernel where the weight is off one grid.
#include "core/graph/graph.h"
#include "core/quant/integer_kernels.h"
#include "core/quant/quantizer.h"
#include "core/util/runtime.h"

#include <ATen/ATen.h>

#include <QtTest/QtTest>

using namespace ptq;

namespace {

Node convNode(int64_t stride, int64_t padding, int64_t dilation, int64_t groups, const std::string& padMode = {}) {
    Node n;
    n.op = OpKind::Conv2d;
    n.name = "conv";
    n.attrs["stride"] = std::vector<int64_t>{stride, stride};
    n.attrs["padding"] = std::vector<int64_t>{padding, padding};
    n.attrs["dilation"] = std::vector<int64_t>{dilation, dilation};
    n.attrs["groups"] = groups;
    if (!padMode.empty()) n.attrs["padding_mode"] = padMode;
    return n;
}

Node linearNode() {
    Node n;
    n.op = OpKind::Linear;
    n.name = "fc";
    return n;
}

struct Quantized {
    at::Tensor weight;  // dequantized
    QuantSpec wSpec, aSpec;
    QuantParams wParams, aParams;
};

/// A float weight quantized per output channel at @p wBits, an input quantizer at @p aBits from
/// the range of @p x (asymmetric: a zero point unless the range starts at 0).
Quantized quantize(const at::Tensor& w, const at::Tensor& x, int wBits, int aBits, Granularity g) {
    Quantized q;
    q.wSpec = QuantSpec::weights(wBits, g);
    const int64_t o = w.size(0);
    const at::Tensor flat = w.reshape({o, -1});
    std::vector<float> lo, hi;
    if (g == Granularity::PerTensor) {
        lo = {w.min().item<float>()};
        hi = {w.max().item<float>()};
    } else {
        const at::Tensor mn = flat.amin(1), mx = flat.amax(1);
        for (int64_t c = 0; c < o; ++c) {
            lo.push_back(mn[c].item<float>());
            hi.push_back(mx[c].item<float>());
        }
    }
    q.wParams = paramsFromRange(lo, hi, q.wSpec);
    q.weight = fakeQuantize(w, q.wSpec, q.wParams);
    q.aSpec = QuantSpec::activations(aBits);
    q.aParams = paramsFromRange(x.min().item<float>(), x.max().item<float>(), q.aSpec);
    return q;
}

double relativeError(const at::Tensor& a, const at::Tensor& b) {
    return (a - b).abs().max().item<double>() / std::max(1e-12, b.abs().max().item<double>());
}

}  // namespace

class TestIntegerKernels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        initRuntime();
        if (!integerKernelsAvailable()) QSKIP("No VNNI on this CPU: the integer kernels are off (the float path runs)");
    }

    void convolutionMatchesFakeQuantizedFloat_data() {
        QTest::addColumn<int>("batch");
        QTest::addColumn<int>("inChannels");
        QTest::addColumn<int>("outChannels");
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("kernel");
        QTest::addColumn<int>("stride");
        QTest::addColumn<int>("padding");
        QTest::addColumn<int>("dilation");
        QTest::addColumn<int>("groups");
        QTest::addColumn<int>("wBits");
        QTest::addColumn<int>("aBits");
        QTest::addColumn<bool>("signedInput");  // a range below 0: a zero point inside the grid
        QTest::addColumn<bool>("channelsLast");
        QTest::newRow("3x3") << 4 << 16 << 32 << 14 << 3 << 1 << 1 << 1 << 1 << 8 << 8 << false << true;
        QTest::newRow("3x3 zero point") << 4 << 16 << 32 << 14 << 3 << 1 << 1 << 1 << 1 << 8 << 8 << true << true;
        QTest::newRow("1x1") << 3 << 64 << 24 << 7 << 1 << 1 << 0 << 1 << 1 << 8 << 8 << true << false;
        QTest::newRow("7x7 stride 2 image") << 2 << 3 << 16 << 33 << 7 << 2 << 3 << 1 << 1 << 8 << 8 << true << false;
        QTest::newRow("strided 3x3 w4a4") << 2 << 8 << 8 << 15 << 3 << 2 << 1 << 1 << 1 << 4 << 4 << true << true;
        QTest::newRow("dilated") << 2 << 8 << 16 << 17 << 3 << 1 << 2 << 2 << 1 << 8 << 8 << true << true;
        QTest::newRow("grouped") << 2 << 16 << 32 << 9 << 3 << 1 << 1 << 1 << 4 << 8 << 8 << true << true;
        QTest::newRow("depthwise w2a8") << 2 << 32 << 32 << 12 << 3 << 1 << 1 << 1 << 32 << 2 << 8 << false << true;
        QTest::newRow("one sample odd sizes") << 1 << 5 << 7 << 11 << 5 << 3 << 2 << 1 << 1 << 6 << 7 << true << false;
    }
    void convolutionMatchesFakeQuantizedFloat() {
        QFETCH(int, batch);
        QFETCH(int, inChannels);
        QFETCH(int, outChannels);
        QFETCH(int, size);
        QFETCH(int, kernel);
        QFETCH(int, stride);
        QFETCH(int, padding);
        QFETCH(int, dilation);
        QFETCH(int, groups);
        QFETCH(int, wBits);
        QFETCH(int, aBits);
        QFETCH(bool, signedInput);
        QFETCH(bool, channelsLast);
        at::manual_seed(7);
        at::Tensor x = at::randn({batch, inChannels, size, size});
        if (!signedInput) x = at::relu(x);
        if (channelsLast) x = x.contiguous(at::MemoryFormat::ChannelsLast);
        const at::Tensor w = at::randn({outChannels, inChannels / groups, kernel, kernel}) * 0.1;
        const at::Tensor bias = at::randn({outChannels});
        for (Granularity g : {Granularity::PerChannel, Granularity::PerTensor}) {
            const Quantized q = quantize(w, x, wBits, aBits, g);
            if (signedInput) QVERIFY(q.aParams.zeroPoint[0] > 0);
            const Node node = convNode(stride, padding, dilation, groups);
            std::string why;
            const auto kernel = IntegerLayerKernel::prepare(node, q.weight, q.wSpec, q.wParams, q.aSpec, q.aParams, &why);
            QVERIFY2(kernel, why.c_str());
            const at::Tensor xq = fakeQuantize(x, q.aSpec, q.aParams);
            for (bool withBias : {true, false}) {
                const at::Tensor b = withBias ? bias : at::Tensor();
                const at::Tensor expected = at::conv2d(xq, q.weight, b, {stride, stride}, {padding, padding},
                                                       {dilation, dilation}, groups);
                const at::Tensor got = kernel->run(x, b);
                QCOMPARE(got.sizes().vec(), expected.sizes().vec());
                const double err = relativeError(got, expected);
                QVERIFY2(err < 1e-5, qPrintable(QString("relative error %1").arg(err)));
            }
        }
    }

    void samePaddingAndValid() {
        at::manual_seed(3);
        const at::Tensor x = at::randn({2, 6, 10, 10});
        const at::Tensor w = at::randn({4, 6, 4, 4}) * 0.2;  // even kernel: 'same' pads one more on the right
        for (const std::string mode : {"same", "valid"}) {
            const Quantized q = quantize(w, x, 8, 8, Granularity::PerChannel);
            std::string why;
            const auto kernel =
                IntegerLayerKernel::prepare(convNode(1, 0, 1, 1, mode), q.weight, q.wSpec, q.wParams, q.aSpec, q.aParams, &why);
            QVERIFY2(kernel, why.c_str());
            const at::Tensor expected =
                at::conv2d(fakeQuantize(x, q.aSpec, q.aParams), q.weight, {}, {1, 1}, mode, {1, 1}, 1);
            const at::Tensor got = kernel->run(x, {});
            QCOMPARE(got.sizes().vec(), expected.sizes().vec());
            QVERIFY(relativeError(got, expected) < 1e-5);
        }
    }

    void linearMatchesFakeQuantizedFloat() {
        at::manual_seed(11);
        const at::Tensor w = at::randn({10, 48}) * 0.3;
        const at::Tensor bias = at::randn({10}) * 5;
        for (const std::vector<int64_t>& shape : {std::vector<int64_t>{64, 48}, std::vector<int64_t>{3, 5, 48},
                                                  std::vector<int64_t>{1, 48}}) {
            const at::Tensor x = at::randn(shape) + 0.5;
            for (int bits : {8, 4}) {
                const Quantized q = quantize(w, x, bits, bits, Granularity::PerChannel);
                std::string why;
                const auto kernel = IntegerLayerKernel::prepare(linearNode(), q.weight, q.wSpec, q.wParams, q.aSpec,
                                                                q.aParams, &why);
                QVERIFY2(kernel, why.c_str());
                for (bool withBias : {true, false}) {
                    const at::Tensor b = withBias ? bias : at::Tensor();
                    const at::Tensor expected = at::linear(fakeQuantize(x, q.aSpec, q.aParams), q.weight, b);
                    const at::Tensor got = kernel->run(x, b);
                    QCOMPARE(got.sizes().vec(), expected.sizes().vec());
                    const double err = relativeError(got, expected);
                    QVERIFY2(err < 1e-5, qPrintable(QString("relative error %1").arg(err)));
                }
            }
        }
    }

    void noKernelOffTheGrid() {
        at::manual_seed(5);
        const at::Tensor x = at::randn({2, 4, 6, 6});
        const at::Tensor w = at::randn({8, 4, 3, 3});
        Quantized q = quantize(w, x, 8, 8, Granularity::PerChannel);
        std::string why;
        // The float weight itself is not on the grid (a multipoint sum is not either).
        QVERIFY(!IntegerLayerKernel::prepare(convNode(1, 1, 1, 1), w, q.wSpec, q.wParams, q.aSpec, q.aParams, &why));
        QVERIFY(why.find("grid") != std::string::npos);
        // A 16-bit input does not fit 8-bit integers.
        const QuantSpec a16 = QuantSpec::activations(16);
        const QuantParams p16 = paramsFromRange(x.min().item<float>(), x.max().item<float>(), a16);
        QVERIFY(!IntegerLayerKernel::prepare(convNode(1, 1, 1, 1), q.weight, q.wSpec, q.wParams, a16, p16, &why));
        // Other ops have none.
        Node relu;
        relu.op = OpKind::Relu;
        QVERIFY(!IntegerLayerKernel::prepare(relu, q.weight, q.wSpec, q.wParams, q.aSpec, q.aParams, &why));
    }

    void quantizeToIntKeepsLayoutAndValues() {
        at::manual_seed(2);
        const at::Tensor x = at::randn({3, 5, 7, 9}).contiguous(at::MemoryFormat::ChannelsLast) * 3;
        for (int bits : {8, 5, 2}) {
            const QuantSpec spec = QuantSpec::activations(bits);
            const QuantParams p = paramsFromRange(-1.0f, 4.0f, spec);  // values beyond both ends clamp
            const at::Tensor q = quantizeToInt(x, spec, p);
            QVERIFY(q.is_contiguous(at::MemoryFormat::ChannelsLast));
            QCOMPARE(q.scalar_type(), at::kByte);
            QVERIFY(at::equal(dequantize(q, spec, p), fakeQuantize(x, spec, p)));
        }
        const QuantSpec s8 = QuantSpec::weights(8, Granularity::PerTensor);
        const QuantParams ps = paramsFromRange(-2.0f, 2.0f, s8);
        const at::Tensor q = quantizeToInt(x, s8, ps);
        QCOMPARE(q.scalar_type(), at::kChar);
        QVERIFY(at::equal(dequantize(q, s8, ps), fakeQuantize(x, s8, ps)));
    }
};

QTEST_GUILESS_MAIN(TestIntegerKernels)
#include "test_integer_kernels.moc"
