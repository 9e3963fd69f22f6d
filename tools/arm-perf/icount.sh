#!/bin/sh
# Exact dynamic instruction count of one call of an arm-perf driver's kernel under QEMU
# (qemu-aarch64 for AArch64 at each SVE vector length, qemu-system-arm for the Cortex-M55):
#   tools/arm-perf/icount.sh tools/arm-perf/drivers/requant_s32_sve.cpp [--vl 128,256,512]
#   tools/arm-perf/icount.sh DRIVER.cpp --method both      (plugin and -d exec log, cross-checked)
exec /usr/bin/python3 "$(dirname "$0")/armperf.py" icount "$@"
