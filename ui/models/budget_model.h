#pragma once
/// @file
/// The figures of the Budget dock. First the current allocation's, led by the top-1 change from
/// FP32 predicted through the loss ("Predicted vs FP32"; never a gain over FP32, "not
/// available" without a fit), then the per-layer Δtop-1 sum as a labelled second figure (said
/// in words when it comes out above FP32), Δloss, size, compression, BOPs, target cost, solver
/// status and time: rows that stay and change in place, so a slider drag is dataChanged, not a
/// reset. Then the model's: size at FP32 / INT8 / INT4, MACs, quantizable layers and the FP32
/// accuracy from the model's card. UI thread only.

#include "core/model/model_summary.h"
#include "core/alloc/prediction.h"
#include "core/workflow/budget.h"

#include <QtCore/QAbstractTableModel>
#include <QtCore/QString>

#include <vector>

namespace ptq::ui {

class BudgetModel : public QAbstractTableModel {
    Q_OBJECT
public:
    /// One row: a label, the value as text and as a number, a detail and a tooltip.
    struct Figure {
        QString key, label, value, detail, toolTip;
        QVariant number;
    };
    enum Column { FigureColumn, ValueColumn, DetailColumn, ColumnCount };
    enum Role {
        /// The figure as a number (bytes, MACs, count, percent); invalid when unknown.
        ValueRole = Qt::UserRole + 1,
        /// A stable key for the row ("top1_from_loss", "delta_top1", "delta_loss", "size",
        /// "compression", "bops", "target_cost", "status", "solver_ms", "size_fp32", "size_int8",
        /// "size_int4", "params", "macs", "layers", "fp32_top1") so code and tests need not match
        /// on display text. ValueRole of "top1_from_loss" is the prediction shown (at most 0).
        KeyRole,
    };

    explicit BudgetModel(QObject* parent = nullptr);

    void setSummary(const ptq::ModelSummary& summary);
    /// Updates the allocation rows from @p allocation of @p problem (its FP32 size and INT8
    /// BOPs are the references of the compression figures), measured as @p table (its FP32 and
    /// base top-1 place the predictions).
    void setAllocation(const ptq::BudgetAllocation& allocation, const ptq::BudgetProblem& problem,
                       const ptq::SensitivityResult& table);
    /// The predictions fitted to measured allocations (core/alloc/prediction.h), one a
    /// pipeline, for the current allocation; empty: none measured yet.
    void setMeasuredFits(const std::vector<std::pair<std::string, ptq::CorrectedPrediction>>& fits, double fp32Top1);
    /// Shows @p status (a solver's sentence) in the status row; the other figures stay.
    void setStatus(const QString& status, bool ok);
    /// Back to "—" in the allocation rows (a new table).
    void clearAllocation();
    void clear();

    /// The row whose KeyRole is @p key, or -1.
    int rowOfKey(const QString& key) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// "+0.12 pt", "-1.50 pt".
    static QString points(double value);

private:
    void setFigure(const QString& key, const QString& value, const QString& detail, const QVariant& number);
    std::vector<Figure> figures_;
    bool statusOk_ = true;
};

}  // namespace ptq::ui
