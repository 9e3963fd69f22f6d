#!/bin/sh
# llvm-mca-16 on the hot inner loop of an arm-perf driver (see README.md):
#   tools/arm-perf/mca.sh tools/arm-perf/drivers/requant_s32_neon.cpp [--cpu cortex-a55,neoverse-n2]
#   tools/arm-perf/mca.sh DRIVER.cpp --target m55 --compiler clang --show-asm
#   tools/arm-perf/mca.sh DRIVER.cpp --list-loops          (then --loop N to pick another loop)
exec /usr/bin/python3 "$(dirname "$0")/armperf.py" mca "$@"
