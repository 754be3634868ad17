#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test.sh [--baseline|--hotplug50]: run every test tier on the built stack and end with
# one line "N passed, N failed, N skipped"; exit non-zero on any failure.
#
#   harness    the test tooling's own unit tests (tests/*_test.py: the KTAP
#              parser; hotbench.py against a fake QEMU; bench-report.py on
#              made-up runs; bench.sh's refusals; scripts/spool, and vmrun
#              against a fake QEMU)
#   fuzz       cc-swiotlb's allocator core in user space under ASan and UBSan
#              (tools/testing/cc_swiotlb in the kernel tree), FUZZ_SECONDS
#              (60) with a fresh seed, or FUZZ_SEED to replay one
#   selftests  KVM selftests (tests/host/selftests.list) in L1, on the host
#              kernel, booted under TCG by Debian's QEMU
#   nested     the guest kernel in L2 (our QEMU, KVM inside L1) with
#              swiotlb=force: boot, verified virtio-blk I/O, proof from
#              swiotlb's debugfs that the I/O was bounced, clean console
#   kunit      the guest kernel's built-in KUnit suites, parsed from the KTAP
#              in L2's boot log
#   cc         the confidential-VM test bed (tests/host/ccguard.sh), two L1
#              boots: L2 with
#              cc_emulation under QEMU's DMA guard, verified virtio-blk and
#              NVMe I/O, no violation, QMP and debugfs agreeing; and the
#              negative control, L2 without it, whose DMA the guard refuses
#   pool       QEMU's shared pool (tests/host/pool.sh), one L1 boot: every
#              bad -object shared-pool refused with its message; KVM's pool
#              filled before the guest runs, QMP and query-stats agreeing,
#              the CPUID bit, the migration blocker; L2's e820 map holding
#              the window as reserved; L2 on host grants (tests/guest/
#              grants.sh): no conversion, verified I/O, the three counts
#              agreeing, release and discard, QEMU's resident set falling
#
#   hotplug    tests/host/hotplug.sh, one L1 boot: HOTPLUG_DISKS (8)
#              virtio-blk and as many NVMe disks hot-plugged over QMP into
#              the emulated confidential L2 (guard and pool on), each given
#              one verified I/O, all removed again (docs/hotplug.md)
#   bench      the hot-plug benchmark small (tests/host/hotbench.sh), one
#              L1 boot: BENCH_DISKS (3) virtio-blk disks under ioload, for
#              each bounce-buffer variant, two rounds (the second in the
#              reverse order), and its report (docs/bench.md);
#              the fixed variant only when make kernel-fixed built its
#              kernel (a skip otherwise)
#
# TIERS="T ..." runs only those tiers, in that order (default: all), for
# working on one of them.
#
# --hotplug50 runs only the hotplug tier, with 50 disks of each kind, and
# ends with the line "hotplug50: virtio-blk N/50 ok, nvme N/50 ok"
# (make test-hotplug50).
#
# --baseline runs every KVM selftest instead (tier "baseline"), each in a
# fresh L1 boot so that one that hangs or crashes the host kernel costs only
# its own timeout, and writes build/out/latest/baseline.md for
# docs/selftest-baseline.md.
#
# Results and logs: build/out/<time>/ (build/out/latest points at the last).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

mode=test
case ${1:-} in
--baseline) mode=baseline ;;
--hotplug50) mode=test TIERS=hotplug HOTPLUG_DISKS=50 ;;
'') ;;
*) die "usage: test.sh [--baseline|--hotplug50]" ;;
esac

OUT=$BUILD/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
ln -sfn "$OUT" "$BUILD/out/latest"

declare -A npass nfail nskip
tiers=()
failures=()

