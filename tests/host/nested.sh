#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside L1 (the host kernel): boot the guest kernel in L2 under our
# QEMU with KVM, with one virtio-blk disk behind the DMA API
# (iommu_platform=on) and swiotlb=force, and run a command there
# (default: tests/guest/iotest.sh).  L2 runs a periodic timer, as L1 does
# (below).  L2's console goes to OUTDIR/l2-console.log, its data channel
# (/dev/ttyS1) to OUTDIR/l2-data.
#
# Optional, from the environment:
#   L2_NVME=1       also an NVMe disk (id nvme0; the virtio-blk one is vblk0)
#   L2_DMA_GUARD=1  -accel kvm,dma-guard=on (docs/dma-guard.md), and
#                   -boot strict=on so that SeaBIOS leaves the disks alone
#   L2_QMP=PATH     a QMP socket at PATH
#   L2_VBLK_LATER=1 no virtio-blk device at boot, only its drive (disk0) and
#                   a PCIe root port (rp0) to hot-plug it into over QMP
#   L2_POOL=OPTS    -object shared-pool,id=sp0,OPTS (docs/shared-pool-vmm.md);
#                   L2_POOL=on for the defaults
#   L2_VBLK_SERIAL=S, L2_NVME_SERIAL=S  the serial numbers of vblk0 (none
#                   by default) and nvme0 (ccnvme0)
#   L2_HOTPLUG_PORTS=N  N empty PCIe root ports to hot-plug disks into
#                   (ids hp0...; the layout of docs/hotplug.md)
#   L2_PCI_HOTPLUG=acpi|native  who hot-plugs into the root ports: the
#                   guest's ACPI hot-plug (the default, QEMU 7.2's q35) or
#                   its native PCIe hot-plug driver, pciehp
#                   (-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off)
#
# usage: nested.sh OUTDIR [command...]
set -u
. "$(dirname "$0")/../../scripts/lib.sh"
B=$BUILD
out=${1:?usage: nested.sh OUTDIR [command...]}
shift
[ $# -gt 0 ] || set -- /test/iotest.sh 32

[ -c /dev/kvm ] || { echo "nested: no /dev/kvm in L1"; exit 1; }
extra=()
case ${L2_PCI_HOTPLUG:-acpi} in
acpi) ;;
native) extra+=(-q -global -q ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off) ;;
*) echo "nested: L2_PCI_HOTPLUG=$L2_PCI_HOTPLUG: acpi or native"; exit 1 ;;
esac
mkdir -p "$out"
disk=/tmp/l2-disk0.img
truncate -s "${L2_DISK_SIZE:-128M}" "$disk"
if [ "${L2_NVME:-0}" = 1 ]; then
	truncate -s "${L2_DISK_SIZE:-128M}" /tmp/l2-nvme0.img
	extra+=(-q -drive -q "if=none,id=nvm0,file=/tmp/l2-nvme0.img,format=raw,cache=writeback"
		-q -device -q "nvme,id=nvme0,drive=nvm0,serial=${L2_NVME_SERIAL:-ccnvme0}")
fi
if [ "${L2_DMA_GUARD:-0}" = 1 ]; then
	export ACCEL_OPTS=dma-guard=on
	extra+=(-q -boot -q strict=on)
fi
case ${L2_POOL:-} in
'') ;;
on) extra+=(-q -object -q shared-pool,id=sp0) ;;
*) extra+=(-q -object -q "shared-pool,id=sp0,$L2_POOL") ;;
esac
[ -z "${L2_QMP:-}" ] || extra+=(-q -qmp -q "unix:$L2_QMP,server=on,wait=off")
if [ "${L2_VBLK_LATER:-0}" = 1 ]; then
	extra+=(-q -device -q "pcie-root-port,id=rp0,bus=pcie.0,chassis=1")
else
	extra+=(-q -device -q "virtio-blk-pci,id=vblk0,drive=disk0,iommu_platform=on,disable-legacy=on${L2_VBLK_SERIAL:+,serial=$L2_VBLK_SERIAL}")
fi

# Hot-plug ports: eight root ports per slot of pcie.0 from slot 0x10 on,
# multifunction, with no I/O window each (docs/hotplug.md).
ports=${L2_HOTPLUG_PORTS:-0}
[ "$ports" -le 104 ] || { echo "nested: L2_HOTPLUG_PORTS=$ports: at most 104"; exit 1; }
for ((i = 0; i < ports; i++)); do
	slot=$((0x10 + i / 8)) fn=$((i % 8))
	mf=
	[ $fn = 0 ] && [ $((ports - i)) -gt 1 ] && mf=,multifunction=on
	extra+=(-q -device -q "$(printf 'pcie-root-port,id=hp%d,bus=pcie.0,addr=0x%x.%d%s,chassis=2,slot=%d,io-reserve=0' \
		"$i" "$slot" "$fn" "$mf" "$((i + 1))")")
done

export QEMU=${L2_QEMU:-$B/qemu/qemu-system-x86_64}
export QEMU_FIRMWARE=$B/qemu-firmware
export ACCEL=kvm MEM=${L2_MEM:-1G} CPUS=${L2_CPUS:-2}
# No XSAVE in L2: L0's TCG does not intercept XSETBV for a nested guest, so
# L1's KVM never sees L2's XCR0 and reloads its own on every VM entry; an L2
# that enables AVX would lose register state (docs/testbed.md).
export CPU=${L2_CPU:-host,-xsave}
export TIMEOUT=${L2_TIMEOUT:-400}
# L2's kernel warnings are judged by the caller, from the console log;
# with L2_SILENT=1 L2's console stays out of L1's, so that they are not
# counted against the host kernel as well.
export VMRUN_WARN=ignore
silent=
[ "${L2_SILENT:-0}" = 1 ] && silent=-s
# L2 runs a periodic timer, as L1 does (L1_APPEND in scripts/lib.sh,
# docs/testbed.md): with one-shot timers an L2 that idles loses its timer
# wake-ups for tens of seconds at a time (idle-task soft lockups).
tick="nohz=off highres=off lapic=notscdeadline"
exec "$TOP/scripts/vmrun" $silent \
	-k "${L2_KERNEL:-$GUEST_KERNEL}" \
	-i "${L2_INITRD:-$GUEST_INITRD}" \
	-l "$out/l2-console.log" -d "$out/l2-data" \
	-a "swiotlb=force $tick ${GUEST_APPEND:-}" \
	-q -drive -q "if=none,id=disk0,file=$disk,format=raw,cache=writeback" \
	"${extra[@]}" -- "$@"
