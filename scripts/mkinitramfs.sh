#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT: the L2 guest's initramfs.  Static busybox (Debian's
# busybox-static), scripts/vm-init as /init, and the guest-side tests
# (tests/guest/: scripts and statically linked tools, with liburing where
# they include it) under /test.  Built
# with the kernel's own gen_init_cpio, so no root and no device nodes on
# disk are needed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: mkinitramfs.sh OUT}
gic=$GUEST_OBJ/usr/gen_init_cpio
[ -x "$gic" ] || die "no $gic: build the guest kernel first"
busybox=${BUSYBOX:-/bin/busybox}
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	die "$busybox is not a static busybox (apt-get install busybox-static)"

tools=$BUILD/guest-tools
mkdir -p "$tools"
for c in "$TOP"/tests/guest/*.c; do
	t=$tools/$(basename "$c" .c)
	if [ ! -x "$t" ] || [ "$c" -nt "$t" ]; then
		libs=()
		grep -q '^#include <liburing.h>' "$c" && libs=(-luring)
		gcc -O2 -Wall -Wextra -Werror -static -o "$t" "$c" "${libs[@]}" ||
			die "cannot build $c"
	fi
done

spec=$out.spec
{
	for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /run \
		 /mnt /root /etc /test; do
		echo "dir $d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "nod /dev/null 0666 0 0 c 1 3"
	echo "file /init $TOP/scripts/vm-init 0755 0 0"
	echo "file /bin/busybox $busybox 0755 0 0"
	for a in $("$busybox" --list-full); do
		[ "$a" = bin/busybox ] || echo "slink /$a /bin/busybox 0777 0 0"
	done
	for f in "$TOP"/tests/guest/*.sh "$tools"/*; do
		echo "file /test/$(basename "$f") $f 0755 0 0"
	done
} >"$spec"
"$gic" "$spec" >"$out.tmp"
mv "$out.tmp" "$out"
