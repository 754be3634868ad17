#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 (the host kernel): QEMU's side of the shared pool
# (-object shared-pool, docs/shared-pool-vmm.md) under KVM.
#
#   refusals  QEMU refuses every bad property and start-up condition the
#             doc lists, with its message, and exits
#   start     a VM held at -S: KVM's pool is filled to prefill before the
#             guest runs; x-query-shared-pool and KVM's stats (query-stats)
#             agree; the CPU offers kvm-shared-pool; migration is blocked;
#             without the object, none of that
#   boot      L2 boots with the pool; its e820 map has the window reserved
#             where QMP says it is; QMP and query-stats agree while it runs
#
# OUTDIR/results gets one line per check, "NAME pass|fail DETAIL"; the
# exit status is 0 when every check passed.
#
# usage: pool.sh OUTDIR
set -u
. "$(dirname "$0")/../../scripts/lib.sh"
out=${1:?usage: pool.sh OUTDIR}
qmp=$TOP/tests/host/qmp.py
Q=$BUILD/qemu/qemu-system-x86_64
results=$out/results
mkdir -p "$out"
: >"$results"
fails=0

check() {
	local name=$1 st=$2 detail=${3:-}
	echo "$name $st $detail" >>"$results"
	echo "pool: ${st^^} $name${detail:+ ($detail)}"
	[ "$st" = pass ] || fails=$((fails + 1))
}

# jq FILE EXPR: a value from a QMP answer, EXPR in Python over "r".
jq() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# KVM's VM stat NAME in a query-stats answer.
kvmstat() {
	jq "$1" "[s['value'] for p in r for s in p['stats'] if s['name'] == '$2'][0]"
}

base_args=(-L "$BUILD/qemu-firmware" -machine q35 -accel kvm -cpu host,-xsave -m 1G -display none
	-nodefaults -no-user-config -S)

