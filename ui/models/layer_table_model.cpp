#include "ui/models/layer_table_model.h"

#include "ui/format.h"

#include <QtGui/QColor>
#include <QtGui/QFont>

#include <algorithm>

namespace ptq::ui {

QString bitsLabel(const ptq::BitOption& o) {
    const QString w = o.weightPoints > 1 ? QStringLiteral("%1×%2").arg(o.weightBits).arg(o.weightPoints)
                                         : QString::number(o.weightBits);
    return QStringLiteral("W%1/A%2").arg(w).arg(o.activationBits);
}

namespace {
QString formatDelta(double v) { return QString::number(v, 'g', 3); }

/// An attention matmul has no weights: of an option only its activation bits apply ("a8").
QString activationPart(const QString& optionName) { return optionName.mid(optionName.lastIndexOf(QLatin1Char('a'))); }
}  // namespace

LayerTableModel::LayerTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void LayerTableModel::setLayers(const std::vector<ptq::LayerSummary>& layers) {
    beginResetModel();
    rows_.clear();
    optionNames_.clear();
    bitsLabels_.clear();
    scale_ = 0;
    for (const auto& l : layers) {
        Row r;
        r.name = QString::fromStdString(l.name);
        r.kind = QString::fromStdString(l.kind);
        r.weightShape = formatShape(l.weightShape);
        r.inputShape = formatShape(l.inputShape);
        r.outputShape = formatShape(l.outputShape);
        r.params = l.params;
        r.macs = l.macs;
        rows_.push_back(std::move(r));
    }
    endResetModel();
}

void LayerTableModel::setTable(const ptq::SensitivityResult& table) {
    beginResetModel();
    optionNames_.clear();
    bitsLabels_.clear();
    for (const auto& o : table.options) {
        optionNames_ << QString::fromStdString(o.name());
        bitsLabels_ << bitsLabel(o);
    }
    metric_ = QString::fromStdString(table.metric);
    scale_ = 0;
    for (Row& r : rows_) {
        r.cells.clear();
        r.chosen = -1;
        r.pinned = false;
    }
    for (size_t l = 0; l < table.layers.size(); ++l) {
        const int row = rowOfLayer(QString::fromStdString(table.layers[l].name));
        if (row < 0) continue;
        rows_[size_t(row)].cells = table.cells[l];
        for (const auto& c : table.cells[l]) scale_ = std::max(scale_, c.deltaLoss);
    }
    endResetModel();
}

void LayerTableModel::updateCells(const ptq::SensitivityResult& table) {
    if (table.options.size() != size_t(optionNames_.size())) return setTable(table);
    scale_ = 0;
    for (size_t l = 0; l < table.layers.size(); ++l) {
        const int row = rowOfLayer(QString::fromStdString(table.layers[l].name));
        if (row < 0) continue;
        rows_[size_t(row)].cells = table.cells[l];
        for (const auto& c : table.cells[l]) scale_ = std::max(scale_, c.deltaLoss);
    }
    if (!rows_.empty())
        Q_EMIT dataChanged(index(0, 0), index(int(rows_.size()) - 1, columnCount() - 1));
}

void LayerTableModel::setAllocation(const std::vector<int>& choice, const std::map<int, int>& pins) {
    for (size_t i = 0; i < rows_.size(); ++i) {
        Row& r = rows_[i];
        const int chosen = i < choice.size() && !r.cells.empty() ? choice[i] : -1;
        const bool pinned = pins.count(int(i)) != 0;
        if (chosen == r.chosen && pinned == r.pinned) continue;
        r.chosen = chosen;
        r.pinned = pinned;
        Q_EMIT dataChanged(index(int(i), 0), index(int(i), columnCount() - 1));
    }
}

void LayerTableModel::clear() {
    beginResetModel();
    rows_.clear();
    optionNames_.clear();
    bitsLabels_.clear();
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

double LayerTableModel::degradation(int row, int option) const {
    if (row < 0 || row >= int(rows_.size())) return 0;
    const auto& cells = rows_[size_t(row)].cells;
    return option >= 0 && option < int(cells.size()) ? cells[size_t(option)].deltaLoss : 0;
}

int LayerTableModel::chosenOption(int row) const {
    return row >= 0 && row < int(rows_.size()) ? rows_[size_t(row)].chosen : -1;
}

bool LayerTableModel::isPinned(int row) const {
    return row >= 0 && row < int(rows_.size()) && rows_[size_t(row)].pinned;
}

int LayerTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }

int LayerTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : FirstOptionColumn + int(optionNames_.size());
}

