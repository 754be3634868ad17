#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-grow.sh: what growing cc-swiotlb's shared memory by 64 MiB costs,
# three ways, in one nested boot (docs/host-grants.md, "The cost of
# growing"): converting 4 KiB pages scattered through a fragmented guest,
# converting 2 MiB-aligned chunks, and host grants, served from KVM's pool
# and on the exit path.  L2 is the guest-bench kernel (no lockdep, no
# DMA-API debugging: kconfig/bench.config) in the emulated confidential
# mode, under our QEMU in L1 with -object shared-pool.  Per way: the
# guest's time (ktime around the growth), its hypercalls and KVM's exits to
# QEMU (KVM's statistics in L1), direct-map splits and TLB flush requests
# (the emulation's counters).  Timings under TCG are not hardware timings:
# read the ratios.  "exits 4k/grant" compares the VM exits the growths'
# hypercalls caused (KVM's hypercalls statistic: every conversion's
# KVM_HC_MAP_GPA_RANGE, the grant's one ACQUIRE), 4 KiB conversions against
# the grant from KVM's pool; "in-kernel grant exits" counts that grant's
# exits to QEMU (KVM's shared_pool_exits).  The last line is
#   grow 64MiB: time 4k/grant = X.Xx; time 2m/grant = Y.Yx; exits 4k/grant = Z.Zx; in-kernel grant exits = N
set -uo pipefail
. "$(dirname "$0")/lib.sh"

MIB=${MIB:-64}
OUT=$BUILD/out/bench-grow
KERNEL=$BUILD/obj/guest-bench/arch/x86/boot/bzImage
rm -rf "$OUT"; mkdir -p "$OUT"
for f in "$GUEST_INITRD" "$L0_QEMU" "$BUILD/qemu/qemu-system-x86_64" "$HOST_KERNEL"; do
	[ -e "$f" ] || die "missing $f: run 'make' first"
done
"$TOP/scripts/build-kernel.sh" guest-bench

msg "bench-grow: L1 (TCG) boots L2 (guest-bench) and grows by $MIB MiB four ways"
l1_vmrun -s -t 2400 -w "$OUT" -l "$OUT/l1-console.log" -- \
	env BUILD="$BUILD" L2_KERNEL="$KERNEL" L2_INITRD="$GUEST_INITRD" \
	"$TOP/tests/host/growbench.sh" "$OUT/l2" "$MIB" >"$OUT/vmrun.out" 2>&1 ||
	die "L1 failed ($(tail -n 1 "$OUT/vmrun.out")); see $OUT/l1-console.log"
[ -s "$OUT/l2/grow.json" ] || die "no results; see $OUT/l2/l2-console.log"

python3 - "$OUT/l2/grow.json" "$MIB" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
mib = sys.argv[2]
if 'error' in r:
    sys.exit('bench-grow: ' + r['error'])
# cc_swiotlb_grow/run must refuse bad writes (tests/guest/grow.sh).
want = {'mode': 'Invalid argument', 'zero': 'Invalid argument',
        'size': 'Invalid argument', 'form': 'Invalid argument',
        'held': 'Device or resource busy'}
if r.get('refuse') != want:
    sys.exit('bench-grow: bad writes to cc_swiotlb_grow/run: got %s, want %s' % (r.get('refuse'), want))
rows = {}
for step in ('4k', '2m', 'grant-kernel', 'grant-exit'):
    s = r[step]
    m = re.match(r'\S+ bytes=(\d+) ns=(\d+) calls=(\d+)', s['run'] or '')
    if not m:
        sys.exit('bench-grow: %s: %s' % (step, s['run']))
    rows[step] = dict(ns=int(m.group(2)), calls=int(m.group(3)),
                      hc=s['delta']['hypercalls'], exits=s['delta']['exits'],
                      uexits=(s['emu']['to_shared_exits'] + s['delta']['shared_pool_exits']),
                      pool_exits=s['delta']['shared_pool_exits'],
                      split2m=s['emu']['direct_map_2m_splits'],
                      split1g=s['emu']['direct_map_1g_splits'],
                      tlb=s['emu']['tlb_flush_requests'])
print()
print('| grow %s MiB | guest time | calls | hypercalls (KVM) | exits to QEMU | all VM exits (KVM, incl. timer) | 2 MiB / 1 GiB direct-map splits | TLB flush requests |' % mib)
print('|---|---|---|---|---|---|---|---|')
names = {'4k': '4 KiB pages, scattered', '2m': '2 MiB chunks',
         'grant-kernel': 'grant, from KVM\'s pool', 'grant-exit': 'grant, exit path'}
for k, v in rows.items():
    print('| %s | %.1f ms | %d | %d | %d | %d | %d / %d | %d |' % (
        names[k], v['ns'] / 1e6, v['calls'], v['hc'], v['uexits'], v['exits'],
        v['split2m'], v['split1g'], v['tlb']))
print()
g = rows['grant-kernel']
print('grow %sMiB: time 4k/grant = %.1fx; time 2m/grant = %.1fx; exits 4k/grant = %.1fx; in-kernel grant exits = %d' % (
    mib, rows['4k']['ns'] / g['ns'], rows['2m']['ns'] / g['ns'],
    rows['4k']['hc'] / max(g['hc'], 1), g['pool_exits']))
PY
