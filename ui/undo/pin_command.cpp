#include "ui/undo/pin_command.h"

#include "ui/session/session_controller.h"

namespace ptq::ui {

PinCommand::PinCommand(SessionController* controller, std::map<int, int> before, std::map<int, int> after,
                       const QString& text)
    : QUndoCommand(text), controller_(controller), before_(std::move(before)), after_(std::move(after)) {}

void PinCommand::undo() { controller_->budgetState()->setPins(before_); }
void PinCommand::redo() { controller_->budgetState()->setPins(after_); }

}  // namespace ptq::ui
