/// @file intrinsics_end.hpp
/// Closes the region intrinsics_begin.hpp opened (restores the warning state). No include guard.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
