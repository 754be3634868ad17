/*
 * DMA guard: device DMA may touch only memory the guest shared.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSEMU_DMA_GUARD_H
#define SYSEMU_DMA_GUARD_H

#include "exec/hwaddr.h"

extern bool dma_guard_on;

/* Is the guard on?  It is set once, before any device runs. */
static inline bool dma_guard_enabled(void)
{
    return dma_guard_on;
}

/**
 * dma_guard_enable: turn the guard on (at accelerator setup).
 *
 * The guest's shared set is not migrated, and a destination would refuse
 * every DMA without it, so this also blocks migration; that fails with
 * --only-migratable.
 *
 * Returns: true on success, false with @errp set on failure.
 */
bool dma_guard_enable(Error **errp);

/**
 * dma_guard_check: may @dev's DMA touch guest memory [@addr, @addr + @len)?
 * @dev: the device doing the DMA, realized; its violations are counted
 *       under its canonical QOM path as of its realization (a copy is
 *       kept, so a record outlives the device)
 * @addr: DMA address, taken as a guest-physical address
 * @len: length in bytes; 0 touches nothing and is allowed
 *
 * The range is allowed when the guard is off, or when every page of it is
 * shared by the guest (or, later, granted).  Otherwise the violation is
 * counted for @dev and, the first time for @dev, logged with the address
 * and length.  The caller must then fail the request as it fails a DMA to
 * a bad address.
 *
 * Context: any thread, with or without the BQL; it takes the guard's own
 * lock and does not walk the QOM tree.
 *
 * Returns: true when the DMA may go ahead.
 */
bool dma_guard_check(DeviceState *dev, hwaddr addr, hwaddr len);

/* A device's record, for dma_guard_foreach_device(). */
typedef struct DmaGuardDeviceStats {
    uint64_t violations;            /* refused accesses */
    hwaddr first_addr;              /* first refused access: address */
    hwaddr first_len;               /* ... and length */
} DmaGuardDeviceStats;

typedef void DmaGuardDeviceFn(const char *path,
                              const DmaGuardDeviceStats *stats, void *opaque);

/**
 * dma_guard_foreach_device: call @fn for every device with violations,
 * in order of QOM path.  @fn must not call back into the guard.
 */
void dma_guard_foreach_device(DmaGuardDeviceFn *fn, void *opaque);

#endif
