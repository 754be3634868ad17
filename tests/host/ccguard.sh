#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 (the host kernel): the confidential-VM test bed end to end,
# two L2 boots of the guest kernel under our QEMU with the DMA guard on
# (-accel kvm,dma-guard=on, docs/dma-guard.md), each with a virtio-blk and
# an NVMe disk:
#
#   cc   the guest emulates a confidential VM (cc_emulation,
#        docs/cc-emulation.md): verified I/O on both disks, bounced, with no
#        guard violation, and QEMU's count of shared memory (QMP
#        x-query-dma-guard) equal to the guest's (debugfs);
#   neg  the negative control, the same guest without cc_emulation: it
#        shares nothing, so the guard must refuse both devices' DMA (NVMe
#        present at boot, virtio-blk hot-plugged once the guest is up), the
#        I/O must fail or stop within a bounded time, and QEMU must carry on.
#
# Each run's files are in OUTDIR/cc and OUTDIR/neg (consoles, data channel,
# QMP answers).  OUTDIR/results gets one line per check, "NAME pass|fail
# DETAIL"; the exit status is 0 when every check passed.
#
# usage: ccguard.sh OUTDIR [cc|neg]   (both runs by default)
set -u
. "$(dirname "$0")/../../scripts/lib.sh"
. "$TOP/tests/host/lib.sh"
out=${1:?usage: ccguard.sh OUTDIR [cc|neg]}
runs=${2:-cc neg}
qmp=$TOP/tests/host/qmp.py
results=$out/results
mkdir -p "$out/cc" "$out/neg"
: >"$results"
who=ccguard

# The violations QMP counted for the device whose path contains ID.
violations() {
	jq "$1" "sum(d['violations'] for d in r['devices'] if '/$2/' in d['path'] + '/')"
}

# query SOCKET FILE [COMMAND [ARGS]]: one QMP answer (x-query-dma-guard by
# default) into FILE, which is left alone when QEMU does not answer.
query() {
	python3 "$qmp" -t 5 "$1" "${3:-x-query-dma-guard}" ${4:+"$4"} \
		>"$2.tmp" 2>>"${2%/*}/qmp.err" && mv "$2.tmp" "$2"
}

# cc_attempt DIR: one run of the emulated guest; its nested.sh status.
cc_attempt() {
	local dir=$1 sock=/tmp/l2-cc.qmp pid
	rm -f "$sock"
	# One blkverify pass per disk (about 280 MB each, every transfer size
	# and alignment): the nested tier already runs two on virtio-blk, and
	# each minute of I/O here is exposed to the test bed's rare L2 losses.
	# Then cc-swiotlb's shrink and exhaustion (tests/guest/ccstress.sh).
	L2_NVME=1 L2_DMA_GUARD=1 L2_QMP=$sock L2_SILENT=1 L2_TIMEOUT=500 \
		GUEST_APPEND="${GUEST_APPEND:-} cc_emulation" \
		"$TOP/tests/host/nested.sh" "$dir" /test/iotest.sh 16 15 1 stress >"$dir/nested.out" 2>&1 &
	pid=$!
	# Once the guest holds still ("hold=" after its counters), ask QEMU.
	while kill -0 $pid 2>/dev/null; do
		if grep -q '^hold=' "$dir/l2-data" 2>/dev/null; then
			query "$sock" "$dir/qmp.json"
			query "$sock" "$dir/qmp-stats.json" query-stats '{"target": "vm"}'
			break
		fi
		sleep 1
	done
	wait $pid
}

