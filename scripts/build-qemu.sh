#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-qemu.sh: build two QEMUs from build/src/qemu (Debian's 7.2 with
# qemu-patches/ applied), x86_64-softmmu only:
#
#   build/qemu     the L1 VMM that runs L2 under KVM: KVM only, and only the
#                  devices in qemu-patches/files/configs/devices/
#                  x86_64-softmmu/cc-testbed.mak;
#   build/qemu-l0  L0, which runs L1 under TCG: TCG only, default devices
#                  and 9p (L1's root is this machine's, over virtfs).  It is
#                  ours rather than Debian's binary because of two fixes to
#                  TCG's SVM emulation in qemu-patches (0008, 0009) without
#                  which L1 loses interrupts and L2 wake-ups
#                  (docs/testbed.md, "L0").
#
# meson picks up ccache by itself.  The firmware both need is gathered into
# build/qemu-firmware (pass it with -L), from Debian's packages pinned in
# pins.mk (scripts/fetch.sh firmware).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=$BUILD/src/qemu
FW=$BUILD/qemu-firmware
[ -x "$SRC/configure" ] || die "no QEMU tree: run scripts/fetch.sh qemu"

common=(--prefix=/usr/local --with-git-submodules=ignore
	--target-list=x86_64-softmmu --disable-xen
	--disable-docs --disable-install-blobs --disable-tools
	--disable-guest-agent --disable-user --disable-slirp
	--disable-gtk --disable-sdl --disable-vnc --disable-spice
	--disable-opengl --disable-curses --disable-vhost-user)

# build_one NAME CONFIGURE-OPTIONS...: configure (when the options changed)
# and build build/NAME/qemu-system-x86_64.
build_one() {
	local name=$1 O=$BUILD/$1 stamp t0
	shift
	local opts=("${common[@]}" "$@")
	stamp=$O/.configure-opts
	if [ ! -f "$O/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${opts[*]}" ]; then
		msg "$name: configuring"
		rm -rf "$O"; mkdir -p "$O"
		(cd "$O" && PATH=/usr/bin:$PATH "$SRC/configure" "${opts[@]}") >"$BUILD/$name-configure.log" 2>&1 ||
			{ tail -n 30 "$BUILD/$name-configure.log" >&2; die "$name: configure failed (log: $BUILD/$name-configure.log)"; }
		echo "${opts[*]}" >"$stamp"
	fi
	msg "$name: building"
	t0=$SECONDS
	ninja -C "$O" -j"$JOBS" qemu-system-x86_64 >"$BUILD/$name-build.log" 2>&1 ||
		{ grep -E -m20 'error|FAILED' "$BUILD/$name-build.log" >&2; die "$name: build failed (log: $BUILD/$name-build.log)"; }
	msg "$name: $("$O/qemu-system-x86_64" --version | head -n1) built in $((SECONDS - t0))s"
}

build_one qemu --without-default-devices --with-devices-x86_64=cc-testbed \
	--enable-kvm --disable-tcg --disable-capstone --disable-virtfs
build_one qemu-l0 --enable-tcg --disable-kvm --enable-virtfs

# Firmware directory for -L.
"$TOP/scripts/fetch.sh" firmware
rm -rf "$FW"; mkdir -p "$FW"
for f in "$BUILD"/firmware/root/usr/share/seabios/*.bin \
	 "$BUILD"/firmware/root/usr/lib/ipxe/qemu/*.rom \
	 "$BUILD"/firmware/root/usr/share/qemu/{linuxboot,linuxboot_dma,kvmvapic,pvh,multiboot,multiboot_dma}.bin; do
	[ -e "$f" ] && ln -sf "$f" "$FW/"
done
for f in bios-256k.bin linuxboot_dma.bin kvmvapic.bin efi-virtio.rom; do
	[ -e "$FW/$f" ] || die "qemu: firmware $f is missing from $FW"
done
