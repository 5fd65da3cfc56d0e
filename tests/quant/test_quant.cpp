// The uniform quantizer (grid, fake-quant, integer form, straight-through gradients) and range
// calibration (min-max, percentile, MSE clipping; weights and batch-fed activation observers).
#include "core/graph/graph.h"
#include "core/graph/torchscript_importer.h"
#include "core/quant/quant_ops.h"
#include "core/quant/quantizer.h"
#include "core/quant/range_calibration.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <QtTest/QtTest>

using namespace ptq;

Q_DECLARE_METATYPE(ptq::QuantSpec)
Q_DECLARE_METATYPE(at::Tensor)

namespace {
const char* demoModel = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

/// The message of the InvalidInput error @p f throws; "" when it throws nothing or another kind.
template <typename F>
QString invalidInputMessage(F f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind() == Error::Kind::InvalidInput ? QString::fromStdString(e.what()) : QString();
    }
    return {};
}

/// 6 channels along axis 0 with ranges from 1e-3 to 1e2, a zero in each channel; non-negative
/// for symmetric unsigned specs (which refuse negative data).
at::Tensor channelData(const QuantSpec& spec) {
    const at::Tensor ranges = at::tensor({1e-3f, 0.05f, 1.0f, 3.0f, 20.0f, 100.0f}).reshape({6, 1, 1});
    at::Tensor x = at::randn({6, 5, 7}, seeded(11)) * ranges + 0.2f * ranges;
    x.select(1, 0).select(1, 0).zero_();
    return spec.symmetric && !spec.signedGrid ? x.abs() : x;
}

QuantParams minMaxParams(const at::Tensor& x, const QuantSpec& spec) {
    return weightParams(x, spec, RangeMethod::MinMax);
}

/// scale or zero point broadcast against x (per-tensor: a scalar).
at::Tensor perElement(const std::vector<float>& v, const QuantSpec& spec, const at::Tensor& x) {
    const at::Tensor t = at::tensor(at::ArrayRef<float>(v));
    return spec.granularity == Granularity::PerTensor ? t.reshape({}) : t.reshape({-1, 1, 1}).expand_as(x);
}

void addSpecRows() {
    QTest::addColumn<QuantSpec>("spec");
    for (int bits : {2, 4, 8, 16})
        for (bool symmetric : {true, false})
            for (bool signedGrid : {true, false})
                for (Granularity g : {Granularity::PerTensor, Granularity::PerChannel}) {
                    QuantSpec spec{bits, symmetric, signedGrid, g, 0};
                    QTest::addRow("%d-bit %s %s %s", bits, symmetric ? "sym" : "asym", signedGrid ? "signed" : "unsigned",
                                  granularityName(g))
                        << spec;
                }
}

/// Laplace samples (heavy tails) with a few outliers, as weights often look.
at::Tensor heavyTailed(int64_t rows, int64_t cols) {
    const at::Tensor u = at::rand({rows, cols}, seeded(5)) - 0.5;
    at::Tensor x = -at::sign(u) * at::log1p(-2 * u.abs());
    x.view({-1}).slice(0, 0, 8).fill_(25.0f);
    return x;
}
}  // namespace

class TestQuant : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { at::set_num_threads(2); }
    void gridLimits_data();
    void gridLimits();
    void badBitWidthsAreRefused_data();
    void badBitWidthsAreRefused();
    void errorWithinHalfStepAndClamped_data() { addSpecRows(); }
    void errorWithinHalfStepAndClamped();
    void zeroIsExactAndIdempotent_data() { addSpecRows(); }
    void zeroIsExactAndIdempotent();
    void integerFormRoundTrips_data() { addSpecRows(); }
    void integerFormRoundTrips();
    void anyChannelAxis_data();
    void anyChannelAxis();
    void straightThroughGradients();
    void fusedRowsMatchAutograd_data();
    void fusedRowsMatchAutograd();
    void perChannelBeatsPerTensor();
    void shiftScaler();
    void mseClippingBeatsMinMax_data();
    void mseClippingBeatsMinMax();
    void percentileClipsOutliers();
    void batchedObservationEqualsOneShot();
    void namesAndBadInputs();
    void realResnetWeight();
};

