// The main window's budget (TestMainWindow, test_gui.h): the table's options and the allocation,
// the budget sliders changing allocation and summary, coalesced solves, the panel as a view of
// the controller's budget, the BOPs frontier, targets, infeasible budgets, pins with undo and the
// Pareto plot's click. No timed assertions.

#include "test_gui.h"

#include "core/workflow/budget.h"
#include "ui/models/budget_model.h"
#include "ui/models/layer_table_model.h"
#include "ui/panels/budget_panel.h"
#include "ui/panels/plots_panel.h"
#include "ui/plots/pareto_plot.h"
#include "ui/session/session_controller.h"

#include <QtGui/QUndoStack>
#include <QtTest/QtTest>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QLabel>
#include <QtWidgets/QSlider>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

using namespace ptq::ui;
using namespace gui_test;

void TestMainWindow::tableShowsOptionsAndAllocation() {
    LayerTableModel* layers = window_->layerModel();
    const auto& table = *window_->controller()->session().sensitivity;
    QCOMPARE(layers->optionCount(), int(table.options.size()));
    QCOMPARE(layers->columnCount(), LayerTableModel::FirstOptionColumn + int(table.options.size()));
    const auto& choice = window_->controller()->session().allocation.choice;
    for (int row = 0; row < layers->rowCount(); ++row) {
        QCOMPARE(layers->chosenOption(row), choice[size_t(row)]);
        QCOMPARE(layers->index(row, LayerTableModel::ChosenColumn).data().toString(),
                 QString::fromStdString(table.options[size_t(choice[size_t(row)])].name()));
        QCOMPARE(layers->index(row, LayerTableModel::FirstOptionColumn).data(LayerTableModel::SortRole).toDouble(),
                 table.cells[size_t(row)][0].deltaLoss);
    }
}

void TestMainWindow::compressionSliderChangesAllocationAndSummary() {
    BudgetPanel* budget = window_->budgetPanel();
    BudgetModel* figures = window_->budgetModel();
    const int sizeRow = figures->rowOfKey(QStringLiteral("size"));
    QVERIFY(moveAndWait(budget->compressionSlider(), BudgetPanel::kSteps));
    const std::vector<int> loose = window_->controller()->session().allocation.choice;
    const double looseSize = figures->index(sizeRow, BudgetModel::ValueColumn).data(BudgetModel::ValueRole).toDouble();
    const double looseMarker = window_->plotsPanel()->paretoPlot()->currentPoint().x();
    const int top1Row = figures->rowOfKey(QStringLiteral("top1_from_loss"));
    const QVariant looseTop1 = figures->index(top1Row, BudgetModel::ValueColumn).data(BudgetModel::ValueRole);

    QSignalSpy changed(figures, &QAbstractItemModel::dataChanged);
    QVERIFY(moveAndWait(budget->compressionSlider(), BudgetPanel::kSteps / 10));
    const ptq::Session& s = window_->controller()->session();
    QVERIFY(s.allocation.choice != loose);
    QVERIFY(changed.count() > 0);
    const double tightSize = figures->index(sizeRow, BudgetModel::ValueColumn).data(BudgetModel::ValueRole).toDouble();
    QVERIFY2(tightSize < looseSize, qPrintable(QStringLiteral("%1 !< %2").arg(tightSize).arg(looseSize)));
    // The demo's table is labelled (cross-entropy): the top-1 change predicted through the loss is shown
    // first, is the session's figure (never above FP32's), and a tighter budget predicts no better.
    QCOMPARE(top1Row, 0);
    const QVariant tightTop1 = figures->index(top1Row, BudgetModel::ValueColumn).data(BudgetModel::ValueRole);
    QVERIFY(looseTop1.isValid() && tightTop1.isValid());
    QCOMPARE(tightTop1.toDouble(), std::min(0.0, s.allocation.deltaTop1FromLoss));
    QVERIFY2(tightTop1.toDouble() <= looseTop1.toDouble(),
             qPrintable(QStringLiteral("%1 > %2").arg(tightTop1.toDouble()).arg(looseTop1.toDouble())));
    // The solver kept to the budget, and the marker moved with it.
    const ptq::BudgetRequest request = budget->request();
    QVERIFY(s.allocation.sizeBytes <= request.costRatio * s.problem->referenceCost(ptq::CostMetric::Size, request.reference) + 1e-6);
    QVERIFY(window_->plotsPanel()->paretoPlot()->currentPoint().x() < looseMarker);
    // The table follows.
    for (int row = 0; row < window_->layerModel()->rowCount(); ++row)
        QCOMPARE(window_->layerModel()->chosenOption(row), s.allocation.choice[size_t(row)]);
}

