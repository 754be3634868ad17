#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the L2 guest for `make run`: who we are, and the bounce-buffer
# statistics before and after some verified disk I/O.
dbg=/sys/kernel/debug/swiotlb

stats() {
	echo "swiotlb statistics ($dbg) $1:"
	for f in $dbg/*; do
		[ -f "$f" ] && printf '    %-26s %s\n' "${f##*/}" "$(cat "$f")"
	done
}

echo
echo "=== L2 guest up: Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo) ==="
echo "    command line: $(cat /proc/cmdline)"
dmesg | grep 'software IO TLB' | sed 's/^/    dmesg: /'
stats "after boot"
rc=0
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	echo "--- verified I/O on /dev/${b##*/} (O_DIRECT, 512 B to 1 MiB) ---"
	/test/blkverify -b 16 "/dev/${b##*/}" || rc=1
done
stats "after I/O"
echo "=== L2 guest done ($([ $rc = 0 ] && echo "data verified" || echo "DATA VERIFICATION FAILED")) ==="
exit $rc
