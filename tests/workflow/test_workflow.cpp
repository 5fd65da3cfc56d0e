// core/workflow: the settings both front ends parse into, and allocateTable as ptq allocate
// uses it, against the BudgetProblem the GUI's sliders solve.
#include "bench/harness/synthetic.h"
#include "core/util/error.h"
#include "core/workflow/allocate.h"
#include "core/workflow/settings.h"

#include <QtTest/QtTest>

#include <cmath>

using namespace ptq;

class TestWorkflow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void pipelinesAreStepLists();
    void pipelineNamesRoundTrip_data();
    void pipelineNamesRoundTrip();
    void olderPipelineNamesStillRead();
    void addStepKeepsTheOrder();
    void badNamesSayWhatIsValid_data();
    void badNamesSayWhatIsValid();
    void exportFormats();
    void allocateTableIsTheGuiSolve();
    void allocateTableCombinesBudgets();
    void allocateTableRefusesWithASentence();
};

void TestWorkflow::pipelinesAreStepLists() {
    QVERIFY(pipelineSteps(PipelineKind::None).empty());
    QCOMPARE(pipelineSteps(PipelineKind::Light),
             (std::vector<TuningStep>{TuningStep::BatchNorm, TuningStep::BiasCorrection}));
    QCOMPARE(pipelineSteps(PipelineKind::Advanced),
             (std::vector<TuningStep>{TuningStep::AdaQuantParallel, TuningStep::BatchNorm, TuningStep::BiasTuning}));
    QCOMPARE(pipelineSteps(PipelineKind::Advanced, true).front(), TuningStep::AdaQuantSequential);
    for (PipelineKind k : {PipelineKind::None, PipelineKind::Light, PipelineKind::Advanced})
        QCOMPARE(pipelineKindFromString(pipelineKindName(k)), k);
}

void TestWorkflow::pipelineNamesRoundTrip_data() {
    QTest::addColumn<QString>("name");
    for (const char* n : {"none", "light", "advanced", "advanced-seq", "adaquant-parallel", "bn-tuning+bias-tuning",
                          "adaquant-sequential+bn-tuning", "bn-tuning+bn-tuning"})
        QTest::newRow(n) << QString(n);
}

void TestWorkflow::pipelineNamesRoundTrip() {
    QFETCH(QString, name);
    QCOMPARE(QString::fromStdString(pipelineName(pipelineFromName(name.toStdString()))), name);
    // A range-equalized run records the same steps after a prefix, which reads back too.
    const std::string equalized = pipelineName(pipelineFromName(name.toStdString()), true);
    QCOMPARE(QString::fromStdString(equalized), "range equalization + " + name);
    QCOMPARE(QString::fromStdString(pipelineName(pipelineFromName(equalized), true)), QString::fromStdString(equalized));
    const std::string dense = pipelineName(pipelineFromName(name.toStdString()), true, true);
    QCOMPARE(QString::fromStdString(dense), "range equalization with dense readers + " + name);
    QCOMPARE(QString::fromStdString(pipelineName(pipelineFromName(dense), true, true)), QString::fromStdString(dense));
}

void TestWorkflow::olderPipelineNamesStillRead() {
    // Configuration files written before the step lists spelled AdaQuant's flavours short.
    QCOMPARE(pipelineFromName("none+adaquant-seq+bn-tuning"),
             (std::vector<TuningStep>{TuningStep::AdaQuantSequential, TuningStep::BatchNorm}));
    QCOMPARE(pipelineFromName("none+adaquant"), std::vector<TuningStep>{TuningStep::AdaQuantParallel});
}

void TestWorkflow::addStepKeepsTheOrder() {
    std::vector<TuningStep> steps = pipelineSteps(PipelineKind::Light);
    addTuningStep(steps, TuningStep::BiasTuning);
    addTuningStep(steps, TuningStep::AdaQuantParallel);
    addTuningStep(steps, TuningStep::BatchNorm);  // once
    QCOMPARE(steps, (std::vector<TuningStep>{TuningStep::AdaQuantParallel, TuningStep::BatchNorm,
                                             TuningStep::BiasCorrection, TuningStep::BiasTuning}));
    addTuningStep(steps, TuningStep::AdaQuantSequential);  // one flavour replaces the other
    QCOMPARE(steps.front(), TuningStep::AdaQuantSequential);
    QCOMPARE(steps.size(), size_t(4));
}

void TestWorkflow::badNamesSayWhatIsValid_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("phrase");
    QTest::newRow("pipeline") << 0 << "the pipelines are none";
    QTest::newRow("step") << 1 << "the steps are adaquant-parallel";
    QTest::newRow("format") << 2 << "the formats are json";
    QTest::newRow("extension") << 3 << "does not say which format";
    QTest::newRow("batch") << 4 << "batch size must be at least 1";
}

void TestWorkflow::badNamesSayWhatIsValid() {
    QFETCH(int, which);
    QFETCH(QString, phrase);
    try {
        QuantizerSettings q;
        q.batchSize = 0;
        switch (which) {
        case 0: pipelineKindFromString("heavy"); break;
        case 1: pipelineFromName("bn-tuning+magic"); break;
        case 2: exportFormatFromString("tflite"); break;
        case 3: exportFormatForPath("/tmp/model.v2/out"); break;
        default: q.validate(); break;
        }
        QFAIL("accepted");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::InvalidInput);
        QVERIFY2(QString(e.what()).contains(phrase), e.what());
    }
}

