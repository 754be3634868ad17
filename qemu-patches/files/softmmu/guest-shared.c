/*
 * The guest's shared memory: which guest pages a confidential guest has
 * declared shared (decrypted) with the host.
 *
 * A confidential guest tells the host which of its pages it shares, page
 * range by page range (KVM_HC_MAP_GPA_RANGE on x86).  This file keeps that
 * set as a bitmap over guest-physical space, one bit per 4 KiB page, set
 * for shared.  The bitmap starts empty (all guest RAM private), grows to
 * cover the highest page ever shared, and is cleared by a machine reset,
 * as a reset guest starts with all its memory private again.
 *
 * It tracks what the guest declared and nothing else: it does not change
 * how QEMU or KVM map the memory (there is no encryption here to change),
 * and it is not migrated.  The DMA guard (dma-guard.c) consults it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/thread.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "exec/memory.h"
#include "exec/address-spaces.h"
#include "hw/qdev-core.h"
#include "sysemu/reset.h"
#include "sysemu/sysemu.h"
#include "sysemu/guest-shared.h"
#include "trace.h"

static struct {
    /* @lock protects everything below */
    QemuMutex lock;
    unsigned long *bitmap;      /* bit n set: page n is shared */
    uint64_t nbits;             /* pages the bitmap covers */
    GuestSharedStats stats;
} gs;

static void __attribute__((__constructor__)) guest_shared_init(void)
{
    qemu_mutex_init(&gs.lock);
}

/*
 * Is every byte of [gpa, gpa + len) guest RAM?  Guest RAM is writable RAM
 * that belongs to no device: ROM, ROM devices, RAM devices (assigned BARs),
 * devices' own memory (video RAM, for example), MMIO and holes are not.
 */
static bool guest_shared_range_is_ram(hwaddr gpa, hwaddr len)
{
    RCU_READ_LOCK_GUARD();

    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr;
        Object *owner;

        mr = address_space_translate(&address_space_memory, gpa, &xlat, &l,
                                     true, MEMTXATTRS_UNSPECIFIED);
        if (!l || !memory_region_is_ram(mr) || mr->readonly ||
            mr->rom_device || memory_region_is_ram_device(mr)) {
            return false;
        }
        owner = memory_region_owner(mr);
        if (owner && object_dynamic_cast(owner, TYPE_DEVICE)) {
            return false;
        }
        gpa += l;
        len -= l;
    }
    return true;
}

static void guest_shared_count_refusal(GuestSharedRefusal why)
{
    assert(why < GUEST_SHARED_REFUSED__MAX);
    gs.stats.refused++;
    gs.stats.refused_by[why]++;
}

void guest_shared_refuse(GuestSharedRefusal why)
{
    QEMU_LOCK_GUARD(&gs.lock);
    guest_shared_count_refusal(why);
}

/* Returns true when the request is acceptable, or false and sets *why. */
static bool guest_shared_validate(uint64_t gpa, uint64_t npages,
                                  GuestSharedRefusal *why)
{
    uint64_t first = gpa >> GUEST_SHARED_PAGE_BITS;
    /* Pages in the 64-bit space: gpa + npages pages must not reach 2^64. */
    uint64_t space = 1ULL << (64 - GUEST_SHARED_PAGE_BITS);

    if (gpa & (GUEST_SHARED_PAGE_SIZE - 1)) {
        *why = GUEST_SHARED_REFUSED_UNALIGNED;
    } else if (!npages) {
        *why = GUEST_SHARED_REFUSED_NO_PAGES;
    } else if (npages >= space - first) {
        *why = GUEST_SHARED_REFUSED_OVERFLOW;
    } else if (!guest_shared_range_is_ram(gpa,
                                          npages << GUEST_SHARED_PAGE_BITS)) {
        *why = GUEST_SHARED_REFUSED_NOT_RAM;
    } else {
        return true;
    }
    return false;
}