void TestQuant::gridLimits_data() {
    QTest::addColumn<int>("bits");
    QTest::addColumn<bool>("signedGrid");
    QTest::addColumn<qint64>("qmin");
    QTest::addColumn<qint64>("qmax");
    QTest::newRow("2 signed") << 2 << true << qint64(-2) << qint64(1);
    QTest::newRow("2 unsigned") << 2 << false << qint64(0) << qint64(3);
    QTest::newRow("3 signed") << 3 << true << qint64(-4) << qint64(3);
    QTest::newRow("4 signed") << 4 << true << qint64(-8) << qint64(7);
    QTest::newRow("4 unsigned") << 4 << false << qint64(0) << qint64(15);
    QTest::newRow("6 unsigned") << 6 << false << qint64(0) << qint64(63);
    QTest::newRow("8 signed") << 8 << true << qint64(-128) << qint64(127);
    QTest::newRow("8 unsigned") << 8 << false << qint64(0) << qint64(255);
    QTest::newRow("16 signed") << 16 << true << qint64(-32768) << qint64(32767);
    QTest::newRow("16 unsigned") << 16 << false << qint64(0) << qint64(65535);
}

void TestQuant::gridLimits() {
    QFETCH(int, bits);
    QFETCH(bool, signedGrid);
    QFETCH(qint64, qmin);
    QFETCH(qint64, qmax);
    const QuantSpec spec{bits, true, signedGrid, Granularity::PerTensor, 0};
    QCOMPARE(qint64(gridMin(spec)), qmin);
    QCOMPARE(qint64(gridMax(spec)), qmax);
}

void TestQuant::badBitWidthsAreRefused_data() {
    QTest::addColumn<int>("bits");
    for (int bits : {0, 1, 9, 12, 17, -4}) QTest::addRow("%d", bits) << bits;
}

void TestQuant::badBitWidthsAreRefused() {
    QFETCH(int, bits);
    const QuantSpec spec = QuantSpec::weights(bits);
    const QString allowed = "2, 3, 4, 5, 6, 7, 8 and 16";
    QVERIFY(invalidInputMessage([&] { validateQuantSpec(spec); }).contains(allowed));
    QVERIFY(invalidInputMessage([&] { gridMax(spec); }).contains(allowed));
    QVERIFY(invalidInputMessage([&] { paramsFromRange(-1.0f, 1.0f, spec); }).contains(allowed));
    const at::Tensor x = at::ones({2, 3});
    QVERIFY(invalidInputMessage([&] { fakeQuantize(x, spec, QuantParams{{1.0f, 1.0f}, {0, 0}}); }).contains(allowed));
}

void TestQuant::errorWithinHalfStepAndClamped() {
    QFETCH(QuantSpec, spec);
    const at::Tensor x = channelData(spec);
    const QuantParams p = minMaxParams(x, spec);
    QCOMPARE(p.channels(), size_t(spec.granularity == Granularity::PerChannel ? 6 : 1));
    const at::Tensor s = perElement(p.scale, spec, x);
    const std::vector<float> zp(p.zeroPoint.begin(), p.zeroPoint.end());
    const at::Tensor z = perElement(zp, spec, x);
    // Inside the range: within half a step (plus float rounding of x / scale).
    const at::Tensor err = (fakeQuantize(x, spec, p) - x).abs();
    QVERIFY2((err <= s * 0.5001).all().item<bool>(), qPrintable(QString::number((err / s).max().item<double>())));
    // Outside: values three times the range clamp exactly to the grid's end points.
    const at::Tensor far = x * 3 + at::sign(x) * s * 4;
    const at::Tensor high = (gridMax(spec) - z) * s, low = (gridMin(spec) - z) * s;
    const at::Tensor fq = fakeQuantize(far, spec, p);
    QVERIFY(at::equal(fq.masked_select(far > high), high.expand_as(far).masked_select(far > high)));
    QVERIFY(at::equal(fq.masked_select(far < low), low.expand_as(far).masked_select(far < low)));
    QVERIFY((far > high).any().item<bool>());
    // The fused path and the differentiable ATen path give the same numbers.
    QVERIFY(at::equal(fq, fakeQuantize(far, spec, scaleTensor(p), zeroPointTensor(p))));
}

