#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 (the host kernel): the runs of the hot-plug benchmark
# (make bench, docs/bench.md), one L2 boot per disk kind and bounce-buffer
# variant, one after the other on this one host:
#
#   fixed      upstream swiotlb without CONFIG_SWIOTLB_DYNAMIC, sized at
#              boot as for a confidential guest (FIXED_KERNEL, by default
#              the guest-fixed build, scripts/lib.sh; the others run
#              L2_KERNEL)
#   dynamic    upstream dynamic swiotlb (cc_swiotlb=off)
#   cc-conv    cc-swiotlb converting private pages (no shared pool)
#   cc-grants  cc-swiotlb on host grants (-object shared-pool)
#
# All of them in the emulated confidential guest (cc_emulation) under the
# DMA guard.  Each boots with one disk of its kind (serial bn0), gets
# DISKS-1 more hot-plugged under ioload's verified io_uring load
# (tests/guest/hotbench.sh, tests/host/hotbench.py), then loses them again
# and samples on while the shared memory settles.
#
# With ROUNDS above 1, each kind's variants run ROUNDS times, in the order
# given in odd rounds and the other way round in even ones (for two
# variants: A B, B A, A B...), so that the comparison between them does
# not ride on when in the run each one happened to go.
#
# OUTDIR/KIND-VARIANT/ gets each run's CSV files, summary.json, the
# consoles and the guest's data (rounds after the first:
# OUTDIR/KIND-VARIANT-rROUND/); OUTDIR/rounds a line "KIND ROUND VARIANT..."
# per round, in the order the round ran; OUTDIR/results one line per
# check, each name with -rROUND after the first round:
#
#   bench-KIND-VARIANT   the run went through: L2 up, every disk plugged
#                        and removed, the guest's samples, totals and
#                        kernel profile out, and L1's own kernel profile
#                        when L1 has one (profile= on its command line)
#                        (its I/O errors, verification failures, guard
#                        violations and console problems are reported,
#                        not judged: the fixed pool is expected to run out)
#   bench-KIND-cc-grants-clean   no I/O error, no verification failure,
#                        no guard violation, a clean console
#
# INFLIGHT and DEPTH go to ioload (tests/guest/ioload.c) as -T and -q:
# transfers in flight on all disks together (64) and at most on one disk
# (4); each open disk gets INFLIGHT / disks open, at least 1.
#
# usage: hotbench.sh OUTDIR DISKS RUN SETTLE "KINDS" "VARIANTS" [ROUNDS [INFLIGHT DEPTH]]
#   e.g. hotbench.sh /tmp/b 50 30 30 "virtio-blk nvme" "fixed dynamic cc-conv cc-grants"
set -u
. "$(dirname "$0")/../../scripts/lib.sh"
. "$TOP/tests/host/lib.sh"
usage="usage: hotbench.sh OUTDIR DISKS RUN SETTLE KINDS VARIANTS [ROUNDS [INFLIGHT DEPTH]]"
top=${1:?$usage}
n=${2:?$usage}
load=${3:?$usage}
settle=${4:?$usage}
kinds=${5:?$usage}
variants=${6:?$usage}
rounds=${7:-1}
inflight=${8:-64}
depth=${9:-4}
results=$top/results
who=bench
mkdir -p "$top"
: >"$results"
: >"$top/rounds"
sock=/tmp/l2-hotbench.qmp

[ -c /dev/kvm ] || { check kvm fail "no /dev/kvm in L1"; exit 1; }
[ "$n" -ge 1 ] && [ "$n" -le 100 ] || { check usage fail "DISKS=$n: 1 to 100"; exit 1; }
[ "$rounds" -ge 1 ] && [ "$rounds" -le 10 ] 2>/dev/null || { check usage fail "ROUNDS=$rounds: 1 to 10"; exit 1; }
[ "$inflight" -ge 1 ] && [ "$depth" -ge 1 ] && [ "$depth" -le 16 ] 2>/dev/null ||
	{ check usage fail "INFLIGHT=$inflight DEPTH=$depth: at least 1, and DEPTH at most 16"; exit 1; }
reversed=$(printf '%s\n' $variants | tac | tr '\n' ' ')

