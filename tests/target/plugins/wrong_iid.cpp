// A target built against a later interface version: the registry must refuse it by its IID,
// before loading it.
#include <QtCore/QObject>
#include <QtCore/QtPlugin>

class FutureTarget : public QObject {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.ptqstudio.HardwareTarget/2.0" FILE "wrong_iid.json")
};

#include "wrong_iid.moc"