void TestQuant::zeroIsExactAndIdempotent() {
    QFETCH(QuantSpec, spec);
    const at::Tensor x = channelData(spec);
    const QuantParams p = minMaxParams(x, spec);
    const at::Tensor fq = fakeQuantize(x, spec, p);
    QVERIFY(at::equal(fakeQuantize(at::zeros_like(x), spec, p), at::zeros_like(x)));
    QVERIFY((fq.masked_select(x == 0) == 0).all().item<bool>());
    QVERIFY(at::equal(fakeQuantize(fq, spec, p), fq));
    // A range that excludes 0 is widened to include it.
    const QuantParams shifted = paramsFromRange(2.0f, 5.0f, QuantSpec{spec.bits, spec.symmetric, spec.signedGrid,
                                                                      Granularity::PerTensor, 0});
    QCOMPARE(fakeQuantize(at::zeros({3}), QuantSpec{spec.bits, spec.symmetric, spec.signedGrid}, shifted)
                 .abs().max().item<float>(), 0.0f);
}

void TestQuant::integerFormRoundTrips() {
    QFETCH(QuantSpec, spec);
    const at::Tensor x = channelData(spec) * 1.5;  // some values clamp
    const QuantParams p = minMaxParams(channelData(spec), spec);
    const at::Tensor q = quantizeToInt(x, spec, p);
    const at::ScalarType expected = spec.bits <= 8 ? (spec.signedGrid ? at::kChar : at::kByte)
                                                   : (spec.signedGrid ? at::kShort : at::kInt);
    QCOMPARE(q.scalar_type(), expected);
    QVERIFY(q.min().item<int64_t>() >= gridMin(spec) && q.max().item<int64_t>() <= gridMax(spec));
    QVERIFY(at::equal(dequantize(q, spec, p), fakeQuantize(x, spec, p)));
}

void TestQuant::anyChannelAxis_data() {
    QTest::addColumn<int>("axis");
    QTest::addColumn<int>("sameAs");
    QTest::newRow("1") << 1 << 1;
    QTest::newRow("3") << 3 << 3;
    QTest::newRow("-1 is 3") << -1 << 3;
    QTest::newRow("-4 is 0") << -4 << 0;
}

void TestQuant::anyChannelAxis() {
    QFETCH(int, axis);
    QFETCH(int, sameAs);
    const at::Tensor x = at::randn({3, 4, 5, 6}, seeded(2)) * at::arange(1, 7).to(at::kFloat);
    QuantSpec spec = QuantSpec::weights(4);
    spec.channelAxis = axis;
    const QuantParams p = weightParams(x, spec, RangeMethod::MinMax);
    QCOMPARE(int64_t(p.channels()), x.size(sameAs));
    // Moving the channel axis first and quantizing along axis 0 gives the same values.
    const at::Tensor moved = x.movedim(sameAs, 0).contiguous();
    const at::Tensor expected = fakeQuantize(moved, QuantSpec::weights(4), p).movedim(0, sameAs);
    QVERIFY(at::equal(fakeQuantize(x, spec, p), expected));
}