# result TIER STATUS NAME [DETAIL]
result() {
	local tier=$1 st=$2 name=$3 detail=${4:-}
	[[ " ${tiers[*]} " == *" $tier "* ]] || tiers+=("$tier")
	case $st in
	pass) npass[$tier]=$(( ${npass[$tier]:-0} + 1 )) ;;
	skip) nskip[$tier]=$(( ${nskip[$tier]:-0} + 1 )) ;;
	*)    nfail[$tier]=$(( ${nfail[$tier]:-0} + 1 ))
	      failures+=("$tier: $name${detail:+: $detail}") ;;
	esac
	printf '%-5s %s: %s%s\n' "${st^^}" "$tier" "$name" "${detail:+ ($detail)}"
}

# l1 NAME TIMEOUT COMMAND...: boot the host kernel in L1 under TCG with
# OUT/NAME writable and run COMMAND there; console in OUT/NAME/l1-console.log.
l1() {
	local name=$1 limit=$2
	shift 2
	mkdir -p "$OUT/$name"
	l1_vmrun -s -t "$limit" -w "$OUT/$name" -l "$OUT/$name/l1-console.log" \
		-- "$@" 2>"$OUT/$name/vmrun.err"
}

# vmrun's last "FAIL:" verdict in FILE.
vmrun_fail() {
	tr -d '\r' <"$1" | sed -n 's/^vmrun: FAIL: //p' | tail -n 1
}

# vmrun's own verdict on a failed L1 run, for the report.
l1_reason() {
	local r
	r=$(vmrun_fail "$OUT/$1/vmrun.err")
	[ -n "$r" ] || r=$(tail -n 1 "$OUT/$1/vmrun.err")
	printf '%s\n' "$r"
}

# The entries of a selftest list file.
list_entries() {
	"$TOP/tests/host/selftests.sh" --list "$1"
}

# l1_completed NAME RC: L1 ran its command to the end (whatever the
# command's own status) and its kernel did not complain.
l1_completed() {
	[ "$2" != 126 ] && grep -q '^vmrun: command exited with status' "$OUT/$1/vmrun.err"
}

# l1_verdict TIER RC [NAME [NOTE]]: count a failed L1 run (its files in
# OUT/NAME, default OUT/TIER); a kernel report in L1's console is told apart
# from a command that failed or a VM that died.
l1_verdict() {
	local tier=$1 rc=$2 name=${3:-$1} note=${4:-} what=
	[ "$rc" = 0 ] && return 0
	[ "$name" = "$tier" ] || what=" ($name)"
	if [ "$rc" = 126 ] && grep -q 'the kernel complained' "$OUT/$name/vmrun.err"; then
		result "$tier" fail "host kernel console$what" \
			"$(sed -n '2p' "$OUT/$name/vmrun.err" | cut -c1-160); see $OUT/$name/l1-console.log${note:+; $note}"
	else
		result "$tier" fail "L1 run$what" "$(l1_reason "$name") (vmrun exit $rc; $OUT/$name/l1-console.log)${note:+; $note}"
	fi
}

# Tier: harness.
tier_harness() {
	local t
	for t in "$TOP"/tests/*_test.py; do
		if python3 "$t" >"$OUT/harness-$(basename "$t" .py).log" 2>&1; then
			result harness pass "$(basename "$t")"
		else
			result harness fail "$(basename "$t")" "see $OUT/harness-$(basename "$t" .py).log"
		fi
	done
}

# Tier: fuzz.  The seed is in the result, so that a failure can be replayed
# with FUZZ_SEED (and the same FUZZ_SECONDS, or the failing operation count
# with the fuzzer's -n).
tier_fuzz() {
	local dir=$BUILD/fuzz log=$OUT/fuzz.log seed=${FUZZ_SEED:-$(date +%s)} rc
	mkdir -p "$dir"
	if ! make -s -C "$BUILD/src/linux/tools/testing/cc_swiotlb" OUTPUT="$dir" >"$log" 2>&1; then
		result fuzz fail "cc-swiotlb build" "see $log"
		return
	fi
	"$dir/fuzz" -s "$seed" -t "${FUZZ_SECONDS:-60}" >>"$log" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(tail -n 1 "$log")" = "fuzz: pass" ]; then
		result fuzz pass "cc-swiotlb allocator" \
			"seed $seed, $(sed -n 's/^fuzz: \([0-9]* operations\).*/\1/p' "$log")"
	else
		result fuzz fail "cc-swiotlb allocator" \
			"seed $seed, exit $rc: $(grep -m 1 -e '^fuzz: seed .* op ' -e 'ERROR' -e 'Assertion' "$log" | cut -c 1-200); see $log"
	fi
}

