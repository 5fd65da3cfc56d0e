#include "ui/session/live_feed.h"

namespace ptq::ui {

void LiveFeed::begin(const QString& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t version = f_.version + 1;
    f_ = Figures{};
    f_.version = version;
    f_.job = job;
}

void LiveFeed::setPhase(Phase phase) {
    std::lock_guard<std::mutex> lock(mutex_);
    f_.phase = phase;
    ++f_.version;
}

void LiveFeed::addAdaQuantStep(int layerIndex, int layerCount, const std::string& layer, double loss, bool block) {
    std::lock_guard<std::mutex> lock(mutex_);
    const QString name = QString::fromStdString(layer);
    if (name != f_.adaquantLayer || layerIndex != f_.adaquantLayerIndex) {
        f_.adaquantLoss.clear();
        f_.adaquantLayer = name;
        f_.adaquantLayerIndex = layerIndex;
    }
    f_.adaquantLayerCount = layerCount;
    f_.adaquantBlocks = block;
    f_.phase = Phase::AdaQuant;
    f_.adaquantLoss.push_back(loss);
    ++f_.version;
}

void LiveFeed::addAdaQuantLayer(const std::string& layer, double before, double after) {
    std::lock_guard<std::mutex> lock(mutex_);
    f_.adaquantDone.push_back({QString::fromStdString(layer), before, after});
    ++f_.version;
}

void LiveFeed::addBatchNorm(const std::string& layer, double meanShift, double stdRatio) {
    std::lock_guard<std::mutex> lock(mutex_);
    f_.phase = Phase::BatchNorm;
    f_.batchNorms.push_back({QString::fromStdString(layer), meanShift, stdRatio});
    ++f_.version;
}

void LiveFeed::addBiasStep(double kl) {
    std::lock_guard<std::mutex> lock(mutex_);
    f_.phase = Phase::BiasTuning;
    f_.biasKl.push_back(kl);
    ++f_.version;
}

void LiveFeed::addDistillStep(double loss) {
    std::lock_guard<std::mutex> lock(mutex_);
    f_.phase = Phase::Distill;
    f_.distillLoss.push_back(loss);
    ++f_.version;
}

uint64_t LiveFeed::version() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return f_.version;
}

LiveFeed::Figures LiveFeed::figures() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return f_;
}

}  // namespace ptq::ui