void TestQuant::straightThroughGradients() {
    const QuantSpec spec = QuantSpec::activations(8);
    const QuantParams p = paramsFromRange(-1.0f, 1.0f, spec);
    const at::Tensor x = at::linspace(-3.0, 3.0, 61).requires_grad_();
    fakeQuantize(x, spec, p).sum().backward();
    // Gradient 1 where round(x / s) + z is on the grid, 0 where it clamps; nothing else.
    const at::Tensor ax = x.detach().abs();
    QVERIFY(at::equal(x.grad().masked_select(ax <= 0.95), at::ones({(ax <= 0.95).sum().item<int64_t>()})));
    QVERIFY(at::equal(x.grad().masked_select(ax >= 1.05), at::zeros({(ax >= 1.05).sum().item<int64_t>()})));
    QVERIFY(((x.grad() == 0) | (x.grad() == 1)).all().item<bool>());

    // Learnable per-channel scale and zero point (AdaQuant): gradients reach both.
    const QuantSpec w4 = QuantSpec{4, false, true, Granularity::PerChannel, 0};
    const at::Tensor w = at::randn({3, 50}, seeded(4));
    const QuantParams wp = weightParams(w, w4, RangeMethod::MinMax);
    const at::Tensor scale = scaleTensor(wp).requires_grad_();
    const at::Tensor zero = zeroPointTensor(wp).requires_grad_();
    (fakeQuantize(w, w4, scale, zero) - w).pow(2).sum().backward();
    QVERIFY(scale.grad().defined() && zero.grad().defined());
    QVERIFY(scale.grad().abs().min().item<float>() > 0.0f);
    QVERIFY(at::isfinite(scale.grad()).all().item<bool>());
    const QuantParams back = paramsFromTensors(scale.detach(), zero.detach(), w4);
    QCOMPARE(back.scale, wp.scale);
    QCOMPARE(back.zeroPoint, wp.zeroPoint);
}

void TestQuant::fusedRowsMatchAutograd_data() {
    QTest::addColumn<QuantSpec>("spec");
    QTest::addColumn<bool>("weightLike");
    QTest::newRow("activation per tensor") << QuantSpec::activations(4) << false;
    QTest::newRow("activation per channel, axis 1") << QuantSpec{4, false, false, Granularity::PerChannel, 1} << false;
    QTest::newRow("weight per channel") << QuantSpec::weights(4) << true;
    QTest::newRow("weight per tensor, asymmetric") << QuantSpec{3, false, true, Granularity::PerTensor, 0} << true;
}

// The fused rows forward (gather + fake-quant) and its straight-through backward against the
// differentiable tensor fakeQuantize: the same values, the same gradients up to rounding.
void TestQuant::fusedRowsMatchAutograd() {
    QFETCH(QuantSpec, spec);
    QFETCH(bool, weightLike);
    const at::Tensor src = at::randn(weightLike ? std::vector<int64_t>{1, 4, 3, 3, 5} : std::vector<int64_t>{5, 3, 4, 6},
                                     seeded(21)) * 2.0;
    const std::vector<int64_t> rows = weightLike ? std::vector<int64_t>{0} : std::vector<int64_t>{3, 0, 3, 1};
    const at::Tensor x = src.index_select(0, at::tensor(at::ArrayRef<int64_t>(rows), at::kLong));
    const at::Tensor batch = weightLike ? x.squeeze(0) : x;  // a weight is one row of its own shape
    const int axis = perChannelParams(spec.granularity) ? (weightLike ? 0 : spec.channelAxis) : 0;
    const int64_t channels = perChannelParams(spec.granularity) ? batch.size(axis) : 1;
    // Scales small enough that some values clamp at both ends; zero points off the middle.
    const at::Tensor scale = (at::rand({channels}, seeded(22)) * 0.3 + 0.1).requires_grad_();
    const at::Tensor zero = (spec.symmetric ? at::zeros({channels})
                                            : at::full({channels}, double(gridMin(spec) + 2)) + 0.3)
                                .requires_grad_();
    const at::Tensor in = batch.detach().requires_grad_();
    const at::Tensor expected = fakeQuantize(in, spec, scale, zero);
    const at::Tensor grad = at::randn(expected.sizes(), seeded(23));
    expected.backward(grad);

    const at::Tensor s = scale.detach().contiguous(), z = zero.detach().round().contiguous();
    quant_ops::FakeQuantRows a;
    a.src = src.data_ptr<float>();
    a.rows = rows.data();
    a.count = int64_t(rows.size());
    a.rowSize = src[0].numel();
    a.channels = channels;
    a.inner = a.rowSize;
    if (perChannelParams(spec.granularity)) {
        a.inner = 1;
        for (int64_t d = axis + 1; d < batch.dim(); ++d) a.inner *= batch.size(d);
    }
    a.scale = s.data_ptr<float>();
    a.zeroPoint = z.data_ptr<float>();
    a.qmin = gridMin(spec);
    a.qmax = gridMax(spec);
    at::Tensor out = at::empty_like(batch);
    quant_ops::fakeQuantizeRows(a, out.data_ptr<float>());
    QVERIFY(at::equal(out, expected.detach()));

    at::Tensor gradIn = at::empty_like(batch);
    std::vector<double> gradScale(static_cast<size_t>(channels)), gradZero(static_cast<size_t>(channels));
    const at::Tensor g = grad.contiguous();
    quant_ops::fakeQuantizeRowsBackward(a, g.data_ptr<float>(), gradIn.data_ptr<float>(), gradScale.data(),
                                        gradZero.data());
    QVERIFY(at::allclose(gradIn, in.grad(), 1e-6, 1e-6));
    const at::Tensor fusedScale = at::tensor(at::ArrayRef<double>(gradScale)).to(at::kFloat);
    const at::Tensor fusedZero = at::tensor(at::ArrayRef<double>(gradZero)).to(at::kFloat);
    QVERIFY2(at::allclose(fusedScale, scale.grad(), 1e-4, 1e-4), qPrintable(QString("%1 vs %2")
                 .arg(fusedScale[0].item<double>()).arg(scale.grad()[0].item<double>())));
    if (!spec.symmetric) QVERIFY(at::allclose(fusedZero, zero.grad(), 1e-4, 1e-4));
    QVERIFY(fusedScale.abs().max().item<float>() > 0.0f);
}