bool guest_shared_convert(uint64_t gpa, uint64_t npages, bool shared,
                          GuestSharedRefusal *why)
{
    uint64_t first = gpa >> GUEST_SHARED_PAGE_BITS;
    uint64_t end = first + npages;
    uint64_t n, before;

    assert(qemu_mutex_iothread_locked());

    if (!guest_shared_validate(gpa, npages, why)) {
        guest_shared_refuse(*why);
        return false;
    }

    QEMU_LOCK_GUARD(&gs.lock);
    if (shared) {
        if (end > gs.nbits) {
            /*
             * The range is RAM, so the bitmap stays small.  Grow it in
             * 2 MiB steps: a little slack, fewer reallocations.
             */
            uint64_t nbits = ROUND_UP(end, 512);

            gs.bitmap = bitmap_zero_extend(gs.bitmap, gs.nbits, nbits);
            gs.nbits = nbits;
        }
        before = bitmap_count_one_with_offset(gs.bitmap, first, npages);
        bitmap_set(gs.bitmap, first, npages);
        gs.stats.shared_pages += npages - before;
        gs.stats.to_shared_calls++;
        gs.stats.to_shared_pages += npages;
    } else {
        /* Pages beyond the bitmap were never shared. */
        n = first < gs.nbits ? MIN(npages, gs.nbits - first) : 0;
        if (n) {
            before = bitmap_count_one_with_offset(gs.bitmap, first, n);
            bitmap_clear(gs.bitmap, first, n);
            gs.stats.shared_pages -= before;
        }
        gs.stats.to_private_calls++;
        gs.stats.to_private_pages += npages;
    }
    trace_guest_shared_convert(gpa, npages, shared, gs.stats.shared_pages);
    return true;
}

bool guest_shared_find_private(uint64_t addr, uint64_t len, uint64_t *first)
{
    uint64_t pfn = addr >> GUEST_SHARED_PAGE_BITS;
    uint64_t last = (addr + len - 1) >> GUEST_SHARED_PAGE_BITS;
    uint64_t next;

    assert(len && addr + len - 1 >= addr);

    QEMU_LOCK_GUARD(&gs.lock);
    if (pfn >= gs.nbits) {
        next = pfn;
    } else {
        next = find_next_zero_bit(gs.bitmap, MIN(last + 1, gs.nbits), pfn);
    }
    if (next > last) {
        return false;
    }
    *first = MAX(addr, next << GUEST_SHARED_PAGE_BITS);
    return true;
}

void guest_shared_get_stats(GuestSharedStats *stats)
{
    QEMU_LOCK_GUARD(&gs.lock);
    *stats = gs.stats;
}

/* A reset guest starts over with all its memory private. */
static void guest_shared_reset(void *opaque)
{
    QEMU_LOCK_GUARD(&gs.lock);
    if (gs.nbits) {
        bitmap_zero(gs.bitmap, gs.nbits);
    }
    gs.stats.shared_pages = 0;
    trace_guest_shared_reset();
}

/*
 * Clear the set only after the devices are reset.  qemu_devices_reset()
 * runs the reset handlers in the order they were registered, and
 * qdev_machine_creation_done() registers the one resetting the devices
 * (resettable_cold_reset_fn on the sysbus) just before it runs the
 * machine-init-done notifiers; registered from such a notifier, this
 * handler runs after it.  Clearing first would let a device reset that
 * changes the memory map make a virtio device re-check rings it still
 * holds against an empty set, and refuse them.
 */
static void guest_shared_machine_done(Notifier *notifier, void *data)
{
    qemu_register_reset(guest_shared_reset, NULL);
}

static Notifier guest_shared_machine_done_notifier = {
    .notify = guest_shared_machine_done,
};

static void __attribute__((__constructor__)) guest_shared_register_reset(void)
{
    qemu_add_machine_init_done_notifier(&guest_shared_machine_done_notifier);
}
