#pragma once
// The data layer's tests: one Qt Test object whose cases are split by topic over
// test_data.cpp (real Fashion-MNIST files, IDX errors), test_sources.cpp (data source names,
// folder:, npy:) and test_batching.cpp (Dataset, batching, normalization).

#include "core/util/error.h"

#include <QtCore/QByteArray>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QTemporaryDir>

#include <functional>
#include <memory>

namespace ptq {
class InMemoryDataset;
}

/// The message of the ptq::Error of kind InvalidInput that @p action throws; empty when it
/// throws nothing, "<wrong kind> ..." when it throws another error.
QString invalidInputMessage(const std::function<void()>& action);

/// Checks that @p action throws a one-sentence InvalidInput error naming @p fileName (when not
/// empty) and containing @p phrase. Call inside a test function.
#define PTQ_EXPECT_INVALID_INPUT(action, fileName, phrase)                                    \
    do {                                                                                       \
        const QString message_ = invalidInputMessage(action);                                 \
        QVERIFY2(!message_.isEmpty(), "expected a ptq::Error of kind InvalidInput");          \
        QVERIFY2(!message_.startsWith("<wrong kind>"), qPrintable(message_));                  \
        QVERIFY2(message_.endsWith('.') && !message_.contains('\n'),                           \
                 qPrintable("not one sentence: " + message_));                                 \
        QVERIFY2(QString(fileName).isEmpty() || message_.contains(fileName),                   \
                 qPrintable("does not name " + QString(fileName) + ": " + message_));          \
        QVERIFY2(message_.contains(phrase),                                                    \
                 qPrintable("does not say '" + QString(phrase) + "': " + message_));           \
    } while (false)

QByteArray gunzipFile(const QString& path);
QByteArray gzipBytes(const QByteArray& raw);
void writeBytes(const QString& path, const QByteArray& bytes);
/// Path of a file of the installed Fashion-MNIST, e.g. "t10k-labels-idx1-ubyte.gz".
QString fashionMnistPath(const QString& name);

class TestData : public QObject {
    Q_OBJECT

public:
    TestData();
    ~TestData() override;

private Q_SLOTS:
    void initTestCase();

    // test_data.cpp: the real files and the IDX reader
    void realFiles_data();
    void realFiles();
    void trainIsNormalized();
    void knownPixelMatchesIndependentDecoding();
    void rawEqualsGzip();
    void corruptedIdx_data();
    void corruptedIdx();
    void fmnistHead();
    void fmnistLimitLargerThanSet();
    void expectedShapeMismatch();

    // test_sources.cpp: data source names, folder:, npy:
    void parseGoodSpecs_data();
    void parseGoodSpecs();
    void parseBadSpecs_data();
    void parseBadSpecs();
    void folderSource();
    void folderConvertsChannels();
    void folderErrors_data();
    void folderErrors();
    void npyFloat32();
    void npyUint8();
    void npyErrors_data();
    void npyErrors();

    // test_batching.cpp: Dataset, batching, normalization
    void batchesCoverEverySampleOnce_data();
    void batchesCoverEverySampleOnce();
    void batchProgressReachesOne();
    void cancelStopsBatching();
    void scaledProgressSharesTheCancel();
    void readIsBoundsChecked();
    void subsetAndHead();
    void normalizationResolves();

private:
    QTemporaryDir tmp_;
    std::unique_ptr<ptq::InMemoryDataset> train_;
    std::unique_ptr<ptq::InMemoryDataset> test_;
    QByteArray testImagesRaw_;  // t10k images, gunzipped independently of the reader
    QByteArray testLabelsRaw_;
};
