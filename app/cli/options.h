#pragma once
// Command-line arguments of one `ptq` sub-command: positionals, --flags and --key value pairs.

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ptq::cli {

class Args {
public:
    /// Parses @p argv after the sub-command. @p flags take no value, @p keys take one (repeatable
    /// keys collect every value). Throws ptq::Error (InvalidInput) on an unknown option.
    Args(const std::vector<std::string>& argv, const std::set<std::string>& flags,
         const std::set<std::string>& keys, const std::string& command);

    const std::vector<std::string>& positionals() const { return positionals_; }
    bool flag(const std::string& name) const { return flags_.count(name) != 0; }
    bool has(const std::string& key) const { return values_.count(key) != 0; }
    std::string value(const std::string& key, const std::string& fallback = "") const;
    long long integer(const std::string& key, long long fallback) const;
    /// A number (e.g. a learning rate such as 1e-3); throws a usage error for anything else.
    double number(const std::string& key, double fallback) const;
    /// "1,28,28" -> {1, 28, 28}; empty when the key is absent.
    std::vector<long long> integers(const std::string& key) const;
    /// Every value given for @p key, in order (--lock A=x --lock B=y), comma-separated lists
    /// split; empty when absent.
    std::vector<std::string> all(const std::string& key) const;

private:
    std::string command_;
    std::vector<std::string> positionals_;
    std::set<std::string> flags_;
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> allValues_;
};

}  // namespace ptq::cli
