#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-alloc.sh: cc-swiotlb against swiotlb's own allocator (dynamic on),
# in the guest kernel booted directly under TCG, through the kernel's
# microbenchmark (kernel/dma/cc_swiotlb_bench.c, docs/cc-swiotlb.md).  The
# kernel is the guest-bench variant: the guest kernel without lockdep and
# DMA-API debugging (kconfig/bench.config).  Three boots, because swiotlb's
# pool size is a boot parameter and the two measurements want different
# TCG modes:
#
#   boot 1  2 vCPUs, multi-threaded TCG (each vCPU has a host thread, so
#           contention is real), swiotlb's pool 64 MiB: map/unmap pairs
#           per second from 1 and 2 CPUs, RUNS times each way
#   boot 2  1 vCPU, icount TCG (guest time counts guest instructions, so
#           neither the host's scheduler nor TCG's translation shows in a
#           map's time), swiotlb's pool 64 MiB: map latency in 64 MiB
#   boot 3  the same with swiotlb's pool at 1 GiB: map latency in 1 GiB
#
# swiotlb's pool has two areas (two locks) in every boot, as with 2 vCPUs.
#
# Timings under emulation are not hardware timings: read the ratios of the
# two allocators measured side by side in one boot, and the ratio of
# cc-swiotlb's worst case between the two pool sizes.  The last line is
#   map/unmap 2 vCPUs: cc-swiotlb/upstream = X.XXx; worst-case 1GiB/64MiB pool = Y.YYx
set -uo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
MSECS=${MSECS:-3000}
OPS=${OPS:-20000}
OUT=$BUILD/out/bench-alloc
KERNEL=$BUILD/obj/guest-bench/arch/x86/boot/bzImage
rm -rf "$OUT"; mkdir -p "$OUT"
for f in "$GUEST_INITRD" "$L0_QEMU"; do
	[ -e "$f" ] || die "missing $f: run 'make' first"
done
"$TOP/scripts/build-kernel.sh" guest-bench

# boot NAME SLABS MODE COMMANDS: the bench kernel under TCG (MODE mttcg, 2
# vCPUs, or icount, 1 vCPU) with swiotlb's pool at SLABS 2 KiB slots in two
# areas, running the benchmark COMMANDS (one per line); results in
# OUT/NAME.txt.
boot() {
	local name=$1 slabs=$2 mode=$3 cmds=$4 script opts=thread=multi q=() cpus=2
	script="mount -t debugfs none /sys/kernel/debug 2>/dev/null
b=/sys/kernel/debug/cc_swiotlb_bench
echo \"$cmds\" | while read -r c; do
	[ -n \"\$c\" ] || continue
	echo \"\$c\" >\$b/run || { echo \"error: \$c\"; exit 1; }
	cat \$b/result
done"
	if [ "$mode" = icount ]; then
		# One guest nanosecond per guest instruction; the clock does not
		# run while the vCPUs idle.
		# One vCPU: under round-robin TCG an idle second vCPU can miss
		# IPIs for long enough to raise RCU stall warnings.
		opts=thread=single cpus=1
		q=(-q -icount -q shift=0,sleep=off)
	fi
	msg "boot $name: swiotlb=$slabs,2 cc_swiotlb=off, $cpus vCPU(s), TCG $mode"
	MEM=3G CPUS=$cpus ACCEL=tcg ACCEL_OPTS=$opts QEMU=$L0_QEMU \
		QEMU_FIRMWARE=$BUILD/qemu-firmware \
		"$TOP/scripts/vmrun" -s -t 1800 -k "$KERNEL" -i "$GUEST_INITRD" \
		"${q[@]}" -l "$OUT/$name-console.log" \
		-a "swiotlb=$slabs,2 cc_swiotlb=off kunit.enable=0" \
		-- sh -c "$script" >"$OUT/$name.vmrun" 2>&1 ||
		die "boot $name failed ($(tail -n 1 "$OUT/$name.vmrun")); see $OUT/$name-console.log"
	# The command's output is in the console.
	tr -d '\r' <"$OUT/$name-console.log" | grep -E '^(rate|latency|error) ' >"$OUT/$name.txt"
	cat "$OUT/$name.txt"
}

cmds=
for r in $(seq "$RUNS"); do
	cmds+="rate 1 $MSECS"$'\n'"rate 2 $MSECS"$'\n'
done
boot rate 32768 mttcg "$cmds"
boot small 32768 icount "latency 64 $OPS"
boot large 524288 icount "latency 1024 $OPS"

# The report: medians of the runs, and the ratios.
python3 - "$OUT/rate.txt" "$OUT/small.txt" "$OUT/large.txt" <<'PY'
import re, statistics, sys
rows = []
for path in sys.argv[1:]:
    for line in open(path):
        m = re.match(r'(rate|latency) (.*)', line.strip())
        if m:
            rows.append((m.group(1), dict(kv.split('=') for kv in m.group(2).split())))
def rate(impl, threads):
    v = [int(d['ops_per_sec']) for k, d in rows
         if k == 'rate' and d['impl'] == impl and d['threads'] == str(threads)]
    return statistics.median(v), v
def lat(impl, mib):
    return next(d for k, d in rows if k == 'latency' and d['impl'] == impl
                and d['pool_mib'] == str(mib))
def kinsn(ns):
    # Under icount (shift=0) one guest nanosecond is one guest instruction.
    return f'{int(ns) / 1000:.1f}k'
print()
print('| map+unmap pairs/s (median of runs) | swiotlb | cc-swiotlb | cc/swiotlb | copy alone | copy share of a swiotlb / cc-swiotlb pair |')
print('|---|---|---|---|---|---|')
for t in (1, 2):
    u, uv = rate('swiotlb', t)
    c, cv = rate('cc-swiotlb', t)
    m, mv = rate('copy', t)
    print(f'| {t} vCPU{"s" if t > 1 else ""} (runs: {uv} / {cv} / {mv}) | {u:.0f} | {c:.0f} | {c / u:.2f}x | {m:.0f} | {100 * u / m:.0f}% / {100 * c / m:.0f}% |')
print()
print('| map cost in guest instructions (icount), pool filled to 90%, interrupts off | mean | p99 | p99.9 | max | failed maps |')
print('|---|---|---|---|---|---|')
for mib in (64, 1024):
    for impl in ('swiotlb', 'cc-swiotlb'):
        d = lat(impl, mib)
        print(f'| {impl}, {mib} MiB (filled {d["filled_mib"]} MiB, {d["ops"]} maps) | {kinsn(d["mean_ns"])} | {kinsn(d["p99_ns"])} | {kinsn(d["p999_ns"])} | {kinsn(d["max_ns"])} | {d["failures"]} |')
print()
r2 = rate('cc-swiotlb', 2)[0] / rate('swiotlb', 2)[0]
w = int(lat('cc-swiotlb', 1024)['max_ns']) / int(lat('cc-swiotlb', 64)['max_ns'])
print(f'map/unmap 2 vCPUs: cc-swiotlb/upstream = {r2:.2f}x; worst-case 1GiB/64MiB pool = {w:.2f}x')
PY
