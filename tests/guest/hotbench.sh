#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L2 side of the hot-plug benchmark (tests/host/hotbench.sh, make bench):
# verified io_uring load (ioload) on every disk whose serial starts with
# "bn" as it is hot-plugged, and the guest's bounce-buffer state sampled
# once a second until the host stops the guest.
#
#   ready=1                 the guest is up and sampling: the host may plug
#   up.SERIAL=DEV T, first.SERIAL=T, sample=..., disk.SERIAL=...,
#   quiesced=...            ioload's lines (tests/guest/ioload.c); after
#                           quiesced= the host may take the disks away
#   ioload=STATUS           ioload's exit status (0: all verified)
#   irq.NAME=N              interrupts taken from ready= to ioload's end,
#                           summed over the CPUs: each named row of
#                           /proc/interrupts (LOC, RES, CAL, IWI...), "dev"
#                           for the device interrupts together, and
#                           "sirq.NAME" for each row of /proc/softirqs;
#                           and "cpu.STATE", the CPUs' time in USER_HZ
#                           ticks (/proc/stat: user, system, irq,
#                           softirq, idle, iowait, steal)
#   prof.FUNCTION=TICKS,    the kernel's tick profile over the same
#   prof.ticks=TICKS        stretch, when the kernel has one (profile= on
#                           the command line, tests/guest/kprofile.sh):
#                           the 30 functions with the most ticks, and the
#                           ticks in the kernel in all; prof.error=MESSAGE
#                           when kprofile.sh could not read it
#   gs=T KEY=VALUE...       once a second, from T (guest uptime) on, each
#                           KEY only when its VALUE changed since the
#                           last gs= line (the first has them all):
#                           shared_pages (the emulation's count of pages
#                           converted to shared), conversions (pages
#                           converted so far), swiotlb_used,
#                           swiotlb_hiwater (the most used since boot)
#                           and swiotlb_slabs (swiotlb's default pool,
#                           slabs of 2 KiB; with CONFIG_SWIOTLB_DYNAMIC
#                           the pools it added as well), swiotlb_transient
#                           (slabs in transient pools, "-" without
#                           CONFIG_SWIOTLB_DYNAMIC), cc_bytes
#                           (cc-swiotlb's pool), grant_bytes (held from
#                           the host), classes (cc-swiotlb's size
#                           classes, comma-separated) and, in the same
#                           order, chunks, used and fails (each class's
#                           chunks, slots out of the depot: mapped or in
#                           a per-CPU cache, and map failures); the host
#                           (hotbench.py) writes them out as
#                           CLASS.chunks, CLASS.used and CLASS.fails
#   removed=N               hot-plugged disks still present when the wait
#                           for their removal ended (0: all gone)
#   cc.NAME=VALUE           the emulation's counters, SETTLE seconds later
#   done=1                  the last line
#
# usage: hotbench.sh DISKS RUN [SETTLE [WAIT [INFLIGHT [DEPTH]]]]
#   DISKS: disks to expect in all (the one at boot included); RUN: seconds
#   of load once they are all up; SETTLE: seconds to sample on once they
#   are gone (default 30); WAIT: seconds to wait for the disks to come,
#   and then to go (default 900); INFLIGHT and DEPTH: ioload's transfers
#   in flight on all disks together (64) and at most on one disk (4); each
#   disk's first max(8, DEPTH) MiB are driven, so that each transfer slot
#   has 1 MiB of it, room for the largest transfer
. /test/lib.sh
usage="usage: hotbench.sh DISKS RUN [SETTLE [WAIT [INFLIGHT [DEPTH]]]]"
want=${1:?$usage}
run=${2:?$usage}
settle=${3:-30}
limit=${4:-900}
inflight=${5:-64}
depth=${6:-4}
span=$((depth > 8 ? depth : 8))
ccstats=/sys/kernel/debug/x86/cc_emulation/stats
dbg=/sys/kernel/debug/swiotlb
ccdbg=/sys/kernel/debug/cc_swiotlb

# put KEY VALUE: append " KEY=VALUE" to the sample line when VALUE is not
# what the last sample sent for KEY (hotbench.py carries values forward).
# Every byte on the data channel is a port write, a VM exit: a line of
# only what changed keeps the sampler's cost small, and about the same for
# every variant (docs/bench.md).
put() {
	case $1 in
	*.*) _n=p_${1%%.*}_${1#*.} ;;
	*) _n=p_$1 ;;
	esac
	eval "_o=\${$_n-}"
	[ "$_o" = "$2" ] && [ -n "$_o" ] && return
	eval "$_n=\$2"
	_l="$_l $1=$2"
}

# get FILE: FILE's first line in _v ("-" if none), with no fork.
get() {
	_v=-
	[ -r "$1" ] && read -r _v <"$1"
}

# add KEY FILE: put KEY and FILE's first line.
add() {
	get "$2"
	put "$1" "$_v"
}

