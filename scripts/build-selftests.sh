#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-selftests.sh: the KVM selftests of the patched tree (upstream's and
# ours, which apply.sh mirrored into it), linked statically against the host
# kernel's exported headers, into build/selftests.  They run inside L1 from
# L0's root over 9p (tests/host/selftests.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=$BUILD/src/linux
O=$HOST_OBJ
OUT=$BUILD/selftests
[ -f "$O/.config" ] || die "configure the host kernel first (scripts/build-kernel.sh host)"

msg "selftests: exporting the host kernel's headers"
make -C "$SRC" -s O="$O" headers >/dev/null
msg "selftests: building (static)"
t0=$SECONDS
mkdir -p "$OUT"
make -C "$SRC/tools/testing/selftests/kvm" -s -j"$JOBS" \
	CC="$CC_WRAP" OUTPUT="$OUT" \
	KHDR_INCLUDES="-isystem $O/usr/include" LDFLAGS=-static \
	>"$BUILD/selftests-build.log" 2>&1 ||
	{ grep -E -m20 'error|Error' "$BUILD/selftests-build.log" >&2;
	  die "selftests: build failed (log: $BUILD/selftests-build.log)"; }
n=$(find "$OUT/x86_64" "$OUT" -maxdepth 1 -type f -perm -u+x | wc -l)
msg "selftests: $n binaries built in $((SECONDS - t0))s"
