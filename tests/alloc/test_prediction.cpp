// Predictions fitted to measured allocations (core/alloc/prediction.h) and the anchors file
// (core/workflow/prediction.h).
#include "core/alloc/prediction.h"
#include "core/util/error.h"
#include "core/workflow/prediction.h"

#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>
#include <random>

using namespace ptq;

namespace {
PredictionAnchor anchor(double load, double drop, double costRatio = 0) {
    PredictionAnchor a;
    a.load = load;
    a.measuredDrop = drop;
    a.measuredTop1 = 93.0 - drop;
    a.samples = 10000;
    a.costRatio = costRatio;
    return a;
}
}  // namespace

class TestPrediction : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void recoversACompoundingDrop();
    void oneAnchorShiftsTheTableSlope();
    void uncertaintyGrowsAwayFromTheAnchors();
    void neverPredictsLessDropForMoreLoad();
    void spreadCoversBothEnds();
    void anchorsFileRoundTrip();
    void badAnchorsFiles();
};

void TestPrediction::recoversACompoundingDrop() {
    // Measured drops that grow faster than the table's linear sum (0.1 + 20 L + 400 L^2), with
    // the scatter of a 10k-image evaluation: the fit predicts held-out loads within 0.3 pt.
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 0.08);
    auto truth = [](double l) { return 0.1 + 20 * l + 400 * l * l; };
    std::vector<PredictionAnchor> anchors;
    for (double l : {0.0, 0.01, 0.03, 0.06, 0.1}) anchors.push_back(anchor(l, truth(l) + noise(rng)));
    const DropModel m(anchors, 20.0);
    for (double l : {0.005, 0.02, 0.045, 0.08}) {
        const CorrectedPrediction p = m.predict(l);
        QVERIFY(p.valid && p.interpolated);
        QVERIFY2(std::abs(p.drop - truth(l)) < 0.3, qPrintable(QString("load %1: %2 vs %3").arg(l).arg(p.drop).arg(truth(l))));
        QVERIFY(p.uncertainty > 0.02 && p.uncertainty < 0.5);
    }
    // The table's sum alone (20 L) would miss by 4 pt at the largest load.
    QVERIFY(std::abs(m.predict(0.1).drop - 20 * 0.1) > 3.0);
}

void TestPrediction::oneAnchorShiftsTheTableSlope() {
    // One measurement: its offset and the table's slope.
    const DropModel m({anchor(0.01, 0.5)}, 30.0);
    const CorrectedPrediction at = m.predict(0.01), beyond = m.predict(0.02);
    QVERIFY(std::abs(at.drop - 0.5) < 0.05);
    QVERIFY2(std::abs(beyond.drop - at.drop - 0.3) < 0.1, qPrintable(QString::number(beyond.drop)));
    QVERIFY(!at.interpolated);  // one point is no range
    QCOMPARE(at.anchors, 1);
    QVERIFY(!DropModel().predict(0.01).valid);
}

void TestPrediction::uncertaintyGrowsAwayFromTheAnchors() {
    const DropModel m({anchor(0.01, 0.3), anchor(0.02, 0.6), anchor(0.03, 1.0), anchor(0.04, 1.5)}, 30.0);
    const double inside = m.predict(0.025).uncertainty, far = m.predict(0.12).uncertainty;
    QVERIFY2(far > 2 * inside, qPrintable(QString("%1 vs %2").arg(far).arg(inside)));
    QVERIFY(!m.predict(0.12).interpolated);
}

void TestPrediction::neverPredictsLessDropForMoreLoad() {
    // Noisy measurements that fall with load: the fit stays flat instead of predicting gains.
    const DropModel m({anchor(0.0, 0.4), anchor(0.01, 0.3), anchor(0.02, 0.2), anchor(0.03, 0.1)}, 10.0);
    double last = -1e9;
    for (double l = 0; l <= 0.06; l += 0.005) {
        const double d = m.predict(l).drop;
        QVERIFY(d >= last - 1e-9);
        last = d;
    }
}

