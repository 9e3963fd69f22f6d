// TFLite's common.cc: MultiplyByQuantizedMultiplier defined out of line, in its own translation
// unit, as current TFLite and TFLite Micro build it (the `tflite_ref_call` baseline).
#include "tflite_reference.hpp"

namespace tflite_ref {

std::int32_t MultiplyByQuantizedMultiplierCall(std::int32_t x, std::int32_t quantized_multiplier, int shift) {
  return MultiplyByQuantizedMultiplier(x, quantized_multiplier, shift);
}
std::int32_t MultiplyByQuantizedMultiplierCall(std::int64_t x, std::int32_t quantized_multiplier, int shift) {
  return MultiplyByQuantizedMultiplier(x, quantized_multiplier, shift);
}

}  // namespace tflite_ref
