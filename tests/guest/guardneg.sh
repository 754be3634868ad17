#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the L2 guest as the DMA guard's negative control: a guest that
# does not emulate a confidential VM shares nothing, so with the VMM's DMA
# guard on its disk I/O must fail or never finish.  Tries verified I/O on
# every virtio-blk and NVMe disk, each in the background, and gives each
# SECS seconds.  Reports "io.DISK.outcome=failed|stuck|passed" (and
# "io.disks=N") on stdout and /dev/ttyS1, and exits 0 only if no I/O
# passed.
#
# A virtio-blk disk present at boot would hang the boot (its probe's first
# read never completes), so the host hot-plugs it: the script says
# "ready=1" and waits up to SECS seconds for a disk named vd*.
#
# usage: guardneg.sh [SECS]
secs=${1:-20}
. /test/lib.sh

report_start
report "ready=1"
wait_for "$secs" 'ls -d /sys/block/vd* >/dev/null 2>&1'
disks=0 passed=0
for b in /sys/block/vd* /sys/block/nvme*n*; do
	[ -e "$b" ] || continue
	d=${b##*/}
	disks=$((disks + 1))
	/test/blkverify -b 1 "/dev/$d" >/tmp/io.$d 2>&1 &
	pid=$!
	if ! wait_for "$secs" '! kill -0 $pid 2>/dev/null'; then
		# Blocked in the kernel on a request the device never completes.
		report "io.$d.outcome=stuck"
	elif wait $pid; then
		report "io.$d.outcome=passed"
		passed=$((passed + 1))
	else
		report "io.$d.outcome=failed"
	fi
	report "io.$d.summary=$(tail -n 1 /tmp/io.$d)"
done
report "io.disks=$disks"
report "result=$([ $passed = 0 ] && echo pass || echo fail)"
[ $passed = 0 ]