void TestWorkflow::exportFormats() {
    QCOMPARE(exportFormatForPath("a/b.JSON"), ExportFormat::Json);
    QCOMPARE(exportFormatForPath("m.encodings"), ExportFormat::Aimet);
    QCOMPARE(exportFormatForPath("m.csv"), ExportFormat::Csv);
    QCOMPARE(exportFormatForPath("r.html"), ExportFormat::Html);
    QCOMPARE(exportFormatForPath("q.pt"), ExportFormat::TorchScript);
    QCOMPARE(exportFormatForPath("q.onnx"), ExportFormat::Onnx);
    for (ExportFormat f : {ExportFormat::Json, ExportFormat::Aimet, ExportFormat::Csv, ExportFormat::Html,
                           ExportFormat::TorchScript, ExportFormat::Onnx, ExportFormat::OnnxFp32})
        QCOMPARE(exportFormatFromString(exportFormatName(f)), f);
}

namespace {
SensitivityTable sampleTable() {
    SensitivityTable t;
    t.result = syntheticSensitivity(24, 7);
    t.result.fp32Loss = 0.30;
    t.result.baseLoss = 0.31;
    t.result.fp32Top1 = 93.0;
    t.result.baseTop1 = 92.9;
    t.provenance.data = "fmnist:train:100";
    return t;
}
}  // namespace

void TestWorkflow::allocateTableIsTheGuiSolve() {
    const SensitivityTable t = sampleTable();
    for (double ratio : {0.10, 0.14, 0.2}) {
        for (CostReference ref : {CostReference::Fp32, CostReference::Int8}) {
            AllocationSettings s;
            s.maxSizeRatio = ratio * (ref == CostReference::Int8 ? 4.0 : 1.0);
            s.reference = ref;
            const AllocationOutcome out = allocateTable(t, "t.json", s);
            const BudgetProblem gui(t.result);
            BudgetRequest r;
            r.costRatio = *s.maxSizeRatio;
            r.reference = ref;
            const BudgetAllocation expected = gui.solve(r);
            QVERIFY(expected.feasible);
            QCOMPARE(out.allocation.choice, expected.choice);
            QVERIFY(std::abs(out.file.degradation - expected.deltaLoss) < 1e-12);
            QVERIFY(std::abs(out.file.sizeBits - expected.sizeBytes * 8) < 1e-6);
            QVERIFY(std::abs(out.file.predictedTop1FromLoss() - (t.result.fp32Top1 + expected.deltaTop1FromLoss)) < 1e-9);
            QVERIFY(out.file.sizeRatio() <= ratio + 1e-12);
            QCOMPARE(out.file.reference, std::string(costReferenceName(ref)));
        }
    }
}

void TestWorkflow::allocateTableCombinesBudgets() {
    const SensitivityTable t = sampleTable();
    AllocationSettings s;
    s.maxSizeRatio = 0.2;
    s.maxBopsRatio = 0.05;
    s.locks = {{t.result.layers[3].name, "w8a8"}};
    s.excluded = {"w2a8"};
    const AllocationOutcome out = allocateTable(t, "t.json", s);
    QVERIFY(out.file.sizeRatio() <= 0.2 + 1e-12);
    QVERIFY(out.file.bopsRatio() <= 0.05 + 1e-12);
    QCOMPARE(out.file.layers[3].option.name(), std::string("w8a8"));
    QCOMPARE(out.file.locks.size(), size_t(1));
    QCOMPARE(out.file.excluded, std::vector<std::string>{"w2a8"});
    for (size_t l = 0; l < out.file.layers.size(); ++l)
        if (l != 3) QVERIFY(out.file.layers[l].option.name() != "w2a8");
    // Degradation budget alone: the least size that keeps it.
    AllocationSettings d;
    d.maxDegradation = out.file.degradation;
    const AllocationOutcome least = allocateTable(t, "t.json", d);
    QVERIFY(least.file.degradation <= out.file.degradation + 1e-9);
    QVERIFY(least.file.sizeBits <= out.file.sizeBits + 1e-6);
}

void TestWorkflow::allocateTableRefusesWithASentence() {
    const SensitivityTable t = sampleTable();
    AllocationSettings tight;
    tight.maxSizeRatio = 0.001;
    AllocationSettings none;
    AllocationSettings badLock;
    badLock.maxSizeRatio = 0.2;
    badLock.locks = {{"no.such.layer", "w8a8"}};
    AllocationSettings badOption;
    badOption.maxSizeRatio = 0.2;
    badOption.excluded = {"w9a9"};
    const std::pair<AllocationSettings, const char*> cases[] = {
        {tight, "too tight"}, {none, "needs a budget"}, {badLock, "no layer 'no.such.layer'"}, {badOption, "no option 'w9a9'"}};
    for (const auto& [settings, phrase] : cases) {
        try {
            allocateTable(t, "t.json", settings);
            QFAIL(phrase);
        } catch (const Error& e) {
            QCOMPARE(e.kind(), Error::Kind::InvalidInput);
            QVERIFY2(QString(e.what()).contains(phrase), e.what());
        }
    }
}

QTEST_GUILESS_MAIN(TestWorkflow)
#include "test_workflow.moc"