void TestMainWindow::accuracySliderKeepsWithinBudget() {
    BudgetPanel* budget = window_->budgetPanel();
    for (int value : {BudgetPanel::kSteps / 5, BudgetPanel::kSteps / 2}) {
        QVERIFY(moveAndWait(budget->accuracySlider(), value));
        QCOMPARE(budget->request().kind, ptq::BudgetKind::Degradation);
        QVERIFY(window_->controller()->session().allocation.deltaLoss <= budget->request().maxDegradation + 1e-9);
    }
}

void TestMainWindow::solvesCoalesceToTheNewestBudget() {
    SessionController* controller = window_->controller();
    QTRY_VERIFY_WITH_TIMEOUT(controller->isIdle(), kLoadTimeoutMs);
    const int before = controller->budgetState()->solvesStarted();
    ptq::BudgetRequest request = window_->budgetPanel()->request();
    request.kind = ptq::BudgetKind::Cost;
    // Twenty requests while the first solve runs: one solve now, then only the newest.
    for (int i = 0; i < 20; ++i) {
        request.costRatio = 0.07 + 0.005 * i;
        controller->budgetState()->requestBudget(request);
    }
    QTRY_VERIFY_WITH_TIMEOUT(controller->isIdle(), kLoadTimeoutMs);
    QCOMPARE(controller->budgetState()->solvesStarted() - before, 2);
    const ptq::BudgetAllocation expected = controller->session().problem->solve([&] {
        ptq::BudgetRequest r = request;
        r.pins = controller->session().pins;
        return r;
    }());
    QCOMPARE(controller->session().allocation.choice, expected.choice);
}

// The budget lives in the BudgetController: one set from code shows on the panel's sliders and
// combos, and a slider the user moves becomes the controller's budget (what projects save).
void TestMainWindow::budgetPanelIsAViewOfTheBudget() {
    BudgetController* budget = window_->controller()->budgetState();
    BudgetPanel* panel = window_->budgetPanel();
    ptq::BudgetRequest wanted = panel->request();
    wanted.kind = ptq::BudgetKind::Degradation;
    wanted.maxDegradation = panel->request().maxDegradation * 0.5 + 1e-3;
    wanted.reference = ptq::CostReference::Int8;
    QSignalSpy shown(window_.get(), &MainWindow::allocationShown);
    budget->requestBudget(wanted);
    QCOMPARE(ptq::CostReference(panel->referenceCombo()->currentData().toInt()), ptq::CostReference::Int8);
    QCOMPARE(panel->request().kind, ptq::BudgetKind::Degradation);
    QVERIFY2(std::abs(panel->request().maxDegradation - wanted.maxDegradation) <= 0.01 * wanted.maxDegradation + 1e-6,
             qPrintable(QString::number(panel->request().maxDegradation)));
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle(), kLoadTimeoutMs);
    // Back to FP32 through the panel: the controller's budget follows.
    panel->referenceCombo()->setCurrentIndex(panel->referenceCombo()->findData(int(ptq::CostReference::Fp32)));
    const int position = panel->compressionSlider()->value() == BudgetPanel::kSteps / 2 ? BudgetPanel::kSteps / 3
                                                                                       : BudgetPanel::kSteps / 2;
    QVERIFY(moveAndWait(panel->compressionSlider(), position));
    QCOMPARE(budget->budget().kind, ptq::BudgetKind::Cost);
    QCOMPARE(budget->budget().reference, ptq::CostReference::Fp32);
    QVERIFY(std::abs(budget->budget().costRatio - panel->request().costRatio) < 1e-12);
}