# bench_attempt DIR: one L2 run of $kind and $variant; nested.sh's status.
bench_attempt() {
	local pid kernel=${L2_KERNEL:-$GUEST_KERNEL}
	# profile=2: the guest kernel's tick profile, 4-byte buckets
	# (tests/guest/kprofile.sh).
	local append="cc_emulation kunit.enable=0 loglevel=5 profile=2"
	local -a env=(L2_DMA_GUARD=1 L2_QMP=$sock L2_SILENT=1 L2_HOTPLUG_PORTS=$((n - 1))
		L2_TIMEOUT=$((300 + 30 * n + load + settle)))
	rm -f "$sock"
	case $variant in
	fixed) kernel=$FIXED_KERNEL ;;
	dynamic) append="$append cc_swiotlb=off" ;;
	cc-conv) ;;
	cc-grants) env+=(L2_POOL=size=2G,granule=2M,prefill=32M) ;;
	esac
	# One disk at boot, bn0, of this run's kind.
	if [ "$kind" = nvme ]; then
		env+=(L2_VBLK_LATER=1 L2_NVME=1 L2_NVME_SERIAL=bn0)
	else
		env+=(L2_VBLK_SERIAL=bn0)
	fi
	env "${env[@]}" L2_KERNEL="$kernel" L2_DISK_SIZE=16M GUEST_APPEND="$append" \
		"$TOP/tests/host/nested.sh" "$1" /test/hotbench.sh "$n" "$load" "$settle" 900 "$inflight" "$depth" \
		>"$1/nested.out" 2>&1 &
	pid=$!
	python3 "$TOP/tests/host/hotbench.py" --kind "$kind" --disks "$n" \
		--timeout $((300 + 10 * n)) "$sock" "$1/l2-data" "$1" \
		>"$1/hotbench.out" 2>&1
	wait $pid
}

for kind in $kinds; do
	for round in $(seq "$rounds"); do
		order=$variants
		[ $((round % 2)) = 1 ] || order=$reversed
		sfx=
		[ "$round" = 1 ] || sfx=-r$round
		echo "$kind $round" $order >>"$top/rounds"
		for variant in $order; do
			dir=$top/$kind-$variant$sfx
			mkdir -p "$dir"
			echo "$who: $kind, $variant${sfx:+, round $round}: $n disks"
			attempts bench quiesced
			s=$dir/summary.json
			splats=$("$TOP/scripts/kernel-splats" "$dir/l2-console.log" 2>&1 | head -n 1)
			full=$(grep -c 'swiotlb buffer is full' "$dir/l2-console.log" 2>/dev/null)
			q=$(val "$dir" quiesced)
			ok=$(jq "$s" "r['disks_ok']")
			viol=$(python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(max([int(r["guard_violations"] or 0) for r in rows] or [0]))' "$dir/host.csv" 2>/dev/null)
			errs=$(echo "$q" | cut -d' ' -f4) vfail=$(echo "$q" | cut -d' ' -f5)
			detail="$(val "$dir" kernel); $ok/$n disks clean; I/O errors ${errs:-?}, verification failures ${vfail:-?}, guard violations ${viol:-?}, 'swiotlb buffer is full' ${full:-0}; $(grep '^hotbench: ' "$dir/hotbench.out" | cut -d: -f3- | head -n 1)${splats:+; console: ${splats:0:100}}$retried"
			ticks=$(val "$dir" prof.ticks)
			detail="$detail; kernel profile: ${ticks:-no} ticks$(val "$dir" prof.error | sed 's/.\+/ (&)/')"
			# L1's own profile (hotbench.py, class L1Profile): reads and
			# ticks in all, when this L1 booted with profile=.
			l1p=$(jq "$s" "'%d %d' % (r['l1_profile_reads'], r['l1_profile_ticks'])")
			if [ -n "$l1p" ]; then
				detail="$detail; L1 profile: ${l1p% *} reads, ${l1p#* } ticks"
			else
				detail="$detail; L1 profile: none ($(jq "$s" "r.get('l1_profile_error', '?')"))"
			fi
			went=fail
			[ -n "$q" ] && [ "$(val "$dir" removed)" = 0 ] && [ "$(val "$dir" done)" = 1 ] &&
				[ -s "$dir/host.csv" ] && [ -s "$dir/guest.csv" ] && [ "${ticks:-0}" -gt 0 ] &&
				{ [ ! -e /proc/profile ] || [ "${l1p#* }" -gt 0 ] 2>/dev/null; } &&
				went=pass
			[ "$went" = pass ] || detail="nested.sh exit $rc, quiesced='$q' removed='$(val "$dir" removed)' done='$(val "$dir" done)'; $detail"
			check "bench-$kind-$variant$sfx" $went "$detail"
			if [ "$variant" = cc-grants ]; then
				clean=fail
				[ "$went" = pass ] && [ "$ok" = "$n" ] && [ "$errs" = 0 ] && [ "$vfail" = 0 ] &&
					[ "$viol" = 0 ] && [ -z "$splats" ] && clean=pass
				check "bench-$kind-cc-grants$sfx-clean" $clean \
					"I/O errors ${errs:-?}, verification failures ${vfail:-?}, guard violations ${viol:-?}, $ok/$n disks clean${splats:+, console: ${splats:0:100}}"
			fi
		done
	done
done
[ "$fails" = 0 ]
