#pragma once
/// @file
/// Pinning layers by hand as an undoable step: the whole pin set before and after, applied
/// through the session controller (which re-solves). UI thread only.

#include <QtGui/QUndoCommand>

#include <map>

namespace ptq::ui {

class SessionController;

class PinCommand : public QUndoCommand {
public:
    PinCommand(SessionController* controller, std::map<int, int> before, std::map<int, int> after, const QString& text);

    void undo() override;
    void redo() override;

private:
    SessionController* controller_;
    std::map<int, int> before_, after_;
};

}  // namespace ptq::ui
