// Dataset, InMemoryDataset, forEachBatch and Normalization on small sets built in memory.
#include "test_data.h"

#include "core/data/dataset.h"
#include "core/model/model_card.h"

#include <QtTest/QtTest>

#include <numeric>

using namespace ptq;

namespace {

/// @p samples samples of 1x2x2 whose every value is the sample's index; labels index % 3.
InMemoryDataset countingSet(int64_t samples, bool labelled = true) {
    std::vector<float> images;
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < samples; ++i) {
        images.insert(images.end(), 4, float(i));
        if (labelled) labels.push_back(i % 3);
    }
    return InMemoryDataset({1, 2, 2}, std::move(images), std::move(labels), {"a", "b", "c"},
                           "counting set");
}

/// A source that does not live in memory (like a future file-backed one): batching must copy.
class StreamedDataset : public Dataset {
public:
    explicit StreamedDataset(InMemoryDataset inner) : inner_(std::move(inner)) {}
    int64_t size() const override { return inner_.size(); }
    std::vector<int64_t> sampleShape() const override { return inner_.sampleShape(); }
    bool hasLabels() const override { return inner_.hasLabels(); }
    std::vector<std::string> classNames() const override { return inner_.classNames(); }
    std::string description() const override { return "streamed " + inner_.description(); }

protected:
    void readChecked(int64_t first, int64_t count, float* images, int64_t* labels) const override {
        inner_.read(first, count, images, labels);
    }

private:
    InMemoryDataset inner_;
};

}  // namespace

void TestData::batchesCoverEverySampleOnce_data() {
    QTest::addColumn<qlonglong>("samples");
    QTest::addColumn<qlonglong>("batchSize");
    QTest::addColumn<bool>("inMemory");
    QTest::newRow("partial last, in memory") << 10LL << 3LL << true;
    QTest::newRow("partial last, streamed") << 10LL << 3LL << false;
    QTest::newRow("one exact batch") << 10LL << 10LL << true;
    QTest::newRow("batch of one, streamed") << 10LL << 1LL << false;
    QTest::newRow("batch larger than set") << 10LL << 32LL << true;
    QTest::newRow("odd count, streamed") << 7LL << 2LL << false;
    QTest::newRow("empty set") << 0LL << 4LL << true;
}

