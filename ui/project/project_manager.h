#pragma once
/// @file
/// Projects in the GUI: File > Open Project…, Save Project, Save Project As…, recent projects,
/// File > Export…; autosave every minute (and on quit) while there are unsaved changes, to
/// "<project>.ptqproj.autosave" or, for an untitled session, to the application data folder;
/// at start, the offer to recover an autosave newer than its project; a project whose model
/// changed since it was saved warns and offers to measure the table again. Reading the file and
/// importing the model run on the SessionController's job pool; nothing of the current session
/// changes unless the whole project is valid. UI thread only.

#include "core/io/project_file.h"

#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QTimer>

#include <functional>

class QAction;
class QMenu;

namespace ptq::ui {

class MainWindow;
class SessionController;

class ProjectManager : public QObject {
    Q_OBJECT
public:
    /// What to do with a project whose model changed since it was saved.
    enum class ModelChange { Recompute, KeepTable, Cancel };
    /// Asked with the autosave's path: true recovers it. Tests inject one; the default asks with
    /// a QMessageBox.
    using RecoveryChooser = std::function<bool(const QString& autosavePath)>;
    /// Asked with the sentence saying what changed.
    using ModelChangeChooser = std::function<ModelChange(const QString& sentence)>;

    /// @p persistRecent: keep recent projects in QSettings and autosave on a timer and on close
    /// (off for screenshots and tests, which call autosave() themselves).
    ProjectManager(MainWindow* window, SessionController* controller, bool persistRecent);

    /// Adds the project actions and Export… to @p file, before its first separator.
    void addMenuActions(QMenu* file);

    QString projectPath() const { return projectPath_; }
    bool isDirty() const { return dirty_; }
    /// Where autosave writes now: next to the project, or in the data folder when untitled.
    QString autosavePath() const;
    static QString untitledAutosavePath();
    QStringList recentProjects() const { return recentProjects_; }

    void setRecoveryChooser(RecoveryChooser chooser) { recoveryChooser_ = std::move(chooser); }
    void setModelChangeChooser(ModelChangeChooser chooser) { modelChangeChooser_ = std::move(chooser); }
    /// 0 stops autosaving on a timer (autosave() still works).
    void setAutosaveInterval(int milliseconds);

public Q_SLOTS:
    /// Reads @p path and imports its model off the UI thread, then installs it. projectOpened
    /// or projectOpenFailed tells how it went.
    void openProject(const QString& path);
    void openProjectDialog();
    /// Saves to the current project file, or asks for one. Returns false when it did not save.
    bool save();
    bool saveAsDialog();
    /// Saves the session as @p path (atomically); errors go to a dialog. Returns success.
    bool saveProject(const QString& path);
    /// Writes the autosave file when there are unsaved changes. Returns whether it wrote.
    bool autosave();
    /// At start: the autosave of @p projectPath (by default: the untitled autosave, else the
    /// newest recent project's) when it is newer than its project is offered through the
    /// recovery chooser; recovering opens it as that project, with unsaved changes. Returns
    /// whether it recovers one (its loading has started).
    bool offerRecovery(const QString& projectPath = {});
    /// Before the window closes: autosave when there are unsaved changes.
    void aboutToClose();
    void exportDialog();

Q_SIGNALS:
    void projectOpened(const QString& path);
    void projectOpenFailed(const QString& message);
    void projectSaved(const QString& path);
    void autosaved(const QString& path);

private:
    /// @p file is read; the session takes the project path @p projectPath (differs for a
    /// recovered autosave) and is left dirty when @p recovered.
    void load(const QString& file, const QString& projectPath, bool recovered);
    void install(const ptq::Project& project, std::shared_ptr<const ptq::LoadedModel> model, const QString& projectPath,
                 bool recovered, const std::string& modelChange);
    void markDirty();
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    ptq::Project currentProject() const;

    MainWindow* window_;
    SessionController* controller_;
    bool persistRecent_;
    QString projectPath_;
    bool dirty_ = false;
    bool installing_ = false;
    QTimer autosaveTimer_;
    QStringList recentProjects_;
    QMenu* recentMenu_ = nullptr;
    RecoveryChooser recoveryChooser_;
    ModelChangeChooser modelChangeChooser_;
};

}  // namespace ptq::ui
