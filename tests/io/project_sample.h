#pragma once
// A project with every member filled (table, allocation, pins, measured points, AdaQuant
// results), made from a model's layer list, for the project file tests and the save-loop helper.
// The figures are arbitrary but deterministic in the seed: these tests check that a file
// carries them exactly, not what they mean.

#include "core/io/project_file.h"
#include "core/methods/adaquant.h"
#include "core/util/file_hash.h"

#include <random>

namespace ptqtest {

struct SampleLayer {
    std::string name, kind;
    std::vector<int64_t> weightShape;
    int64_t macs = 0;
};

inline ptq::Project sampleProject(const std::vector<SampleLayer>& layers, const std::string& modelPath,
                                  unsigned seed, int adaquantLayers) {
    using namespace ptq;
    std::mt19937 rng(seed);
    std::normal_distribution<float> gauss(0.f, 0.1f);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    Project p;
    p.modelPath = modelPath;
    p.modelSha256 = fileSha256(modelPath);
    p.calibrationSource = "fmnist:train:256";
    p.evaluationSource = "fmnist:test:" + std::to_string(1000 + seed);
    p.sensitivityRequest.options = BitOption::parseList("w2a8,w4a4,w4a8,w8a8,w4x2a8");
    p.sensitivityRequest.quantizer.granularity = Granularity::PerChannel;
    p.sensitivityRequest.quantizer.weightRange = RangeMethod::Mse;
    p.sensitivityRequest.quantizer.batchSize = 128;
    auto table = std::make_shared<SensitivityResult>();
    table->metric = "cross_entropy";
    table->options = p.sensitivityRequest.options;
    table->fp32Top1 = 91.25;
    table->baseTop1 = 91.0;
    table->fp32Loss = 0.25;
    table->baseLoss = 0.2578125;
    table->samples = 256;
    table->seconds = 12.5;
    table->forwardEquivalents = 7.75;
    for (const SampleLayer& l : layers) {
        int64_t params = 1;
        for (int64_t d : l.weightShape) params *= d;
        table->layers.push_back({l.name, l.kind, params, l.macs});
        std::vector<SensitivityCell> row;
        for (size_t k = 0; k < table->options.size(); ++k) row.push_back({uni(rng) * 0.1, -uni(rng) * 2, uni(rng) * 1e-3});
        table->cells.push_back(row);
    }
    p.sensitivity = table;
    p.budget.kind = BudgetKind::Cost;
    p.budget.metric = CostMetric::Bops;
    p.budget.reference = CostReference::Int8;
    p.budget.costRatio = 0.375;
    const int n = int(layers.size());
    p.pins = {{0, 3}, {n - 1, 2}};
    const BudgetProblem problem(*table);
    BudgetRequest solve = p.budget;
    solve.pins = p.pins;
    p.allocation = problem.solve(solve);
    if (p.allocation.choice.empty()) p.allocation = problem.evaluate(std::vector<int>(size_t(n), 2));
    for (int m = 0; m < 2; ++m) {
        MeasuredAllocation a;
        a.choice = p.allocation.choice;
        a.choice[size_t(m)] = m;
        a.pipeline = m == 0 ? "light" : "advanced";
        a.evaluationSource = p.evaluationSource;
        a.top1 = 90.0 + uni(rng);
        a.fp32Top1 = table->fp32Top1;
        a.loss = uni(rng);
        a.predictedDeltaTop1 = -uni(rng);
        a.sizeBytes = problem.costOf(CostMetric::Size, a.choice) / 8;
        a.bops = problem.costOf(CostMetric::Bops, a.choice);
        a.seconds = 3.5 + m;
        p.measured.push_back(a);
    }
    auto store = std::make_shared<AdaQuantStore>();
    for (int i = 0; i < std::min(adaquantLayers, n); ++i) {
        for (const auto& [w, a] : {std::pair{4, 8}, std::pair{2, 8}}) {
            AdaQuantLayerResult r;
            r.layer = layers[size_t(i)].name;
            r.weightBits = w;
            r.activationBits = a;
            r.weightShape = layers[size_t(i)].weightShape;
            int64_t count = 1;
            for (int64_t d : r.weightShape) count *= d;
            for (int64_t k = 0; k < count; ++k) r.weight.push_back(gauss(rng));
            const int64_t channels = r.weightShape[0];
            for (int64_t c = 0; c < channels; ++c) {
                r.bias.push_back(gauss(rng));
                r.weightParams.scale.push_back(0.01f + float(uni(rng)) * 0.1f);
                r.weightParams.zeroPoint.push_back(0);
            }
            r.activationParams.scale = {0.05f + float(uni(rng))};
            r.activationParams.zeroPoint = {int32_t(i % 7)};
            r.mseBefore = uni(rng);
            r.mseAfter = r.mseBefore / 2;
            r.applied = i % 2 == 0;
            r.reluInLoss = i % 3 == 0;
            r.iterations = 200;
            r.samples = 256;
            r.seconds = uni(rng);
            r.macsPerSample = layers[size_t(i)].macs;
            store->put(r);
        }
    }
    p.adaquant = store;
    return p;
}

}  // namespace ptqtest
