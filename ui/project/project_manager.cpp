#include "ui/project/project_manager.h"

#include "core/data/data_source.h"
#include "core/util/error.h"
#include "core/util/log.h"
#include "ui/mainwindow/main_window.h"
#include "ui/panels/budget_panel.h"
#include "ui/project/export_dialog.h"
#include "ui/session/session_controller.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QSettings>
#include <QtCore/QStandardPaths>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>

namespace ptq::ui {

namespace {
const char* kRecentProjectsKey = "files/recentProjects";
constexpr int kMaxRecent = 8;
const QString kFilter = QObject::tr("PTQ Studio projects (*.ptqproj)");

QString q(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

ProjectManager::ProjectManager(MainWindow* window, SessionController* controller, bool persistRecent)
    : QObject(window), window_(window), controller_(controller), persistRecent_(persistRecent) {
    setObjectName(QStringLiteral("projectManager"));
    if (persistRecent_) recentProjects_ = QSettings().value(kRecentProjectsKey).toStringList();
    connect(&autosaveTimer_, &QTimer::timeout, this, &ProjectManager::autosave);
    // Screenshots and tests (no persistence) leave no autosave behind unless they ask for one.
    setAutosaveInterval(persistRecent_ ? 60 * 1000 : 0);
    // Anything the user changes in the session is unsaved work.
    connect(controller_, &SessionController::modelLoaded, this, &ProjectManager::markDirty);
    for (auto signal : {&BudgetController::allocationChanged, &BudgetController::pinsChanged})
        connect(controller_->budgetState(), signal, this, &ProjectManager::markDirty);
    connect(controller_, &SessionController::sensitivityReady, this, &ProjectManager::markDirty);

    recoveryChooser_ = [this](const QString& autosave) {
        return QMessageBox::question(window_, tr("Recover unsaved work?"),
                                     tr("PTQ Studio did not close normally. Recover the work autosaved in %1?")
                                         .arg(QDir::toNativeSeparators(autosave)),
                                     QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes) == QMessageBox::Yes;
    };
    modelChangeChooser_ = [this](const QString& sentence) {
        QMessageBox box(QMessageBox::Warning, tr("The model has changed"), sentence, QMessageBox::NoButton, window_);
        QPushButton* recompute = box.addButton(tr("Measure the table again"), QMessageBox::AcceptRole);
        QPushButton* keep = box.addButton(tr("Keep the cached table"), QMessageBox::DestructiveRole);
        box.addButton(QMessageBox::Cancel);
        box.setDefaultButton(recompute);
        box.exec();
        if (box.clickedButton() == recompute) return ModelChange::Recompute;
        if (box.clickedButton() == keep) return ModelChange::KeepTable;
        return ModelChange::Cancel;
    };
}

void ProjectManager::setAutosaveInterval(int milliseconds) {
    autosaveTimer_.stop();
    if (milliseconds > 0) autosaveTimer_.start(milliseconds);
}

void ProjectManager::addMenuActions(QMenu* file) {
    QAction* before = nullptr;
    for (QAction* a : file->actions())
        if (a->isSeparator()) {
            before = a;
            break;
        }
    const auto add = [&](const QString& text, auto slot, const QKeySequence& key, const QString& name) {
        auto* action = new QAction(text, file);
        action->setObjectName(name);
        action->setShortcut(key);
        connect(action, &QAction::triggered, this, slot);
        file->insertAction(before, action);
        return action;
    };
    file->insertSeparator(before);
    add(tr("Open &project…"), &ProjectManager::openProjectDialog, QKeySequence(tr("Ctrl+Shift+O")),
        QStringLiteral("openProjectAction"));
    recentMenu_ = new QMenu(tr("Recent projec&ts"), file);
    file->insertMenu(before, recentMenu_);
    add(tr("&Save project"), &ProjectManager::save, QKeySequence::Save, QStringLiteral("saveProjectAction"));
    add(tr("Save project &as…"), &ProjectManager::saveAsDialog, QKeySequence::SaveAs,
        QStringLiteral("saveProjectAsAction"));
    file->insertSeparator(before);
    add(tr("&Export…"), &ProjectManager::exportDialog, QKeySequence(tr("Ctrl+E")), QStringLiteral("exportAction"));
    rebuildRecentMenu();
}

QString ProjectManager::untitledAutosavePath() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/untitled.ptqproj.autosave");
}

QString ProjectManager::autosavePath() const {
    return projectPath_.isEmpty() ? untitledAutosavePath() : q(autosavePathFor(projectPath_.toStdString()));
}

void ProjectManager::markDirty() {
    if (!installing_) dirty_ = true;
}

ptq::Project ProjectManager::currentProject() const {
    return projectFromSession(controller_->session(), controller_->sensitivityRequest(), controller_->budgetState()->budget());
}

bool ProjectManager::saveProject(const QString& path) {
    try {
        writeProject(path.toStdString(), currentProject());
    } catch (const ptq::Error& e) {
        window_->reportError(tr("Cannot save the project"), q(e.what()));
        return false;
    }
    // The autosave of the old name is superseded by this save.
    QFile::remove(autosavePath());
    projectPath_ = QFileInfo(path).absoluteFilePath();
    QFile::remove(autosavePath());
    dirty_ = false;
    addRecent(projectPath_);
    ptq::logger()->info("Saved the project {}", projectPath_.toStdString());
    Q_EMIT projectSaved(projectPath_);
    return true;
}

bool ProjectManager::save() {
    if (projectPath_.isEmpty()) return saveAsDialog();
    return saveProject(projectPath_);
}

bool ProjectManager::saveAsDialog() {
    if (!controller_->session().model) {
        window_->reportError(tr("Nothing to save"), tr("Open a model first: a project records a model and its work."));
        return false;
    }
    QString path = QFileDialog::getSaveFileName(window_, tr("Save project"), projectPath_, kFilter);
    if (path.isEmpty()) return false;
    if (!path.endsWith(QLatin1String(".ptqproj"))) path += QStringLiteral(".ptqproj");
    return saveProject(path);
}

bool ProjectManager::autosave() {
    if (!dirty_ || !controller_->session().model) return false;
    const QString path = autosavePath();
    QDir().mkpath(QFileInfo(path).absolutePath());
    try {
        writeProject(path.toStdString(), currentProject());
    } catch (const ptq::Error& e) {
        ptq::logger()->warn("Autosave to {} failed: {}", path.toStdString(), e.what());
        return false;
    }
    Q_EMIT autosaved(path);
    return true;
}

void ProjectManager::aboutToClose() {
    if (persistRecent_) autosave();
}

void ProjectManager::openProjectDialog() {
    const QString path = QFileDialog::getOpenFileName(window_, tr("Open project"), QFileInfo(projectPath_).path(), kFilter);
    if (!path.isEmpty()) openProject(path);
}

void ProjectManager::openProject(const QString& path) { load(path, QFileInfo(path).absoluteFilePath(), false); }

bool ProjectManager::offerRecovery(const QString& projectPath) {
    QString autosave, project;
    if (!projectPath.isEmpty()) {
        project = QFileInfo(projectPath).absoluteFilePath();
        autosave = q(recoverableAutosave(project.toStdString()));
    } else if (QFileInfo::exists(untitledAutosavePath())) {
        autosave = untitledAutosavePath();
    } else if (!recentProjects_.isEmpty()) {
        project = recentProjects_.first();
        autosave = q(recoverableAutosave(project.toStdString()));
    }
    if (autosave.isEmpty()) return false;
    if (recoveryChooser_(autosave)) {
        load(autosave, project, true);
        return true;
    }
    QFile::remove(autosave);  // declined: do not ask again
    return false;
}

void ProjectManager::load(const QString& file, const QString& projectPath, bool recovered) {
    struct Loaded {
        ptq::Project project;
        std::shared_ptr<const ptq::LoadedModel> model;
        std::string modelChange;
    };
    auto loaded = std::make_shared<Loaded>();
    const std::string path = file.toStdString();
    controller_->runJob(JobRunner::Kind::Project,
        tr("Open project %1").arg(QFileInfo(file).fileName()),
        [loaded, path](const ptq::Progress& progress) {
            loaded->project = readProject(path);
            progress.throwIfCancelled();
            loaded->modelChange = projectModelChange(loaded->project);
            const ptq::Project& project = loaded->project;
            ptq::ModelRequest request;
            request.path = project.modelPath;
            loaded->model = openModel(project.modelCard ? ptq::requestWithCard(project.modelPath, *project.modelCard)
                                                        : request,
                                      &progress);
        },
        [=](bool ok, const QString& message) {
            if (!ok) {
                Q_EMIT projectOpenFailed(message);
                return;
            }
            install(loaded->project, loaded->model, projectPath, recovered, loaded->modelChange);
        });
}

void ProjectManager::install(const ptq::Project& project, std::shared_ptr<const ptq::LoadedModel> model,
                             const QString& projectPath, bool recovered, const std::string& modelChange) {
    ModelChange choice = ModelChange::KeepTable;
    if (!modelChange.empty()) {
        choice = modelChangeChooser_(q(modelChange));
        if (choice == ModelChange::Cancel) {
            Q_EMIT projectOpenFailed(q(modelChange));
            return;
        }
    }
    ptq::Session session;
    try {
        session = sessionFromProject(project, std::move(model));
    } catch (const ptq::Error& e) {
        window_->reportError(tr("Cannot open the project"), q(e.what()));
        Q_EMIT projectOpenFailed(q(e.what()));
        return;
    }
    installing_ = true;
    controller_->restoreSession(std::move(session), project.sensitivityRequest, project.budget);
    // The budget dock shows the restored budget (the controller's) within the table's limits,
    // without a new solve: the restored allocation may be a Pareto point the user adopted.
    BudgetPanel* panel = window_->budgetPanel();
    if (const auto& problem = controller_->session().problem) {
        const auto limits = problem->limits(project.budget.metric, project.budget.reference);
        panel->setLimits(limits.maxDegradation, limits.minRatio, limits.maxRatio);
    }
    panel->showBudget(controller_->budgetState()->budget());
    ptq::BudgetRequest frontier = project.budget;
    controller_->budgetState()->requestFrontier(frontier);
    installing_ = false;
    projectPath_ = projectPath;
    dirty_ = recovered;
    if (!projectPath_.isEmpty()) addRecent(projectPath_);
    if (choice == ModelChange::Recompute) {
        dirty_ = true;
        ptq::DataSourceSpec source = ptq::parseDataSource(project.calibrationSource);  // read checked it
        source.skipBad = project.calibrationSkipBad;
        controller_->setCalibrationSource(source);
    }
    ptq::logger()->info("Opened the project {}", projectPath_.toStdString());
    Q_EMIT projectOpened(projectPath_);
}

void ProjectManager::addRecent(const QString& path) {
    recentProjects_.removeAll(path);
    recentProjects_.prepend(path);
    while (recentProjects_.size() > kMaxRecent) recentProjects_.removeLast();
    if (persistRecent_) QSettings().setValue(kRecentProjectsKey, recentProjects_);
    rebuildRecentMenu();
}

void ProjectManager::rebuildRecentMenu() {
    if (!recentMenu_) return;
    recentMenu_->clear();
    for (const QString& path : recentProjects_)
        recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] { openProject(path); })->setToolTip(path);
    recentMenu_->setEnabled(!recentProjects_.isEmpty());
}

void ProjectManager::exportDialog() {
    // Kept until its export ends (a job may outlive the dialog's window).
    auto* dialog = new ExportDialog(window_, controller_);
    connect(dialog, &ExportDialog::exportFinished, dialog, &QObject::deleteLater);
    connect(dialog, &QDialog::rejected, dialog, &QObject::deleteLater);
    dialog->open();
}

}  // namespace ptq::ui