void TestQuant::perChannelBeatsPerTensor() {
    // Channel ranges from 0.01 to 10: the widest channel costs the same either way, so the
    // gain shows overall and, much more, on the narrow channels a per-tensor scale flattens.
    const at::Tensor w = at::randn({8, 64}, seeded(7)) * at::logspace(-2, 1, 8).unsqueeze(1);
    for (int bits : {4, 8}) {
        const QuantSpec perChannel = QuantSpec::weights(bits, Granularity::PerChannel);
        const QuantSpec perTensor = QuantSpec::weights(bits, Granularity::PerTensor);
        const at::Tensor c = fakeQuantize(w, perChannel, weightParams(w, perChannel, RangeMethod::MinMax)) - w;
        const at::Tensor t = fakeQuantize(w, perTensor, weightParams(w, perTensor, RangeMethod::MinMax)) - w;
        const double all = c.pow(2).mean().item<double>() / t.pow(2).mean().item<double>();
        const double narrow = c.slice(0, 0, 4).pow(2).mean().item<double>() / t.slice(0, 0, 4).pow(2).mean().item<double>();
        QVERIFY2(all < 0.7 && narrow < 0.05, qPrintable(QString("%1 bits: ratios %2, %3").arg(bits).arg(all).arg(narrow)));
    }
}

