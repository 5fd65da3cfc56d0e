#pragma once
/// @file
/// The figures a running job reports for live plots, gathered from the worker thread and read
/// by the UI thread at its own pace (the plots poll it at most 10 times a second), so a job
/// that steps every millisecond never floods the event loop. Thread-safe.

#include <QtCore/QString>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace ptq::ui {

class LiveFeed {
public:
    enum class Phase { None, AdaQuant, BatchNorm, BiasTuning, Distill };

    struct LayerMse {
        QString layer;
        double before = 0, after = 0;
    };
    struct BatchNormShift {
        QString layer;
        double meanShift = 0, stdRatio = 1;
    };
    /// A copy of everything reported since the job began.
    struct Figures {
        uint64_t version = 0;     ///< changes with every report
        QString job;
        Phase phase = Phase::None;
        QString adaquantLayer;    ///< the layer being tuned
        int adaquantLayerIndex = 0, adaquantLayerCount = 0;
        bool adaquantBlocks = false;  ///< block reconstruction: the "layers" are blocks
        std::vector<double> adaquantLoss;      ///< per iteration, current layer
        std::vector<LayerMse> adaquantDone;    ///< finished layers, in order
        std::vector<BatchNormShift> batchNorms;
        std::vector<double> biasKl;            ///< per iteration
        std::vector<double> distillLoss;       ///< per iteration
    };

    /// Forgets the previous job's figures. Any thread.
    void begin(const QString& job);
    /// Reports from the worker thread.
    void setPhase(Phase phase);
    void addAdaQuantStep(int layerIndex, int layerCount, const std::string& layer, double loss, bool block = false);
    void addAdaQuantLayer(const std::string& layer, double before, double after);
    void addBatchNorm(const std::string& layer, double meanShift, double stdRatio);
    void addBiasStep(double kl);
    void addDistillStep(double loss);

    uint64_t version() const;
    Figures figures() const;

private:
    mutable std::mutex mutex_;
    Figures f_;
};

}  // namespace ptq::ui