# Tier: selftests, the tests in LIST in one L1 boot.
tier_selftests() {
	local tier=$1 list=$2 limit=120 rc name st code secs t note attempt l1note=
	while read -r _ t _; do limit=$((limit + ${t:-120})); done < <(list_entries "$list")
	# An L1 that hung (timed out: the test bed loses L1's timer now and
	# then, docs/testbed.md) before the list was through is booted once
	# more, and every result says so.  A panic or a kernel complaint in L1
	# is a verdict on the host kernel and is not retried.
	for attempt in 1 2; do
		msg "$tier: booting the host kernel in L1 (TCG); up to ${limit}s${l1note:+ (again)}"
		l1 "$tier" "$limit" env BUILD="$BUILD" "$TOP/tests/host/selftests.sh" "$OUT/$tier" "$list"
		rc=$?
		[ "$rc" = 124 ] || break
		[ "$attempt" = 2 ] && break
		l1note="second L1 boot; the first failed: $(l1_reason "$tier" | cut -c1-100)"
		rm -rf "$OUT/$tier.attempt1"
		mv "$OUT/$tier" "$OUT/$tier.attempt1"
		warn "$tier: L1 failed (vmrun exit $rc); logs in $OUT/$tier.attempt1"
	done
	while read -r name st code secs; do
		# A test run twice after a guest SHUTDOWN (selftests.sh) says so.
		note=$(grep -m1 "^$name: second run" "$OUT/$tier/results.reasons" | cut -d: -f2-)
		case $st in
		pass) result "$tier" pass "$name" "${secs}s${note:+;$note}${l1note:+; $l1note}" ;;
		skip) result "$tier" skip "$name" "$(grep -m1 "^$name:" "$OUT/$tier/results.reasons" | cut -d: -f2- | cut -c2-120)${l1note:+; $l1note}" ;;
		*)    result "$tier" fail "$name" "$st, exit $code: $(grep -m1 "^$name: " "$OUT/$tier/results.reasons" | cut -d: -f2- | cut -c2-160); log: $OUT/$tier/logs/${name//\//_}.log${note:+;$note}${l1note:+; $l1note}" ;;
		esac
	done <"$OUT/$tier/results" 2>/dev/null
	while read -r name _; do
		grep -q "^$name " "$OUT/$tier/results" 2>/dev/null ||
			result "$tier" fail "$name" "never ran${l1note:+; $l1note}"
	done < <(list_entries "$list")
	l1_verdict "$tier" "$rc" "$tier" "$l1note"
}

# Tier: baseline.
tier_baseline() {
	local dir=$OUT/baseline name one rc limit=${SELFTEST_TIMEOUT:-120}
	mkdir -p "$dir"
	: >"$dir/results"
	: >"$dir/results.reasons"
	for name in $("$TOP/tests/host/selftests.sh" --list-all); do
		one=baseline/${name//\//_}
		mkdir -p "$OUT/$one"
		echo "$name" >"$OUT/$one/list"
		l1 "$one" $((limit + 90)) env BUILD="$BUILD" \
			"$TOP/tests/host/selftests.sh" "$OUT/$one" "$OUT/$one/list"
		rc=$?
		if [ -s "$OUT/$one/results" ] && [ "$rc" = 0 ]; then
			cat "$OUT/$one/results" >>"$dir/results"
			cat "$OUT/$one/results.reasons" >>"$dir/results.reasons"
		elif [ "$rc" = 126 ]; then
			# The test's own verdict stands, but the kernel complained.
			read -r _ st code secs <"$OUT/$one/results"
			echo "$name fail $code $secs" >>"$dir/results"
			echo "$name: test said $st; kernel: $(sed -n 2p "$OUT/$one/vmrun.err" | sed 's/^\[ *[0-9.]*\] //' | cut -c1-120)" >>"$dir/results.reasons"
		else
			echo "$name hang $rc 0" >>"$dir/results"
			echo "$name: L1 did not finish: $(l1_reason "$one")" >>"$dir/results.reasons"
		fi
		printf 'baseline: %s\n' "$(tail -n 1 "$dir/results")"
	done
	while read -r name st code secs; do
		case $st in
		pass) result baseline pass "$name" ;;
		skip) result baseline skip "$name" ;;
		*)    result baseline fail "$name" "$st" ;;
		esac
	done <"$dir/results"
}

