#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: the hot-plug benchmark (make bench, docs/bench.md).  One L1
# boot runs, one after the other on the same host, for each disk kind
# (virtio-blk, NVMe) and each bounce-buffer variant (fixed swiotlb, dynamic
# swiotlb, cc-swiotlb converting, cc-swiotlb on host grants): L2 in the
# emulated confidential mode under the DMA guard boots with one disk, gets
# DISKS-1 more hot-plugged under verified io_uring load, loses them again,
# and is sampled once a second throughout (tests/host/hotbench.sh).  Then
# scripts/bench-report.py writes REPORT (docs/results.md), its plot and the
# raw samples (docs/results/).
#
# L2 runs the bench kernels (kconfig/bench.config: no lockdep, no DMA-API
# debugging), guest-bench and, for the fixed variant, guest-bench-fixed;
# L1 runs host-bench (kconfig/host-bench.config: no lockdep), or, with
# BENCH_HOST=host, the test bed's host kernel, lockdep and all.
# An L2 run the test bed loses is tried again, up to 3 times, and then
# reported as it ended (L2_GIVE_UP=0, tests/host/lib.sh).
#
# From the environment: DISKS (50), RUN (seconds of load once all disks are
# up, 30), SETTLE (seconds sampled after the removal, 30), KINDS
# ("virtio-blk nvme"), VARIANTS ("fixed dynamic cc-conv cc-grants"),
# ROUNDS (1: how many times each kind's variants run, the order reversed
# every other round), INFLIGHT (64) and DEPTH (4): ioload's transfers in
# flight on all disks together and at most on one (each disk gets
# INFLIGHT / disks open, at least 1 and at most DEPTH), REPORT
# (docs/results.md), L2_PCI_HOTPLUG (acpi; tests/host/nested.sh),
# BENCH_HOST (host-bench).
# Exit status 0 when every run went through.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

DISKS=${DISKS:-50}
RUN=${RUN:-30}
SETTLE=${SETTLE:-30}
KINDS=${KINDS:-virtio-blk nvme}
VARIANTS=${VARIANTS:-fixed dynamic cc-conv cc-grants}
ROUNDS=${ROUNDS:-1}
INFLIGHT=${INFLIGHT:-64}
DEPTH=${DEPTH:-4}
L2_PCI_HOTPLUG=${L2_PCI_HOTPLUG:-acpi}
BENCH_HOST=${BENCH_HOST:-host-bench}
REPORT=${REPORT:-$TOP/docs/results.md}
# profile=2: L1's own kernel tick profile, which tests/host/hotbench.py
# reads every 10 s (l1-profile.csv).
L1_APPEND="$L1_APPEND profile=2"
OUT=$BUILD/out/bench-$(date +%Y%m%d-%H%M%S)
KERNEL=$BUILD/obj/guest-bench/arch/x86/boot/bzImage
FIXED=$BUILD/obj/guest-bench-fixed/arch/x86/boot/bzImage

# number NAME LOW HIGH: $NAME is a whole number from LOW to HIGH, or die.
number() {
	local v=${!1}
	case $v in
	'' | *[!0-9]*) die "$1=$v: a number from $2 to $3" ;;
	esac
	[ "$v" -ge "$2" ] && [ "$v" -le "$3" ] || die "$1=$v: a number from $2 to $3"
}
number DISKS 1 100
number ROUNDS 1 10
number INFLIGHT 1 1600
number DEPTH 1 16
# ioload gives each disk DEPTH slots with a 1 MiB buffer each, in L2's
# 1 GiB (tests/guest/ioload.c).
[ $((DEPTH * DISKS)) -le 512 ] ||
	die "DEPTH=$DEPTH: 1 MiB buffers for $DEPTH transfers on each of $DISKS disks are more than 512 MiB of L2's 1 GiB"
# In flight once every disk is up: INFLIGHT / DISKS each, at least 1, at
# most DEPTH (ioload's fill_lanes()).
each=$((INFLIGHT / DISKS))
[ "$each" -ge 1 ] || each=1
[ "$each" -le "$DEPTH" ] || each=$DEPTH
case $L2_PCI_HOTPLUG in
acpi | native) ;;
*) die "L2_PCI_HOTPLUG=$L2_PCI_HOTPLUG: acpi or native" ;;
esac
case $BENCH_HOST in
host-bench | host) ;;
*) die "BENCH_HOST=$BENCH_HOST: host-bench or host" ;;
esac
for f in "$GUEST_INITRD" "$L0_QEMU" "$BUILD/qemu/qemu-system-x86_64" "$HOST_KERNEL"; do
	[ -e "$f" ] || die "missing $f: run 'make' first"