void TestPrediction::spreadCoversBothEnds() {
    const std::vector<double> loads{0.0, 0.0, 0.0001, 0.001, 0.004, 0.01, 0.03, 0.09, 0.2};
    const std::vector<size_t> picked = spreadAnchors(loads, 4);
    QCOMPARE(int(picked.size()), 4);
    QCOMPARE(loads[picked.front()], 0.0);
    QCOMPARE(loads[picked.back()], 0.2);
    for (size_t i = 1; i < picked.size(); ++i) QVERIFY(loads[picked[i]] > loads[picked[i - 1]]);
    QCOMPARE(int(spreadAnchors({0.0, 0.0, 0.0}, 3).size()), 1);  // one load: one anchor
    QVERIFY(spreadAnchors({}, 3).empty());
}

void TestPrediction::anchorsFileRoundTrip() {
    QTemporaryDir dir;
    AnchorSet set;
    set.pipeline = "light";
    set.evaluationSource = "fmnist:test";
    set.table = "t.json";
    set.modelSha256 = "abc";
    set.layers = {"conv1", "fc"};
    set.options = {"w4a8", "w8a8"};
    MeasuredAllocation m;
    m.choice = {0, 1};
    m.top1 = 92.5;
    m.fp32Top1 = 93.7;
    m.evaluationSamples = 10000;
    set.measured = {m};
    const std::string path = dir.filePath("a.json").toStdString();
    writeAnchors(path, set);
    const AnchorSet back = readAnchors(path);
    QCOMPARE(back.pipeline, std::string("light"));
    QCOMPARE(back.evaluationSource, std::string("fmnist:test"));
    QCOMPARE(int(back.measured.size()), 1);
    QCOMPARE(back.measured[0].top1, 92.5);
    QCOMPARE(back.measured[0].evaluationSamples, int64_t(10000));
    // Resolved against a table by names, whatever their order in the file.
    SensitivityTable table;
    table.provenance.modelSha256 = "abc";
    for (const char* name : {"conv1", "fc"}) {
        SensitivityLayer l;
        l.name = name;
        table.result.layers.push_back(l);
    }
    table.result.options = {BitOption{8, 8}, BitOption{4, 8}};
    const std::vector<MeasuredAllocation> anchors = anchorsForTable(back, table);
    QCOMPARE(anchors[0].choice, (std::vector<int>{1, 0}));
    table.provenance.modelSha256 = "other";
    QVERIFY_THROWS_EXCEPTION(Error, anchorsForTable(back, table));
    table.provenance.modelSha256 = "abc";
    table.result.options = {BitOption{8, 8}};
    QVERIFY_THROWS_EXCEPTION(Error, anchorsForTable(back, table));
}

void TestPrediction::badAnchorsFiles() {
    QTemporaryDir dir;
    auto write = [&](const char* name, const QByteArray& text) {
        QFile f(dir.filePath(name));
        f.open(QIODevice::WriteOnly);
        f.write(text);
        return dir.filePath(name).toStdString();
    };
    for (const auto& [name, text, phrase] : std::vector<std::tuple<const char*, QByteArray, const char*>>{
             {"garbage", "{not json", "is not JSON"},
             {"other", "{\"format\": \"ptq-config\"}", "not an anchors file"},
             {"version", "{\"format\": \"ptq-anchors\", \"version\": 9}", "version"},
             {"top1", "{\"format\": \"ptq-anchors\", \"version\": 1, \"pipeline\": \"light\", \"evaluation\": \"x\", "
                      "\"measured\": [{\"choice\": {\"a\": \"w8a8\"}, \"top1\": 140, \"fp32_top1\": 93}]}",
              "outside 0..100"}}) {
        try {
            readAnchors(write(name, text));
            QFAIL(name);
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains(phrase), e.what());
            QVERIFY2(QString(e.what()).contains("ptq anchors"), e.what());
        }
    }
    QVERIFY_THROWS_EXCEPTION(Error, readAnchors(dir.filePath("missing.json").toStdString()));
}

QTEST_GUILESS_MAIN(TestPrediction)
#include "test_prediction.moc"