# Value of KEY in L2's data channel.
l2val() {
	tr -d '\r' <"$OUT/nested/l2-data" 2>/dev/null | sed -n "s/^$1=//p" | tail -n 1
}

# Tiers: nested and kunit (one L1 boot, one L2 boot).
tier_nested() {
	local rc log=$OUT/nested/l2-console.log v splats attempt note=
	# Under TCG the nested layer sometimes loses L2 (a triple fault) or L1
	# (docs/testbed.md, known limits).  A run that lost either before L2's
	# I/O verdict was out is booted again, up to L2_ATTEMPTS times in all
	# (default 3), and the boot result says so; a check that failed is a
	# verdict and is never retried.
	for attempt in $(seq 1 "${L2_ATTEMPTS:-3}"); do
		msg "nested: L1 (TCG) boots L2 (our QEMU, KVM) with swiotlb=force${note:+ (again)}"
		# The run takes about 270 s; L2's own limit is 400 s
		# (nested.sh), so 600 s leaves L1 room to report a lost L2.
		l1 nested 600 env L2_SILENT=1 "${NESTED[@]}" "$OUT/nested"
		rc=$?
		[ "$attempt" = "${L2_ATTEMPTS:-3}" ] && break
		if l1_completed nested "$rc"; then
			# L1 finished: retry only when L2's vmrun lost the guest
			# (125: it stopped; 124: it timed out) before its verdict.
			{ [ "$rc" = 124 ] || [ "$rc" = 125 ]; } || break
			[ -z "$(l2val io.vda.status)" ] || break
			note="L1 boot $((attempt + 1)); the one before lost L2: $(vmrun_fail "$OUT/nested/l1-console.log" | cut -c1-100)"
		else
			note="L1 boot $((attempt + 1)); the one before failed: $(l1_reason nested | cut -c1-100)"
		fi
		rm -rf "$OUT/nested.attempt$attempt"
		mv "$OUT/nested" "$OUT/nested.attempt$attempt"
		warn "nested: ${note#*; }; logs in $OUT/nested.attempt$attempt"
	done

	local failed_before=${nfail[nested]:-0} booted=
	[ -n "$(l2val kernel)" ] && booted=1
	if [ -n "$booted" ]; then
		result nested pass "L2 boot" "$(l2val kernel), nested in L1 under KVM${note:+; $note}"
		v=$(l2val io.vda.status)
		if [ "$v" = 0 ]; then
			result nested pass "virtio-blk verified I/O" "$(l2val io.vda.summary | sed 's/^blkverify: //')"
		else
			result nested fail "virtio-blk verified I/O" "${v:+blkverify exit $v: }$(l2val io.vda.summary)$(l2val error)"
		fi
		v=$(l2val swiotlb.used_hiwater)
		if [ -n "$v" ] && [ "$v" -gt 0 ] 2>/dev/null; then
			result nested pass "I/O bounced through swiotlb" "io_tlb_used_hiwater=$v of $(l2val swiotlb.nslabs) slabs"
		else
			result nested fail "I/O bounced through swiotlb" "io_tlb_used_hiwater=${v:-missing}"
		fi
		if splats=$("$TOP/scripts/kernel-splats" "$log" 2>&1); then
			result nested pass "guest kernel console clean"
		else
			result nested fail "guest kernel console clean" "$(echo "$splats" | head -n 1 | cut -c1-160)"
		fi
	elif [ -s "$log" ]; then
		# L2 started but never ran its command: say why, from L2's vmrun.
		result nested fail "L2 boot" "$(vmrun_fail "$OUT/nested/l1-console.log")${note:+; $note}"
		echo "--- last lines of $log"; tail -n 25 "$log" | tr -d '\r'; echo "---"
	else
		result nested fail "L2 boot" "L2 never started: $(l1_reason nested) (vmrun exit $rc; $OUT/nested/l1-console.log)${note:+; $note}"
		tail -n 25 "$OUT/nested/l1-console.log" | tr -d '\r'
	fi
	if ! l1_completed nested "$rc"; then
		# L1 itself failed (died, hung, or its kernel complained).
		l1_verdict nested "$rc" nested "$note"
	elif [ "$rc" != 0 ] && [ "${nfail[nested]:-0}" = "$failed_before" ]; then
		# Every check passed, yet L2's run failed (a hang at power-off, a
		# lost exit marker): that is a failure too.
		result nested fail "L2 run" "$(vmrun_fail "$OUT/nested/l1-console.log") (exit $rc)"
	fi

	# KUnit: the suites ran at L2's boot.
	local line st
	if [ ! -s "$log" ]; then
		result kunit fail "KTAP" "no L2 console log"
		return
	fi
	python3 "$TOP/tests/ktap.py" "$log" >"$OUT/nested/kunit.txt" 2>&1
	rc=$?
	# A parser that crashed has no "suite" or "ktap:" line to count.
	if [ "$rc" != 0 ] && ! grep -q -e '^ktap:' -e '^suite .* fail ' "$OUT/nested/kunit.txt"; then
		result kunit fail "tests/ktap.py" "exit $rc: $(tail -n 1 "$OUT/nested/kunit.txt")"
	fi
	while read -r line; do
		case $line in
		suite\ *)
			set -- $line
			case $3 in
			pass) st=pass ;; skip) st=skip ;; *) st=fail ;;
			esac
			result kunit "$st" "$2" "$4 $5 $6" ;;
		ktap:*)
			result kunit fail "KTAP" "${line#ktap: }" ;;
		esac
	done <"$OUT/nested/kunit.txt"
	grep '^  failed:' "$OUT/nested/kunit.txt"
}

