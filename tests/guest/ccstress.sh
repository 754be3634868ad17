#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in the L2 guest when cc-swiotlb serves it (called by iotest.sh after
# its verified I/O): what a steady workload does not show.
#
#   refused  writes that docs/cc-swiotlb.md says the debugfs files refuse
#            (low above high, high below low, a non-zero high-water mark,
#            a read-only counter; the benchmark while cc-swiotlb serves the
#            default swiotlb, and a malformed benchmark command) fail and
#            change nothing.
#   shrink   the 4 KiB class grown first (low and high 8 MiB: kccd adds
#            chunks), since kccd has already returned what settled after
#            the I/O; then with every class's watermarks lowered (reserve
#            0, low and high 1 byte) and idle_ms 0, kccd returns every
#            chunk but one per class to the provider: the shrink count
#            rises and the bytes held fall.
#   exhaust  every class, now one chunk, gets another only when its depot
#            is empty.  Eight O_DIRECT readers per disk, 4 MiB at a time
#            (their buffers' pages are mostly contiguous, so the segments
#            are up to 512 KiB, and the 512 KiB class has 4 slots), need
#            more slots at once than the classes hold: maps fail (counted),
#            virtio-blk and NVMe return BLK_STS_RESOURCE and the block
#            layer requeues, kccd adds chunks, and every reader ends with
#            the data a serial read saw.
#
# Results as "stress.NAME=VALUE" on the data channel; exit 1 if a reader
# failed or read other data.  A shrink or a map failure that did not happen
# is for the host to judge (tests/host/ccguard.sh), from the counters.
. /test/lib.sh
cc=/sys/kernel/debug/cc_swiotlb
readers=8
mib=8

if [ ! -d $cc ]; then
	report "stress.error=no $cc: cc-swiotlb is off"
	exit 1
fi

# --- refused ---
refused_ok=0 refused_all=0 not_refused=
# refuse NAME FILE VALUE: writing VALUE to FILE must fail and leave FILE as
# it was (for a file that can be read).
refuse() {
	refused_all=$((refused_all + 1))
	_before=$(cat "$2" 2>/dev/null)
	if ! echo "$3" >"$2" 2>/dev/null && [ "$(cat "$2" 2>/dev/null)" = "$_before" ]; then
		refused_ok=$((refused_ok + 1))
	else
		not_refused="$not_refused $1"
	fi
}
refuse low-above-high $cc/4K/low $(($(cat $cc/4K/high) + 1))
refuse high-below-low $cc/4K/high $(($(cat $cc/4K/low) - 1))
refuse hiwater-not-zero $cc/4K/slots_hiwater 5
refuse read-only-counter $cc/4K/chunks 1
b=/sys/kernel/debug/cc_swiotlb_bench
if [ -d $b ]; then
	refuse bench-while-serving $b/run "rate 1 10"
	refuse bench-malformed $b/run "rate"
fi
report "stress.refused=$refused_ok of $refused_all"
report "stress.not_refused=${not_refused# }"

# --- shrink ---
# Something to give back: kccd returns settled chunks down to the low
# watermark by itself, so after the I/O every class may be at its reserve.
if echo $((8 << 20)) >$cc/4K/high && echo $((8 << 20)) >$cc/4K/low; then
	wait_for 20 '[ "$(cat $cc/4K/chunks)" -ge 4 ]'
else
	report "stress.error=cannot raise the 4K class's watermarks"
fi
report "stress.bytes_before=$(cat $cc/bytes)"
report "stress.chunks_before=$(cc_total chunks)"
shrinks=$(cc_total shrinks)
echo 0 >$cc/idle_ms
for c in $cc/*/; do
	echo 1 >"${c}low" && echo 1 >"${c}high" && echo 0 >"${c}reserve" ||
		report "stress.error=cannot set the watermarks in $c"
done
# kccd acts on each write; give it a few passes, until one chunk per class.
classes=$(ls -d $cc/*/ | wc -l)
wait_for 20 '[ "$(cc_total chunks)" -le $classes ]'
report "stress.bytes_after=$(cat $cc/bytes)"
report "stress.chunks_after=$(cc_total chunks)"
report "stress.shrinks=$(($(cc_total shrinks) - shrinks))"

# --- exhaust ---
refills=$(cc_total refills)
for c in $cc/*/; do
	c=${c%/}
	cat "$c/map_failures" >"/tmp/fails0.${c##*/}"
done
disks=
for b in /sys/block/vd* /sys/block/nvme*n*; do
	[ -e "$b" ] && disks="$disks ${b##*/}"
done
start=$(date +%s)
for d in $disks; do
	# The reference: one serial reader, 64 KiB at a time.
	dd if=/dev/$d bs=64K count=$((mib * 16)) iflag=direct 2>/dev/null |
		md5sum >/tmp/ref.$d
	i=0
	while [ $i -lt $readers ]; do
		(
			set -o pipefail
			dd if=/dev/$d bs=4M count=$((mib / 4)) iflag=direct 2>/tmp/err.$d.$i |
				md5sum >/tmp/md5.$d.$i
			echo $? >/tmp/rc.$d.$i
		) &
		i=$((i + 1))
	done
done
wait
ok=0 bad=0
for d in $disks; do
	i=0
	while [ $i -lt $readers ]; do
		if [ "$(cat /tmp/rc.$d.$i)" = 0 ] && cmp -s /tmp/md5.$d.$i /tmp/ref.$d; then
			ok=$((ok + 1))
		else
			bad=$((bad + 1))
			report "stress.reader_failed=$d.$i: exit $(cat /tmp/rc.$d.$i), $(head -c 100 /tmp/err.$d.$i)"
		fi
		i=$((i + 1))
	done
done
report "stress.readers_ok=$ok"
report "stress.readers_bad=$bad"
report "stress.seconds=$(($(date +%s) - start))"
fails=0 by=
for c in $cc/*/; do
	c=${c%/}
	n=$(($(cat "$c/map_failures") - $(cat "/tmp/fails0.${c##*/}")))
	fails=$((fails + n))
	[ $n = 0 ] || by="$by ${c##*/}:$n"
done
report "stress.map_failures=$fails"
report "stress.map_failures_by_class=${by# }"
report "stress.refills=$(($(cc_total refills) - refills))"
[ $bad = 0 ] && [ $ok -gt 0 ]
