#include "core/session/session.h"


namespace ptq {

void Session::setSensitivity(std::shared_ptr<const SensitivityResult> table) {
    // Measured points name options by index: they stay only while the options and layers do.
    const bool sameShape = sensitivity && table && sensitivity->options == table->options &&
                           sensitivity->layers.size() == table->layers.size();
    if (!sameShape) measured.clear();
    sensitivity = std::move(table);
    problem = sensitivity ? std::make_shared<const BudgetProblem>(*sensitivity) : nullptr;
    allocation = {};
    pins.clear();
}

void Session::updateSensitivity(std::shared_ptr<const SensitivityResult> table) {
    const bool sameShape = sensitivity && table && sensitivity->options == table->options &&
                           sensitivity->layers.size() == table->layers.size();
    if (!sameShape) return setSensitivity(std::move(table));
    sensitivity = std::move(table);
    problem = std::make_shared<const BudgetProblem>(*sensitivity);
}

}  // namespace ptq