void TestMainWindow::bopsBudgetRedrawsTheFrontier() {
    BudgetPanel* budget = window_->budgetPanel();
    ParetoPlot* pareto = window_->plotsPanel()->paretoPlot();
    budget->metricCombo()->setCurrentIndex(budget->metricCombo()->findData(int(ptq::CostMetric::Bops)));
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle() &&
                                 pareto->plot()->xAxis->label().startsWith(QStringLiteral("BOPs")),
                             kLoadTimeoutMs);
    QVERIFY(pareto->pointCount() > 1 && pareto->pointCount() <= BudgetController::kMaxFrontierPoints);
    QCOMPARE(budget->request().metric, ptq::CostMetric::Bops);
    const ptq::Session& s = window_->controller()->session();
    QVERIFY(s.allocation.bops <= budget->request().costRatio *
                                     s.problem->referenceCost(ptq::CostMetric::Bops, budget->request().reference) * (1 + 1e-9));
    budget->metricCombo()->setCurrentIndex(budget->metricCombo()->findData(int(ptq::CostMetric::Size)));
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle() &&
                                 pareto->plot()->xAxis->label().startsWith(QStringLiteral("size")),
                             kLoadTimeoutMs);
}

void TestMainWindow::targetSelectorRestrictsTheProgram() {
    BudgetPanel* budget = window_->budgetPanel();
    QComboBox* targets = budget->targetCombo();
    const int npu = targets->findData(QStringLiteral("shift-npu"));
    QVERIFY2(npu > 0, "the build tree's shift-npu plugin was not found");
    QSignalSpy shown(window_.get(), &MainWindow::allocationShown);
    targets->setCurrentIndex(npu);
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0 && window_->controller()->isIdle(), kLoadTimeoutMs);
    QCOMPARE(budget->request().metric, ptq::CostMetric::Target);
    // The demo's table is measured per-channel and shift-npu quantizes with shift: the dock says so.
    auto* note = budget->findChild<QLabel*>(QStringLiteral("targetNote"));
    QVERIFY(note && note->isVisible());
    const ptq::Session& s = window_->controller()->session();
    const std::vector<ptq::BitOption>& options = s.problem->options();
    QVERIFY(!s.allocation.choice.empty());
    for (int o : s.allocation.choice) {
        const ptq::BitOption& option = options[size_t(o)];
        QVERIFY2((option.weightBits == 4 || option.weightBits == 8) && option.weightPoints == 1 &&
                     (option.activationBits == 4 || option.activationBits == 8),
                 option.name().c_str());
    }
    QVERIFY(s.allocation.targetCost > 0);
    const QModelIndex cost = window_->budgetModel()->index(
        window_->budgetModel()->rowOfKey(QStringLiteral("target_cost")), BudgetModel::ValueColumn);
    QVERIFY2(cost.data().toString().endsWith(QStringLiteral("latency_us")), qPrintable(cost.data().toString()));
    // No target again: the first metric, every option, no note.
    targets->setCurrentIndex(0);
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle() && budget->request().metric != ptq::CostMetric::Target,
                             kLoadTimeoutMs);
    QVERIFY(!note->isVisible());
    QVERIFY(!s.problem->targetCosts());
}

void TestMainWindow::infeasibleBudgetKeepsAllocation() {
    BudgetPanel* budget = window_->budgetPanel();
    QVERIFY(moveAndWait(budget->compressionSlider(), BudgetPanel::kSteps));
    const ptq::BudgetAllocation before = window_->controller()->session().allocation;
    // Pin every layer to its most expensive option: only the loosest budget fits.
    const auto& problem = *window_->controller()->session().problem;
    std::map<int, int> pins;
    for (int l = 0; l < problem.layerCount(); ++l) {
        int costly = 0;
        for (int o = 0; o < problem.optionCount(); ++o)
            if (problem.layerCost(ptq::CostMetric::Size, l, o) > problem.layerCost(ptq::CostMetric::Size, l, costly)) costly = o;
        pins[l] = costly;
    }
    window_->controller()->budgetState()->setPins(pins);
    QTRY_VERIFY_WITH_TIMEOUT(window_->controller()->isIdle(), kLoadTimeoutMs);
    const ptq::BudgetAllocation pinned = window_->controller()->session().allocation;
    QSignalSpy infeasible(window_->controller()->budgetState(), &BudgetController::solveInfeasible);
    QVERIFY(moveAndWait(budget->compressionSlider(), 0));
    QCOMPARE(infeasible.count(), 1);
    QVERIFY(budget->messageLabel()->isVisible());
    QVERIFY(!budget->messageLabel()->text().isEmpty());
    QCOMPARE(window_->controller()->session().allocation.choice, pinned.choice);
    const QModelIndex status = window_->budgetModel()->index(window_->budgetModel()->rowOfKey(QStringLiteral("status")),
                                                             BudgetModel::ValueColumn);
    QCOMPARE(status.data().toString(), QStringLiteral("infeasible"));
    window_->controller()->budgetState()->setPins({});
    QVERIFY(moveAndWait(budget->compressionSlider(), BudgetPanel::kSteps));
    QVERIFY(!budget->messageLabel()->isVisible());
    QCOMPARE(window_->controller()->session().allocation.choice, before.choice);
}

