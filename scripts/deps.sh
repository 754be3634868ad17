#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install the Debian packages the build and the tests need, if any
# is missing.  Needs root or sudo.  Only bookworm's own archive is used.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PKGS=(
	# kernel and selftests
	build-essential flex bison bc libelf-dev libssl-dev cpio kmod xz-utils
	ccache git file
	# our QEMU
	ninja-build meson pkg-config python3 libglib2.0-dev libpixman-1-dev
	zlib1g-dev libfdt-dev
	# sources from Debian's archive
	dpkg-dev apt
	# L0 is our own TCG build of QEMU, with 9p (virtfs)
	libcap-ng-dev libattr1-dev
	# Debian's QEMU, to compare L0 with (L0_QEMU=qemu-system-x86_64), and
	# the L2 initramfs
	qemu-system-x86 busybox-static
	# the L2 load generator (tests/guest/ioload.c); the benchmark's plot
	liburing-dev gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
msg "installing: ${missing[*]}"
$SUDO apt-get -q update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -q install -y --no-install-recommends "${missing[@]}"
