#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# L2 side of the exit-path check in tests/host/pool.sh: raw shared-pool
# hypercalls (cc_swiotlb_hc/ in debugfs, CONFIG_CC_SWIOTLB_GRANTS_HC_DEBUGFS;
# boot with cc_swiotlb=off) against a VMM whose window is 4 granules, quota
# 4, with nothing pooled ahead (prefill=0), so that every ACQUIRE that
# KVM's pool cannot serve reaches QEMU.  Each answer is reported as
# "NAME=RET" (RET in signed decimal: an address or a -KVM_E* error):
#
#   malformed=refused: MSG    a write of two numbers is refused (EINVAL)
#   q.granule q.quota q.base q.size q.held   the queries
#   a=        ACQUIRE 2: the exit path, granules 0-1
#   b=        ACQUIRE 1: the exit path, granule 2
#   over=     ACQUIRE 2 with 3 held: over the quota (-KVM_E2BIG, 7)
#   part=     RELEASE of a's first granule (0); KVM pools it again
#   nospace=  ACQUIRE 2 with 2 held: no run of 2 free granules (granule 3
#             is free, granule 0 pooled): the window is exhausted
#             (-KVM_ENOMEM, 12)
#   unknown=  RELEASE of a's first granule again: not held (-KVM_EFAULT, 14)
#   outside=  RELEASE of the granule below the window (-KVM_EINVAL, 22)
#   held1=    QUERY held (2); then hold1=1 and SECS seconds still
#   all=      RELEASE_ALL (2); then 3 s for QEMU to see it: it takes them
#             back from KVM's pool and gives them back to the host
#             (prefill=0 keeps nothing pooled)
#   held2=    QUERY held (0)
#   again=    ACQUIRE 2: granules 0-1 again, through the exit path
#   held3=    QUERY held (2); then hold2=1 and SECS * 2 seconds still:
#             the host resets the VM here, and this runs again from the
#             start in the new boot
#   done=1
#
# usage: poolexit.sh [SECS]
. /test/lib.sh
d=/sys/kernel/debug/cc_swiotlb_hc
secs=${1:-8}

# hc NAME OP A1 A2: one hypercall; reports NAME=RET, and leaves RET in $ret.
hc() {
	if ! echo "$2 $3 $4 0" >$d/call; then
		report "$1=write-refused"
		ret=x
		return
	fi
	ret=$(cut -d' ' -f5 <$d/result)
	report "$1=$ret"
}

report_start
[ -w $d/call ] || { report "error=no $d/call"; exit 1; }
# A malformed call is refused before any hypercall (-EINVAL).
if err=$( (echo "1 2" >$d/call) 2>&1); then
	report "malformed=accepted"
else
	report "malformed=refused: ${err##*: }"
fi
hc q.granule 0 0 0; granule=$ret
hc q.quota 0 1 0
hc q.base 0 2 0; base=$ret
hc q.size 0 3 0
hc q.held 0 4 0
hc a 1 2 0; a=$ret
hc b 1 1 0
hc over 1 2 0
hc part 2 "$a" 1
hc nospace 1 2 0
hc unknown 2 "$a" 1
hc outside 2 $((base - granule)) 1
hc held1 0 4 0
report "hold1=1"
sleep "$secs"
hc all 3 0 0
# QEMU sees releases at its next scan, at most 1 s away.
sleep 3
hc held2 0 4 0
hc again 1 2 0
hc held3 0 4 0
report "hold2=1"
sleep $((secs * 2))
report "done=1"
