# SPDX-License-Identifier: GPL-2.0
#
# The one place where the upstream bases are pinned.  Both kernels (host and
# guest) are built from the same tree.  Everything is fetched from Debian's
# archive without touching the system's apt configuration (see
# scripts/fetch.sh); change a version here and `make` rebuilds from scratch.

# Kernel: Debian's linux-source-6.12 binary package (a tarball of the
# Debian-patched tree).
KERNEL_PKG      := linux-source-6.12
KERNEL_VERSION  := 6.12.117-1~deb12u1

# VMM: Debian's qemu source package for bookworm (Debian's patches applied
# by dpkg-source form the pristine base).
QEMU_SRC_PKG    := qemu
QEMU_VERSION    := 1:7.2+dfsg-7+deb12u18

# Firmware for the VMM, from Debian's binary packages: the +dfsg source has
# no SeaBIOS and no iPXE ROMs, and building the linuxboot/kvmvapic option
# ROMs needs a 16/32-bit cross toolchain, so they come from Debian's build
# of the same QEMU (qemu-system-data).
FIRMWARE_PKGS   := seabios=1.16.2-1 ipxe-qemu=1.0.0+git-20190125.36a4c85-5.1 \
                   qemu-system-data=1:7.2+dfsg-7+deb12u18