run_cc() {
# --- cc: the emulated confidential guest ---
dir=$out/cc
# Run again when L2 died before its counters were out.
attempts cc hold
if [ -z "$(val "$dir" kernel)" ]; then
	check cc-boot fail "L2 did not start (nested.sh exit $rc; $dir/nested.out)"
else
	check cc-boot pass "$(val "$dir" kernel), $(val "$dir" cmdline | grep -o cc_emulation)$retried"
	for d in vda nvme0n1; do
		st=$(val "$dir" "io.$d.status")
		check "cc-io-$d" "$([ "$st" = 0 ] && echo pass || echo fail)" \
			"$(val "$dir" "io.$d.summary")${st:+ (exit $st)}"
	done
	# cc-swiotlb serves a guest with memory encryption by default.
	m=$(val "$dir" cc_swiotlb.maps)
	check cc-bounced "$([ "${m:-0}" -gt 0 ] && echo pass || echo fail)" \
		"cc-swiotlb: ${m:-no} mappings during the I/O, $(val "$dir" cc_swiotlb.bytes) bytes from $(val "$dir" cc_swiotlb.provider) ($(val "$dir" cc_swiotlb.chunks_large) 2 MiB chunks, $(val "$dir" cc_swiotlb.chunks_small) smaller); swiotlb's own pool high-water $(val "$dir" swiotlb.used_hiwater) slabs"
	# swiotlb's own pool, left with what cc-swiotlb does not serve, is
	# allocated at 4 MiB (docs/cc-swiotlb.md, "swiotlb's default pool").
	ns=$(val "$dir" swiotlb.nslabs)
	check cc-default-pool "$([ "$ns" = 2048 ] && echo pass || echo fail)" \
		"swiotlb's default pool: ${ns:-?} slots of 2 KiB, $((${ns:-0} * 2048 >> 20)) MiB (4 MiB under cc-swiotlb)"
	# No shared pool in this VMM: the host-grant provider is off and says
	# why, and every chunk came from conversion (docs/host-grants.md).
	gs=$(val "$dir" grants.state) gw=$(val "$dir" grants.off_reason)
	gf=$(val "$dir" grants.fallbacks) ga=$(val "$dir" grants.acquires)
	check cc-grants-fallback "$([ "$gs" = off ] && [ "$gw" = "the host does not offer them" ] &&
		[ "${gf:-0}" -gt 0 ] && [ "$ga" = 0 ] && echo pass || echo fail)" \
		"host grants ${gs:-missing}${gw:+ ($gw)}: ${gf:-?} chunks, $(val "$dir" grants.fallback_bytes) bytes converted instead; ${ga:-?} grants acquired"
	bad=$(val "$dir" cc_swiotlb.bad_unmaps) leak=$(val "$dir" cc_swiotlb.leaked)
	fails_=$(tr -d '\r' <"$dir/l2-data" | sed -n 's/^cc_swiotlb\.\([^.]*\)\.map_failures=\([1-9].*\)/\1:\2/p' | tr '\n' ' ')
	check cc-swiotlb-clean "$([ "$bad" = 0 ] && [ "$leak" = 0 ] && echo pass || echo fail)" \
		"bad unmaps ${bad:-missing}, leaked chunks ${leak:-missing}; map failures by class: ${fails_:-none}"
	# The debugfs writes docs/cc-swiotlb.md says are refused, are.
	r=$(val "$dir" stress.refused) nr=$(val "$dir" stress.not_refused)
	check cc-debugfs-refusals "$([ -n "$r" ] && [ "${r%% of *}" = "${r##* of }" ] && [ -z "$nr" ] && echo pass || echo fail)" \
		"${r:-no} bad writes refused${nr:+; not refused: $nr}"
	# kccd gives idle chunks back when the watermarks drop (after the
	# guest grew the 4 KiB class: ccstress.sh) ...
	b0=$(val "$dir" stress.bytes_before) b1=$(val "$dir" stress.bytes_after) n=$(val "$dir" stress.shrinks)
	check cc-shrink "$([ "${n:-0}" -gt 0 ] && [ "${b1:-0}" -lt "${b0:-0}" ] && echo pass || echo fail)" \
		"${n:-no} chunks returned: ${b0:-?} -> ${b1:-?} bytes held, $(val "$dir" stress.chunks_before) -> $(val "$dir" stress.chunks_after) chunks"
	# ... and a class that runs dry fails maps, the block layer requeues,
	# and every reader still gets its data.
	f=$(val "$dir" stress.map_failures) ok=$(val "$dir" stress.readers_ok) bad=$(val "$dir" stress.readers_bad)
	check cc-exhaust "$([ "${f:-0}" -gt 0 ] && [ "${ok:-0}" -gt 0 ] && [ "$bad" = 0 ] && echo pass || echo fail)" \
		"${f:-no} map failures (by class: $(val "$dir" stress.map_failures_by_class)), $(val "$dir" stress.refills) chunks added; ${ok:-0} readers got the serial read's data, ${bad:-?} did not ($(val "$dir" stress.seconds) s)"
	if [ ! -s "$dir/qmp.json" ]; then
		check cc-qmp fail "no x-query-dma-guard answer ($(tail -n 1 "$dir/qmp.err" 2>/dev/null); nested.sh exit $rc)"
	else
		en=$(jq "$dir/qmp.json" "r['enabled']")
		v=$(jq "$dir/qmp.json" "sum(d['violations'] for d in r['devices'])")
		check cc-no-violations "$([ "$en" = True ] && [ "$v" = 0 ] && echo pass || echo fail)" \
			"guard enabled=$en, violations=$v"
		q=$(jq "$dir/qmp.json" "r['shared-pages']")
		g=$(val "$dir" cc.shared_pages)
		check cc-shared-pages-agree "$([ -n "$g" ] && [ "$q" = "$g" ] && echo pass || echo fail)" \
			"QEMU $q pages shared, guest debugfs $g"
		q=$(jq "$dir/qmp.json" "r['conversions']['to-shared-calls']")
		g=$(val "$dir" cc.to_shared_exits)
		check cc-exits-agree "$([ -n "$g" ] && [ "$q" = "$g" ] && echo pass || echo fail)" \
			"QEMU $q to-shared hypercalls, guest $g exits"
	fi
	# KVM's shared-pool counters (docs/shared-pool-abi.md), as QEMU's
	# query-stats reads them from KVM's binary stats.
	n=$(jq "$dir/qmp-stats.json" "len([s for p in r for s in p['stats'] if s['name'].startswith('shared_pool_')])")
	check cc-kvm-stats "$([ "$n" = 6 ] && echo pass || echo fail)" \
		"${n:-no} shared_pool_* stats in query-stats target=vm"
	console_check cc-console
	# These suites run every case only in an emulated confidential guest.
	for s in x86_cc_emulation:3 cc_swiotlb:9; do
		line=$(python3 "$TOP/tests/ktap.py" "$dir/l2-console.log" 2>/dev/null | grep "^suite ${s%:*} ")
		check "cc-kunit-${s%:*}" "$([ "${line#* * }" = "pass pass:${s#*:} fail:0 skip:0" ] && echo pass || echo fail)" \
			"${line:-no ${s%:*} suite in the console}"
	done
fi

}

# neg_attempt DIR: one run of the negative control; its nested.sh status.
# Sets "plugged" to device_add's status once the guest is up.
neg_attempt() {
local dir=$1 sock=/tmp/l2-neg.qmp pid
plugged=
rm -f "$sock"
L2_NVME=1 L2_DMA_GUARD=1 L2_QMP=$sock L2_VBLK_LATER=1 L2_SILENT=1 L2_TIMEOUT=240 \
	"$TOP/tests/host/nested.sh" "$dir" /test/guardneg.sh 15 >"$dir/nested.out" 2>&1 &
pid=$!
# A virtio-blk disk at boot would hang the boot in its probe: plug it in
# once the guest is up.  Keep the last answer: QEMU goes away with the guest.
while kill -0 $pid 2>/dev/null; do
	if [ -z "$plugged" ] && grep -q '^ready=' "$dir/l2-data" 2>/dev/null; then
		python3 "$qmp" "$sock" device_add '{"driver": "virtio-blk-pci", "id": "vblk0",
			"bus": "rp0", "drive": "disk0", "iommu_platform": true,
			"disable-legacy": "on"}' >"$dir/device_add.out" 2>&1
		plugged=$?
	fi
	[ -S "$sock" ] && query "$sock" "$dir/qmp.json"
	sleep 2
done
wait $pid
}

