#pragma once
/// @file
/// The quantizable layers of the open model as a table: shapes and costs from the model
/// summary, the degradation of every bit option from the sensitivity table, the option the
/// current allocation chose and whether the user pinned it. What the layer table, the graph's
/// colours and labels and the per-layer plots read. UI thread only.
///
/// Choosing an option (editing the Chosen column, or unchecking Pinned) does not change the
/// model: it emits optionChosen / unpinRequested, and the session's answer comes back through
/// setAllocation(). That keeps undo and the solver in one place.

#include "core/analysis/sensitivity.h"
#include "core/model/model_summary.h"

#include <QtCore/QAbstractTableModel>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <map>
#include <vector>

namespace ptq::ui {

class LayerTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    /// Fixed columns; one column per bit option follows FirstOptionColumn.
    enum Column { NameColumn, OpColumn, ParamsColumn, MacsColumn, ChosenColumn, MseColumn, PinnedColumn,
                  FirstOptionColumn };
    enum Role {
        /// Numbers as double/qlonglong (so a proxy sorts 9 before 10), text as QString.
        SortRole = Qt::UserRole + 1,
        KindRole,          ///< the op as core names it ("conv2d", "depthwise-conv2d", "linear")
        OutputShapeRole,   ///< output shape as text
        DegradationRole,   ///< ΔL of the chosen option (double); invalid before an allocation
        DegradationScaleRole, ///< the largest ΔL in the table (double), for colour scales
        BitsLabelRole,     ///< "W4/A8" for the chosen option; invalid before an allocation
        OptionIndexRole,   ///< chosen option index (int), -1 before an allocation
        PinnedRole,        ///< bool
        OptionNamesRole,   ///< QStringList of the table's options ("w4a8", ...)
    };

    explicit LayerTableModel(QObject* parent = nullptr);

    /// Replaces every row (a model reset), in execution order; forgets the table.
    void setLayers(const std::vector<ptq::LayerSummary>& layers);
    /// Adds the option columns and cells of @p table (rows matched by layer name; a reset).
    void setTable(const ptq::SensitivityResult& table);
    /// The chosen option per row and the pinned rows (dataChanged on the changed cells).
    /// The same table with cells measured since (an estimate becoming measured): new values,
    /// the rows, the choice and the pins kept.
    void updateCells(const ptq::SensitivityResult& table);
    void setAllocation(const std::vector<int>& choice, const std::map<int, int>& pins);
    void clear();

    int rowOfLayer(const QString& name) const;
    QString layerName(int row) const;
    int optionCount() const { return optionNames_.size(); }
    QStringList optionNames() const { return optionNames_; }
    /// ΔL of @p row at @p option; 0 without a table.
    double degradation(int row, int option) const;
    int chosenOption(int row) const;
    bool isPinned(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

Q_SIGNALS:
    /// The user chose @p option for @p row by hand (pin it).
    void optionChosen(int row, int option);
    /// The user unchecked Pinned on @p row.
    void unpinRequested(int row);

private:
    struct Row {
        QString name, kind, weightShape, inputShape, outputShape;
        qlonglong params = 0, macs = 0;
        std::vector<ptq::SensitivityCell> cells;  ///< per option; empty without a table
        int chosen = -1;
        bool pinned = false;
    };
    QVariant displayData(const Row& row, int column) const;
    QVariant sortData(const Row& row, int column) const;
    QString toolTip(const Row& row) const;

    std::vector<Row> rows_;
    QStringList optionNames_, bitsLabels_;
    double scale_ = 0;
    QString metric_;
};

/// "w4a8" -> "W4/A8", "w4x2a8" -> "W4×2/A8".
QString bitsLabel(const ptq::BitOption& option);

}  // namespace ptq::ui
