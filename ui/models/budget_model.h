#pragma once
/// @file
/// The figures of the Budget dock: model size at FP32 / INT8 / INT4, MACs, quantizable layers
/// and the FP32 accuracy from the model's card. One row per figure. UI thread only.

#include "core/model/model_summary.h"

#include <QtCore/QAbstractTableModel>
#include <QtCore/QString>

#include <vector>

namespace ptq::ui {

class BudgetModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { FigureColumn, ValueColumn, DetailColumn, ColumnCount };
    enum Role {
        /// The figure as a number (bytes, MACs, count, percent); invalid when unknown.
        ValueRole = Qt::UserRole + 1,
        /// A stable key for the row ("size_fp32", "size_int8", "size_int4", "macs", "layers",
        /// "params", "fp32_top1") so code and tests need not match on display text.
        KeyRole,
    };

    explicit BudgetModel(QObject* parent = nullptr);

    void setSummary(const ptq::ModelSummary& summary);
    void clear();

    /// The row whose KeyRole is @p key, or -1.
    int rowOfKey(const QString& key) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Figure {
        QString key, label, value, detail, toolTip;
        QVariant number;
    };
    std::vector<Figure> figures_;
};

}  // namespace ptq::ui