void TestMainWindow::pinThenUndoRestores() {
    LayerTableModel* layers = window_->layerModel();
    QUndoStack* undo = window_->undoStack();
    QVERIFY(moveAndWait(window_->budgetPanel()->compressionSlider(), BudgetPanel::kSteps / 3));
    const std::vector<int> before = window_->controller()->session().allocation.choice;
    const int row = 1;
    const int option = (before[row] + 1) % layers->optionCount();

    QSignalSpy shown(window_.get(), &MainWindow::allocationShown);
    QVERIFY(layers->setData(layers->index(row, LayerTableModel::ChosenColumn), option, Qt::EditRole));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0 && window_->controller()->isIdle(), kLoadTimeoutMs);
    QCOMPARE(undo->count(), 1);
    QVERIFY(layers->isPinned(row));
    QCOMPARE(layers->chosenOption(row), option);
    QCOMPARE(window_->controller()->session().pins, (std::map<int, int>{{row, option}}));

    shown.clear();
    undo->undo();
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0 && window_->controller()->isIdle(), kLoadTimeoutMs);
    QVERIFY(window_->controller()->session().pins.empty());
    QVERIFY(!layers->isPinned(row));
    QCOMPARE(window_->controller()->session().allocation.choice, before);

    undo->redo();
    QTRY_VERIFY_WITH_TIMEOUT(layers->isPinned(row) && window_->controller()->isIdle(), kLoadTimeoutMs);
    QCOMPARE(layers->chosenOption(row), option);
    // Unchecking Pinned unpins, undoably too.
    QVERIFY(layers->setData(layers->index(row, LayerTableModel::PinnedColumn), Qt::Unchecked, Qt::CheckStateRole));
    QTRY_VERIFY_WITH_TIMEOUT(!layers->isPinned(row) && window_->controller()->isIdle(), kLoadTimeoutMs);
    QCOMPARE(undo->count(), 2);
    window_->unpinAll();
}

void TestMainWindow::paretoClickAdoptsPoint() {
    ParetoPlot* pareto = window_->plotsPanel()->paretoPlot();
    QVERIFY(pareto->pointCount() > 3);
    pareto->plot()->replot();
    // A point that no other point crowds on screen, so the click can only mean it.
    int index = -1;
    for (int i = 0; i < pareto->pointCount() && index < 0; ++i) {
        bool alone = true;
        for (int j = 0; j < pareto->pointCount() && alone; ++j)
            if (j != i && (pareto->pixelOf(j) - pareto->pixelOf(i)).manhattanLength() < 24) alone = false;
        if (alone) index = i;
    }
    QVERIFY(index >= 0);
    const ptq::BudgetPoint point = pareto->point(index);
    QSignalSpy shown(window_.get(), &MainWindow::allocationShown);
    QTest::mouseClick(pareto->plot(), Qt::LeftButton, {}, pareto->pixelOf(index));
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, kLoadTimeoutMs);
    QCOMPARE(window_->controller()->session().allocation.choice, point.choice);
    QCOMPARE(pareto->currentPoint().y(), point.deltaLoss);
}

bool TestMainWindow::moveAndWait(QSlider* slider, int value) {
    QSignalSpy shown(window_.get(), &MainWindow::allocationShown);
    QSignalSpy infeasible(window_->controller()->budgetState(), &BudgetController::solveInfeasible);
    slider->setValue(value);
    return QTest::qWaitFor([&] { return (shown.count() > 0 || infeasible.count() > 0) && window_->controller()->isIdle(); },
                           kLoadTimeoutMs);
}

