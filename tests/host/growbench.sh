#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 for make bench-grow (scripts/bench-grow.sh): L2, the
# emulated confidential guest with cc-swiotlb off, under our QEMU with the
# shared pool (64 MiB pooled ahead), runs tests/guest/grow.sh while
# tests/host/growbench.py reads KVM's and QEMU's counters around each
# growth.  OUTDIR gets L2's logs and grow.json.
#
# usage: growbench.sh OUTDIR [MIB]
set -u
. "$(dirname "$0")/../../scripts/lib.sh"
out=${1:?usage: growbench.sh OUTDIR [MIB]}
mib=${2:-64}
sock=/tmp/l2-grow.qmp
mkdir -p "$out"
rm -f "$sock"
L2_POOL=size=1G,granule=2M,prefill=${mib}M L2_QMP=$sock L2_SILENT=1 \
	L2_TIMEOUT=1500 GUEST_APPEND="cc_emulation cc_swiotlb=off kunit.enable=0" \
	"$TOP/tests/host/nested.sh" "$out" /test/grow.sh "$mib" >"$out/nested.out" 2>&1 &
pid=$!
python3 "$TOP/tests/host/growbench.py" "$sock" "$out/l2-data" "$out/grow.json"
rc=$?
wait $pid
echo "growbench: nested.sh exit $?, growbench.py exit $rc"
