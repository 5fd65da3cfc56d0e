#pragma once
/// @file
/// The figures of the Budget dock. First the current allocation's (status, predicted Δtop-1
/// and Δloss, size, compression, BOPs, solver time: rows that stay and change in place, so a
/// slider drag is dataChanged, not a reset), then the model's: size at FP32 / INT8 / INT4,
/// MACs, quantizable layers and the FP32 accuracy from the model's card. UI thread only.

#include "core/model/model_summary.h"
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
        /// A stable key for the row ("size_fp32", "size_int8", "size_int4", "macs", "layers",
        /// "params", "fp32_top1", "status", "delta_top1", "delta_loss", "size", "compression",
        /// "bops", "solver_ms") so code and tests need not match on display text.
        KeyRole,
    };

    explicit BudgetModel(QObject* parent = nullptr);

    void setSummary(const ptq::ModelSummary& summary);
    /// Updates the allocation rows from @p allocation of @p problem (its FP32 size and INT8
    /// BOPs are the references of the compression figures).
    void setAllocation(const ptq::BudgetAllocation& allocation, const ptq::BudgetProblem& problem);
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

private:
    void setFigure(const QString& key, const QString& value, const QString& detail, const QVariant& number);
    std::vector<Figure> figures_;
    bool statusOk_ = true;
};

}  // namespace ptq::ui
