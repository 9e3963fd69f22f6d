/// @file status.hpp
/// Run-time validation results. No exceptions, no allocation: a code plus a static message, so
/// it works with -fno-exceptions -fno-rtti on Cortex-M.
#pragma once
#include <cstdint>

namespace tessera {

/// What went wrong, coarsely; the message says exactly what.
enum class status_code : std::uint8_t {
  ok = 0,
  invalid_argument,   ///< a parameter is out of its domain (zero size, negative scale, ...)
  shape_mismatch,     ///< tensors that must agree do not
  overflow,           ///< a size computation would overflow
  buffer_too_small,   ///< caller-provided memory is smaller than the size query asked for
  unsupported,        ///< valid, but no path implements it on this build/CPU
};

/// Result of a run-time check: `ok()` or a code with a human-readable, static message.
class [[nodiscard]] status {
 public:
  constexpr status() noexcept = default;
  constexpr status(status_code code, const char* message) noexcept : code_(code), message_(message) {}
  /// The success value.
  static constexpr status success() noexcept { return {}; }
  constexpr bool ok() const noexcept { return code_ == status_code::ok; }
  constexpr explicit operator bool() const noexcept { return ok(); }
  constexpr status_code code() const noexcept { return code_; }
  /// Never null: "ok" on success.
  constexpr const char* message() const noexcept { return message_; }

 private:
  status_code code_ = status_code::ok;
  const char* message_ = "ok";
};

/// Name of a status code, for logs.
constexpr const char* to_string(status_code c) noexcept {
  switch (c) {
    case status_code::ok: return "ok";
    case status_code::invalid_argument: return "invalid_argument";
    case status_code::shape_mismatch: return "shape_mismatch";
    case status_code::overflow: return "overflow";
    case status_code::buffer_too_small: return "buffer_too_small";
    case status_code::unsupported: return "unsupported";
  }
  return "unknown";
}

/// Returns early from the enclosing function when `expr` is not ok.
#define TESSERA_TRY(...)                                \
  do {                                                  \
    const ::tessera::status tessera_st_ = (__VA_ARGS__); \
    if (!tessera_st_.ok()) return tessera_st_;     \
  } while (0)

}  // namespace tessera
