/// @file dtype.hpp
/// Element types. A dtype is the C++ storage type itself (float, std::int8_t, ...), plus `f16`
/// where the target has half precision and `s4`, a 4-bit signed weight stored two per byte.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tessera/arch/native.hpp>

namespace tessera {

#if TESSERA_HAS_F16
/// IEEE binary16 storage: ACLE `__fp16` on Arm (arithmetic promotes to float), `_Float16` elsewhere.
#  if defined(__ARM_FP16_FORMAT_IEEE)
using f16 = __fp16;
#  else
using f16 = _Float16;
#  endif
#endif

/// Signed 4-bit weights, packed two per byte: element 2i in the low nibble, 2i+1 in the high
/// nibble (CMSIS-NN order). A tensor of `n` s4 values occupies `(n + 1) / 2` bytes; an odd tail
/// leaves the last high nibble zero.
struct s4 {};

/// Facts about a dtype: its name, its width in bits and its storage type.
template <class T> struct dtype_traits;
template <> struct dtype_traits<float> { static constexpr const char* name = "f32"; static constexpr int bits = 32; using storage = float; };
template <> struct dtype_traits<std::int8_t> { static constexpr const char* name = "s8"; static constexpr int bits = 8; using storage = std::int8_t; };
template <> struct dtype_traits<std::int16_t> { static constexpr const char* name = "s16"; static constexpr int bits = 16; using storage = std::int16_t; };
template <> struct dtype_traits<std::int32_t> { static constexpr const char* name = "s32"; static constexpr int bits = 32; using storage = std::int32_t; };
template <> struct dtype_traits<std::int64_t> { static constexpr const char* name = "s64"; static constexpr int bits = 64; using storage = std::int64_t; };
template <> struct dtype_traits<s4> { static constexpr const char* name = "s4"; static constexpr int bits = 4; using storage = std::uint8_t; };
#if TESSERA_HAS_F16
template <> struct dtype_traits<f16> { static constexpr const char* name = "f16"; static constexpr int bits = 16; using storage = f16; };
#endif

/// Bytes needed to store `n` elements of `T` (sub-byte types round up).
template <class T> constexpr std::size_t storage_bytes(std::size_t n) noexcept {
  return (n * static_cast<std::size_t>(dtype_traits<T>::bits) + 7) / 8;
}

/// Packs `n` values in [-8, 7] into `(n+1)/2` bytes, element 2i in the low nibble.
inline void pack_s4(std::size_t n, const std::int8_t* values, std::uint8_t* packed) noexcept {
  for (std::size_t i = 0; i + 1 < n; i += 2)
    packed[i / 2] = static_cast<std::uint8_t>((values[i] & 0x0F) | ((values[i + 1] & 0x0F) << 4));
  if (n & 1) packed[n / 2] = static_cast<std::uint8_t>(values[n - 1] & 0x0F);
}

/// Element `i` of a packed s4 buffer, sign-extended.
constexpr std::int8_t s4_at(const std::uint8_t* packed, std::size_t i) noexcept {
  const unsigned nib = (i & 1) ? (packed[i / 2] >> 4) : (packed[i / 2] & 0x0F);
  return static_cast<std::int8_t>(static_cast<int>(nib ^ 8u) - 8);
}

/// Unpacks `n` s4 values into one int8 each.
inline void unpack_s4(std::size_t n, const std::uint8_t* packed, std::int8_t* values) noexcept {
  for (std::size_t i = 0; i < n; ++i) values[i] = s4_at(packed, i);
}

}  // namespace tessera
