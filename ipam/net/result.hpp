// Result<T>: expected failures as values (g++ 12 has no std::expected).
// An Error names what is wrong; its code decides the exit status and whether a caller retries.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace blockd {

enum class ErrorCode {
  Invalid,      // the user's input breaks a rule (exit 1)
  NotFound,     // the named thing does not exist (exit 1)
  Conflict,     // it already exists, or a compare-and-swap lost (exit 1, or retry)
  Exhausted,    // no address or block left (exit 1; CNI "try again later")
  Unavailable,  // the datastore, kernel or peer cannot be reached now (exit 2)
  Internal,     // a bug or a broken environment (exit 2)
};

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;

  // Prefixes context ("IPPool rack-0: ") so the outermost caller names the resource.
  Error within(const std::string& context) const { return {code, context + ": " + message}; }
};

inline Error invalid(std::string message) { return {ErrorCode::Invalid, std::move(message)}; }
inline Error not_found(std::string message) { return {ErrorCode::NotFound, std::move(message)}; }
inline Error conflict(std::string message) { return {ErrorCode::Conflict, std::move(message)}; }
inline Error exhausted(std::string message) { return {ErrorCode::Exhausted, std::move(message)}; }
inline Error unavailable(std::string message) { return {ErrorCode::Unavailable, std::move(message)}; }
inline Error internal(std::string message) { return {ErrorCode::Internal, std::move(message)}; }

// Exit status (ARCHITECTURE.md, Interfaces): 1 for the user's error, 2 for an internal or environment failure.
inline int exit_status(const Error& e) {
  return (e.code == ErrorCode::Unavailable || e.code == ErrorCode::Internal) ? 2 : 1;
}

// Result<T, E>: a T, or the error E. E is blockd's Error everywhere but where a protocol fixes
// its own error shape: a BGP NOTIFICATION (bgp::WireError), a CNI error (cni::PluginError).
template <class T, class E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const { assert(!ok_); return error_; }

 private:
  E error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace blockd
