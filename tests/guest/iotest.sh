#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the L2 guest: verified I/O on every virtio-blk and NVMe disk, and
# proof from the debugfs counters that the data was bounced: by cc-swiotlb
# when it serves the guest (its mappings grew), else by swiotlb's own pools
# (their high-water mark).  Results go to stdout and, as "key=value" lines,
# to /dev/ttyS1 (vmrun --data); with cc_emulation, the emulation's counters
# too ("cc.NAME=VALUE"), cc-swiotlb's ("cc_swiotlb.[CLASS.]NAME=VALUE") and
# its host-grant provider's ("grants.NAME=VALUE").
#
# With HOLD seconds, the guest then says "hold=HOLD" and waits that long
# before exiting, idle, so that the VMM can be queried about a guest whose
# counters no longer move.
#
# usage: iotest.sh [MiB per disk [HOLD [PASSES [stress]]]]   (PASSES:
# blkverify's, 2; "stress": then ccstress.sh, cc-swiotlb's shrink and
# exhaustion, before the verdict)
mib=${1:-32}
hold=${2:-0}
passes=${3:-2}
ccstats=/sys/kernel/debug/x86/cc_emulation/stats
dbg=/sys/kernel/debug/swiotlb
ccdbg=/sys/kernel/debug/cc_swiotlb
fail=0
. /test/lib.sh

report_start
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
[ -d $ccdbg ] && maps0=$(cc_total maps)

# An NVMe controller scans its namespaces after probe: wait for them.
for c in /sys/class/nvme/nvme*; do
	[ -e "$c" ] || continue
	wait_for 20 'ls -d "/sys/block/${c##*/}n"* >/dev/null 2>&1'
done

disks=0
for b in /sys/block/vd* /sys/block/nvme*n*; do
	[ -e "$b" ] || continue
	d=/dev/${b##*/}
	disks=$((disks + 1))
	out=$(/test/blkverify -b "$mib" -p "$passes" "$d" 2>&1)
	rc=$?
	echo "$out"
	report "io.${b##*/}.status=$rc"
	report "io.${b##*/}.summary=$(echo "$out" | tail -n 1)"
	[ $rc = 0 ] || fail=1
done
report "io.disks=$disks"
[ $disks -gt 0 ] || { report "error=no virtio-blk or NVMe disk found"; fail=1; }

hiwater=$(cat $dbg/io_tlb_used_hiwater)
report "swiotlb.used=$(cat $dbg/io_tlb_used)"
report "swiotlb.used_hiwater=$hiwater"
ccmaps=0
if [ -d $ccdbg ]; then
	ccmaps=$(($(cc_total maps) - maps0))
	report "cc_swiotlb.maps=$ccmaps"
	for f in provider bytes chunks_large chunks_small leaked bad_unmaps mask_fallbacks; do
		report "cc_swiotlb.$f=$(cat $ccdbg/$f)"
	done
	for c in $ccdbg/*/; do
		c=${c%/}
		for f in chunks maps map_failures refills shrinks slots_hiwater; do
			report "cc_swiotlb.${c##*/}.$f=$(cat $c/$f)"
		done
	done
	# The host-grant provider's state ("grants.NAME=VALUE").
	[ -r $ccdbg/grants ] &&
		sed 's/^\([a-z_]*\): /grants.\1=/' $ccdbg/grants | while read -r l; do report "$l"; done
fi
if [ "$hiwater" -eq 0 ] && [ "$ccmaps" -eq 0 ]; then
	report "error=swiotlb high-water mark is 0 and cc-swiotlb made no mapping: the I/O was not bounced"
	fail=1
fi
# Before the emulation's counters, which the host compares with QEMU's.
if [ "${4:-}" = stress ]; then
	/test/ccstress.sh || fail=1
fi
if [ -r $ccstats ]; then
	while IFS=': ' read -r k v; do
		report "cc.$k=$v"
	done <$ccstats
fi
report "result=$([ $fail = 0 ] && echo pass || echo fail)"
if [ "$hold" -gt 0 ]; then
	report "hold=$hold"
	sleep "$hold"
fi
exit $fail
