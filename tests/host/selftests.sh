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

echo "selftests: $(uname -r), $(nproc) vCPUs, kvm_amd.npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null || echo -)"
tests | while read -r name limit args; do
	limit=${limit:-$DEFAULT_TIMEOUT}
	log=$out/logs/${name//\//_}.log
	if [ ! -x "$BIN/$name" ]; then
		echo "$name fail 127 0" >>"$out/results"
		echo "$name: not built" >>"$out/results.reasons"
		echo "selftest $name: FAIL (not built)"
		continue
	fi
	t0=$(date +%s)
	(cd "$(dirname "$BIN/$name")" && exec timeout -k 5 "$limit" "$BIN/$name" $args) >"$log" 2>&1 </dev/null &
	pid=$!
	# Do not wait forever for a test stuck in the kernel: SIGKILL cannot
	# end it, and the remaining tests still deserve to run.
	while kill -0 $pid 2>/dev/null && [ $(( $(date +%s) - t0 )) -le $((limit + 15)) ]; do
		sleep 0.2
	done
	if kill -0 $pid 2>/dev/null; then
		rc=137
		echo "selftests: $name survived SIGKILL: stuck in the kernel" >>"$log"
	else
		wait $pid
		rc=$?
	fi
	secs=$(( $(date +%s) - t0 ))
	case $rc in
	0)   status=pass ;;
	4)   status=skip
	     why=$(grep -m1 -i 'skip' "$log")
	     [ -n "$why" ] || why=$(grep . "$log" | tail -n 1)
	     echo "$name: $(echo "$why" | tr -s ' ')" >>"$out/results.reasons" ;;
	124|137) status=timeout
	     echo "$name: timed out after ${limit}s" >>"$out/results.reasons" ;;
	*)   status=fail
	     # The assertion's location and the test's last word on it.
	     why=$(grep -A1 -m1 'Test Assertion Failure' "$log" | tail -n 1)
	     [ -n "$why" ] || why=$(grep -m1 -E 'FAIL|error' "$log")
	     echo "$name: $(echo "$why; $(grep . "$log" | tail -n 1)" | tr -s ' \t' ' ' | cut -c1-240)" >>"$out/results.reasons" ;;
	esac
	echo "$name $status $rc $secs" >>"$out/results"
	echo "selftest $name: ${status^^} (exit $rc, ${secs}s)"
	if [ "$status" = fail ] || [ "$status" = timeout ]; then
		tail -n 15 "$log" | sed 's/^/    | /'
	fi
done
exit 0
