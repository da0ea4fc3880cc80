#pragma once
// Errors as values: every domain and store call returns Result<T>, and one place (api/errors)
// maps an Error to an HTTP status and JSON body. Thread-safe as plain values.
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace parley {

enum class Errc {
  invalid_json,
  invalid_request,
  unauthorized,
  token_expired,
  token_revoked,
  refresh_token_reused,
  forbidden,
  not_found,
  method_not_allowed,
  conflict,
  gone,
  payload_too_large,
  range_not_satisfiable,
  unsupported_media_type,
  validation_failed,
  rate_limited,
  headers_too_large,
  internal,
  unavailable,
};

/// The stable wire name of a code ("not_found"), used in JSON error bodies.
std::string_view errc_name(Errc code);

struct Error {
  Errc code = Errc::internal;
  std::string message;
  std::vector<std::pair<std::string, std::string>> details;

  Error() = default;
  Error(Errc c, std::string msg) : code(c), message(std::move(msg)) {}
  Error& with(std::string key, std::string value) {
    details.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

inline Error not_found(std::string what) { return {Errc::not_found, std::move(what) + " not found"}; }
inline Error invalid(std::string field, std::string msg) {
  Error e{Errc::invalid_request, "field '" + field + "': " + std::move(msg)};
  return e.with("field", std::move(field));
}
inline Error violates(std::string field, std::string msg) {
  Error e{Errc::validation_failed, "field '" + field + "': " + std::move(msg)};
  return e.with("field", std::move(field));
}

struct Unit {};

/// A value or an Error. Access to value() on an error is a bug and aborts in debug builds.
template <class T>
class [[nodiscard]] Result {
 public:
  /// An "internal" error; exists so Result can cross asio::co_spawn, which needs a default.
  Result() : v_(std::in_place_index<1>, Error{Errc::internal, "no result"}) {}
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

}  // namespace parley

/// Returns the error of a Result expression from the enclosing function.
#define PARLEY_TRY(...)                                          \
  do {                                                           \
    auto&& parley_try_r_ = (__VA_ARGS__);                        \
    if (!parley_try_r_) return std::move(parley_try_r_).error(); \
  } while (0)

/// PARLEY_TRY for coroutines: co_returns the error of a Result expression.
#define PARLEY_CO_TRY(...)                                          \
  do {                                                              \
    auto&& parley_try_r_ = (__VA_ARGS__);                           \
    if (!parley_try_r_) co_return std::move(parley_try_r_).error(); \
  } while (0)

#define PARLEY_CONCAT_INNER_(a, b) a##b
#define PARLEY_CONCAT_(a, b) PARLEY_CONCAT_INNER_(a, b)
#define PARLEY_ASSIGN_OR_RETURN_IMPL_(tmp, decl, ret, ...) \
  auto tmp = (__VA_ARGS__);                                \
  if (!tmp) ret std::move(tmp).error();                    \
  decl = std::move(*tmp)

/// Declares `decl` from the value of a Result expression, or returns its error from the
/// enclosing function:  PARLEY_ASSIGN_OR_RETURN(auto app, store.get_app(id));
#define PARLEY_ASSIGN_OR_RETURN(decl, ...) \
  PARLEY_ASSIGN_OR_RETURN_IMPL_(PARLEY_CONCAT_(parley_result_, __LINE__), decl, return, __VA_ARGS__)

/// PARLEY_ASSIGN_OR_RETURN for coroutines (co_returns the error).
#define PARLEY_CO_ASSIGN_OR_RETURN(decl, ...) \
  PARLEY_ASSIGN_OR_RETURN_IMPL_(PARLEY_CONCAT_(parley_result_, __LINE__), decl, co_return, __VA_ARGS__)
