#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 (the host kernel): KVM selftests, each under its own
# timeout.  Writes OUTDIR/results, one "name status exit seconds" line per
# test (status: pass, fail, skip, timeout), and OUTDIR/<name>.log.
#
# usage: selftests.sh OUTDIR LIST     tests named in LIST, one per line:
#                                     "name [timeout [arguments...]]"
#        selftests.sh OUTDIR --all    every selftest binary that was built
#        selftests.sh --list-all      print the names --all would run
#        selftests.sh --list LIST     print LIST's entries, comments dropped
#
# A test is skipped when it exits with KSFT_SKIP (4); the reason is the
# test's own "SKIP" line, copied into OUTDIR/results.reasons.
#
# A test that failed because its guest shut down (KVM_EXIT_SHUTDOWN, a
# triple fault) is run once more: under TCG the nested layer sometimes
# loses a guest that way (docs/testbed.md, known limits).  The second run's
# verdict stands, the first run's log is kept as <name>.log.attempt1, and
# OUTDIR/results.reasons says so.  The same holds for any other failure of
# an upstream test (ours, in selftests/, get one run): a few of them race
# threads against KVM for a fixed time (sync_regs_test) and, under TCG,
# fail rarely (docs/selftest-baseline.md).
set -u
. "$(dirname "$0")/../../scripts/lib.sh"
BIN=${SELFTESTS:-$BUILD/selftests}
DEFAULT_TIMEOUT=${SELFTEST_TIMEOUT:-120}

all_tests() {
	(cd "$BIN" && find . -maxdepth 2 -type f -perm -u+x ! -name '*.sh' |
		sed 's|^\./||' | grep -v '^lib' | LC_ALL=C sort)
}

entries() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$1"
}

case ${1:-} in
--list-all) all_tests; exit ;;
--list)     entries "${2:?usage: selftests.sh --list LIST}"; exit ;;
esac
out=${1:?usage: selftests.sh OUTDIR LIST|--all}
list=${2:?usage: selftests.sh OUTDIR LIST|--all}

[ -c /dev/kvm ] || { echo "selftests: no /dev/kvm in L1"; exit 1; }
mkdir -p "$out/logs"
: >"$out/results"
: >"$out/results.reasons"

tests() {
	if [ "$list" = --all ]; then
		all_tests
	else
		entries "$list"
	fi
}

# run_one NAME LIMIT LOG [ARGS...]: run one test under its timeout, output
# in LOG; its exit status (137 when it is stuck in the kernel).
run_one() {
	local name=$1 limit=$2 log=$3 pid t0
	shift 3
	t0=$(date +%s)
	(cd "$(dirname "$BIN/$name")" && exec timeout -k 5 "$limit" "$BIN/$name" "$@") >"$log" 2>&1 </dev/null &
	pid=$!
	# Do not wait forever for a test stuck in the kernel: SIGKILL cannot
	# end it, and the remaining tests still deserve to run.
	while kill -0 $pid 2>/dev/null && [ $(( $(date +%s) - t0 )) -le $((limit + 15)) ]; do
		sleep 0.2
	done
	if kill -0 $pid 2>/dev/null; then
		echo "selftests: $name survived SIGKILL: stuck in the kernel" >>"$log"
		return 137
	fi
	wait $pid
}

# why LOG: a failed test's reason: the assertion's location and the test's
# last word on it.
why() {
	local w
	w=$(grep -A1 -m1 'Test Assertion Failure' "$1" | tail -n 1)
	[ -n "$w" ] || w=$(grep -m1 -E 'FAIL|error' "$1")
	echo "$w; $(grep . "$1" | tail -n 1)" | tr -s ' \t' ' ' | cut -c1-240
}

echo "selftests: $(uname -r), $(nproc) vCPUs, kvm_amd.npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null || echo -)"
tests | while read -r name limit args; do
	limit=${limit:-$DEFAULT_TIMEOUT}
	log=$out/logs/${name//\//_}.log
	t1=$(date +%s)
	if [ ! -x "$BIN/$name" ]; then
		echo "$name fail 127 0" >>"$out/results"
		echo "$name: not built" >>"$out/results.reasons"
		echo "selftest $name: FAIL (not built)"
		continue
	fi
	run_one "$name" "$limit" "$log" $args
	rc=$?
	note=
	# A failure (not a skip or a timeout) of an upstream test, or of any
	# test whose guest shut down, gets a second run.
	if [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$rc" != 124 ] && [ "$rc" != 137 ]; then
		if grep -q '(SHUTDOWN)' "$log"; then
			note="the first ended in a guest SHUTDOWN"
		elif [ ! -e "$TOP/selftests/$name.c" ]; then
			note="the first failed: $(why "$log" | cut -c1-160)"
		fi
	fi
	if [ -n "$note" ]; then
		mv "$log" "$log.attempt1"
		note="second run; $note (log: ${log##*/}.attempt1)"
		echo "selftest $name: ${note%% (log*}; running it once more"
		tail -n 15 "$log.attempt1" | sed 's/^/    | /'
		run_one "$name" "$limit" "$log" $args
		rc=$?
	fi
	secs=$(( $(date +%s) - t1 ))
	case $rc in
	0)   status=pass ;;
	4)   status=skip
	     why=$(grep -m1 -i 'skip' "$log")
	     [ -n "$why" ] || why=$(grep . "$log" | tail -n 1)
	     echo "$name: $(echo "$why" | tr -s ' ')" >>"$out/results.reasons" ;;
	124|137) status=timeout
	     echo "$name: timed out after ${limit}s" >>"$out/results.reasons" ;;
	*)   status=fail
	     echo "$name: $(why "$log")" >>"$out/results.reasons" ;;
	esac
	[ -z "$note" ] || echo "$name: $note" >>"$out/results.reasons"
	echo "$name $status $rc $secs" >>"$out/results"
	echo "selftest $name: ${status^^} (exit $rc, ${secs}s)"
	if [ "$status" = fail ] || [ "$status" = timeout ]; then
		tail -n 15 "$log" | sed 's/^/    | /'
	fi
done
exit 0