void TestQuant::shiftScaler() {
    // Channel ranges from 0.01 to 10, one all-zero channel: shifts bring each toward the widest.
    at::Tensor w = at::randn({9, 64}, seeded(11)) * at::logspace(-2, 1, 9).unsqueeze(1);
    w[4].zero_();
    for (RangeMethod method : {RangeMethod::MinMax, RangeMethod::Mse}) {
        for (int bits : {4, 8}) {
            const QuantSpec shift = QuantSpec::weights(bits, Granularity::Shift);
            const QuantParams p = weightParams(w, shift, method);
            QCOMPARE(p.shift.size(), size_t(9));
            const at::Tensor reach = std::get<0>(w.abs().max(1));
            const float widest = reach.max().item<float>();
            for (int c = 0; c < 9; ++c) {
                const int s = p.shift[size_t(c)];
                QVERIFY(s >= 0 && s <= kMaxShift);
                QCOMPARE(p.scale[size_t(c)], std::ldexp(p.sharedScale(), -s));  // exact
                QCOMPARE(p.zeroPoint[size_t(c)], 0);
                const float r = reach[c].item<float>();
                if (r == 0.0f) continue;
                QVERIFY(std::ldexp(r, s) <= widest);                       // never beyond the widest
                QVERIFY(s == kMaxShift || std::ldexp(r, s + 1) > widest);  // and as close as it goes
            }
            QCOMPARE(*std::min_element(p.shift.begin(), p.shift.end()), 0);  // the widest channel
            // Between per-tensor and per-channel in error, measured relative to each channel's
            // own energy (the overall MSE is the widest channels', which all three treat alike).
            // A power-of-2 shift leaves a channel at most 2x short of the widest range, so at
            // most 4x per-channel's error; per-tensor flattens the narrow channels to zero.
            auto relative = [&](Granularity g) {
                const QuantSpec spec = QuantSpec::weights(bits, g);
                const at::Tensor err = (fakeQuantize(w, spec, weightParams(w, spec, method)) - w).pow(2).mean(1);
                const at::Tensor energy = w.pow(2).mean(1);
                const at::Tensor live = energy > 0;
                return (err.masked_select(live) / energy.masked_select(live)).mean().item<double>();
            };
            const double t = relative(Granularity::PerTensor), c = relative(Granularity::PerChannel),
                         sh = relative(Granularity::Shift);
            QVERIFY2(sh < 0.1 * t && sh < 4.5 * c,
                     qPrintable(QString("%1 bits: per-tensor %2, shift %3, per-channel %4").arg(bits).arg(t).arg(sh).arg(c)));
            // The integer form: one shared scale, the shifts fold back exactly.
            const at::Tensor q = quantizeToInt(w, shift, p);
            QVERIFY(at::equal(dequantize(q, shift, p), fakeQuantize(w, shift, p)));
            const at::Tensor shifts = at::tensor(at::ArrayRef<int32_t>(p.shift)).to(at::kFloat).unsqueeze(1);
            QVERIFY(at::allclose(q.to(at::kFloat) * p.sharedScale() / at::pow(2.0, shifts), fakeQuantize(w, shift, p)));
        }
    }
    // The shift scaler is for symmetric signed weights.
    QuantSpec bad = QuantSpec::activations(8);
    bad.granularity = Granularity::Shift;
    QVERIFY_THROWS_EXCEPTION(Error, validateQuantSpec(bad));
    QCOMPARE(granularityFromString("shift"), Granularity::Shift);
    QCOMPARE(std::string(granularityName(Granularity::Shift)), std::string("shift"));
}

void TestQuant::mseClippingBeatsMinMax_data() {
    QTest::addColumn<at::Tensor>("data");
    QTest::newRow("laplace with outliers") << heavyTailed(16, 4096);
    at::Tensor normal = at::randn({16, 4096}, seeded(9));
    normal.view({-1}).slice(0, 0, 40, 7).mul_(12.0f);
    QTest::newRow("normal with outliers") << normal;
}

void TestQuant::mseClippingBeatsMinMax() {
    QFETCH(at::Tensor, data);
    for (Granularity g : {Granularity::PerTensor, Granularity::PerChannel}) {
        const QuantSpec spec = QuantSpec::weights(4, g);
        const double minMax = quantizationMse(data, spec, weightParams(data, spec, RangeMethod::MinMax));
        const double mse = quantizationMse(data, spec, weightParams(data, spec, RangeMethod::Mse));
        QVERIFY2(mse < 0.8 * minMax, qPrintable(QString("%1: %2 vs %3").arg(granularityName(g)).arg(mse).arg(minMax)));
    }
    // The activation observer, fed in batches, finds a clip that is as good on the real values.
    RangeObserver observer;
    for (const at::Tensor& batch : data.split(5)) observer.observe(batch);
    const QuantSpec act = QuantSpec::activations(4);
    const double minMax = quantizationMse(data, act, observer.params(act, RangeMethod::MinMax));
    const double mse = quantizationMse(data, act, observer.params(act, RangeMethod::Mse));
    QVERIFY2(mse < 0.8 * minMax, qPrintable(QString("observer: %1 vs %2").arg(mse).arg(minMax)));
    const double exact = quantizationMse(data, act, weightParams(data, act, RangeMethod::Mse));
    QVERIFY2(mse < 1.02 * exact, qPrintable(QString("histogram %1 vs exact %2").arg(mse).arg(exact)));
}