# l1_checks TIER NAME LIMIT WHAT SCRIPT [ARGS...]: run an L1 script that
# writes OUT/NAME/results ("CHECK pass|fail DETAIL" lines, exit 0 or 1), in
# its own L1 boot, and count its checks under TIER.  Under TCG the nested
# layer sometimes takes L1 down (docs/testbed.md, known limits): an L1
# that died, hung or reported a kernel problem before the script finished,
# or whose script lost L2 in every attempt of one run (exit 3,
# tests/host/lib.sh's attempts), is booted once more, and every result of
# that run says so.  A check that failed is a verdict and is never retried.
l1_checks() {
	local tier=$1 name=$2 limit=$3 what=$4 script=$5 rc attempt note= check st detail
	shift 4
	for attempt in 1 2; do
		msg "$tier: $what${note:+ (again)}"
		l1 "$name" "$limit" env BUILD="$BUILD" GUEST_APPEND="${GUEST_APPEND:-}" \
			L2_ATTEMPTS="${L2_ATTEMPTS:-3}" L2_KERNEL="$GUEST_KERNEL" L2_INITRD="$GUEST_INITRD" \
			"$@"
		rc=$?
		# Done unless L1 failed, or gave up after losing L2 (exit 3).
		l1_completed "$name" "$rc" && [ "$rc" != 3 ] && break
		[ "$attempt" = 2 ] && break
		if l1_completed "$name" "$rc"; then
			note="second L1 boot; the first lost L2 in every attempt: $(grep -- '-testbed fail' "$OUT/$name/results" | cut -d' ' -f3- | cut -c1-100)"
		else
			note="second L1 boot; the first failed: $(l1_reason "$name" | cut -c1-100)"
		fi
		rm -rf "$OUT/$name.attempt1"
		mv "$OUT/$name" "$OUT/$name.attempt1"
		warn "$tier: L1 boot for $name given up (vmrun exit $rc); logs in $OUT/$name.attempt1"
	done
	while read -r check st detail; do
		result "$tier" "$st" "$check" "$detail${note:+; $note}"
	done <"$OUT/$name/results" 2>/dev/null
	if ! l1_completed "$name" "$rc"; then
		l1_verdict "$tier" "$rc" "$name" "$note"
	elif [ ! -s "$OUT/$name/results" ] || { [ "$rc" -gt 1 ] && [ "$rc" != 3 ]; }; then
		# L1 finished, yet the script gave no verdict of its own (exit
		# 3 comes with its RUN-testbed check).
		result "$tier" fail "${script##*/} ($name)" "exit $rc, $(wc -l <"$OUT/$name/results" 2>/dev/null || echo 0) results; see $OUT/$name/l1-console.log"
	fi
}

