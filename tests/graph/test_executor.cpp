// The executor's hooks, suffix runs, memory release and reversible BatchNorm folding, checked
// against TorchScript's own forward on real TorchScript files.
#include "core/data/data_source.h"
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/runtime/executor.h"
#include "core/runtime/verify.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <QtTest/QtTest>

using namespace ptq;

namespace {
const std::string allops = PTQ_FIXTURE_DIR "/basic/allops_scripted.pt";
const std::string demo = PTQ_SOURCE_DIR "/resources/models/resnet20_fmnist.pt";

at::Tensor sample(int64_t n) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
    return at::normal(0.0, 1.0, {n, 1, 28, 28}, gen);
}

double relDiff(const at::Tensor& a, const at::Tensor& b) {
    return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-12);
}
}  // namespace

class TestExecutor : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void foldUnfoldRoundTrip();
    void stopAfterAndSuffixRunEqualFullRun();
    void segmentsChainToTheFullRun();
    void afterNodeHookObservesAndReplaces();
    void paramOverrideSwapsWeights();
    void intermediatesAreFreed();
    void wrongInputShapeIsAClearError();
    void kernelFailureNamesTheOp();
    void runDatasetCoversEverySampleAndCancels();
};

void TestExecutor::foldUnfoldRoundTrip() {
    Graph g = importTorchScript(allops, {1, 28, 28});
    const at::Tensor x = sample(4);
    const at::Tensor before = Executor(g).run(x).at(0);
    QCOMPARE(foldBatchNorms(g), 1);  // conv -> bn
    const at::Tensor folded = Executor(g).run(x).at(0);
    QVERIFY2(relDiff(folded, before) < 1e-5, qPrintable(QString::number(relDiff(folded, before))));
    QVERIFY(g.isFoldedBatchNorm(g.node(g.findNode("bn"))));
    QCOMPARE(foldBatchNorms(g), 1);  // refold is idempotent
    QCOMPARE(unfoldBatchNorms(g), 1);
    QVERIFY(!g.isFoldedBatchNorm(g.node(g.findNode("bn"))));
    QCOMPARE(g.paramOf(g.node(g.findNode("conv")), 1), std::string("conv.weight"));
    QVERIFY(at::equal(Executor(g).run(x).at(0), before));  // exactly as imported
    const VerifyResult r = verifyAgainstTorchScript(g, allops, 2, 9);
    QVERIFY(r.maxRelativeDiff <= 1e-4);
}

void TestExecutor::stopAfterAndSuffixRunEqualFullRun() {
    const Graph g = importTorchScript(allops, {1, 28, 28});
    const Executor ex(g);
    const at::Tensor x = sample(3);
    const at::Tensor full = ex.run(x).at(0);
    const int pw = g.findNode("pw");
    QVERIFY(pw > 0);
    // Capture every value the suffix from `pw` needs, with a hook on the prefix run.
    const std::vector<int> cut = ex.cutValues(pw);
    QVERIFY(!cut.empty());
    LiveValues captured;
    RunHooks capture;
    capture.stopAfter = pw - 1;
    capture.afterNode = [&](const Node& n, const std::vector<at::Tensor>&, std::vector<at::Tensor>& outs) {
        for (size_t i = 0; i < n.outputs.size(); ++i)
            if (std::find(cut.begin(), cut.end(), n.outputs[i]) != cut.end()) captured.emplace_back(n.outputs[i], outs[i]);
    };
    ex.run(x, capture);
    QCOMPARE(captured.size(), cut.size());
    QVERIFY(at::equal(ex.runFrom(pw, captured, 3).at(0), full));
    // A missing cut value is a clear error, not a crash.
    QVERIFY_THROWS_EXCEPTION(Error, ex.runFrom(pw, {}, 3));
    // stopAfter returns that node's output.
    RunHooks stop;
    stop.stopAfter = pw;
    const at::Tensor pwOut = ex.run(x, stop).at(0);
    QCOMPARE(pwOut.sizes().vec(), std::vector<int64_t>({3, 16, 14, 14}));
}

void TestExecutor::segmentsChainToTheFullRun() {
    // The demo ResNet-20 has skip connections, so some cuts carry two values.
    const Graph g = importTorchScript(demo, {1, 28, 28});
    const Executor ex(g);
    const at::Tensor x = sample(2);
    const at::Tensor full = ex.run(x).at(0);
    const int nodes = int(g.nodes().size());
    for (int step : {1, 3, 7}) {
        LiveValues live{{g.inputValue(), x}};
        int at = 0;
        size_t widest = 0;
        for (int next = step; at < nodes - 1; next = std::min(next + step, nodes - 1)) {
            live = ex.runSegment(at, live, next, 2);
            QCOMPARE(live.size(), ex.cutValues(next).size());
            widest = std::max(widest, live.size());
            at = next;
        }
        QVERIFY2(at::equal(ex.runFrom(at, live, 2).at(0), full), qPrintable(QString("step %1").arg(step)));
        QVERIFY(widest >= 2);
    }
    // An empty segment hands back the cut; a segment missing its inputs is an error.
    QCOMPARE(ex.runSegment(0, {{g.inputValue(), x}}, 0, 2).size(), size_t(1));
    QVERIFY_THROWS_EXCEPTION(Error, ex.runSegment(5, {}, 9, 2));
    QVERIFY_THROWS_EXCEPTION(Error, ex.runSegment(9, {}, 5, 2));
}

