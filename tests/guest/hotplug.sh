#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L2 side of tests/host/hotplug.sh: wait for hot-plugged disks, give each
# one verified I/O as it comes, then wait for them all to go away again.
# A hot-plugged disk is one whose serial starts with "hp" (the host names
# them hpvN for virtio-blk and hpnN for NVMe, docs/hotplug.md).
#
#   ready=1                  the guest is up: the host may plug
#   up.SERIAL=DEV SECS       DEV appeared (SECS: guest uptime)
#   io.SERIAL.status=N       blkverify's exit status on it (0: verified)
#   io.SERIAL.summary=LINE   blkverify's last line
#   verified=OK BAD          every expected disk was seen and tried (or
#                            the wait for them ran out): OK verified,
#                            BAD not
#   removed=N                hot-plugged disks still present when the
#                            last one went (0) or the wait ran out
#
# usage: hotplug.sh DISKS [MiB [TIMEOUT]]   (DISKS: how many to expect;
# MiB per disk for blkverify, default 1, with one pass of 24 transfers,
# two of each size; TIMEOUT seconds for each wait, default 600)
. /test/lib.sh
want=${1:?usage: hotplug.sh DISKS [MiB [TIMEOUT]]}
mib=${2:-1}
limit=${3:-600}
seen=/tmp/hotplug.seen
: >$seen
report_start

# serial DEV: the serial number of block device DEV (vdX or nvmeXnY).
serial() {
	if [ -r "/sys/block/$1/serial" ]; then
		cat "/sys/block/$1/serial"
	else
		cat "/sys/block/$1/device/serial" 2>/dev/null
	fi | tr -d ' '
}

# present: the hot-plugged disks there now, "DEV SERIAL" per line.
present() {
	for b in /sys/block/vd* /sys/block/nvme*n*; do
		[ -e "$b" ] || continue
		s=$(serial "${b##*/}")
		case $s in hp*) echo "${b##*/} $s" ;; esac
	done
}

report "ready=1"
t=0 ok=0 bad=0
while [ $((ok + bad)) -lt "$want" ] && [ $t -lt $((limit * 5)) ]; do
	new=$(present | while read -r d s; do grep -qx "$s" $seen || echo "$d $s"; done)
	if [ -z "$new" ]; then
		sleep 0.2
		t=$((t + 1))
		continue
	fi
	echo "$new" | while read -r d s; do
		report "up.$s=$d $(cut -d' ' -f1 /proc/uptime)"
	done
	# One disk at a time: blkverify is the load, not the prober.
	for s in $(echo "$new" | cut -d' ' -f2); do
		echo "$s" >>$seen
		d=$(echo "$new" | grep " $s\$" | cut -d' ' -f1)
		out=$(/test/blkverify -b "$mib" -p 1 -o 24 "/dev/$d" 2>&1)
		rc=$?
		report "io.$s.status=$rc"
		report "io.$s.summary=$(echo "$out" | tail -n 1)"
		if [ $rc = 0 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
	done
	t=0
done
report "verified=$ok $bad"

t=0
while [ -n "$(present)" ] && [ $t -lt $((limit * 5)) ]; do
	sleep 0.2
	t=$((t + 1))
done
report "removed=$(present | wc -l)"