# Tier: cc, the two runs of tests/host/ccguard.sh, each in its own L1 boot.
tier_cc() {
	l1_checks cc cc-cc 1000 "L1 (TCG) boots L2 under the DMA guard: the cc run" \
		"$TOP/tests/host/ccguard.sh" "$OUT/cc-cc" cc
	l1_checks cc cc-neg 500 "L1 (TCG) boots L2 under the DMA guard: the neg run" \
		"$TOP/tests/host/ccguard.sh" "$OUT/cc-neg" neg
}

# Tier: pool, tests/host/pool.sh in one L1 boot.
tier_pool() {
	l1_checks pool pool 1500 "L1 (TCG) runs our QEMU with -object shared-pool" \
		"$TOP/tests/host/pool.sh" "$OUT/pool"
}

# Tier: hotplug, tests/host/hotplug.sh in one L1 boot: HOTPLUG_DISKS (8)
# virtio-blk and as many NVMe disks into a running L2 and out again.
tier_hotplug() {
	local n=${HOTPLUG_DISKS:-8}
	l1_checks hotplug hotplug $((1200 + 60 * n)) "L1 (TCG) hot-plugs $n virtio-blk and $n NVMe disks into L2" \
		"$TOP/tests/host/hotplug.sh" "$OUT/hotplug" "$n"
}