done
command -v gnuplot >/dev/null || die "no gnuplot: run scripts/deps.sh"
"$TOP/scripts/build-kernel.sh" "$BENCH_HOST" guest-bench guest-bench-fixed
HOST_KERNEL=$BUILD/obj/$BENCH_HOST/arch/x86/boot/bzImage
mkdir -p "$OUT"

# Every run: boot (about a minute under nested TCG), DISKS hot-plugs,
# RUN, the removal, SETTLE; at most 20 minutes each.
runs=$(($(wc -w <<<"$KINDS") * $(wc -w <<<"$VARIANTS") * ROUNDS))
limit=$((runs * (1200 + 20 * DISKS)))
msg "bench: L1 (TCG) runs $runs L2 boots of $DISKS disks ($KINDS; $VARIANTS; $ROUNDS round(s); $((each * DISKS)) in flight); up to ${limit}s; results in $OUT"
# The tree as the runs start: commits made during a long run must not be
# credited with its numbers.
tree=$(git -C "$TOP" describe --always --dirty 2>/dev/null)
t0=$SECONDS
l1_vmrun -s -t "$limit" -w "$OUT" -l "$OUT/l1-console.log" -- \
	env BUILD="$BUILD" L2_KERNEL="$KERNEL" FIXED_KERNEL="$FIXED" L2_INITRD="$GUEST_INITRD" L2_GIVE_UP=0 \
	L2_PCI_HOTPLUG="$L2_PCI_HOTPLUG" \
	"$TOP/tests/host/hotbench.sh" "$OUT/runs" "$DISKS" "$RUN" "$SETTLE" "$KINDS" "$VARIANTS" "$ROUNDS" \
	"$INFLIGHT" "$DEPTH" \
	>"$OUT/vmrun.out" 2>&1
rc=$?
grep "^bench: " "$OUT/vmrun.out"
[ $rc -le 1 ] || warn "L1 failed (vmrun exit $rc, $(tail -n 1 "$OUT/vmrun.out")); see $OUT/l1-console.log"

now=$(git -C "$TOP" describe --always --dirty 2>/dev/null)
[ "$now" = "$tree" ] || tree="$tree (at the start; $now at the end)"
{
	echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); the benchmark took $((SECONDS - t0)) s"
	echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r)"
	echo "L0: $("$L0_QEMU" --version | head -n 1) (our TCG build, qemu-patches/), -cpu max, $L1_CPUS vCPUs, $L1_MEM"
	echo "L1: $BENCH_HOST kernel $(cat "$BUILD/obj/$BENCH_HOST/include/config/kernel.release" 2>/dev/null), command line '$L1_APPEND'"
	echo "L2's VMM: $("$BUILD/qemu/qemu-system-x86_64" --version | head -n 1) (ours, KVM), 2 vCPUs, 1 GiB, -accel kvm,dma-guard=on"
	echo "L2: guest-bench and guest-bench-fixed kernels $(cat "$BUILD/obj/guest-bench/include/config/kernel.release" 2>/dev/null), cc_emulation"
	echo "Load: tests/guest/ioload.c, liburing $(dpkg-query -W -f='${Version}' liburing-dev 2>/dev/null), $DISKS disks, ioload -T $INFLIGHT -q $DEPTH ($((each * DISKS)) transfers in flight once all are up, $each per disk), $RUN s once all are up, $SETTLE s after the removal; $ROUNDS round(s)"
	echo "This tree: $tree"
} >"$OUT/versions"
# The command as it was typed, with what differed from the defaults.
cmd="make bench"
[ "$DISKS" = 50 ] || cmd="DISKS=$DISKS $cmd"
[ "$RUN" = 30 ] || cmd="RUN=$RUN $cmd"
[ "$SETTLE" = 30 ] || cmd="SETTLE=$SETTLE $cmd"
[ "$KINDS" = "virtio-blk nvme" ] || cmd="KINDS='$KINDS' $cmd"
[ "$VARIANTS" = "fixed dynamic cc-conv cc-grants" ] || cmd="VARIANTS='$VARIANTS' $cmd"
[ "$ROUNDS" = 1 ] || cmd="ROUNDS=$ROUNDS $cmd"
[ "$INFLIGHT" = 64 ] || cmd="INFLIGHT=$INFLIGHT $cmd"
[ "$DEPTH" = 4 ] || cmd="DEPTH=$DEPTH $cmd"
[ "$L2_PCI_HOTPLUG" = acpi ] || cmd="L2_PCI_HOTPLUG=$L2_PCI_HOTPLUG $cmd"
[ "$BENCH_HOST" = host-bench ] || cmd="BENCH_HOST=$BENCH_HOST $cmd"
python3 "$TOP/scripts/bench-report.py" --command "$cmd" \
	--versions "$OUT/versions" "$OUT/runs" "$REPORT" || rc=1
exit $(( rc == 0 ? 0 : 1 ))
