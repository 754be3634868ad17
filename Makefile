# SPDX-License-Identifier: GPL-2.0
#
# cc-swiotlb: host-assisted bounce buffers for confidential VMs.
#
#   make run      build everything, boot L1 (host kernel, TCG) and L2 (guest
#                 kernel, our QEMU + KVM inside L1), show the guest's
#                 bounce-buffer statistics
#   make test     build what is stale and run every test tier
#   make bench    hot-plug 50 disks under io_uring load, four bounce-buffer
#                 variants; writes docs/results.md (docs/bench.md)
#   make test-hotplug50  50 virtio-blk and 50 NVMe disks hot-plugged into a
#                 running guest and removed (docs/hotplug.md)
#   make patches  the git format-patch series, one per component
#   make bench-alloc  cc-swiotlb against swiotlb's allocator, in the guest
#                 kernel under TCG (docs/cc-swiotlb.md)
#   make bench-grow  growing shared memory by 64 MiB: 4 KiB conversions,
#                 2 MiB conversions, host grants (docs/host-grants.md)
#
# Every step is a script under scripts/ that is incremental on its own
# (kbuild, ninja, input hashes), so the targets are phony and cheap to
# repeat.  See README.md and docs/testbed.md.

BUILD	?= $(CURDIR)/build
DEBUG	?= 0
export BUILD DEBUG

ifeq ($(DEBUG),1)
KVARIANTS := host-debug guest-debug
FIXED := guest-debug-fixed
else
KVARIANTS := host guest
FIXED := guest-fixed
endif

S := $(CURDIR)/scripts

.PHONY: all deps sources apply kernels qemu selftests initramfs run test \
	test-hotplug50 patches baseline check-patches bench-alloc bench-grow \
	bench kernel-fixed clean distclean help

all: kernels qemu selftests initramfs

help:
	@sed -n '3,22p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@$(S)/deps.sh

sources: deps
	@$(S)/fetch.sh linux
	@$(S)/fetch.sh qemu
	@$(S)/fetch.sh firmware

apply: sources
	@$(S)/apply.sh linux
	@$(S)/apply.sh qemu

kernels: apply
	@$(S)/build-kernel.sh $(KVARIANTS)

# The guest without the dynamic swiotlb: the hot-plug benchmark's fixed
# variant, for the bench tier of make test (TIERS=bench; docs/bench.md).
kernel-fixed: apply
	@$(S)/build-kernel.sh $(FIXED)

qemu: apply
	@$(S)/build-qemu.sh

selftests: kernels
	@$(S)/build-selftests.sh

initramfs: kernels
	@$(S)/mkinitramfs.sh $(BUILD)/guest-initramfs.cpio

run: all
	@$(S)/run.sh

test: all
	@$(S)/test.sh

# 50 virtio-blk and 50 NVMe disks hot-plugged into a running guest and out
# again (docs/hotplug.md); ends with "hotplug50: virtio-blk N/50 ok, nvme N/50 ok".
test-hotplug50: all
	@$(S)/test.sh --hotplug50

# Run every upstream KVM selftest once on the host kernel (docs/selftest-baseline.md).
baseline: all
	@$(S)/test.sh --baseline

bench-alloc: kernels initramfs qemu
	@$(S)/bench-alloc.sh

bench-grow: all
	@$(S)/bench-grow.sh

# The hot-plug benchmark: 50 disks under io_uring load, four bounce-buffer
# variants; writes docs/results.md (docs/bench.md).
bench: all
	@$(S)/bench.sh

patches: apply
	@$(S)/patches.sh

check-patches: patches
	@$(S)/patches.sh --check

clean:
	rm -rf $(BUILD)/obj $(BUILD)/qemu $(BUILD)/selftests $(BUILD)/out \
		$(BUILD)/patches $(BUILD)/guest-tools $(BUILD)/*.cpio*

# Also drops the downloaded and imported sources.
distclean:
	rm -rf $(BUILD)