# Tier: bench, the hot-plug benchmark small (docs/bench.md), one L1 boot:
# BENCH_DISKS (3) virtio-blk disks, the bounce-buffer variants on the test
# kernels, then the report from its samples, so that make bench cannot rot
# unnoticed.  The fixed variant needs the guest-fixed kernel, which make
# test does not build (make kernel-fixed does): without it, that variant
# is a skip that says so; with it, it is brought up to date first.
tier_bench() {
	local n=${BENCH_DISKS:-3} rep=$OUT/bench/report/results.md st detail
	# L1's own tick profile, as make bench takes it (scripts/bench.sh).
	local L1_APPEND="$L1_APPEND profile=2"
	local variants="fixed dynamic cc-conv cc-grants"
	if [ "$FIXED_KERNEL" = "$FIXED_DEFAULT" ] &&
		[ -e "$FIXED_KERNEL" ]; then
		"$TOP/scripts/build-kernel.sh" "guest$KSUFFIX-fixed" >"$OUT/bench-fixed-build.log" 2>&1 ||
			result bench fail bench-fixed-kernel "make kernel-fixed failed: see $OUT/bench-fixed-build.log"
	fi
	if [ ! -e "$FIXED_KERNEL" ]; then
		result bench skip bench-virtio-blk-fixed "no $FIXED_KERNEL: 'make kernel-fixed' builds it"
		variants=${variants#fixed }
	fi
	# Two rounds, the second in the reverse order (ROUNDS, make bench).
	l1_checks bench bench $((2 * (1200 + 100 * n))) "L1 (TCG) runs the hot-plug benchmark small: $n disks, variants: $variants, 2 rounds" \
		"$TOP/tests/host/hotbench.sh" "$OUT/bench" "$n" 10 10 virtio-blk "$variants" 2
	mkdir -p "${rep%/*}"
	detail=$(python3 "$TOP/scripts/bench-report.py" --command "make test (bench tier)" \
		"$OUT/bench" "$rep" 2>&1 | tail -n 1)
	st=pass
	[ -s "$rep" ] && [ -s "${rep%/*}/results/bench.png" ] && [ -s "${rep%/*}/results/host.csv" ] &&
		grep -q '^| 4\. cc-swiotlb, host grants |' "$rep" &&
		grep -q "^L1's own kernel tick profile over the same load" "$rep" &&
		grep -q '^### virtio-blk, all 2 rounds' "$rep" || st=fail
	result bench "$st" bench-report "$detail; $rep, results/bench.png, results/*.csv"
}

# kernel_reports: the first kernel report of each console log of this run
# that has one, whole (scripts/kernel-splats --report), so that a failed
# run's output shows more than the report's first line.  Runs that were
# lost and run again keep their logs too, so not every report here failed
# a check.
kernel_reports() {
	local log report
	while read -r log; do
		report=$("$TOP/scripts/kernel-splats" --report 60 "$log")
		[ $? = 1 ] || continue
		echo "--- the first kernel report in ${log#"$OUT"/}:"
		printf '%s\n' "$report"
	done < <(find "$OUT" -name '*console.log' | sort)
	return 0
}

t0=$SECONDS
for f in "$HOST_KERNEL" "$GUEST_KERNEL" "$GUEST_INITRD" "$BUILD/qemu/qemu-system-x86_64" "$L0_QEMU"; do
	[ -e "$f" ] || die "missing $f: run 'make' first"
done
msg "results in $OUT"
if [ $mode = baseline ]; then
	tier_baseline
	"$TOP/scripts/baseline-report.sh" "$OUT/baseline" >"$OUT/baseline.md"
	msg "baseline table: $OUT/baseline.md"
else
	for t in ${TIERS:-harness fuzz selftests nested cc pool hotplug bench}; do
		case $t in
		selftests) tier_selftests selftests "$TOP/tests/host/selftests.list" ;;
		harness|fuzz|nested|cc|pool|hotplug|bench) "tier_$t" ;;
		*) die "TIERS: unknown tier '$t' (harness fuzz selftests nested cc pool hotplug bench)" ;;
		esac
	done
fi

echo
tp=0 tf=0 ts=0
for t in "${tiers[@]}"; do
	printf '%-10s %d passed, %d failed, %d skipped\n' "$t:" \
		"${npass[$t]:-0}" "${nfail[$t]:-0}" "${nskip[$t]:-0}"
	tp=$((tp + ${npass[$t]:-0})); tf=$((tf + ${nfail[$t]:-0})); ts=$((ts + ${nskip[$t]:-0}))
done
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
	kernel_reports
fi
echo "(took $((SECONDS - t0))s; logs in $OUT)"
echo "$tp passed, $tf failed, $ts skipped"
if [ "${1:-}" = --hotplug50 ]; then
	# hotplug.py's count; none when L2 never got that far.
	line=$(grep -h '^hotplug: virtio-blk ' "$OUT/hotplug/hotplug.out" 2>/dev/null | tail -n 1)
	[ -n "$line" ] || line="hotplug: virtio-blk 0/50 ok, nvme 0/50 ok"
	echo "hotplug50:${line#hotplug:}"
fi
[ "$tf" = 0 ] && [ "$tp" -gt 0 ]