QVariant LayerTableModel::displayData(const Row& row, int column) const {
    switch (column) {
    case NameColumn: return row.name;
    case OpColumn: return row.kind;
    case ParamsColumn: return formatCount(row.params);
    case MacsColumn: return formatCount(row.macs);
    case ChosenColumn:
        if (row.chosen < 0) return QString();
        return row.kind == QLatin1String("matmul") ? activationPart(optionNames_.value(row.chosen))
                                                   : optionNames_.value(row.chosen);
    case MseColumn: return row.chosen >= 0 ? QString::number(row.cells[size_t(row.chosen)].localMse, 'g', 3) : QString();
    case PinnedColumn: return {};
    default: {
        const size_t option = size_t(column - FirstOptionColumn);
        if (option >= row.cells.size()) return QString();
        // An estimate until measured (the table began as one): marked so.
        return row.cells[option].estimated ? QStringLiteral("≈") + formatDelta(row.cells[option].deltaLoss)
                                           : formatDelta(row.cells[option].deltaLoss);
    }
    }
}

QVariant LayerTableModel::sortData(const Row& row, int column) const {
    switch (column) {
    case ParamsColumn: return row.params;
    case MacsColumn: return row.macs;
    case ChosenColumn: return row.chosen;
    case MseColumn: return row.chosen >= 0 ? row.cells[size_t(row.chosen)].localMse : -1.0;
    case PinnedColumn: return row.pinned;
    default:
        if (column >= FirstOptionColumn) {
            const size_t option = size_t(column - FirstOptionColumn);
            return option < row.cells.size() ? row.cells[option].deltaLoss : -1.0;
        }
        return displayData(row, column);
    }
}

QString LayerTableModel::toolTip(const Row& row) const {
    QString tip = QStringLiteral("<b>%1</b> (%2)<br>input %3 → output %4<br>weight %5<br>%6 params · %7 MACs")
                      .arg(row.name.toHtmlEscaped(), row.kind, row.inputShape, row.outputShape, row.weightShape,
                           formatCount(row.params), formatCount(row.macs));
    if (!row.cells.empty()) {
        tip += QStringLiteral("<table><tr><th align=left>option</th><th align=right>Δ%1</th><th align=right>Δtop-1</th>"
                              "<th align=right>local MSE</th></tr>")
                   .arg(metric_ == QLatin1String("kl") ? QStringLiteral("KL") : QStringLiteral("loss"));
        for (size_t o = 0; o < row.cells.size(); ++o) {
            const bool chosen = int(o) == row.chosen;
            tip += QStringLiteral("<tr><td>%1%2%3</td><td align=right>%4</td><td align=right>%5</td><td align=right>%6</td></tr>")
                       .arg(chosen ? QStringLiteral("<b>") : QString(), bitsLabels_.value(int(o)),
                            chosen ? QStringLiteral("</b> ◀") : QString(),
                            (row.cells[o].estimated ? QStringLiteral("≈") : QString()) + formatDelta(row.cells[o].deltaLoss),
                            QString::number(row.cells[o].deltaTop1, 'f', 2), formatDelta(row.cells[o].localMse));
        }
        tip += QStringLiteral("</table>");
        if (std::any_of(row.cells.begin(), row.cells.end(), [](const ptq::SensitivityCell& c) { return c.estimated; }))
            tip += tr("<i>≈: estimated from gradients, not yet measured</i><br>");
    }
    if (row.pinned) tip += QStringLiteral("<i>pinned by hand</i>");
    return tip;
}

