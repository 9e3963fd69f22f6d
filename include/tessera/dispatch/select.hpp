/// @file select.hpp
/// Compile-time microkernel selection. A microkernel registers itself for an (op, tag) pair by
/// specializing `ukernel<Op, Tag>` with `using type = ...`. `select_t<Op, Tag>` walks Tag's parent
/// chain until it finds a registration; running off the end of the chain is a compile error that
/// names the op and the tag that was asked for.
#pragma once
#include <tessera/arch/native.hpp>

namespace tessera {

/// Registration point: specialize with `using type = <kernel>;` (in the kernel's own header).
template <class Op, class Tag> struct ukernel {};

namespace detail {
template <class T> inline constexpr bool dependent_false = false;
template <class Op, class Tag> concept has_ukernel = requires { typename ukernel<Op, Tag>::type; };

/// Instantiated only when the chain runs out. Its template arguments (in the compiler's message)
/// name the op and the tag that was requested.
template <class Op, class RequestedTag> struct no_microkernel_for {
  static_assert(dependent_false<Op>,
                "tessera: no microkernel implements this op for the requested arch tag or any of its "
                "parent tags; see the template arguments of no_microkernel_for<Op, Tag> "
                "(add a kernel, or request a tag whose chain reaches one: scalar implements every op)");
  using type = void;
};

template <class Op, class Requested, class Tag, bool = has_ukernel<Op, Tag>> struct walk;
template <class Op, class Requested, class Tag> struct walk<Op, Requested, Tag, true> {
  using type = typename ukernel<Op, Tag>::type;
  using tag = Tag;
};
template <class Op, class Requested, class Tag> struct walk<Op, Requested, Tag, false>
    : walk<Op, Requested, typename Tag::parent> {};
template <class Op, class Requested> struct walk<Op, Requested, void, false> {
  using type = typename no_microkernel_for<Op, Requested>::type;
  using tag = void;
};
}  // namespace detail

/// The microkernel that implements `Op` for `Tag` (or for the nearest parent of `Tag` that has one).
template <class Op, class Tag = arch::native>
using select_t = typename detail::walk<Op, Tag, Tag>::type;

/// The tag on the chain of `Tag` whose kernel `select_t<Op, Tag>` picked.
template <class Op, class Tag = arch::native>
using selected_tag_t = typename detail::walk<Op, Tag, Tag>::tag;

}  // namespace tessera
