/// @file conv_indirect.hpp
/// The indirect-GEMM driver behind conv2d (`conv_algorithm::indirect_gemm`): instead of copying
/// each output pixel's window into a panel, it writes one pointer per pixel and kernel tap (to
/// the tap's group_in_c input channels, or to a zero row for taps in the padding) and lets a GEMM
/// microkernel with an indirect entry (kernels/gemm/op_f32.hpp) read the input through them.
///
/// Workspace (caller-owned, pointer-aligned): the pointers of `tiles` tiles of mr pixels
/// (tile-major, tap-major inside a tile, the layout op_f32.hpp defines), then the zero row.
/// Blocks of tiles * mr output pixels are processed in order; the pointers of a block are
/// rebuilt for every block and group (a few integer operations per pointer, against kc MACs x
/// out_c per pointer in the GEMM).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <tessera/core/status.hpp>
#include <tessera/ops/conv_geometry.hpp>

namespace tessera::detail {

/// Bytes of the indirect workspace holding `tiles` tiles of mr pixels (pointers, then the zero row).
template <class T>
constexpr std::size_t indirect_workspace_bytes(const conv_geometry& g, std::size_t mr, std::size_t tiles) noexcept {
  return tiles * mr * g.taps() * sizeof(const T*) + g.group_in_c() * sizeof(T);
}

/// Tiles in the default indirect workspace: up to 256 pixels' pointers (a few KiB for 3x3).
constexpr std::size_t indirect_default_tiles(const conv_geometry& g, std::size_t mr) noexcept {
  return std::max<std::size_t>(1, std::min((g.out_pixels() + mr - 1) / mr, 256 / mr));
}

/// An indirect workspace carved into its parts: `tiles` tiles of pointers at `ind`, then the zero
/// row (`zero`, filled).
template <class T> struct indirect_buffers {
  const T** ind = nullptr;
  T* zero = nullptr;
  std::size_t tiles = 0;
};

/// Carves `workspace` into as many tiles of `tile_bytes` as fit before a zero row of `zero_elems`
/// elements of `fill` (at least one tile, pointer-aligned), or says why it cannot.
template <class T>
status carve_indirect_workspace(void* workspace, std::size_t workspace_bytes, std::size_t tile_bytes,
                                std::size_t zero_elems, T fill, indirect_buffers<T>& b) noexcept {
  const std::size_t zero_bytes = zero_elems * sizeof(T);
  if (workspace == nullptr || workspace_bytes < tile_bytes + zero_bytes)
    return {status_code::buffer_too_small, "conv2d: workspace smaller than min_workspace_bytes() (one tile of pointers)"};
  if (reinterpret_cast<std::uintptr_t>(workspace) % alignof(const T*) != 0)
    return {status_code::invalid_argument, "conv2d: workspace is not pointer-aligned (indirect GEMM)"};
  b.tiles = (workspace_bytes - zero_bytes) / tile_bytes;
  b.ind = static_cast<const T**>(workspace);
  b.zero = reinterpret_cast<T*>(static_cast<unsigned char*>(workspace) + b.tiles * tile_bytes);
  std::fill(b.zero, b.zero + zero_elems, fill);
  return status::success();
}

/// Writes the pointers of output pixels [p0, p0 + cnt) (flattened over batch, rows, columns) of
/// group channels [c0, c0 + group_in_c) into `ind` (entry of pixel p0 + i, tap t at
/// (i / mr) * taps * mr + t * mr + i % mr).
template <class T>
void indirect_pointers(const conv_geometry& g, const T* in, std::size_t c0, const T* zero, std::size_t p0,
                       std::size_t cnt, std::size_t mr, const T** ind) noexcept {
  const std::size_t ks = g.taps(), kw = g.kernel_w;
  std::size_t ox = p0 % g.out_w, oy = p0 / g.out_w % g.out_h, n = p0 / (g.out_w * g.out_h);
  const auto ih = static_cast<std::int64_t>(g.in_h), iw = static_cast<std::int64_t>(g.in_w);
  for (std::size_t i = 0; i < cnt; ++i) {
    const T** e = ind + (i / mr) * ks * mr + i % mr;
    const T* image = in + n * g.in_h * g.in_w * g.in_c + c0;
    const std::int64_t iy0 = static_cast<std::int64_t>(oy * g.stride_h) - static_cast<std::int64_t>(g.pad_top);
    const std::int64_t ix0 = static_cast<std::int64_t>(ox * g.stride_w) - static_cast<std::int64_t>(g.pad_left);
    for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
      const std::int64_t iy = iy0 + static_cast<std::int64_t>(ky * g.dilation_h);
      const bool row_in = iy >= 0 && iy < ih;
      const T* row = row_in ? image + static_cast<std::size_t>(iy) * g.in_w * g.in_c : nullptr;
      for (std::size_t kx = 0; kx < kw; ++kx) {
        const std::int64_t ix = ix0 + static_cast<std::int64_t>(kx * g.dilation_w);
        e[(ky * kw + kx) * mr] = row_in && ix >= 0 && ix < iw ? row + static_cast<std::size_t>(ix) * g.in_c : zero;
      }
    }
    if (++ox == g.out_w) {
      ox = 0;
      if (++oy == g.out_h) oy = 0, ++n;
    }
  }
}

/// For each block of output pixels and each group: builds the block's pointers and calls
/// `gemm(first_pixel, pixels, ind, group)`. `fill` is the zero row's value (the input zero point).
template <class T, class Gemm>
status indirect_drive(const conv_geometry& g, const T* in, T fill, std::size_t mr, void* workspace,
                      std::size_t workspace_bytes, Gemm&& gemm) noexcept {
  const std::size_t icg = g.group_in_c();
  indirect_buffers<T> b;
  TESSERA_TRY(carve_indirect_workspace(workspace, workspace_bytes, mr * g.taps() * sizeof(const T*), icg, fill, b));
  const T** ind = b.ind;
  const T* zero = b.zero;
  const std::size_t m = g.out_pixels(), block = b.tiles * mr;
  for (std::size_t p0 = 0; p0 < m; p0 += block) {
    const std::size_t cnt = std::min(block, m - p0);
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
      indirect_pointers(g, in, grp * icg, zero, p0, cnt, mr, ind);
      gemm(p0, cnt, static_cast<const T* const*>(ind), grp);
    }
  }
  return status::success();
}

}  // namespace tessera::detail
