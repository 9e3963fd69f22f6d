// Must NOT compile: an op with no microkernel anywhere on the requested tag's chain.
#include <tessera/tessera.hpp>

namespace { struct op_without_kernels {}; }

int main() {
  using k = tessera::select_t<op_without_kernels, tessera::arch::helium>;
  return sizeof(k*) == 0;
}
