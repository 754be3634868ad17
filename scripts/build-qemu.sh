#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-qemu.sh: build our QEMU (the L1 VMM) from build/src/qemu into
# build/qemu: x86_64-softmmu only, KVM only, and only the devices in
# qemu-patches/files/configs/devices/x86_64-softmmu/cc-testbed.mak.  meson
# picks up ccache by itself.  The firmware it needs is gathered into
# build/qemu-firmware (pass it with -L), from Debian's packages pinned in
# pins.mk (scripts/fetch.sh firmware).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SRC=$BUILD/src/qemu
O=$BUILD/qemu
FW=$BUILD/qemu-firmware
[ -x "$SRC/configure" ] || die "no QEMU tree: run scripts/fetch.sh qemu"

opts=(--prefix=/usr/local --with-git-submodules=ignore
      --target-list=x86_64-softmmu
      --without-default-devices --with-devices-x86_64=cc-testbed
      --enable-kvm --disable-tcg --disable-xen
      --disable-docs --disable-install-blobs --disable-tools
      --disable-guest-agent --disable-user --disable-slirp
      --disable-gtk --disable-sdl --disable-vnc --disable-spice
      --disable-opengl --disable-curses --disable-capstone
      --disable-virtfs --disable-vhost-user)

stamp=$O/.configure-opts
if [ ! -f "$O/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${opts[*]}" ]; then
	msg "qemu: configuring"
	rm -rf "$O"; mkdir -p "$O"
	(cd "$O" && PATH=/usr/bin:$PATH "$SRC/configure" "${opts[@]}") >"$BUILD/qemu-configure.log" 2>&1 ||
		{ tail -n 30 "$BUILD/qemu-configure.log" >&2; die "qemu: configure failed (log: $BUILD/qemu-configure.log)"; }
	echo "${opts[*]}" >"$stamp"
fi
msg "qemu: building"
t0=$SECONDS
ninja -C "$O" -j"$JOBS" qemu-system-x86_64 >"$BUILD/qemu-build.log" 2>&1 ||
	{ grep -E -m20 'error|FAILED' "$BUILD/qemu-build.log" >&2; die "qemu: build failed (log: $BUILD/qemu-build.log)"; }
msg "qemu: $("$O/qemu-system-x86_64" --version | head -n1) built in $((SECONDS - t0))s"

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
