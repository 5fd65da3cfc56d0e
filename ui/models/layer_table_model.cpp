#include "ui/models/layer_table_model.h"

#include "ui/format.h"

#include <QtCore/QStringList>

namespace ptq::ui {

namespace {
QString convGeometry(const ptq::LayerSummary& l) {
    if (l.stride.empty()) return {};
    QStringList parts;
    parts << QStringLiteral("stride %1").arg(formatShape(l.stride));
    if (!l.padding.empty()) parts << QStringLiteral("padding %1").arg(formatShape(l.padding));
    if (!l.dilation.empty()) parts << QStringLiteral("dilation %1").arg(formatShape(l.dilation));
    if (l.groups != 1) parts << QStringLiteral("groups %1").arg(l.groups);
    return parts.join(QStringLiteral(", "));
}
}  // namespace

LayerTableModel::LayerTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void LayerTableModel::setLayers(const std::vector<ptq::LayerSummary>& layers) {
    beginResetModel();
    rows_.clear();
    rows_.reserve(layers.size());
    for (const auto& l : layers) {
        Row r;
        r.name = QString::fromStdString(l.name);
        r.kind = QString::fromStdString(l.kind);
        r.weightShape = formatShape(l.weightShape);
        r.inputShape = formatShape(l.inputShape);
        r.outputShape = formatShape(l.outputShape);
        r.geometry = convGeometry(l);
        r.params = l.params;
        r.macs = l.macs;
        rows_.push_back(std::move(r));
    }
    endResetModel();
}

void LayerTableModel::clear() {
    beginResetModel();
    rows_.clear();
    endResetModel();
}

int LayerTableModel::rowOfLayer(const QString& name) const {
    for (size_t i = 0; i < rows_.size(); ++i)
        if (rows_[i].name == name) return int(i);
    return -1;
}

QString LayerTableModel::layerName(int row) const {
    return row >= 0 && row < int(rows_.size()) ? rows_[size_t(row)].name : QString();
}

int LayerTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(rows_.size());
}

int LayerTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LayerTableModel::displayData(const Row& row, int column, int rowIndex) const {
    switch (column) {
    case IndexColumn: return rowIndex + 1;
    case NameColumn: return row.name;
    case KindColumn: return row.kind;
    case WeightShapeColumn: return row.weightShape;
    case OutputShapeColumn: return row.outputShape;
    case ParamsColumn: return formatCount(row.params);
    case MacsColumn: return formatCount(row.macs);
    default: return {};
    }
}

QVariant LayerTableModel::sortData(const Row& row, int column, int rowIndex) const {
    switch (column) {
    case IndexColumn: return qlonglong(rowIndex);
    case ParamsColumn: return row.params;
    case MacsColumn: return row.macs;
    default: return displayData(row, column, rowIndex);
    }
}

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& row = rows_[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole: return displayData(row, column, index.row());
    case SortRole: return sortData(row, column, index.row());
    case KindRole: return row.kind;
    case OutputShapeRole: return row.outputShape;
    case Qt::TextAlignmentRole:
        if (column == IndexColumn || column == ParamsColumn || column == MacsColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ToolTipRole: {
        QString tip = QStringLiteral("<b>%1</b> (%2)<br>input %3 → output %4<br>weight %5")
                          .arg(row.name.toHtmlEscaped(), row.kind, row.inputShape, row.outputShape,
                               row.weightShape);
        if (!row.geometry.isEmpty()) tip += QStringLiteral("<br>") + row.geometry;
        tip += QStringLiteral("<br>%1 params · %2 MACs").arg(formatCount(row.params), formatCount(row.macs));
        return tip;
    }
    default: return {};
    }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return {};
    if (role == Qt::DisplayRole) {
        static const char* titles[] = {"#", "Name", "Kind", "Weight shape", "Output shape",
                                       "Params", "MACs"};
        return QString::fromLatin1(titles[section]);
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case IndexColumn: return tr("Execution order");
        case WeightShapeColumn: return tr("Output channels × input channels per group × kernel");
        case OutputShapeColumn: return tr("One sample, no batch dimension");
        case ParamsColumn: return tr("Weight and bias elements");
        case MacsColumn: return tr("Multiply-accumulates for one sample");
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole &&
        (section == IndexColumn || section == ParamsColumn || section == MacsColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

}  // namespace ptq::ui
