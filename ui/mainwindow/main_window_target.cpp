// The hardware target chosen in the budget dock, applied to the session's allocation problem.
#include "ui/mainwindow/main_window.h"

#include "core/quant/quantizer.h"
#include "core/target/target_registry.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "ui/panels/budget_panel.h"
#include "ui/session/session_controller.h"

#include <QtWidgets/QComboBox>

namespace ptq::ui {

void MainWindow::applyTarget() {
    const ptq::Session& s = controller_->session();
    const QString name = budgetPanel_->targetName();
    const ptq::TargetRegistry& registry = ptq::TargetRegistry::shared();
    if (!s.problem) {
        budgetPanel_->setTargetMetric(name.isEmpty() ? QString() : registry.info(name)->costUnit, {});
        return;
    }
    try {
        const std::string granularity = ptq::granularityName(controller_->sensitivityRequest().quantizer.granularity);
        const std::string warning = s.problem->setTarget(registry.info(name), registry.target(name), granularity);
        budgetPanel_->setTargetMetric(name.isEmpty() ? QString() : registry.info(name)->costUnit,
                                      QString::fromStdString(warning));
    } catch (const ptq::Error& e) {
        // The target runs none of the table's options: say so and go back to no target.
        s.problem->setTarget(nullptr, nullptr, {});
        budgetPanel_->setTargetMetric({}, QString::fromStdString(e.what()));
        const QSignalBlocker block(budgetPanel_->targetCombo());
        budgetPanel_->targetCombo()->setCurrentIndex(0);
    }
}

}  // namespace ptq::ui
