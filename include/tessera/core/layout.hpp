/// @file layout.hpp
/// Layouts map a multi-index to an element offset. A layout is a policy type with a nested
/// `mapping<Extents>`; mappings of static extents are empty. Operators check layouts as types
/// (conv2d wants `nhwc` activations and `ohwi` weights) instead of trusting a runtime flag.
#pragma once
#include <array>
#include <cstddef>
#include <tessera/core/extents.hpp>

namespace tessera::layout {

/// Contiguous, last index fastest (C order).
struct row_major {
  template <class Ext> struct mapping {
    [[no_unique_address]] Ext ext{};
    static constexpr bool is_contiguous = true;
    constexpr const Ext& extents() const noexcept { return ext; }
    /// Distance in elements between neighbours along dimension `d`.
    constexpr std::size_t stride(std::size_t d) const noexcept {
      std::size_t s = 1;
      for (std::size_t i = Ext::rank(); i-- > d + 1;) s *= ext.extent(i);
      return s;
    }
    template <class... I> constexpr std::size_t operator()(I... idx) const noexcept {
      static_assert(sizeof...(I) == Ext::rank(), "tessera::layout: one index per dimension");
      std::size_t off = 0, d = 0;
      ((off = off * ext.extent(d++) + static_cast<std::size_t>(idx)), ...);
      return off;
    }
    /// Elements the view spans.
    constexpr std::size_t required_span() const noexcept { return ext.size(); }
  };
};

/// Arbitrary per-dimension strides in elements (views into a larger buffer, padded rows).
struct strided {
  template <class Ext> struct mapping {
    [[no_unique_address]] Ext ext{};
    std::array<std::size_t, Ext::rank()> strides{};
    static constexpr bool is_contiguous = false;
    constexpr const Ext& extents() const noexcept { return ext; }
    constexpr std::size_t stride(std::size_t d) const noexcept { return strides[d]; }
    template <class... I> constexpr std::size_t operator()(I... idx) const noexcept {
      static_assert(sizeof...(I) == Ext::rank(), "tessera::layout: one index per dimension");
      std::size_t off = 0, d = 0;
      ((off += static_cast<std::size_t>(idx) * strides[d++]), ...);
      return off;
    }
    constexpr std::size_t required_span() const noexcept {
      std::size_t span = 1;
      for (std::size_t d = 0; d < Ext::rank(); ++d) {
        if (ext.extent(d) == 0) return 0;
        span += (ext.extent(d) - 1) * strides[d];
      }
      return span;
    }
  };
};

/// Activations: [N, H, W, C], C fastest (TFLite's layout).
struct nhwc {
  template <class Ext> struct mapping : row_major::mapping<Ext> {
    static_assert(Ext::rank() == 4, "tessera::layout::nhwc needs rank-4 extents [N,H,W,C]");
    constexpr std::size_t n() const noexcept { return this->ext.template get<0>(); }
    constexpr std::size_t h() const noexcept { return this->ext.template get<1>(); }
    constexpr std::size_t w() const noexcept { return this->ext.template get<2>(); }
    constexpr std::size_t c() const noexcept { return this->ext.template get<3>(); }
  };
};

/// Convolution weights: [O, KH, KW, I], I fastest (TFLite's layout).
struct ohwi {
  template <class Ext> struct mapping : row_major::mapping<Ext> {
    static_assert(Ext::rank() == 4, "tessera::layout::ohwi needs rank-4 extents [O,KH,KW,I]");
    constexpr std::size_t o() const noexcept { return this->ext.template get<0>(); }
    constexpr std::size_t kh() const noexcept { return this->ext.template get<1>(); }
    constexpr std::size_t kw() const noexcept { return this->ext.template get<2>(); }
    constexpr std::size_t i() const noexcept { return this->ext.template get<3>(); }
  };
};

/// An opaque microkernel-specific layout (packed weights). `Format` names the packing, e.g.
/// `p12x1b` for "12 columns interleaved, bias in front", and supplies
/// `static std::size_t packed_bytes(const Ext&)`. Elements are not addressable one by one.
template <class Format> struct packed {
  template <class Ext> struct mapping {
    [[no_unique_address]] Ext ext{};
    static constexpr bool is_contiguous = false;
    constexpr const Ext& extents() const noexcept { return ext; }
    /// Bytes of packed storage for these logical extents.
    constexpr std::size_t required_bytes() const noexcept { return Format::packed_bytes(ext); }
  };
};

}  // namespace tessera::layout