void TestQuant::percentileClipsOutliers() {
    at::Tensor x = at::randn({100000}, seeded(12));
    x.slice(0, 0, 5).fill_(50.0f);
    x.slice(0, 5, 10).fill_(-40.0f);
    RangeObserver observer;
    for (const at::Tensor& batch : x.split(30000)) observer.observe(batch);
    const ClipRange minMax = observer.range(QuantSpec::activations(8), RangeMethod::MinMax);
    QCOMPARE(minMax.max.at(0), 50.0f);
    QCOMPARE(minMax.min.at(0), -40.0f);
    const ClipRange clipped = observer.range(QuantSpec::activations(8), RangeMethod::Percentile);
    const float high = clipped.max.at(0), low = clipped.min.at(0);
    // 99.99 % of a standard normal is near 3.7; 5 outliers of 1e5 are 0.005 % per tail.
    QVERIFY2(high > 3.0f && high < 5.0f && low < -3.0f && low > -5.0f, qPrintable(QString("%1 %2").arg(low).arg(high)));
    // Weights: exact order statistics per channel agree with the histogram.
    const ClipRange w = weightRange(x.reshape({1, -1}), QuantSpec::weights(8), RangeMethod::Percentile);
    QVERIFY(std::abs(w.max.at(0) - high) < 0.05f && std::abs(w.min.at(0) - low) < 0.05f);
    RangeOptions all;
    all.percentile = 100.0;
    QCOMPARE(observer.range(QuantSpec::activations(8), RangeMethod::Percentile, all).max.at(0), 50.0f);
}

void TestQuant::batchedObservationEqualsOneShot() {
    // Post-ReLU-like data: a first batch of zeros (no spread yet), then ranges that keep growing.
    at::Tensor x = at::relu(at::randn({40000}, seeded(13))) * at::linspace(0.01, 6.0, 40000);
    x.slice(0, 0, 3000).zero_();
    RangeObserver oneShot, batched, reversed;
    oneShot.observe(x);
    const std::vector<int64_t> cuts = {0, 3000, 3001, 9000, 20000, 33333, 40000};
    for (size_t i = 0; i + 1 < cuts.size(); ++i) batched.observe(x.slice(0, cuts[i], cuts[i + 1]));
    for (size_t i = cuts.size() - 1; i > 0; --i) reversed.observe(x.slice(0, cuts[i - 1], cuts[i]));
    for (const RangeObserver* o : {&batched, &reversed}) {
        QCOMPARE(o->count(), int64_t(40000));
        QCOMPARE(o->min(), x.min().item<float>());
        QCOMPARE(o->max(), x.max().item<float>());
        QCOMPARE(o->histogram().counts, oneShot.histogram().counts);
        QCOMPARE(o->histogram().firstEdge, oneShot.histogram().firstEdge);
        for (RangeMethod m : {RangeMethod::MinMax, RangeMethod::Percentile, RangeMethod::Mse}) {
            const QuantSpec spec = QuantSpec::activations(4);
            QCOMPARE(o->range(spec, m).max, oneShot.range(spec, m).max);
            QCOMPARE(o->params(spec, m).scale, oneShot.params(spec, m).scale);
        }
    }
    const ValueHistogram h = oneShot.histogram();
    const auto bins = int64_t(h.counts.size());
    QVERIFY(bins > RangeObserver::kMaxHistogramBins / 2 && bins <= RangeObserver::kMaxHistogramBins);
    int64_t total = 0;
    for (int64_t c : h.counts) total += c;
    QCOMPARE(total, int64_t(40000));
}

