#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 (the host kernel): KVM selftests, each under its own
# timeout.  Writes OUTDIR/results, one "name status exit seconds" line per
# test (status: pass, fail, skip, timeout), and OUTDIR/<name>.log.
#
# usage: selftests.sh OUTDIR LIST     tests named in LIST (tests/host/*.list)
#        selftests.sh OUTDIR --all    every selftest binary that was built
#
# A test is skipped when it exits with KSFT_SKIP (4); the reason is the
# test's own "SKIP" line, copied into OUTDIR/results.reasons.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${SELFTESTS:-$TOP/build/selftests}
out=${1:?usage: selftests.sh OUTDIR LIST|--all}
list=${2:?usage: selftests.sh OUTDIR LIST|--all}
DEFAULT_TIMEOUT=${SELFTEST_TIMEOUT:-120}

[ -c /dev/kvm ] || { echo "selftests: no /dev/kvm in L1"; exit 1; }
mkdir -p "$out/logs"
: >"$out/results"
: >"$out/results.reasons"

tests() {
	if [ "$list" = --all ]; then
		(cd "$BIN" && find . -maxdepth 2 -type f -perm -u+x ! -name '*.sh' |
			sed 's|^\./||' | grep -v '^lib' | LC_ALL=C sort)
	else
		sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list"
	fi
}

echo "selftests: $(uname -r), $(nproc) vCPUs, kvm_amd.npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null || echo -)"
tests | while read -r name limit; do
	limit=${limit:-$DEFAULT_TIMEOUT}
	log=$out/logs/${name//\//_}.log
	if [ ! -x "$BIN/$name" ]; then
		echo "$name fail 127 0" >>"$out/results"
		echo "$name: not built" >>"$out/results.reasons"
		echo "selftest $name: FAIL (not built)"
		continue
	fi
	t0=$(date +%s)
	(cd "$(dirname "$BIN/$name")" && timeout -k 5 "$limit" "$BIN/$name") >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	case $rc in
	0)   status=pass ;;
	4)   status=skip
	     echo "$name: $(grep -m1 -i 'skip' "$log" | tr -s ' ')" >>"$out/results.reasons" ;;
	124|137) status=timeout
	     echo "$name: timed out after ${limit}s" >>"$out/results.reasons" ;;
	*)   status=fail
	     echo "$name: $(grep -m1 -E 'Assertion|FAIL|error' "$log" | tr -s ' ' | cut -c1-200)" >>"$out/results.reasons" ;;
	esac
	echo "$name $status $rc $secs" >>"$out/results"
	echo "selftest $name: ${status^^} (exit $rc, ${secs}s)"
	if [ "$status" = fail ] || [ "$status" = timeout ]; then
		tail -n 15 "$log" | sed 's/^/    | /'
	fi
done
exit 0
