#pragma once
// --target NAME on the `ptq` sub-commands: the hardware target from the plugin registry
// (core/target/target_registry.h). cmd_targets.cpp.

#include "cli/options.h"

#include <string>

namespace ptq {
struct TargetInfo;
}

namespace ptq::cli {

/// The target --target names, or nullptr when the option is absent. Throws ptq::Error
/// (InvalidInput) for an unknown name, listing the known targets.
const TargetInfo* targetArg(const Args& a);
/// Throws ptq::Error (InvalidInput) unless @p target runs W@p w (x @p points) A@p a at
/// @p granularity, saying what it does support.
void requireSupported(const TargetInfo& target, int w, int a, int points, const std::string& granularity);

/// `ptq export MODEL --alloc ALLOC.json --target NAME --format F -o OUT`: the target's exporter
/// @p format over the allocation's layers (op kinds and MACs from its sensitivity table).
/// cmd_export_target.cpp.
int runTargetExport(const Args& a, const std::string& format, const std::string& out);

}  // namespace ptq::cli