# sample: one "gs=" line.  Only shell built-ins and reads, so that a
# sample costs the guest little.
sample() {
	read -r _up _ </proc/uptime
	_l="gs=$_up"
	if [ -r $ccstats ]; then
		while IFS=': ' read -r _k _v; do
			case $_k in
			shared_pages) put shared_pages "$_v" ;;
			to_shared_pages) put conversions "$_v" ;;
			esac
		done <$ccstats
	fi
	add swiotlb_used $dbg/io_tlb_used
	add swiotlb_hiwater $dbg/io_tlb_used_hiwater
	add swiotlb_slabs $dbg/io_tlb_nslabs
	add swiotlb_transient $dbg/io_tlb_transient_nslabs
	if [ -d $ccdbg ]; then
		add cc_bytes $ccdbg/bytes
		if [ -r $ccdbg/grants ]; then
			while IFS=': ' read -r _k _v; do
				[ "$_k" = held_bytes ] && put grant_bytes "$_v"
			done <$ccdbg/grants
		fi
		# One field a kind for all classes: the slots used change
		# every second in most classes, and a field each would cost
		# variant 4 twice the bytes of variant 2's samples.
		_cl= _cn= _cu= _cf=
		for _c in $ccdbg/*/; do
			_c=${_c%/}
			[ -r "$_c/chunks" ] || continue
			_cl="$_cl,${_c##*/}"
			get "$_c/chunks"
			_cn="$_cn,$_v"
			get "$_c/slots_used"
			_cu="$_cu,$_v"
			get "$_c/map_failures"
			_cf="$_cf,$_v"
		done
		if [ -n "$_cl" ]; then
			put classes "${_cl#,}"
			put chunks "${_cn#,}"
			put used "${_cu#,}"
			put fails "${_cf#,}"
		fi
	fi
	# To the data channel only: a line a second on L2's serial console
	# would cost more than the sample.
	[ -c $data ] && echo "$_l" >$data
}

# present: how many hot-plugged bn disks (all but bn0, the one at boot)
# are there now.
present() {
	_n=0
	for _b in /sys/block/vd* /sys/block/nvme*n*; do
		[ -e "$_b" ] || continue
		_s=-
		if [ -r "$_b/serial" ]; then
			read -r _s <"$_b/serial"
		elif [ -r "$_b/device/serial" ]; then
			read -r _s <"$_b/device/serial"
		fi
		case $_s in bn0) ;; bn*) _n=$((_n + 1)) ;; esac
	done
	echo $_n
}

# irq_counts: "NAME TOTAL" lines, as irq.NAME= above describes.
irq_counts() {
	awk 'FILENAME == "/proc/stat" {
		if ($1 == "cpu") {
			split("user nice system idle iowait irq softirq steal", st)
			for (i = 1; i <= 8; i++)
				t["cpu." st[i]] = $(i + 1)
		}
		next
	     }
	     FNR == 1 { ncpu = NF; next }
	     {
		n = 0
		for (i = 2; i <= ncpu + 1 && i <= NF; i++)
			if ($i ~ /^[0-9]+$/)
				n += $i
		k = $1
		sub(":", "", k)
		if (FILENAME ~ /softirqs/)
			k = "sirq." k
		else if (k ~ /^[0-9]+$/)
			k = "dev"
		t[k] += n
	     }
	     END { for (k in t) print k, t[k] }' \
		/proc/interrupts /proc/softirqs /proc/stat
}

report_start
(while :; do sample; sleep 1; done) &
sampler=$!
irq_counts >/tmp/irq.start
# A write sets the tick profile's counts to zero.
[ -w /proc/profile ] && echo >/proc/profile
report "ready=1"
/test/ioload -p bn -n "$want" -r "$run" -w "$limit" -T "$inflight" -q "$depth" -b "$span" -o $data
st=$?
irq_counts >/tmp/irq.end
# kprofile.sh copies the profile first thing, then sorts it out.
/test/kprofile.sh 30 >/tmp/prof 2>/tmp/prof.err || : >/tmp/prof
report "ioload=$st"
awk 'FNR == NR { a[$1] = $2; next } { print "irq." $1 "=" $2 - a[$1] }' \
	/tmp/irq.start /tmp/irq.end | sort | while read -r l; do report "$l"; done
while read -r t f; do
	case $f in
	'(all)') report "prof.ticks=$t" ;;
	*) report "prof.$f=$t" ;;
	esac
done </tmp/prof
[ -s /tmp/prof.err ] && report "prof.error=$(head -n 1 /tmp/prof.err)"

t=0
while [ "$(present)" -gt 0 ] && [ $t -lt $((limit * 5)) ]; do
	sleep 0.2
	t=$((t + 1))
done
report "removed=$(present)"
# Sample on while the pools shrink back.
sleep "$settle"
kill $sampler
wait $sampler 2>/dev/null
if [ -r $ccstats ]; then
	while IFS=': ' read -r k v; do
		report "cc.$k=$v"
	done <$ccstats
fi
report "done=1"
