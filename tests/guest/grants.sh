#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L2 side of the grants check in tests/host/pool.sh: cc-swiotlb on host
# grants (cc_emulation=on, a VMM with the shared pool).  Reports the
# provider's state (/sys/kernel/debug/cc_swiotlb/grants) at boot, after
# verified I/O, and after shrinking to nothing, holding still SECS seconds
# (default 5) after each of the last two so that the host can ask QEMU.
#
#   boot.KEY=VALUE     the grants file at boot
#   conv.KEY=VALUE     the emulation's conversion counters at boot
#   iotest_rc=N        tests/guest/iotest.sh 32 (its own lines as well)
#   after.KEY=VALUE    the grants file after it
#   hc_busy=refused: MSG  cc_swiotlb_hc/call refused a write meanwhile
#   held=1 / shrunk=1  the host may ask QEMU now
#   shrink.KEY=VALUE   the grants file after shrinking
#
# usage: grants.sh [SECS]
. /test/lib.sh
g=/sys/kernel/debug/cc_swiotlb/grants
e=/sys/kernel/debug/x86/cc_emulation/stats
report_start
[ -r $g ] || { report "error=no $g (provider: $(cat /sys/kernel/debug/cc_swiotlb/provider 2>&1))"; exit 1; }
sed 's/^\([a-z_]*\): /boot.\1=/' $g | while read -r l; do report "$l"; done
sed 's/^\([a-z_0-9]*\): /conv.\1=/' $e | while read -r l; do report "$l"; done
/test/iotest.sh 32 >/dev/null
report "iotest_rc=$?"
# Hold still: kccd returns chunks that have been free for 4 idle times
# (20 s) on its own, and one returned between after.* and the host's
# queries would make them disagree.  An hour's idle time stops that; a
# return already under way gets 2 s to finish.
echo 3600000 >/sys/kernel/debug/cc_swiotlb/idle_ms
sleep 2
sed 's/^\([a-z_]*\): /after.\1=/' $g | while read -r l; do report "$l"; done
# The raw hypercall file refuses while the provider uses the pool (-EBUSY).
if err=$( (echo "0 4 0 0" >/sys/kernel/debug/cc_swiotlb_hc/call) 2>&1); then
	report "hc_busy=accepted"
else
	report "hc_busy=refused: ${err##*: }"
fi
report "held=1"
sleep "${1:-5}"
# Shrink: no idle time, nothing reserved, nothing kept free.  idle_ms
# first: kccd sleeps up to the hour set above, and it is the watermark
# writes that wake it.
echo 0 >/sys/kernel/debug/cc_swiotlb/idle_ms
for c in /sys/kernel/debug/cc_swiotlb/*/; do
	[ -f "$c/high" ] || continue
	echo 0 >"$c/reserve"; echo 0 >"$c/low"; echo 0 >"$c/high"
done
wait_for 10 '[ "$(sed -n "s/^held_bytes: //p" $g)" = 0 ]'
sed 's/^\([a-z_]*\): /shrink.\1=/' $g | while read -r l; do report "$l"; done
report "shrunk=1"
sleep "${1:-5}"
report "done=1"
