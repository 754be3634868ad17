/*
 * DMA guard: device DMA may touch only memory the guest shared.
 *
 * On confidential-computing hardware a device cannot read or write a
 * guest's private memory: every DMA the guest wants done must go through
 * pages it shared (bounce buffers).  Without such hardware nothing stops
 * a device from reaching private memory, so a guest that forgot to bounce
 * works anyway and a test cannot tell.  With the guard on (-accel
 * kvm,dma-guard=on) QEMU enforces the rule: the devices that map guest
 * memory for DMA (virtio's rings and buffers, NVMe's queues and data) ask
 * dma_guard_check() first and fail the request as they fail a bad
 * address when it says no.
 *
 * Refusing the access in an IOMMU translation would not do: in QEMU a
 * denied translation becomes an unassigned access, so reads return
 * garbage, writes vanish and the request "succeeds".
 *
 * The guard judges DMA addresses as guest-physical addresses; it does not
 * work behind a vIOMMU, and the guarded devices refuse to realize there.
 * MSI writes do not come through here.  The shared set is not migrated,
 * so the guard blocks migration.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "migration/blocker.h"
#include "qemu/thread.h"
#include "qemu/lockable.h"
#include "qom/object.h"
#include "hw/qdev-core.h"
#include "sysemu/guest-shared.h"
#include "sysemu/dma-guard.h"
#include "trace.h"

bool dma_guard_on;

static struct {
    /* @lock protects @devices and the records in it */
    QemuMutex lock;
    GHashTable *devices;        /* QOM path (a copy) -> DmaGuardDeviceStats */
} dg;

static void __attribute__((__constructor__)) dma_guard_init(void)
{
    qemu_mutex_init(&dg.lock);
    dg.devices = g_hash_table_new_full(g_str_hash, g_str_equal,
                                       g_free, g_free);
}

bool dma_guard_enable(Error **errp)
{
    static Error *blocker;

    if (!blocker) {
        error_setg(&blocker, "dma-guard=on: the guest's shared memory "
                   "(KVM_HC_MAP_GPA_RANGE) is not migrated, and without it "
                   "the destination would refuse every device DMA");
        if (migrate_add_blocker(blocker, errp) < 0) {
            error_free(blocker);
            blocker = NULL;
            return false;
        }
    }
    dma_guard_on = true;
    return true;
}

/*
 * How many bytes from @addr on (at most @len) the guard allows besides the
 * guest's shared pages: the place for a second source of allowed memory,
 * such as regions the host grants the guest for bounce buffers.  There is
 * none yet.
 */
static hwaddr dma_guard_granted(hwaddr addr, hwaddr len)
{
    return 0;
}

/* Is [addr, addr + len) allowed?  If not, *bad is its first private byte. */
static bool dma_guard_allowed(hwaddr addr, hwaddr len, hwaddr *bad)
{
    hwaddr end = addr + len;            /* exclusive; 0 when it wraps */
    uint64_t priv;

    while (addr != end) {
        hwaddr granted;

        if (!guest_shared_find_private(addr, end - addr, &priv)) {
            return true;
        }
        granted = dma_guard_granted(priv, end - priv);
        if (!granted) {
            *bad = priv;
            return false;
        }
        addr = priv + granted;
    }
    return true;
}

/*
 * The violation is counted under @dev's canonical path, which the device
 * core computed under the BQL when it realized @dev (dev->canonical_path,
 * kept until the device is finalized): this may run without the BQL (a
 * virtio-blk iothread), where walking the QOM tree is not safe.  The
 * record keeps a copy, so it outlives the device.
 */
static void dma_guard_violation(DeviceState *dev, hwaddr addr, hwaddr len,
                                hwaddr bad)
{
    const char *path = dev->canonical_path;
    DmaGuardDeviceStats *st;
    bool first = false;

    if (!path) {
        /* Not realized: should not DMA; count it under its type. */
        path = object_get_typename(OBJECT(dev));
    }
    trace_dma_guard_violation(path, addr, len, bad);

    WITH_QEMU_LOCK_GUARD(&dg.lock) {
        st = g_hash_table_lookup(dg.devices, path);
        if (!st) {
            st = g_new0(DmaGuardDeviceStats, 1);
            st->first_addr = addr;
            st->first_len = len;
            g_hash_table_insert(dg.devices, g_strdup(path), st);
            first = true;
        }
        st->violations++;
    }

    if (first) {
        warn_report("dma-guard: %s: DMA of %" HWADDR_PRIu " bytes at 0x%"
                    HWADDR_PRIx " reaches memory the guest did not share "
                    "(from 0x%" HWADDR_PRIx "); refused, and further "
                    "violations by this device are only counted",
                    path, len, addr, bad);
    }
}

bool dma_guard_check(DeviceState *dev, hwaddr addr, hwaddr len)
{
    hwaddr bad = addr;

    if (!dma_guard_on || !len) {
        return true;
    }
    /* A range that wraps past the top of the address space is not shared. */
    if (addr + len - 1 >= addr && dma_guard_allowed(addr, len, &bad)) {
        return true;
    }
    dma_guard_violation(dev, addr, len, bad);
    return false;
}

void dma_guard_foreach_device(DmaGuardDeviceFn *fn, void *opaque)
{
    g_autoptr(GList) paths = NULL;
    GList *l;

    QEMU_LOCK_GUARD(&dg.lock);
    paths = g_list_sort(g_hash_table_get_keys(dg.devices),
                        (GCompareFunc)strcmp);
    for (l = paths; l; l = l->next) {
        fn(l->data, g_hash_table_lookup(dg.devices, l->data), opaque);
    }
}
