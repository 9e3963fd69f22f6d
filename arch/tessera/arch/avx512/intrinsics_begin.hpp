/// @file intrinsics_begin.hpp
/// Opens a region of AVX-512 intrinsic code; close it with intrinsics_end.hpp. Includes
/// <immintrin.h> and, for GCC, silences -Wuninitialized / -Wmaybe-uninitialized: GCC 12.2's
/// AVX-512 headers seed every unmasked intrinsic's pass-through with a self-initialized
/// `__Y = __Y` (GCC PR 105593, fixed in 12.3), which those warnings report inside the callers, so
/// a user's -Werror build would fail on tessera's headers. No include guard: one pair per header.
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
