#pragma once
/// @file
/// The Budget dock: an accuracy budget slider (allowed predicted degradation) and a compression
/// budget slider (size or BOPs as a fraction of FP32 or INT8), an inline message for an
/// infeasible budget, and the figures of the current allocation (a BudgetModel). A view of the
/// BudgetController, which holds the budget: moving a slider emits budgetChanged at once (the
/// controller coalesces the solves), and showBudget() draws the controller's budget.

#include "core/workflow/budget.h"

#include <QtWidgets/QWidget>

class QComboBox;
class QLabel;
class QSlider;
class QTableView;
class QVBoxLayout;

namespace ptq::ui {

class BudgetModel;

class BudgetPanel : public QWidget {
    Q_OBJECT
public:
    explicit BudgetPanel(QWidget* parent = nullptr);

    void setModel(BudgetModel* model);
    /// The ranges the sliders span: degradation 0..@p maxDegradation, cost ratio
    /// @p minRatio..@p maxRatio (from the Pareto frontier). Keeps the slider positions.
    void setLimits(double maxDegradation, double minRatio, double maxRatio);
    /// Shows @p sentence inline (an infeasible budget), or hides the message when empty.
    void setMessage(const QString& sentence);

    /// The budget the sliders say now (no pins).
    ptq::BudgetRequest request() const;
    /// Sets the compression slider to @p ratio (clamped to the range) and emits budgetChanged.
    void setCostRatio(double ratio);
    /// Sets the accuracy slider to @p degradation and emits budgetChanged.
    void setMaxDegradation(double degradation);
    /// Shows @p budget (the budget controller's) without emitting: metric, reference, which
    /// slider is the active budget, and both sliders within the current limits.
    void showBudget(const ptq::BudgetRequest& budget);

    QSlider* accuracySlider() const { return accuracy_; }
    QSlider* compressionSlider() const { return compression_; }
    QComboBox* metricCombo() const { return metric_; }
    QComboBox* referenceCombo() const { return reference_; }
    /// The hardware target selector: "No target", then every target the plugin registry found.
    QComboBox* targetCombo() const { return target_; }
    /// The selected target's name; empty for none.
    QString targetName() const;
    /// Offers the target's cost (@p unit, e.g. latency_us) as a third compression metric, or
    /// removes it when @p unit is empty; @p note (a granularity warning) shows under the selector.
    void setTargetMetric(const QString& unit, const QString& note);
    QTableView* tableView() const { return table_; }
    QLabel* messageLabel() const { return message_; }

    static constexpr int kSteps = 1000;

Q_SIGNALS:
    void budgetChanged(const ptq::BudgetRequest& request);
    /// Size/BOPs or FP32/INT8 changed: limits need recomputing, then a solve.
    void costMetricChanged();
    /// The hardware target selector changed (empty name: none).
    void targetChanged(const QString& name);

private:
    double degradationAt(int position) const;
    double ratioAt(int position) const;
    void updateLabels();
    void emitBudget();
    void resizeColumns();
    void setUpTargetSelector(QVBoxLayout* layout);  // budget_panel_target.cpp

    QSlider* accuracy_;
    QSlider* compression_;
    QLabel* accuracyValue_;
    QLabel* compressionValue_;
    QLabel* accuracyTitle_;
    QLabel* compressionTitle_;
    QComboBox* metric_;
    QComboBox* reference_;
    QComboBox* target_ = nullptr;
    QLabel* targetNote_ = nullptr;
    QLabel* message_;
    QTableView* table_;
    ptq::BudgetKind kind_ = ptq::BudgetKind::Cost;
    double maxDegradation_ = 1.0, minRatio_ = 0.0, maxRatio_ = 1.0;
};

}  // namespace ptq::ui
