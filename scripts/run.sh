#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: the whole stack, once, on the console.  L0 (our TCG build of QEMU)
# boots the host kernel (L1); inside it our QEMU boots the guest kernel
# (L2) under KVM with a virtio-blk disk behind the DMA API and
# swiotlb=force; the guest prints its bounce-buffer statistics around some
# verified I/O (tests/guest/demo.sh).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

OUT=$BUILD/out/run
rm -rf "$OUT"; mkdir -p "$OUT"
msg "L0: booting the host kernel ($(cat "$HOST_OBJ/include/config/kernel.release")) under TCG"
l1_vmrun -t 900 -w "$OUT" -l "$OUT/l1-console.log" -- "${NESTED[@]}" "$OUT" /test/demo.sh
rc=$?
echo
if [ $rc = 0 ]; then
	msg "the guest ran nested in L1 and exited cleanly; logs in $OUT"
else
	msg "failed (exit $rc); logs in $OUT"
fi
exit $rc
