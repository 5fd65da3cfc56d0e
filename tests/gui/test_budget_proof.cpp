// The budget controller's live path on a table shaped like a large model's (a demo table repeated
// with jitter): a slider solve that passes its time limit shows its best allocation at once,
// marked unproved, and the proof that follows on its own pool replaces it with the optimum; a
// newer budget cancels a running proof.
#include "bench/harness/synthetic.h"
#include "core/alloc/sensitivity_table.h"
#include "core/alloc/solver.h"
#include "core/session/session.h"
#include "core/workflow/budget.h"
#include "ui/session/budget_controller.h"

#include <QtTest/QSignalSpy>
#include <QtTest/QtTest>

using namespace ptq;
using ptq::ui::BudgetController;

class TestBudgetProof : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void unprovedThenProved();
};

void TestBudgetProof::unprovedThenProved() {
    const SensitivityTable table =
        jitteredTable(readSensitivityTable(PTQ_BENCH_TABLE_DIR "/resnet20_fmnist.json"), 3, 5);
    Session session;
    session.setSensitivity(std::make_shared<SensitivityResult>(table.result));
    BudgetController controller(&session);
    controller.setLiveSolveMs(0.001);  // every live solve stops before its proof
    std::vector<bool> provedSeen;
    connect(&controller, &BudgetController::allocationChanged, this,
            [&] { provedSeen.push_back(session.allocation.proved); });
    QSignalSpy proofs(&controller, &BudgetController::proofFinished);
    BudgetRequest request;
    request.kind = BudgetKind::Cost;
    request.metric = CostMetric::Size;
    request.costRatio = 0.16;
    controller.requestBudget(request);
    QTRY_VERIFY_WITH_TIMEOUT(!controller.isBusy(), 60000);
    QCOMPARE(proofs.count(), 1);
    QVERIFY(provedSeen.size() == 2);
    QVERIFY(!provedSeen[0]);  // the best so far, at once
    QVERIFY(provedSeen[1]);   // then the proof
    QCOMPARE(QString::fromStdString(session.allocation.status), QString("optimal"));
    // the proof's allocation is what a solve without a limit gives
    BudgetRequest full = request;
    full.timeLimitMs = 0;
    const BudgetAllocation exact = session.problem->prove(full);
    QVERIFY(exact.proved);
    QCOMPARE(session.allocation.choice, exact.choice);
    QVERIFY(session.allocation.deltaLoss <= exact.deltaLoss + 1e-12);
}

QTEST_MAIN(TestBudgetProof)
#include "test_budget_proof.moc"
