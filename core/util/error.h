#pragma once
/// @file
/// Typed errors of the core. Every message is a sentence a user can act on: what was wrong and
/// what to do. The command line maps the kind to its exit code (2 bad input, 130 cancel, 1 otherwise).

#include <stdexcept>
#include <string>

namespace ptq {

class Error : public std::runtime_error {
public:
    enum class Kind {
        InvalidInput,  ///< the user's file, data or arguments are wrong (exit 2)
        Failed,        ///< something went wrong while running (exit 1)
        Cancelled      ///< the user asked to stop (exit 130, as for Ctrl-C)
    };

    Error(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

/// Bad input: a file, a data source, an argument. Thread-safe to throw from any thread.
inline Error invalidInput(const std::string& message) { return Error(Error::Kind::InvalidInput, message); }
inline Error failed(const std::string& message) { return Error(Error::Kind::Failed, message); }

class Cancelled : public Error {
public:
    Cancelled() : Error(Kind::Cancelled, "Cancelled by the user.") {}
};

}  // namespace ptq
