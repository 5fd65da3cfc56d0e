#pragma once
/// @file
/// Typed errors of the core. Every message is a sentence a user can act on: what was wrong and
/// what to do. The command line maps the kind to its exit code (2 bad input, 130 cancel, 1 otherwise).

#include <stdexcept>
#include <string>
#include <utility>

namespace ptq {

class Error : public std::runtime_error {
public:
    enum class Kind {
        InvalidInput,  ///< the user's file, data or arguments are wrong (exit 2)
        Failed,        ///< something went wrong while running (exit 1)
        Cancelled      ///< the user asked to stop (exit 130, as for Ctrl-C)
    };

    Error(Kind kind, const std::string& message, std::string setting = {})
        : std::runtime_error(message), kind_(kind), setting_(std::move(setting)) {}

    Kind kind() const { return kind_; }
    /// The setting the user must give when the error is that one is missing ("input shape");
    /// empty otherwise. Each front end adds how its user gives it (a flag, a dialog).
    const std::string& setting() const { return setting_; }

private:
    Kind kind_;
    std::string setting_;
};

/// Bad input: a file, a data source, an argument. Thread-safe to throw from any thread.
inline Error invalidInput(const std::string& message) { return Error(Error::Kind::InvalidInput, message); }
inline Error failed(const std::string& message) { return Error(Error::Kind::Failed, message); }
/// Bad input because the setting @p setting is missing; @p message says what is not known.
inline Error missingSetting(const std::string& setting, const std::string& message) {
    return Error(Error::Kind::InvalidInput, message, setting);
}

class Cancelled : public Error {
public:
    Cancelled() : Error(Kind::Cancelled, "Cancelled by the user.") {}
};

}  // namespace ptq
