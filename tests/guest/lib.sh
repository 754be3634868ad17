#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the L2 test scripts (". /test/lib.sh"): results as "key=value"
# lines on stdout and on the data channel, /dev/ttyS1 (vmrun --data).
data=/dev/ttyS1

# report LINE: one result line, to stdout and to the data channel.
report() {
	echo "$1"
	[ -c $data ] && echo "$1" >$data
}

# report_start: set the data channel up and say which kernel runs how.
report_start() {
	[ -c $data ] && stty -F $data raw -echo 2>/dev/null
	report "kernel=$(uname -r)"
	report "cmdline=$(cat /proc/cmdline)"
}

# cc_total FILE: cc-swiotlb's debugfs FILE summed over its classes.
cc_total() {
	_n=0
	for _f in /sys/kernel/debug/cc_swiotlb/*/"$1"; do
		_n=$((_n + $(cat "$_f")))
	done
	echo $_n
}

# wait_for SECS CONDITION: evaluate the shell CONDITION once a second until
# it holds or SECS seconds have passed; true if it held.
wait_for() {
	_t=0
	while ! eval "$2"; do
		[ $_t -lt "$1" ] || return 1
		sleep 1
		_t=$((_t + 1))
	done
}
