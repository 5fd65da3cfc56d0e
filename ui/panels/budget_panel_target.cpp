// The budget dock's hardware target selector (core/target): which target's options the integer
// program may choose, and its cost as a compression metric.
#include "ui/panels/budget_panel.h"

#include "core/target/target_registry.h"

#include <QtCore/QSignalBlocker>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QLabel>
#include <QtWidgets/QVBoxLayout>

namespace ptq::ui {

void BudgetPanel::setUpTargetSelector(QVBoxLayout* layout) {
    target_ = new QComboBox(this);
    target_->setObjectName(QStringLiteral("targetCombo"));
    target_->addItem(tr("No target"), QString());
    target_->setItemData(0, tr("Every option of the sensitivity table; size and BOPs costs"), Qt::ToolTipRole);
    const ptq::TargetRegistry& registry = ptq::TargetRegistry::shared();
    for (const ptq::TargetInfo& t : registry.targets()) {
        target_->addItem(t.name, t.name);
        target_->setItemData(target_->count() - 1, t.description, Qt::ToolTipRole);
    }
    target_->setToolTip(tr("Hardware target: the allocation uses only the options it runs, and its cost model "
                           "(%1 plugin(s) found, %2 skipped)")
                            .arg(registry.targets().size())
                            .arg(registry.broken().size()));
    targetNote_ = new QLabel(this);
    targetNote_->setObjectName(QStringLiteral("targetNote"));
    targetNote_->setWordWrap(true);
    targetNote_->setStyleSheet(QStringLiteral("color: #8d6e00;"));
    targetNote_->hide();
    auto* row = new QHBoxLayout;
    row->setContentsMargins(6, 4, 6, 0);
    row->addWidget(new QLabel(tr("Hardware target"), this));
    row->addWidget(target_, 1);
    layout->addLayout(row);
    layout->addWidget(targetNote_);
    connect(target_, &QComboBox::currentIndexChanged, this, [this] { Q_EMIT targetChanged(targetName()); });
}

QString BudgetPanel::targetName() const { return target_ ? target_->currentData().toString() : QString(); }

void BudgetPanel::setTargetMetric(const QString& unit, const QString& note) {
    targetNote_->setText(note);
    targetNote_->setVisible(!note.isEmpty());
    const int at = metric_->findData(int(ptq::CostMetric::Target));
    const bool wasTarget = metric_->currentData().toInt() == int(ptq::CostMetric::Target);
    {
        const QSignalBlocker block(metric_);  // the caller re-solves once, after the change
        if (at >= 0) metric_->removeItem(at);
        if (!unit.isEmpty()) {
            metric_->addItem(tr("Target %1").arg(unit), int(ptq::CostMetric::Target));
            metric_->setItemData(metric_->count() - 1,
                                 tr("The target's cost model, as a fraction of every layer at its widest option"),
                                 Qt::ToolTipRole);
            // A target chosen is a target's cost to budget: switch to it.
            metric_->setCurrentIndex(metric_->count() - 1);
        } else if (wasTarget) {
            metric_->setCurrentIndex(0);
        }
    }
    updateLabels();
}

}  // namespace ptq::ui
