#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L2 side of tests/host/pool.sh: report the memory map the guest got, so
# that the host can find the shared pool's window in it, then hold still
# for SECS seconds (default 20) while the host queries QEMU.
#
#   e820.N=START-END TYPE     every e820 entry the kernel printed
#   iomem.N=LINE              every top-level /proc/iomem entry
#   ready=1                   the guest is up; hold= when it stops holding
#
# usage: pool.sh [SECS]
. /test/lib.sh
report_start
n=0
dmesg | sed -n 's/.*BIOS-e820: \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\] \(.*\)/\1-\2 \3/p' |
while read -r line; do
	report "e820.$n=$line"
	n=$((n + 1))
done
n=0
grep -v '^ ' /proc/iomem | while read -r line; do
	report "iomem.$n=$line"
	n=$((n + 1))
done
report "ready=1"
sleep "${1:-20}"
report "hold=done"