run_neg() {
# --- neg: the same guest, not emulating: nothing is shared ---
dir=$out/neg
# Run again when L2 died before it was up ("ready=", so before any DMA
# was refused).
attempts neg ready
if [ -z "$(val "$dir" kernel)" ]; then
	check neg-boot fail "L2 did not start (nested.sh exit $rc; $dir/nested.out)$retried"
else
	check neg-boot pass "$(val "$dir" kernel), no cc_emulation$retried"
	check neg-hotplug "$([ "$plugged" = 0 ] && echo pass || echo fail)" \
		"device_add virtio-blk-pci: ${plugged:-never tried} $(head -c 160 "$dir/device_add.out" 2>/dev/null)"
	r=$(val "$dir" result)
	outcomes=$(tr -d '\r' <"$dir/l2-data" | sed -n 's/^io\.\(.*\)\.outcome=/\1:/p' | tr '\n' ' ')
	check neg-io-refused "$([ "$r" = pass ] && echo pass || echo fail)" \
		"${outcomes:-no disk came up} (guest exit $rc)"
	if [ ! -s "$dir/qmp.json" ]; then
		check neg-qmp fail "no x-query-dma-guard answer ($(tail -n 1 "$dir/qmp.err" 2>/dev/null))"
	else
		for d in vblk0 nvme0; do
			v=$(violations "$dir/qmp.json" $d)
			a=$(jq "$dir/qmp.json" "[hex(d['first-violation-address']) for d in r['devices'] if '/$d/' in d['path'] + '/'][0]")
			check "neg-violations-$d" "$([ "${v:-0}" -gt 0 ] && echo pass || echo fail)" \
				"${v:-0} violations, first at ${a:-none}"
		done
	fi
	# 0 or 1 is the guest command's verdict: the VM ran to its end.
	check neg-qemu-survived "$([ "$rc" -le 1 ] && echo pass || echo fail)" \
		"nested.sh exit $rc$([ "$rc" -le 1 ] && echo ": the guest finished its command and QEMU shut down cleanly")"
fi
}

for r in $runs; do
	case $r in
	cc|neg) "run_$r" ;;
	*) echo "ccguard: unknown run '$r'" >&2; exit 2 ;;
	esac
done
exit $((fails > 0))
