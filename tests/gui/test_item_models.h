#pragma once
// Item models and graph layout of the GUI, without a window or a model file.

#include <QtCore/QObject>

class TestItemModels : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void layerTableModel();
    void layerTableSortsNumerically();
    void jobListModel();
    void budgetModel_data();
    void budgetModel();
    void dotLayout();
    void budgetProblemMatchesBruteForce_data();
    void budgetProblemMatchesBruteForce();
    void formatting();
};