void TestExecutor::afterNodeHookObservesAndReplaces() {
    const Graph g = importTorchScript(allops, {1, 28, 28});
    const Executor ex(g);
    const at::Tensor x = sample(2);
    int seen = 0;
    RunHooks observe;
    observe.afterNode = [&](const Node&, const std::vector<at::Tensor>&, std::vector<at::Tensor>&) { ++seen; };
    const at::Tensor plain = ex.run(x, observe).at(0);
    QCOMPARE(seen, int(g.nodes().size()));
    RunHooks zeroFc1;
    zeroFc1.afterNode = [&](const Node& n, const std::vector<at::Tensor>&, std::vector<at::Tensor>& outs) {
        if (n.name == "fc1") outs[0] = at::zeros_like(outs[0]);
    };
    const at::Tensor replaced = ex.run(x, zeroFc1).at(0);
    // fc1 zeroed -> relu -> fc2 (no bias) gives zero logits -> softmax is uniform
    QVERIFY(at::allclose(replaced, at::full_like(replaced, 0.1)));
    QVERIFY(!at::allclose(plain, replaced));
}

void TestExecutor::paramOverrideSwapsWeights() {
    const Graph g = importTorchScript(allops, {1, 28, 28});
    const Executor ex(g);
    const at::Tensor x = sample(2);
    const at::Tensor zero = at::zeros_like(g.param("fc2.weight"));
    RunHooks h;
    h.paramOverride = [&](const std::string& key) -> const at::Tensor* { return key == "fc2.weight" ? &zero : nullptr; };
    const at::Tensor out = ex.run(x, h).at(0);
    QVERIFY(at::allclose(out, at::full_like(out, 0.1)));
    QVERIFY(!at::equal(g.param("fc2.weight"), zero));  // the graph is untouched
}

void TestExecutor::intermediatesAreFreed() {
    if (!QFileInfo::exists(QString::fromStdString(demo))) QSKIP("demo model missing");
    const Graph g = importTorchScript(demo, {1, 28, 28});
    int64_t peak = 0;
    RunHooks h;
    h.peakLiveBytes = &peak;
    int64_t all = 0;
    h.afterNode = [&](const Node&, const std::vector<at::Tensor>&, std::vector<at::Tensor>& outs) {
        for (const auto& t : outs) all += int64_t(t.nbytes());
    };
    Executor(g).run(at::zeros({64, 1, 28, 28}), h);
    qInfo("peak live %.1f MB of %.1f MB produced", peak / 1e6, all / 1e6);
    QVERIFY(peak > 0);
    QVERIFY2(peak * 4 < all, "intermediates are not released after their last use");
}

void TestExecutor::wrongInputShapeIsAClearError() {
    const Graph g = importTorchScript(allops, {1, 28, 28});
    try {
        Executor(g).run(at::zeros({2, 3, 28, 28}));
        QFAIL("a 3-channel batch ran on a 1-channel model");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains("2x3x28x28"), e.what());
    }
}

// A kernel that rejects its inputs is named with its scope and the shapes it got; LibTorch's own
// words stay in the log.
void TestExecutor::kernelFailureNamesTheOp() {
    Graph g;
    const int x = g.addInput("x", {1, 4});
    const int w = g.addParamValue("head.fc.weight", at::ones({3, 5}));
    const int n = g.addNode(OpKind::Linear, "head.fc", "head", {x, w}, {}, {{1, 3}});
    g.setOutputs({g.node(n).outputs[0]});
    try {
        Executor(g).run(at::zeros({2, 4}));
        QFAIL("a linear layer ran on inputs that do not fit");
    } catch (const Error& e) {
        const QString message = e.what();
        for (const char* part : {"'head.fc'", "linear", "in head", "2x4, 3x5"})
            QVERIFY2(message.contains(part), qPrintable(message));
        for (const char* leak : {"mat1", "Exception raised", ".cpp"}) QVERIFY2(!message.contains(leak), qPrintable(message));
    }
}

void TestExecutor::runDatasetCoversEverySampleAndCancels() {
    const Graph g = importTorchScript(allops, {1, 28, 28});
    const auto data = openDataSource("fmnist:test:250", Normalization::fashionMnist(), {1, 28, 28});
    int64_t samples = 0;
    Executor(g).runDataset(*data, 100, [&](const Batch& b, const std::vector<at::Tensor>& outs) {
        QCOMPARE(outs.at(0).size(0), b.count);
        samples += b.count;
    });
    QCOMPARE(samples, int64_t(250));
    Progress progress;
    int batches = 0;
    QVERIFY_THROWS_EXCEPTION(Cancelled, Executor(g).runDataset(*data, 50, [&](const Batch&, const std::vector<at::Tensor>&) {
        if (++batches == 2) progress.cancelRequested = true;
    }, &progress));
    QCOMPARE(batches, 2);
}

QTEST_GUILESS_MAIN(TestExecutor)
#include "test_executor.moc"