void TestQuant::namesAndBadInputs() {
    for (RangeMethod m : {RangeMethod::MinMax, RangeMethod::Percentile, RangeMethod::Mse})
        QCOMPARE(rangeMethodFromString(rangeMethodName(m)), m);
    QVERIFY(invalidInputMessage([] { rangeMethodFromString("kl"); }).contains("minmax, percentile or mse"));
    QCOMPARE(granularityFromString("per-channel"), Granularity::PerChannel);
    QVERIFY(invalidInputMessage([] { granularityFromString("channel"); }).contains("per-tensor, per-channel or shift"));

    const QuantSpec unsignedSym{8, true, false, Granularity::PerTensor, 0};
    QVERIFY(invalidInputMessage([&] { paramsFromRange(-0.5f, 1.0f, unsignedSym); }).contains("-0.5"));
    QVERIFY(!invalidInputMessage([&] { paramsFromRange(2.0f, 1.0f, QuantSpec{}); }).isEmpty());
    const at::Tensor w = at::randn({4, 3});
    const QuantParams three = weightParams(w.t(), QuantSpec::weights(8), RangeMethod::MinMax);
    QVERIFY(invalidInputMessage([&] { fakeQuantize(w, QuantSpec::weights(8), three); }).contains("4 channels"));
    QuantSpec badAxis = QuantSpec::weights(8);
    badAxis.channelAxis = 2;
    QVERIFY(invalidInputMessage([&] { weightParams(w, badAxis, RangeMethod::MinMax); }).contains("axis 2"));

    RangeObserver observer;
    QVERIFY(invalidInputMessage([&] { observer.params(QuantSpec::activations(8), RangeMethod::MinMax); })
                .contains("calibration set"));
    observer.observe(w);
    QVERIFY(!invalidInputMessage([&] { observer.params(QuantSpec::weights(8), RangeMethod::MinMax); }).isEmpty());
    QVERIFY(!invalidInputMessage([&] { observer.observe(at::full({3}, NAN)); }).isEmpty());
    RangeOptions badPercentile;
    badPercentile.percentile = 40;
    QVERIFY(!invalidInputMessage([&] { observer.range(QuantSpec::activations(8), RangeMethod::Percentile, badPercentile); })
                 .isEmpty());
    // All-zero data: scale 1, everything exact.
    const QuantParams zeros = paramsFromRange(0.0f, 0.0f, QuantSpec::activations(8));
    QCOMPARE(zeros.scale.at(0), 1.0f);
    QCOMPARE(zeros.zeroPoint.at(0), 0);
}

void TestQuant::realResnetWeight() {
    if (!QFileInfo::exists(demoModel)) QSKIP("demo model not trained yet");
    const Graph g = importTorchScript(demoModel, {1, 28, 28});
    const at::Tensor& w = g.param("layer1.0.conv1.weight");
    const QuantSpec perChannel = QuantSpec::weights(8, Granularity::PerChannel);
    const QuantSpec perTensor = QuantSpec::weights(8, Granularity::PerTensor);
    const double c = quantizationMse(w, perChannel, weightParams(w, perChannel, RangeMethod::MinMax));
    const double t = quantizationMse(w, perTensor, weightParams(w, perTensor, RangeMethod::MinMax));
    QVERIFY2(c < t, qPrintable(QString("per-channel %1, per-tensor %2").arg(c).arg(t)));
    const QuantSpec four = QuantSpec::weights(4, Granularity::PerChannel);
    const double minMax = quantizationMse(w, four, weightParams(w, four, RangeMethod::MinMax));
    const double mse = quantizationMse(w, four, weightParams(w, four, RangeMethod::Mse));
    QVERIFY2(mse <= minMax, qPrintable(QString("4-bit mse %1, minmax %2").arg(mse).arg(minMax)));
}

QTEST_GUILESS_MAIN(TestQuant)
#include "test_quant.moc"