# refuse NAME EXPECTED QEMU-ARGS...: QEMU must exit non-zero within 30 s,
# saying EXPECTED.
refuse() {
	local name=$1 want=$2 rc err
	shift 2
	local args=("${base_args[@]}")
	# NOKVM=1: the same without KVM (qtest is the other accelerator here)
	[ "${NOKVM:-0}" = 1 ] && args=("${args[@]/#kvm/qtest}") &&
		args=("${args[@]/#host,-xsave/qemu64}")
	err=$(timeout 30 "$Q" "${args[@]}" "$@" </dev/null 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [[ $err == *"$want"* ]]; then
		check "refuse-$name" pass "exit $rc: $(echo "$err" | grep -F -m 1 "$want" | cut -c1-150)"
	else
		check "refuse-$name" fail "exit $rc, wanted \"$want\": $(echo "$err" | head -n 1 | cut -c1-150)"
	fi
}

[ -c /dev/kvm ] || { check kvm fail "no /dev/kvm in L1"; exit 1; }

# --- refusals ---
sp=shared-pool,id=sp0
refuse granule-not-power-of-2 "'granule' (3145728) must be a power of two from 4 KiB to 1 GiB" -object $sp,granule=3M
refuse granule-below-4k "'granule' (2048) must be a power of two" -object $sp,granule=2K
refuse granule-above-1g "'granule' (2147483648) must be a power of two" -object $sp,granule=2G,size=2G
refuse size-0 "'size' must not be 0" -object $sp,size=0
refuse size-unaligned "'size' (3145728) must be a multiple of 'granule' (2097152)" -object $sp,size=3M
refuse size-granules "'size' (8589934592) is more than 1048576 granules" -object $sp,size=8G,granule=4K,prefill=4M
refuse quota-0 "'quota' (0) must be from one granule to 'size'" -object $sp,quota=0
refuse quota-above-size "'quota' (2147483648) must be from one granule to 'size' (1073741824)" -object $sp,quota=2G
refuse quota-unaligned "'quota' (3145728) must be a multiple of 'granule'" -object $sp,quota=3M
refuse prefill-above-size "'prefill' (2147483648) is above 'size'" -object $sp,prefill=2G
refuse prefill-unaligned "'prefill' (3145728) must be a multiple of 'granule'" -object $sp,prefill=3M
refuse low-above-prefill "'low' (134217728) is above 'prefill' (67108864)" -object $sp,low=128M
refuse bad-size-value "Parameter 'size' expects a size value" -object $sp,size=lots
refuse unknown-property "Invalid parameter 'bogus'" -object $sp,bogus=1
refuse two-pools "there can be only one, and 'sp0' exists" -object $sp -object shared-pool,id=sp1
NOKVM=1 refuse not-kvm "shared-pool: needs the KVM accelerator" -object $sp
# -m 1G: the 64-bit PCI hole is [4G, 36G), which 36 bits reach; a 32 GiB
# window after it does not fit.
refuse phys-bits "phys-bits too low (36)" -object $sp,size=32G -cpu host,-xsave,host-phys-bits=off,phys-bits=36

# --- start: a VM held at -S ---
sock=/tmp/pool-start.qmp
rm -f "$sock"
timeout 60 "$Q" "${base_args[@]}" -object $sp,size=1G,granule=2M,quota=512M,prefill=64M \
	-qmp "unix:$sock,server=on,wait=off" </dev/null >"$out/start.out" 2>&1 &
pid=$!
python3 "$qmp" -t 20 "$sock" x-query-shared-pool >"$out/start-pool.json" 2>"$out/start.err"
python3 "$qmp" "$sock" query-stats '{"target": "vm", "providers": [{"provider": "kvm"}]}' >"$out/start-stats.json" 2>>"$out/start.err"
cpu=$(python3 "$qmp" "$sock" query-cpus-fast 2>>"$out/start.err" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["qom-path"])' 2>/dev/null)
feat=$(python3 "$qmp" "$sock" qom-get "{\"path\": \"$cpu\", \"property\": \"kvm-shared-pool\"}" 2>>"$out/start.err")
mig=$(python3 "$qmp" "$sock" migrate '{"uri": "exec:cat >/dev/null"}' 2>&1)
migrc=$?
python3 "$qmp" "$sock" quit >/dev/null 2>&1
wait $pid
qrc=$?

f=$out/start-pool.json
if [ ! -s "$f" ]; then
	check start-query fail "no x-query-shared-pool answer: $(tail -n 1 "$out/start.err"; tail -n 2 "$out/start.out")"
else
	got=$(jq "$f" "'%#x %d %d %d %d %d' % (r['base'], r['size'], r['granule'], r['quota'], r['prefill'], r['low'])")
	want="0x900000000 1073741824 2097152 536870912 67108864 33554432"
	check start-config "$([ "$got" = "$want" ] && echo pass || echo fail)" \
		"base size granule quota prefill low: $got${got:+; wanted $want}"
	p=$(jq "$f" "r['pooled-bytes']") h=$(jq "$f" "r['held-bytes']")
	check start-prefilled "$([ "$p" = 67108864 ] && [ "$h" = 0 ] && echo pass || echo fail)" \
		"before the guest ran: ${p:-?} bytes pooled, ${h:-?} held; $(jq "$f" "r['mapped-chunks']") chunks of $(jq "$f" "r['chunk-size']") mapped, $(jq "$f" "r['resets']") reset(s)"
	kp=$(kvmstat "$out/start-stats.json" shared_pool_pooled_bytes)
	kh=$(kvmstat "$out/start-stats.json" shared_pool_held_bytes)
	ke=$(kvmstat "$out/start-stats.json" shared_pool_exits)
	check start-stats-agree "$([ -n "$kp" ] && [ "$kp" = "$p" ] && [ "$kh" = "$h" ] && [ "$ke" = "$(jq "$f" "r['exits']")" ] && echo pass || echo fail)" \
		"query-stats: pooled ${kp:-?} held ${kh:-?} exits ${ke:-?}; QMP: pooled $p held $h exits $(jq "$f" "r['exits']")"
fi
check start-cpuid "$([ "$feat" = true ] && echo pass || echo fail)" \
	"$cpu kvm-shared-pool=${feat:-no answer}"
check start-migration-blocked "$([ "$migrc" = 1 ] && [[ $mig == *"shared-pool: the granules the guest holds are not migrated"* ]] && echo pass || echo fail)" \
	"migrate: exit $migrc, $(echo "$mig" | head -n 1 | cut -c1-160)"
check start-quit "$([ "$qrc" = 0 ] && echo pass || echo fail)" "QEMU exit $qrc"

# The same VM without the object: no pool, no CPUID bit.
sock=/tmp/pool-nopool.qmp
rm -f "$sock"
timeout 60 "$Q" "${base_args[@]}" -qmp "unix:$sock,server=on,wait=off" </dev/null >"$out/nopool.out" 2>&1 &
pid=$!
err=$(python3 "$qmp" -t 20 "$sock" x-query-shared-pool 2>&1 >/dev/null)
erc=$?
cpu=$(python3 "$qmp" "$sock" query-cpus-fast 2>/dev/null |
	python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["qom-path"])' 2>/dev/null)
feat=$(python3 "$qmp" "$sock" qom-get "{\"path\": \"$cpu\", \"property\": \"kvm-shared-pool\"}" 2>&1)
python3 "$qmp" "$sock" quit >/dev/null 2>&1
wait $pid
check nopool "$([ "$erc" = 1 ] && [[ $err == *"there is no shared pool"* ]] && [ "$feat" = false ] && echo pass || echo fail)" \
	"x-query-shared-pool: exit $erc $(echo "$err" | head -n 1 | cut -c1-80); kvm-shared-pool=$feat"

# --- boot: L2 with the pool ---
dir=$out/boot
sock=/tmp/l2-pool.qmp
mkdir -p "$dir"
# boot_attempt: one L2 run; asks QEMU once the guest is up.  Sets rc.
boot_attempt() {
	local pid
	rm -f "$sock" "$dir"/pool.json "$dir"/stats.json
	L2_POOL=size=2G,granule=2M,prefill=32M L2_QMP=$sock L2_SILENT=1 L2_TIMEOUT=240 \
		"$TOP/tests/host/nested.sh" "$dir" /test/pool.sh 5 >"$dir/nested.out" 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		if grep -q '^ready=' "$dir/l2-data" 2>/dev/null; then
			python3 "$qmp" -t 5 "$sock" x-query-shared-pool >"$dir/pool.json" 2>>"$dir/qmp.err"
			python3 "$qmp" -t 5 "$sock" query-stats '{"target": "vm", "providers": [{"provider": "kvm"}]}' >"$dir/stats.json" 2>>"$dir/qmp.err"
			break
		fi
		sleep 1
	done
	wait $pid
	rc=$?
}
# The test bed sometimes loses L2 (docs/testbed.md, known limits): a run
# that lost it (vmrun 124 or 125) before the guest was done holding still
# is booted again, up to L2_ATTEMPTS runs in all (default 3).
retried=
for attempt in $(seq 1 "${L2_ATTEMPTS:-3}"); do
	boot_attempt
	{ [ "$rc" = 124 ] || [ "$rc" = 125 ]; } || break
	grep -q '^hold=' "$dir/l2-data" 2>/dev/null && break
	[ "$attempt" = "${L2_ATTEMPTS:-3}" ] && break
	mkdir -p "$dir/attempt$attempt"
	mv "$dir"/l2-* "$dir"/nested.out "$dir"/*.json "$dir/attempt$attempt/" 2>/dev/null
	retried="; attempt $((attempt + 1)), the one before lost L2: $(sed -n 's/^vmrun: FAIL: //p' "$dir/attempt$attempt/nested.out" | tail -n 1)"
	echo "pool: L2 lost in boot attempt $attempt (exit $rc); trying again"
done
data() {
	tr -d '\r' <"$dir/l2-data" 2>/dev/null | sed -n "s/^$1=//p"
}
if [ -z "$(data kernel)" ]; then
	check boot fail "L2 did not start (nested.sh exit $rc): $(sed -n 's/^vmrun: FAIL: //p' "$dir/nested.out" | tail -n 1)$retried"
elif [ ! -s "$dir/pool.json" ]; then
	check boot pass "$(data kernel), nested.sh exit $rc$retried"
	check boot-query fail "no x-query-shared-pool answer: $(tail -n 1 "$dir/qmp.err" 2>/dev/null)"
else
	check boot "$([ "$rc" = 0 ] && echo pass || echo fail)" "$(data kernel), nested.sh exit $rc$retried"
	b=$(jq "$dir/pool.json" "'%#x' % r['base']")
	e=$(jq "$dir/pool.json" "'%#x' % (r['base'] + r['size'] - 1)")
	# The kernel prints e820 ranges zero-padded to 16 digits.
	want=$(printf '0x%016x-0x%016x reserved' "$b" "$e")
	entry=$(data 'e820\.[0-9]*' | grep -F -x "$want")
	ram=$(data 'e820\.[0-9]*' | grep -c ' usable$')
	check boot-e820 "$([ -n "$entry" ] && echo pass || echo fail)" \
		"window $b-$e; guest e820: ${entry:-no such reserved entry} ($ram usable ranges)"
	p=$(jq "$dir/pool.json" "r['pooled-bytes']") h=$(jq "$dir/pool.json" "r['held-bytes']")
	kp=$(kvmstat "$dir/stats.json" shared_pool_pooled_bytes)
	kh=$(kvmstat "$dir/stats.json" shared_pool_held_bytes)
	check boot-stats-agree "$([ "$p" = 33554432 ] && [ "$kp" = "$p" ] && [ "$kh" = "$h" ] && echo pass || echo fail)" \
		"guest running: QMP pooled $p held $h; query-stats pooled ${kp:-?} held ${kh:-?}"
	splats=$("$TOP/scripts/kernel-splats" "$dir/l2-console.log" | head -n 1)
	check boot-console "$([ -z "$splats" ] && echo pass || echo fail)" "${splats:0:160}"
fi
[ "$fails" = 0 ]
