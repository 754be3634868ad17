#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-alloc.sh: cc-swiotlb against swiotlb's own allocator (dynamic on),
# in the guest kernel booted directly under TCG with 2 vCPUs (multi-threaded
# TCG: each vCPU has a host thread), through the kernel's microbenchmark
# (kernel/dma/cc_swiotlb_bench.c, docs/cc-swiotlb.md).  Two boots, because
# swiotlb's pool size is a boot parameter:
#
#   boot 1  swiotlb's pool 64 MiB: map/unmap pairs per second from 1 and 2
#           CPUs, RUNS times each way; map latency in a 64 MiB pool
#   boot 2  swiotlb's pool 1 GiB: map latency in a 1 GiB pool
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
rm -rf "$OUT"; mkdir -p "$OUT"
for f in "$GUEST_KERNEL" "$GUEST_INITRD" "$L0_QEMU"; do
	[ -e "$f" ] || die "missing $f: run 'make' first"
done

# boot NAME SLABS COMMANDS: the guest kernel under TCG with swiotlb's pool
# at SLABS 2 KiB slots, running the benchmark COMMANDS (one per line);
# results in OUT/NAME.txt.
boot() {
	local name=$1 slabs=$2 cmds=$3 script
	script="mount -t debugfs none /sys/kernel/debug 2>/dev/null
b=/sys/kernel/debug/cc_swiotlb_bench
echo \"$cmds\" | while read -r c; do
	[ -n \"\$c\" ] || continue
	echo \"\$c\" >\$b/run || { echo \"error: \$c\"; exit 1; }
	cat \$b/result
done"
	msg "boot $name: swiotlb=$slabs cc_swiotlb=off, 2 vCPUs, TCG"
	MEM=3G CPUS=2 ACCEL=tcg ACCEL_OPTS=thread=multi QEMU=$L0_QEMU \
		QEMU_FIRMWARE=$BUILD/qemu-firmware \
		"$TOP/scripts/vmrun" -s -t 1200 -k "$GUEST_KERNEL" -i "$GUEST_INITRD" \
		-l "$OUT/$name-console.log" -a "swiotlb=$slabs cc_swiotlb=off" \
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
boot small 32768 "${cmds}latency 64 $OPS"
boot large 524288 "latency 1024 $OPS"

# The report: medians of the runs, and the ratios.
python3 - "$OUT/small.txt" "$OUT/large.txt" <<'PY'
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
print()
print('| map+unmap pairs/s (median of runs) | swiotlb | cc-swiotlb | cc/swiotlb |')
print('|---|---|---|---|')
for t in (1, 2):
    u, uv = rate('swiotlb', t)
    c, cv = rate('cc-swiotlb', t)
    print(f'| {t} vCPU{"s" if t > 1 else ""} (runs: {uv} / {cv}) | {u:.0f} | {c:.0f} | {c / u:.2f}x |')
print()
print('| map latency, pool 90% full | mean ns | p99 ns | max ns | failures |')
print('|---|---|---|---|---|')
for mib in (64, 1024):
    for impl in ('swiotlb', 'cc-swiotlb'):
        d = lat(impl, mib)
        print(f'| {impl}, {mib} MiB (filled {d["filled_mib"]} MiB) | {d["mean_ns"]} | {d["p99_ns"]} | {d["max_ns"]} | {d["failures"]} |')
print()
r2 = rate('cc-swiotlb', 2)[0] / rate('swiotlb', 2)[0]
w = int(lat('cc-swiotlb', 1024)['max_ns']) / int(lat('cc-swiotlb', 64)['max_ns'])
print(f'map/unmap 2 vCPUs: cc-swiotlb/upstream = {r2:.2f}x; worst-case 1GiB/64MiB pool = {w:.2f}x')
PY