QVariant LayerTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const Row& row = rows_[size_t(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole: return displayData(row, column);
    case Qt::EditRole:
        if (column == ChosenColumn) return row.chosen;
        return displayData(row, column);
    case SortRole: return sortData(row, column);
    case KindRole: return row.kind;
    case OutputShapeRole: return row.outputShape;
    case DegradationRole: return row.chosen >= 0 ? QVariant(row.cells[size_t(row.chosen)].deltaLoss) : QVariant();
    case DegradationScaleRole: return scale_;
    case BitsLabelRole:
        if (row.chosen < 0) return QVariant();
        if (row.kind == QLatin1String("matmul")) return activationPart(optionNames_.value(row.chosen)).toUpper();
        return bitsLabels_.value(row.chosen);
    case OptionIndexRole: return row.chosen;
    case PinnedRole: return row.pinned;
    case OptionNamesRole: return optionNames_;
    case Qt::CheckStateRole:
        if (column == PinnedColumn) return row.pinned ? Qt::Checked : Qt::Unchecked;
        return {};
    case Qt::FontRole:
        if (column >= FirstOptionColumn) {
            const size_t option = size_t(column - FirstOptionColumn);
            QFont font;
            font.setBold(int(option) == row.chosen);
            font.setItalic(option < row.cells.size() && row.cells[option].estimated);
            if (font.bold() || font.italic()) return font;
        }
        return {};
    case Qt::ForegroundRole:
        if (column >= FirstOptionColumn) {
            const size_t option = size_t(column - FirstOptionColumn);
            if (option < row.cells.size() && row.cells[option].estimated) return QColor(Qt::gray);
        }
        return {};
    case Qt::TextAlignmentRole:
        if (column == NameColumn || column == OpColumn || column == ChosenColumn)
            return int(Qt::AlignLeft | Qt::AlignVCenter);
        return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ToolTipRole: return toolTip(row);
    default: return {};
    }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
    if (role == Qt::DisplayRole) {
        static const char* titles[] = {"Name", "Op", "Params", "MACs", "Chosen", "Local MSE", "Pinned"};
        if (section < FirstOptionColumn) return QString::fromLatin1(titles[section]);
        return QStringLiteral("Δ %1").arg(bitsLabels_.value(section - FirstOptionColumn));
    }
    if (role == Qt::ToolTipRole) {
        if (section >= FirstOptionColumn)
            return tr("Predicted degradation (Δ%1) with only this layer at %2")
                .arg(metric_ == QLatin1String("kl") ? QStringLiteral("KL") : QStringLiteral("loss"),
                     bitsLabels_.value(section - FirstOptionColumn));
        switch (section) {
        case ParamsColumn: return tr("Weight and bias elements");
        case MacsColumn: return tr("Multiply-accumulates for one sample");
        case ChosenColumn: return tr("The option of the current allocation; choose one to pin it");
        case MseColumn: return tr("The layer's output MSE at the chosen option, on the FP input");
        case PinnedColumn: return tr("Chosen by hand: the solver keeps it");
        default: return {};
        }
    }
    return {};
}

Qt::ItemFlags LayerTableModel::flags(const QModelIndex& index) const {
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (!index.isValid()) return f;
    const Row& row = rows_[size_t(index.row())];
    if (index.column() == ChosenColumn && !row.cells.empty() && row.chosen >= 0) f |= Qt::ItemIsEditable;
    if (index.column() == PinnedColumn && row.chosen >= 0) f |= Qt::ItemIsUserCheckable;
    return f;
}

bool LayerTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return false;
    const Row& row = rows_[size_t(index.row())];
    if (index.column() == ChosenColumn && role == Qt::EditRole) {
        int option = value.typeId() == QMetaType::QString ? optionNames_.indexOf(value.toString()) : value.toInt();
        if (option < 0 || option >= optionNames_.size()) return false;
        if (option == row.chosen && row.pinned) return false;
        Q_EMIT optionChosen(index.row(), option);
        return true;
    }
    if (index.column() == PinnedColumn && role == Qt::CheckStateRole) {
        const bool pin = value.toInt() == Qt::Checked;
        if (pin == row.pinned) return false;
        if (pin) Q_EMIT optionChosen(index.row(), row.chosen);
        else Q_EMIT unpinRequested(index.row());
        return true;
    }
    return false;
}

}  // namespace ptq::ui
