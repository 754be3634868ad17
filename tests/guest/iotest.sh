#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the L2 guest: verified I/O on every virtio-blk disk, and proof
# from swiotlb's debugfs counters that the data was bounced.  Results go to
# stdout and, as "key=value" lines, to /dev/ttyS1 (vmrun --data).
#
# usage: iotest.sh [MiB per disk]
mib=${1:-32}
dbg=/sys/kernel/debug/swiotlb
data=/dev/ttyS1
fail=0

report() {
	echo "$1"
	[ -c $data ] && echo "$1" >$data
}

[ -c $data ] && stty -F $data raw -echo 2>/dev/null
report "kernel=$(uname -r)"
report "cmdline=$(cat /proc/cmdline)"
if [ ! -d $dbg ]; then
	report "error=no $dbg (CONFIG_DEBUG_FS, or swiotlb not initialised)"
	exit 1
fi
report "swiotlb.nslabs=$(cat $dbg/io_tlb_nslabs)"
# Start the high-water mark from zero (the boot-time partition scan already
# bounced), so that anything above it afterwards is blkverify's I/O.
if ! echo 0 >$dbg/io_tlb_used_hiwater || [ "$(cat $dbg/io_tlb_used_hiwater)" != 0 ]; then
	report "error=cannot reset $dbg/io_tlb_used_hiwater"
	report "result=fail"
	exit 1
fi

disks=0
for b in /sys/block/vd*; do
	[ -e "$b" ] || continue
	d=/dev/${b##*/}
	disks=$((disks + 1))
	out=$(/test/blkverify -b "$mib" "$d" 2>&1)
	rc=$?
	echo "$out"
	report "io.${b##*/}.status=$rc"
	report "io.${b##*/}.summary=$(echo "$out" | tail -n 1)"
	[ $rc = 0 ] || fail=1
done
report "io.disks=$disks"
[ $disks -gt 0 ] || { report "error=no virtio-blk disk found"; fail=1; }

hiwater=$(cat $dbg/io_tlb_used_hiwater)
report "swiotlb.used=$(cat $dbg/io_tlb_used)"
report "swiotlb.used_hiwater=$hiwater"
if [ "$hiwater" -eq 0 ]; then
	report "error=swiotlb high-water mark is 0: the I/O was not bounced"
	fail=1
fi
report "result=$([ $fail = 0 ] && echo pass || echo fail)"
exit $fail
