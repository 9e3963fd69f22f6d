/// @file op.hpp
/// The requantize op descriptor that requant microkernels register under.
#pragma once

namespace tessera::op {
/// Requantize `Acc` accumulators (int32/int64) to `Out` with an `output_stage<Q>`.
template <class Acc, class Out, class Q> struct requantize {};
}  // namespace tessera::op
