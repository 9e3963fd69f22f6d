#!/bin/sh
# Compile-fail tests: each .cpp in DIR must fail to compile with the sentence named in EXPECT below.
# usage: check.sh COMPILER [FLAGS...] DIR
set -u
dir=$(eval echo "\${$#}")
n=$(($# - 1))
cmd=""
i=0
for a in "$@"; do
  i=$((i + 1))
  [ "$i" -le "$n" ] && cmd="$cmd '$a'"
done
fail=0
check() {  # file expected-substring
  out=$(eval "$cmd -fsyntax-only '$dir/$1'" 2>&1)
  if [ $? -eq 0 ]; then echo "FAIL $1: compiled, but must not"; fail=1; return; fi
  if ! printf '%s' "$out" | grep -q "$2"; then
    echo "FAIL $1: error does not say '$2':"; printf '%s\n' "$out" | head -20; fail=1; return
  fi
  echo "ok   $1: rejected with '$2'"
}
check no_kernel.cpp "tessera: no microkernel implements this op"
check no_kernel.cpp "no_microkernel_for<.*op_without_kernels.*tessera::arch::helium"
check requant_s64_s8.cpp "int64 accumulators (16x8 kernels) produce int16"
exit $fail
