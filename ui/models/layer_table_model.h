#pragma once
/// @file
/// The quantizable layers of the open model as a table: what the layer table, the graph and
/// the per-layer plots read. UI thread only.

#include "core/model/model_summary.h"

#include <QtCore/QAbstractTableModel>
#include <QtCore/QString>

#include <vector>

namespace ptq::ui {

class LayerTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { IndexColumn, NameColumn, KindColumn, WeightShapeColumn, OutputShapeColumn,
                  ParamsColumn, MacsColumn, ColumnCount };
    enum Role {
        /// Numbers as qlonglong (so a proxy sorts 9 before 10), text as QString.
        SortRole = Qt::UserRole + 1,
        /// The layer's kind as core names it ("conv2d", "depthwise-conv2d", "linear").
        KindRole,
        /// The output shape as text, for the graph's boxes.
        OutputShapeRole,
    };

    explicit LayerTableModel(QObject* parent = nullptr);

    /// Replaces every row (a model reset), in execution order.
    void setLayers(const std::vector<ptq::LayerSummary>& layers);
    void clear();

    /// The row of the layer called @p name, or -1.
    int rowOfLayer(const QString& name) const;
    QString layerName(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row {
        QString name, kind, weightShape, inputShape, outputShape, geometry;
        qlonglong params = 0, macs = 0;
    };
    QVariant displayData(const Row& row, int column, int rowIndex) const;
    QVariant sortData(const Row& row, int column, int rowIndex) const;

    std::vector<Row> rows_;
};

}  // namespace ptq::ui
