/// @file quant.hpp
/// Quantization as types. The real value of a stored integer q is `scale * (q - zero_point)`.
/// Symmetric schemes carry no zero point at all (it is 0), so they cost nothing to store.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tessera::quant {

/// Not quantized (float tensors, raw accumulators).
struct none {};

/// One scale and zero point for the whole tensor (TFLite asymmetric activations).
struct per_tensor {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// One scale, zero point 0 (s16 activations, per-tensor symmetric weights).
struct per_tensor_symmetric {
  float scale = 1.0f;
  static constexpr std::int32_t zero_point = 0;
};

/// One scale per slice along `Axis`, zero point 0 (TFLite per-channel weights: Axis 0 of OHWI,
/// Axis 3 of depthwise [1,KH,KW,OC]). `scales` is caller-owned.
template <int Axis> struct per_channel {
  static constexpr int axis = Axis;
  static constexpr std::int32_t zero_point = 0;
  const float* scales = nullptr;
  std::size_t channels = 0;
};

/// True for the quantization types above that describe quantized storage.
template <class Q> inline constexpr bool is_quantized = true;
template <> inline constexpr bool is_quantized<none> = false;

}  // namespace tessera::quant
