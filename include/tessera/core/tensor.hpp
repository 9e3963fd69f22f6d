/// @file tensor.hpp
/// A non-owning view: a pointer, a layout mapping (extents + strides) and quantization parameters.
/// With static extents and a stateless quantization the view is exactly one pointer.
#pragma once
#include <cstddef>
#include <tessera/core/extents.hpp>
#include <tessera/core/layout.hpp>
#include <tessera/core/quant.hpp>

namespace tessera {

/// Non-owning view of `T` elements laid out by `Layout` over `Ext`, quantized as `Q`.
template <class T, class Ext, class Layout = layout::row_major, class Q = quant::none>
struct tensor_view {
  using element_type = T;
  using extents_type = Ext;
  using layout_type = Layout;
  using mapping_type = typename Layout::template mapping<Ext>;
  using quant_type = Q;

  T* data = nullptr;
  [[no_unique_address]] mapping_type map{};
  [[no_unique_address]] Q quant{};

  constexpr const Ext& extents() const noexcept { return map.extents(); }
  static constexpr std::size_t rank() noexcept { return Ext::rank(); }
  constexpr std::size_t extent(std::size_t d) const noexcept { return map.extents().extent(d); }
  /// Number of logical elements.
  constexpr std::size_t size() const noexcept { return map.extents().size(); }
  constexpr std::size_t stride(std::size_t d) const noexcept { return map.stride(d); }
  /// Element at a multi-index (not for packed layouts).
  template <class... I> constexpr T& operator()(I... idx) const noexcept { return data[map(idx...)]; }
};

/// A row-major view over `data` with extents `ext`.
template <class T, class... E>
constexpr auto make_view(T* data, extents<E...> ext) noexcept {
  return tensor_view<T, extents<E...>>{data, {ext}, {}};
}

/// A view with explicit layout and quantization: `make_view<layout::nhwc>(p, ext, quant::per_tensor{s, zp})`.
template <class Layout, class T, class... E, class Q = quant::none>
constexpr auto make_view(T* data, extents<E...> ext, Q q = {}) noexcept {
  return tensor_view<T, extents<E...>, Layout, Q>{data, {ext}, q};
}

}  // namespace tessera
