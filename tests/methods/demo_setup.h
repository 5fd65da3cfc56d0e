#pragma once
// A demo model imported with its BatchNorms folded and the first N Fashion-MNIST training images
// as calibration data: what the method tests start from. Header-only, for tests/methods.
#include "core/data/data_source.h"
#include "core/graph/graph.h"
#include "core/graph/passes.h"
#include "core/graph/torchscript_importer.h"
#include "core/model/model_card.h"

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

namespace ptqtest {

struct DemoSetup {
    ptq::Graph graph;
    std::unique_ptr<ptq::Dataset> calib;
    DemoSetup(const std::string& file, int calibCount) : graph(ptq::importTorchScript(file, {1, 28, 28})) {
        ptq::foldBatchNorms(graph);
        const ptq::Normalization norm = ptq::Normalization::fromModelCard(*ptq::loadModelCard(file));
        calib = ptq::openDataSource("fmnist:train:" + std::to_string(calibCount), norm, {1, 28, 28});
    }
    /// The first @p count calibration samples as one tensor.
    at::Tensor images(int64_t count) const {
        std::vector<int64_t> shape{count};
        for (int64_t s : calib->sampleShape()) shape.push_back(s);
        at::Tensor x = at::empty(shape, at::kFloat);
        calib->read(0, count, x.data_ptr<float>(), nullptr);
        return x;
    }
};

}  // namespace ptqtest
