/// @file extents.hpp
/// Extents whose dimensions are static (`c<N>`, a type, zero bytes) or dynamic (`std::size_t`).
/// Like CuTe's shapes and C++23 std::extents; a fully static extents object is empty.
#pragma once
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tessera {

/// A compile-time extent (or any compile-time size): `c<8>` is `std::integral_constant<size_t, 8>`.
template <std::size_t N> using c = std::integral_constant<std::size_t, N>;

/// Marks "not known at compile time" in `static_extent()`.
inline constexpr std::size_t dynamic_extent = static_cast<std::size_t>(-1);

namespace detail {
template <class E> struct extent_traits { static constexpr bool valid = false; };
template <> struct extent_traits<std::size_t> {
  static constexpr bool valid = true;
  static constexpr std::size_t static_value = dynamic_extent;
};
template <std::size_t N> struct extent_traits<std::integral_constant<std::size_t, N>> {
  static constexpr bool valid = true;
  static constexpr std::size_t static_value = N;
};
}  // namespace detail

/// One extent per dimension, each `c<N>` (static) or `std::size_t` (dynamic); row-major order.
template <class... E> class extents {
  static_assert((detail::extent_traits<E>::valid && ...),
                "tessera::extents: every dimension must be c<N> (static) or std::size_t (dynamic)");

 public:
  /// Number of dimensions.
  static constexpr std::size_t rank() noexcept { return sizeof...(E); }
  /// Number of dynamic dimensions.
  static constexpr std::size_t rank_dynamic() noexcept {
    return ((detail::extent_traits<E>::static_value == dynamic_extent ? 1 : 0) + ... + 0);
  }
  /// True when every dimension is static: the object is empty and `static_size` is a constant.
  static constexpr bool is_static = rank_dynamic() == 0;
  /// Extent `I` if static, else `dynamic_extent`.
  static constexpr std::size_t static_extent(std::size_t i) noexcept {
    constexpr std::size_t v[] = {detail::extent_traits<E>::static_value..., 0};
    return v[i];
  }

  constexpr extents() noexcept = default;
  /// One value per dimension; static ones are their `c<N>{}` (checked equal in debug builds).
  constexpr explicit extents(E... e) noexcept : e_(e...) {}

  /// Extent of dimension `I` (compile-time index).
  template <std::size_t I> constexpr std::size_t get() const noexcept {
    return static_cast<std::size_t>(std::get<I>(e_));
  }
  /// Extent of dimension `i` (run-time index).
  constexpr std::size_t extent(std::size_t i) const noexcept {
    return extent_impl(i, std::index_sequence_for<E...>{});
  }
  constexpr std::size_t operator[](std::size_t i) const noexcept { return extent(i); }
  /// Product of all extents (1 for rank 0).
  constexpr std::size_t size() const noexcept {
    return size_impl(std::index_sequence_for<E...>{});
  }
  /// `size()` as a compile-time constant when the extents are static.
  static constexpr std::size_t static_size() noexcept
    requires is_static
  {
    return (E::value * ... * std::size_t{1});
  }

  friend constexpr bool operator==(const extents& a, const extents& b) noexcept {
    for (std::size_t i = 0; i < rank(); ++i)
      if (a.extent(i) != b.extent(i)) return false;
    return true;
  }

 private:
  template <std::size_t... I>
  constexpr std::size_t extent_impl(std::size_t i, std::index_sequence<I...>) const noexcept {
    std::size_t r = 0;
    ((i == I ? (r = get<I>(), 0) : 0), ...);
    return r;
  }
  template <std::size_t... I>
  constexpr std::size_t size_impl(std::index_sequence<I...>) const noexcept {
    return (get<I>() * ... * std::size_t{1});
  }
  [[no_unique_address]] std::tuple<E...> e_{};
};

namespace detail {
template <class T> using extent_arg_t =
    std::conditional_t<std::is_integral_v<std::remove_cvref_t<T>>, std::size_t, std::remove_cvref_t<T>>;
}  // namespace detail

/// Builds extents from integers (dynamic) and `c<N>{}` (static): `make_extents(n, c<3>{}, c<3>{})`.
template <class... A> constexpr auto make_extents(A... a) noexcept {
  return extents<detail::extent_arg_t<A>...>(static_cast<detail::extent_arg_t<A>>(a)...);
}

/// `extents` with `R` dynamic dimensions.
template <std::size_t R> using dextents = decltype([]<std::size_t... I>(std::index_sequence<I...>) {
  return extents<std::conditional_t<(I < R), std::size_t, std::size_t>...>{};
}(std::make_index_sequence<R>{}));

}  // namespace tessera
