#pragma once
// The `ptq` sub-commands. Each returns the process exit code; errors are thrown as ptq::Error
// and turned into one sentence on stderr by main().

#include <string>
#include <vector>

namespace ptq::cli {

int runInfo(const std::vector<std::string>& args);
int runGraph(const std::vector<std::string>& args);
int runQuantize(const std::vector<std::string>& args);
int runBench(const std::vector<std::string>& args);
int runSensitivity(const std::vector<std::string>& args);
int runDistill(const std::vector<std::string>& args);
int runExport(const std::vector<std::string>& args);
int runAllocate(const std::vector<std::string>& args);
/// `ptq anchors` (cmd_anchors.cpp): measured allocations for `ptq allocate --anchors`.
int runAnchors(const std::vector<std::string>& args);
int runPareto(const std::vector<std::string>& args);
int runEvaluate(const std::vector<std::string>& args);
int runTargets(const std::vector<std::string>& args);
/// `ptq bench ip` (cmd_bench_ip.cpp), reached through runBench's table.
int runBenchIp(const std::vector<std::string>& args);
int runBenchWorkflow(const std::vector<std::string>& args);
/// `ptq bench adaquant` (cmd_bench_adaquant.cpp), reached through runBench's table.
int runBenchAdaQuant(const std::vector<std::string>& args);

/// The usage text of `ptq --help`.
std::string usage();

}  // namespace ptq::cli
