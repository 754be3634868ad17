# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the L1 scripts that record checks (tests/host/ccguard.sh,
# tests/host/pool.sh).  Source it after scripts/lib.sh with these set:
#
#   results  the results file: one line per check, "NAME pass|fail DETAIL"
#   who      the word each printed result starts with
#
# and read "fails", the number of checks that did not pass.

fails=0

# check NAME pass|fail [DETAIL]: record one check and print it.
check() {
	local name=$1 st=$2 detail=${3:-}
	echo "$name $st $detail" >>"$results"
	echo "$who: ${st^^} $name${detail:+ ($detail)}"
	[ "$st" = pass ] || fails=$((fails + 1))
}

# val DIR KEY: KEY's last value in DIR's L2 data channel.
val() {
	tr -d '\r' <"$1/l2-data" 2>/dev/null | sed -n "s/^$2=//p" | tail -n 1
}

# jq FILE EXPR: a value from a QMP answer, EXPR in Python over "r".
jq() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# kvmstat FILE NAME: KVM's VM stat NAME in a query-stats answer.
kvmstat() {
	jq "$1" "[s['value'] for p in r for s in p['stats'] if s['name'] == '$2'][0]"
}

# console_check NAME: the check NAME passes when L2's console in $dir
# shows no kernel problem (scripts/kernel-splats: BUG, WARNING, oops,
# lockups, hung tasks, lockdep), and names the first one otherwise; a
# console it cannot read fails, with kernel-splats' message.
console_check() {
	local splats
	splats=$("$TOP/scripts/kernel-splats" "$dir/l2-console.log" 2>&1 | head -n 1)
	check "$1" "$([ -z "$splats" ] && echo pass || echo fail)" "${splats:0:160}"
}

# l2_lost DIR RC: the test bed lost the L2 run in DIR whose nested.sh
# status was RC: vmrun 124 or 125 (L2 hung, timed out or died before its
# command ended), or L2's kernel reported that its timer did not fire for
# tens of seconds ("timer wakeup didn't happen", an RCU stall with the
# CPU idle), or the host side found it silent (DIR/l2-silent, written by
# tests/host/hotbench.py): the test bed's lost wake-up (docs/testbed.md,
# known limits), after which nothing the run measured is trusted.  A
# silent guest whose kernel reported a lockup or a hung task is not lost:
# that report is the run's result.
l2_lost() {
	if [ -e "$1/l2-silent" ]; then
		# hotbench.py stopped QEMU, so vmrun says the guest died.
		! grep -qE 'soft lockup|hard LOCKUP|blocked for more than' "$1/l2-console.log" 2>/dev/null
		return
	fi
	[ "$2" = 124 ] || [ "$2" = 125 ] ||
		grep -q "timer wakeup didn't happen" "$1/l2-console.log" 2>/dev/null
}

# l2_loss DIR: how the run in DIR was lost, for the report.  A kernel
# line quoted loses its printk timestamp: the report goes to L1's console,
# and kernel-splats would take the quote for L1's own panic.
l2_loss() {
	local r
	[ -e "$1/l2-silent" ] &&
		{ echo "nothing from the guest for a while, $(cat "$1/l2-silent") s into the run"; return; }
	r=$(sed -n 's/^vmrun: FAIL: //p' "$1/nested.out" 2>/dev/null | tail -n 1)
	[ -n "$r" ] || r=$(tr -d '\r' <"$1/l2-console.log" 2>/dev/null |
		grep -m1 -o "rcu_sched kthread timer wakeup didn't happen for [0-9]* jiffies")
	r=$(echo "$r" | sed 's/\[ *[0-9]*\.[0-9]*\] *//g')
	echo "${r:-unknown}"
}

# attempts RUN [MARKER]: RUN_attempt DIR (a function returning nested.sh's
# status) on $dir, run again while the test bed lost L2 (l2_lost), up to
# L2_ATTEMPTS runs in all (default 3).  A lost run
# is run again even after the guest wrote MARKER= (its point of no return
# for the checks, named in the note): the checks need the whole run, and
# the test bed has lost L2 after the work, on its way down.  Each lost
# attempt's files go to $dir/attemptN/.  Sets rc (the last run's nested.sh
# status) and retried (a note for the boot result, empty if none).
#
# When every attempt was lost, this L1 boot is given up: the check
# RUN-testbed fails and the script exits 3, which scripts/test.sh's
# l1_checks answers by booting L1 once more (once the test bed loses L2
# wake-ups in an L1 boot, it goes on losing them there).  With
# L2_GIVE_UP=0 (make bench, which reports every run) attempts returns
# instead, and the run's checks fail on their own.
attempts() {
	local run=$1 marker=${2:-} tries=1 when
	retried=
	"${run}_attempt" "$dir"
	rc=$?
	while [ "$tries" -lt "${L2_ATTEMPTS:-3}" ] && l2_lost "$dir" "$rc"; do
		when=before
		[ -n "$marker" ] && grep -q "^$marker=" "$dir/l2-data" 2>/dev/null && when=after
		mkdir -p "$dir/attempt$tries"
		mv "$dir"/l2-* "$dir"/nested.out "$dir"/qmp.* "$dir"/*.json "$dir"/*.rss \
			"$dir"/*.out "$dir"/*.csv "$dir/attempt$tries/" 2>/dev/null
		retried="; attempt $((tries + 1)), the one before lost L2${marker:+ $when '$marker='}: $(l2_loss "$dir/attempt$tries")"
		echo "$who: L2 lost${marker:+ $when '$marker='} in $run attempt $tries (exit $rc); trying again"
		tries=$((tries + 1))
		"${run}_attempt" "$dir"
		rc=$?
	done
	if [ "${L2_GIVE_UP:-1}" != 0 ] && l2_lost "$dir" "$rc"; then
		check "$run-testbed" fail "the test bed lost L2 in all $tries attempts; the last: $(l2_loss "$dir") (exit $rc)"
		echo "$who: L2 lost $tries times in this L1 boot: giving it up (exit 3)"
		exit 3
	fi
}
