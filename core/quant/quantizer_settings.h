#pragma once
/// @file
/// The quantizer settings of one run, as one value (core/workflow/settings.h has the others).

#include "core/quant/quantizer.h"
#include "core/quant/range_calibration.h"

#include <cstdint>

namespace ptq {

/// How the quantizers of one run are set up: the weights' granularity, the range methods and
/// the batch the calibration and evaluation passes use. One struct for the command line's
/// quantize, sensitivity and export, the GUI's allocation jobs and the files that record them.
struct QuantizerSettings {
    Granularity granularity = Granularity::PerChannel;
    RangeMethod weightRange = RangeMethod::MinMax;
    RangeMethod activationRange = RangeMethod::MinMax;
    int64_t batchSize = 256;

    /// Throws ptq::Error (InvalidInput) naming the setting that is out of range.
    void validate() const;
    bool operator==(const QuantizerSettings& o) const {
        return granularity == o.granularity && weightRange == o.weightRange && activationRange == o.activationRange &&
               batchSize == o.batchSize;
    }
};

}  // namespace ptq
