#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sizemix.sh: measure the sizes of the bounce buffers that real I/O asks
# swiotlb for, in the nested guest (docs/cc-swiotlb.md, "Size classes").
# L1 boots L2 with swiotlb=force, a virtio-blk and an NVMe disk, and runs
# tests/guest/sizemix.sh there; this script turns L2's counts into a
# markdown table, build/out/sizemix/sizemix.md, and prints it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$BUILD/out/sizemix
rm -rf "$OUT"; mkdir -p "$OUT"
msg "L0: booting L1; L2 runs tests/guest/sizemix.sh on virtio-blk and NVMe"
l1_vmrun -s -t 900 -w "$OUT" -l "$OUT/l1-console.log" -- \
	env L2_NVME=1 L2_SILENT=1 L2_TIMEOUT=600 "${NESTED[@]}" "$OUT" /test/sizemix.sh
rc=$?
data=$OUT/l2-data
if [ "$rc" != 0 ] || ! grep -q '^result=pass' "$data" 2>/dev/null; then
	grep '^error=' "$data" 2>/dev/null
	die "the measurement failed (exit $rc); logs in $OUT"
fi

# One row per disk and workload: mappings per bucket, with the share of
# the bytes in parentheses.
tr -d '\r' <"$data" | python3 -c '
import sys
buckets = ["64", "512", "2K", "4K", "16K", "64K", "128K", "256K", "512K", "1M", "more"]
rows = {}
for line in sys.stdin:
    if not line.startswith("mix.") or "=" not in line:
        continue
    key, val = line.strip().split("=", 1)
    parts = key.split(".")
    if len(parts) != 4:
        continue
    _, disk, work, b = parts
    rows.setdefault((disk, work), {})[b] = val
print("| disk | workload | mappings | lost | " + " | ".join("<= " + b if b != "more" else "> 1M" for b in buckets) + " |")
print("|" + "---|" * (4 + len(buckets)))
for (disk, work), r in sorted(rows.items()):
    total = int(r.get("total", "0"))
    nbytes = sum(int(v.split()[1]) for k, v in r.items() if k in buckets)
    cells = []
    for b in buckets:
        if b not in r:
            cells.append("")
            continue
        n, by = (int(x) for x in r[b].split())
        cells.append("%d (%d%%)" % (n, round(100 * by / nbytes)) if nbytes else str(n))
    print("| %s | %s | %d | %s | %s |" % (disk, work, total, r.get("lost", "?"), " | ".join(cells)))
' >"$OUT/sizemix.md"
cat "$OUT/sizemix.md"
msg "table in $OUT/sizemix.md: mappings per slot size needed (share of bytes)"
