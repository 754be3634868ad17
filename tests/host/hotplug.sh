#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 (the host kernel): hot-plug N virtio-blk and N NVMe disks
# into a running L2 over QMP and take them out again (docs/hotplug.md).
# L2 is the emulated confidential guest (cc_emulation) under the DMA guard,
# with the shared pool, so that every disk's DMA goes through cc-swiotlb on
# host grants; tests/guest/hotplug.sh gives each disk one verified I/O as
# it appears; tests/host/hotplug.py drives QMP.
#
#   hotplug-boot      L2 came up with 2N empty hot-plug ports
#   hotplug-virtio    every virtio-blk disk plugged, seen, verified, removed
#   hotplug-nvme      the same for NVMe
#   hotplug-guard     no DMA-guard violation
#   hotplug-console   L2's console is clean
#
# OUTDIR/results gets one line per check, "NAME pass|fail DETAIL"; the
# exit status is 0 when every check passed.
#
# usage: hotplug.sh OUTDIR [N]   (N: disks of each kind, default 8)
set -u
. "$(dirname "$0")/../../scripts/lib.sh"
. "$TOP/tests/host/lib.sh"
out=${1:?usage: hotplug.sh OUTDIR [N]}
n=${2:-8}
results=$out/results
who=hotplug
dir=$out
mkdir -p "$out"
: >"$results"
sock=/tmp/l2-hotplug.qmp

[ -c /dev/kvm ] || { check kvm fail "no /dev/kvm in L1"; exit 1; }

# hotplug_attempt DIR: one L2 run with the QMP driver; nested.sh's status.
hotplug_attempt() {
	local pid
	rm -f "$sock" "$1/hotplug.json"
	# blkverify: 1 MiB per disk, every transfer size up to 1 MiB.  No
	# KUnit at boot (the kunit and cc tiers run it), as in pool.sh.
	# loglevel=5: warnings and worse still reach the console (and
	# kernel-splats), but not the enumeration of 100 root ports, whose
	# info lines alone took minutes of the serial console under TCG.
	L2_HOTPLUG_PORTS=$((2 * n)) L2_POOL=size=2G,granule=2M,prefill=32M \
		L2_DMA_GUARD=1 L2_QMP=$sock L2_SILENT=1 L2_TIMEOUT=$((600 + 40 * n)) \
		GUEST_APPEND="cc_emulation kunit.enable=0 loglevel=5" \
		"$TOP/tests/host/nested.sh" "$1" /test/hotplug.sh $((2 * n)) 1 $((300 + 10 * n)) \
		>"$1/nested.out" 2>&1 &
	pid=$!
	python3 "$TOP/tests/host/hotplug.py" --virtio "$n" --nvme "$n" \
		--timeout $((300 + 10 * n)) "$sock" "$1/l2-data" "$1/hotplug.json" \
		>"$1/hotplug.out" 2>&1
	wait $pid
}
attempts hotplug verified

if [ -z "$(val "$dir" kernel)" ]; then
	check hotplug-boot fail "L2 did not start (nested.sh exit $rc): $(sed -n 's/^vmrun: FAIL: //p' "$dir/nested.out" | tail -n 1)$retried"
else
	check hotplug-boot pass "$(val "$dir" kernel), cc_emulation, guard on, pool on, $((2 * n)) hot-plug ports; nested.sh exit $rc$retried"
	line=$(grep '^hotplug: virtio-blk ' "$dir/hotplug.out")
	times=$(grep '^hotplug: one hot-plug' "$dir/hotplug.out" | cut -d' ' -f2-)
	lat=$(grep '^hotplug: device_add to' "$dir/hotplug.out" | cut -d: -f3-)
	for kind in virtio-blk nvme; do
		got=$(echo "$line" | sed -n "s|.*$kind \([0-9]*\)/\([0-9]*\) ok.*|\1/\2|p")
		bad=$(grep "^hotplug: hp.* ($kind on" "$dir/hotplug.out" | head -n 2 | cut -d' ' -f2- | tr '\n' ';')
		check "hotplug-${kind%-blk}" "$([ "$got" = "$n/$n" ] && echo pass || echo fail)" \
			"${got:-no result}: plugged, seen, verified and removed${bad:+; $bad}; ${lat:+device_add to guest:$lat; }$times"
	done
	g=$dir/hotplug.json
	v=$(jq "$g" "sum(d['violations'] for d in r['guard']['devices'])")
	check hotplug-guard "$([ "$(jq "$g" "r['guard']['enabled']")" = True ] && [ "$v" = 0 ] && echo pass || echo fail)" \
		"with every disk in: DMA guard on, ${v:-?} violations, $(jq "$g" "len(r['guard']['devices'])") devices with refused DMA, $(jq "$g" "r['guard']['shared-pages']") pages shared$(jq "$g" "r['guard']['error']" | sed 's/.\+/; &/')"
	console_check hotplug-console
fi
grep '^hotplug: virtio-blk ' "$dir/hotplug.out"
[ "$fails" = 0 ]
