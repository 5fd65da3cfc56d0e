#pragma once
/// @file
/// The AdaQuant benchmark behind `ptq bench adaquant`: per layer, seconds and achieved GFLOP/s
/// of the layer's training, against the sgemm GFLOP/s this machine reaches in the same program
/// (the peak a conv or linear layer could hope for). Figures only; never a pass/fail.

#include "core/data/data_source.h"
#include "core/methods/adaquant.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

struct AdaQuantBenchLayer {
    std::string layer;
    int64_t macsPerSample = 0;
    double seconds = 0;
    double gflop = 0;     ///< conv/linear FLOPs of the layer's training and its two MSE passes
    double gflops() const { return seconds > 0 ? gflop / seconds : 0; }
};

struct AdaQuantBenchResult {
    int threads = 0;
    /// The machine's peak for this program: the better of at::mm on 1024 x 1024 floats and the
    /// a 16384 x 512 by 512 x 512 GEMM run as a 1 x 1 convolution (oneDNN; Debian's libtorch has a
    /// generic BLAS).
    double sgemmGflops = 0;
    double mmGflops = 0, convGemmGflops = 0;
    /// A transformer-shaped Linear layer through at::linear (the BLAS, not oneDNN): ViT-B's MLP,
    /// 8 x 197 tokens of 768 features into 3072.
    double linearGflops = 0;
    /// The BLAS library LibTorch's at::mm runs on in this process (its path), or "" when none
    /// is mapped: the reference BLAS and OpenBLAS differ by more than ten times.
    std::string blasLibrary;
    int iterations = 0;
    int64_t batch = 0, samples = 0;
    double cacheSeconds = 0;
    std::vector<AdaQuantBenchLayer> layers;
    double seconds() const;
    double gflop() const;
    double gflops() const { return seconds() > 0 ? gflop() / seconds() : 0; }
    double fractionOfPeak() const { return sgemmGflops > 0 ? gflops() / sgemmGflops : 0; }
};

/// GFLOP/s of at::mm on two @p n x @p n float matrices: the best of @p repeats timed products.
double measureSgemmGflops(int64_t n = 1024, int repeats = 8);
/// GFLOP/s of a (64 * 16 * 16) x n by n x n float GEMM run as a 1 x 1 convolution: best of
/// @p repeats.
double measureConvGemmGflops(int64_t n = 512, int repeats = 8);
/// GFLOP/s of at::linear on @p tokens x @p in inputs into @p out features: best of @p repeats.
double measureLinearGflops(int64_t tokens = 8 * 197, int64_t in = 768, int64_t out = 3072, int repeats = 8);
/// The path of the BLAS shared library mapped into this process (read from /proc/self/maps),
/// "" when none is.
std::string loadedBlasLibrary();

/// Imports @p modelPath (input @p sampleShape, BN folded), quantizes it uniformly at
/// @p weightBits / @p activationBits per channel (first and last layer 8-bit), calibrates on
/// @p calibSource and runs parallel AdaQuant with @p options on the first @p maxLayers layers
/// (0: all), timing each. Counts per training step 3 x 2 x MACs x batch FLOPs (forward, input
/// gradient, weight gradient) and 2 x MACs per sample for each of the two MSE passes. Long;
/// any one thread; cancel through @p progress.
AdaQuantBenchResult benchAdaQuant(const std::string& modelPath, const std::vector<int64_t>& sampleShape,
                                  const DataSourceSpec& calibSource, int weightBits, int activationBits,
                                  AdaQuantOptions options, int maxLayers = 0, const Progress* progress = nullptr);

}  // namespace ptq
