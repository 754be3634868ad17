#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L2 side of make bench-grow (tests/host/growbench.py): grow shared memory
# by MIB (default 64) four ways through cc_swiotlb_grow/ in debugfs
# (CONFIG_CC_SWIOTLB_GROW_BENCH; boot with cc_emulation cc_swiotlb=off),
# holding still around each growth so that the host can read KVM's and
# QEMU's counters:
#
#   4k            4 KiB pages scattered through memory, converted one by one
#   2m            2 MiB-aligned chunks, converted one by one
#   grant-kernel  one ACQUIRE, served from KVM's pool (prefill >= MIB)
#   grant-exit    one ACQUIRE that KVM's pool cannot serve (its first
#                 pooled granule held meanwhile), answered by QEMU
#
# For each STEP: before.STEP=1, then run.STEP=RESULT (the module's line),
# emu.STEP.NAME=DELTA for the emulation's counters (direct-map splits, TLB
# flush requests, hypercalls that shared pages), after.STEP=1 while still
# held, then the memory is given back.  Last: done=1.  First, bad writes
# to run must be refused (refuse.NAME=ERROR): an unknown mode, 0 MiB, more
# than 1024 MiB, no size; and, while the 2m growth is held, another one.
#
# usage: grow.sh [MIB [SECS]]
. /test/lib.sh
g=/sys/kernel/debug/cc_swiotlb_grow
e=/sys/kernel/debug/x86/cc_emulation/stats
hc=/sys/kernel/debug/cc_swiotlb_hc
mib=${1:-64}
secs=${2:-3}

emu() { sed -n "s/^$1: //p" $e; }
counters="direct_map_2m_splits direct_map_1g_splits tlb_flush_requests to_shared_exits to_shared_calls"

# step NAME MODE
step() {
	report "before.$1=1"
	sleep "$secs"
	for c in $counters; do eval "b_$c=\$(emu $c)"; done
	if echo "$2 $mib" >$g/run; then
		report "run.$1=$(cat $g/result)"
	else
		report "run.$1=error"
	fi
	for c in $counters; do eval "report \"emu.$1.$c=\$((\$(emu $c) - b_$c))\""; done
	[ "$1" = 2m ] && refuse held "2m 2"
	report "after.$1=1"
	sleep "$secs"
	echo release >$g/run
	# QEMU sees a released grant at its next scan, at most 1 s away.
	sleep 2
}

# refuse NAME CMD: CMD written to run must fail; refuse.NAME=the error.
refuse() {
	if err=$( (echo "$2" >$g/run) 2>&1); then
		report "refuse.$1=accepted"
	else
		report "refuse.$1=${err##*: }"
	fi
}

report_start
[ -w $g/run ] && [ -r $e ] || { report "error=no $g/run or $e"; exit 1; }
refuse mode "bogus $mib"
refuse zero "4k 0"
refuse size "4k 1025"
refuse form "4k"
step 4k 4k
step 2m 2m
step grant-kernel grant
# Hold the lowest pooled granule, so that no run of MIB is pooled.
echo "1 1 0 0" >$hc/call
hold=$(cut -d' ' -f5 <$hc/result)
report "hold=$hold"
step grant-exit grant
echo "2 $hold 1 0" >$hc/call
report "done=1"
