#include "cli/options.h"

#include "core/util/error.h"

#include <sstream>

namespace ptq::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& flags,
           const std::set<std::string>& keys, const std::string& command)
    : command_(command) {
    for (size_t i = 0; i < argv.size(); ++i) {
        std::string a = argv[i];
        // A one-letter key may be written short: -o OUT is --o OUT.
        if (a.size() == 2 && a[0] == '-' && a[1] != '-' && keys.count(a.substr(1))) a = "-" + a;
        if (a.rfind("--", 0) != 0 || a == "--") {
            positionals_.push_back(a);
            continue;
        }
        std::string name = a.substr(2), inlineValue;
        bool hasInline = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inlineValue = name.substr(eq + 1);
            name.resize(eq);
            hasInline = true;
        }
        if (flags.count(name)) {
            flags_.insert(name);
        } else if (keys.count(name)) {
            if (!hasInline && i + 1 >= argv.size())
                throw invalidInput("Option --" + name + " needs a value: see 'ptq " + command + " --help'.");
            values_[name] = hasInline ? inlineValue : argv[++i];
            allValues_[name].push_back(values_[name]);
        } else {
            std::string known;
            for (const auto& f : flags) known += " --" + f;
            for (const auto& k : keys) known += " --" + k;
            throw invalidInput("Unknown option --" + name + " for 'ptq " + command + "'; it takes:" + known + ".");
        }
    }
}

std::string Args::value(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
}

long long Args::integer(const std::string& key, long long fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    try {
        size_t used = 0;
        const long long v = std::stoll(it->second, &used);
        if (used == it->second.size()) return v;
    } catch (const std::exception&) {
    }
    throw invalidInput("--" + key + " takes a whole number, not '" + it->second + "'.");
}

double Args::number(const std::string& key, double fallback) const {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    try {
        size_t used = 0;
        const double v = std::stod(it->second, &used);
        if (used == it->second.size()) return v;
    } catch (const std::exception&) {
    }
    throw invalidInput("--" + key + " takes a number (such as 0.001 or 1e-3), not '" + it->second + "'.");
}

std::vector<long long> Args::integers(const std::string& key) const {
    std::vector<long long> out;
    auto it = values_.find(key);
    if (it == values_.end()) return out;
    std::stringstream ss(it->second);
    std::string part;
    while (std::getline(ss, part, ',')) {
        try {
            size_t used = 0;
            out.push_back(std::stoll(part, &used));
            if (used != part.size()) throw std::invalid_argument(part);
        } catch (const std::exception&) {
            throw invalidInput("--" + key + " takes whole numbers separated by commas (e.g. 1,28,28), not '" +
                               it->second + "'.");
        }
    }
    return out;
}

std::vector<std::string> Args::all(const std::string& key) const {
    std::vector<std::string> out;
    auto it = allValues_.find(key);
    if (it == allValues_.end()) return out;
    for (const std::string& v : it->second) {
        std::stringstream ss(v);
        std::string part;
        while (std::getline(ss, part, ','))
            if (!part.empty()) out.push_back(part);
    }
    return out;
}

}  // namespace ptq::cli