void TestData::batchesCoverEverySampleOnce() {
    QFETCH(qlonglong, samples);
    QFETCH(qlonglong, batchSize);
    QFETCH(bool, inMemory);
    InMemoryDataset memory = countingSet(samples);
    const float* storage = memory.data();
    const StreamedDataset streamed(memory);
    const Dataset& data = inMemory ? static_cast<const Dataset&>(memory) : streamed;

    std::vector<int> seen(size_t(samples), 0);
    int64_t expectedFirst = 0;
    forEachBatch(data, batchSize, [&](const Batch& batch) {
        QCOMPARE(batch.first, expectedFirst);
        QCOMPARE(batch.count, std::min<int64_t>(batchSize, samples - batch.first));
        QCOMPARE(batch.shape, (std::vector<int64_t>{batch.count, 1, 2, 2}));
        QVERIFY(batch.labels);
        // Zero copy: in-memory sets hand out pointers into their own storage.
        QCOMPARE(batch.images == storage + batch.first * 4, inMemory);
        for (int64_t i = 0; i < batch.count; ++i) {
            const int64_t sample = batch.first + i;
            ++seen[size_t(sample)];
            QCOMPARE(batch.images[i * 4 + 3], float(sample));
            QCOMPARE(batch.labels[i], sample % 3);
        }
        expectedFirst += batch.count;
    });
    QCOMPARE(expectedFirst, int64_t(samples));
    QVERIFY(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
}

void TestData::batchProgressReachesOne() {
    const InMemoryDataset data = countingSet(10, false);
    Progress progress;
    std::vector<double> fractions;
    std::string stage;
    progress.onProgress = [&](double fraction, const std::string& label) {
        fractions.push_back(fraction);
        stage = label;
    };
    int batches = 0;
    forEachBatch(data, 4, [&](const Batch& batch) {
        QVERIFY(!batch.labels);
        ++batches;
    }, &progress, "Calibrating");
    QCOMPARE(batches, 3);
    QCOMPARE(fractions, (std::vector<double>{0.0, 0.4, 0.8, 1.0}));
    QCOMPARE(stage, std::string("Calibrating"));
    PTQ_EXPECT_INVALID_INPUT([&] { forEachBatch(data, 0, [](const Batch&) {}); }, "", "at least 1");
}

void TestData::cancelStopsBatching() {
    const InMemoryDataset data = countingSet(100);
    Progress progress;
    int batches = 0;
    bool cancelled = false;
    try {
        forEachBatch(data, 10, [&](const Batch&) {
            // A user pressing Cancel (from any thread) during the second batch.
            if (++batches == 2) progress.cancelRequested = true;
        }, &progress);
    } catch (const Cancelled& e) {
        cancelled = e.kind() == Error::Kind::Cancelled;
    }
    QVERIFY(cancelled);
    QCOMPARE(batches, 2);

    batches = 0;
    QVERIFY_THROWS_EXCEPTION(Cancelled, forEachBatch(data, 10, [&](const Batch&) { ++batches; }, &progress));
    QCOMPARE(batches, 0);
}

void TestData::scaledProgressSharesTheCancel() {
    // A step polls the object it was given; a cancel of the whole run must reach it through
    // every level of ScaledProgress, not only through its reports.
    Progress run;
    const ScaledProgress step(&run, 0.2, 0.6, "Step");
    const ScaledProgress part(step.get(), 0.0, 0.5);
    QVERIFY(!part.get()->isCancelled());
    run.cancelRequested = true;
    QVERIFY(step.get()->isCancelled());
    QVERIFY(part.get()->isCancelled());
    QVERIFY_THROWS_EXCEPTION(Cancelled, part.get()->throwIfCancelled());
}

void TestData::readIsBoundsChecked() {
    const InMemoryDataset data = countingSet(10);
    std::vector<float> images(4 * 5);
    std::vector<int64_t> labels(5);
    PTQ_EXPECT_INVALID_INPUT([&] { data.read(8, 5, images.data(), labels.data()); }, "counting set",
                             "holds 10 samples");
    PTQ_EXPECT_INVALID_INPUT([&] { data.read(-1, 1, images.data(), nullptr); }, "", "holds 10 samples");
    const InMemoryDataset unlabelled = countingSet(3, false);
    PTQ_EXPECT_INVALID_INPUT([&] { unlabelled.read(0, 1, images.data(), labels.data()); }, "", "has no labels");
    data.read(5, 5, images.data(), labels.data());
    QCOMPARE(images[0], 5.f);
    QCOMPARE(images.back(), 9.f);
    QCOMPARE(labels, (std::vector<int64_t>{2, 0, 1, 2, 0}));
    data.read(10, 0, nullptr, nullptr);  // an empty read at the end is fine
}

void TestData::subsetAndHead() {
    const InMemoryDataset data = countingSet(10);
    const InMemoryDataset middle = data.subset(2, 3);
    QCOMPARE(middle.size(), int64_t(3));
    QCOMPARE(middle.data()[0], 2.f);
    QCOMPARE(middle.labels(), (std::vector<int64_t>{2, 0, 1}));
    QCOMPARE(middle.classNames(), data.classNames());
    QCOMPARE(data.head(4).size(), int64_t(4));
    QCOMPARE(data.head(100).size(), int64_t(10));
    PTQ_EXPECT_INVALID_INPUT([&] { data.subset(9, 2); }, "counting set", "holds 10 samples");

    PTQ_EXPECT_INVALID_INPUT(
        [] { InMemoryDataset({1, 2, 2}, std::vector<float>(8), {0}, {}, "two images one label"); },
        "two images one label", "one label per image");
    PTQ_EXPECT_INVALID_INPUT(
        [] { InMemoryDataset({1, 2, 2}, std::vector<float>(4), {5}, {"a", "b"}, "bad label"); },
        "bad label", "label 5, outside its 2 classes");
    PTQ_EXPECT_INVALID_INPUT(
        [] { InMemoryDataset({1, 2, 2}, std::vector<float>(6), {}, {}, "ragged"); }, "ragged",
        "not a whole number");
}

void TestData::normalizationResolves() {
    const Normalization fallback = Normalization{}.resolvedFor(1);
    QCOMPARE(fallback.mean, std::vector<float>{0.0f});
    QCOMPARE(fallback.std, std::vector<float>{1.0f});
    QCOMPARE(Normalization::none().resolvedFor(3).mean, (std::vector<float>{0.f, 0.f, 0.f}));
    const Normalization rgb{{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
    QCOMPARE(rgb.resolvedFor(3).std, rgb.std);
    PTQ_EXPECT_INVALID_INPUT([&] { rgb.resolvedFor(1); }, "", "3 mean values for data with 1 channel;");
    const Normalization zeroStd{{0.f}, {0.f}};
    PTQ_EXPECT_INVALID_INPUT([&] { zeroStd.resolvedFor(1); }, "", "must be positive");

    ModelCard card;
    // Without figures the card never borrows another data set's: pixels go in as [0, 1].
    QCOMPARE(Normalization::fromModelCard(card).mean, Normalization::none().mean);
    QCOMPARE(Normalization::fromModelCard(card).std, Normalization::none().std);
    card.mean = {0.5f};
    card.std = {0.25f};
    QCOMPARE(Normalization::fromModelCard(card).std, std::vector<float>{0.25f});
}
