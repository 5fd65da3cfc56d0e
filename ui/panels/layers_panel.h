#pragma once
/// @file
/// The Layers dock: the layer table, sortable and filterable. Selection is exchanged as rows
/// of the layer model (source rows, independent of sorting and filtering).

#include <QtWidgets/QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace ptq::ui {

class LayerTableModel;

class LayersPanel : public QWidget {
    Q_OBJECT
public:
    explicit LayersPanel(QWidget* parent = nullptr);

    void setModel(LayerTableModel* model);

    QTableView* tableView() const { return table_; }
    QSortFilterProxyModel* proxyModel() const { return proxy_; }
    QLineEdit* filterEdit() const { return filter_; }

    /// Source rows of the selected table rows, ascending.
    QList<int> selectedRows() const;

public Q_SLOTS:
    /// Selects these source rows (those the filter shows) without emitting selectedRowsChanged.
    void selectRows(const QList<int>& rows);

Q_SIGNALS:
    void selectedRowsChanged(const QList<int>& rows);

private:
    void onSelectionChanged();
    void resizeColumns();

    QLineEdit* filter_;
    QTableView* table_;
    QSortFilterProxyModel* proxy_;
    LayerTableModel* model_ = nullptr;
    bool settingSelection_ = false;
};

}  // namespace ptq::ui
