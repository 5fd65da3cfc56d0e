#pragma once
// The main window on the bundled demo model, offscreen (test_gui.cpp: the window, selection,
// files and dialogs; test_gui_budget.cpp: the budget sliders, pins, targets and the Pareto plot).

#include "core/model/model_summary.h"
#include "ui/mainwindow/main_window.h"

#include <QtCore/QObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QAbstractItemModelTester>

#include <memory>

class QMessageBox;
class QSlider;

namespace gui_test {
inline constexpr int kLoadTimeoutMs = 300000;  // import ~1 s + a 64-sample table ~5 s; CI is slower
inline const QString kCalibration = QStringLiteral("fmnist:train:64");
}  // namespace gui_test

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void docksExistAndAreVisible();
    void showsTheDemoModel();
    void filterNarrowsTheTable();
    void graphSelectionSelectsTableRow();
    void tableSelectionSelectsGraphBox();
    void plotClickSelectsLayer();
    void logDockReceivesLinesFromOtherThreads();
    void oneGraphItemPerIrNode();
    void tableShowsOptionsAndAllocation();
    void compressionSliderChangesAllocationAndSummary();
    void accuracySliderKeepsWithinBudget();
    void solvesCoalesceToTheNewestBudget();
    void budgetPanelIsAViewOfTheBudget();
    void bopsBudgetRedrawsTheFrontier();
    void targetSelectorRestrictsTheProgram();
    void infeasibleBudgetKeepsAllocation();
    void pinThenUndoRestores();
    void paretoClickAdoptsPoint();
    void graphSearchFindsNode();
    void secondOpenReadsTheCache();
    void droppedModelOpensAndIsRecent();
    void calibrationDialogRefusesBadSources();
    void failedOpenShowsErrorAndKeepsModel_data();
    void failedOpenShowsErrorAndKeepsModel();
    void viewMenuTogglesDocks();
    void aboutNamesTheVersion();
    void logPanelKeepsTheLastLines();
    void dockLayoutPersists();
    void demoMenuOpensTheViT();
    void cleanupTestCase();

private:
    QMessageBox* waitForErrorDialog();

    /// Moves @p slider to @p value and waits for the allocation it causes to be shown.
    bool moveAndWait(QSlider* slider, int value);

    QTemporaryDir cacheDir_;
    std::unique_ptr<ptq::ui::MainWindow> window_;
    std::unique_ptr<QAbstractItemModelTester> layerTester_, jobTester_, budgetTester_;
    ptq::ModelSummary expected_;
    QString demoPath_;
};
