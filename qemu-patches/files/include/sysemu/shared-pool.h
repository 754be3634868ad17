/*
 * The shared pool: guest-physical memory the host grants a confidential
 * guest for its bounce buffers (KVM_HC_SHARED_POOL).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSEMU_SHARED_POOL_H
#define SYSEMU_SHARED_POOL_H

#include "exec/hwaddr.h"
#include "exec/memory.h"

#define TYPE_SHARED_POOL "shared-pool"

/* One granule's state, as KVM reports it (KVM_SHARED_POOL_GET_STATE). */
#define SHARED_POOL_FREE    0
#define SHARED_POOL_POOLED  1
#define SHARED_POOL_HELD    2

/*
 * What the accelerator does for the pool.  Each returns 0 (reset: the
 * number of granules that were held) or a negative errno.  The common
 * code calls them under the BQL, except @get_state, which the DMA guard
 * may also call from an I/O thread.
 */
typedef struct SharedPoolOps {
    int (*configure)(uint64_t granule, uint64_t base, uint64_t size,
                     uint64_t quota);
    int (*add)(uint64_t gpa, uint64_t size);
    int (*remove)(uint64_t gpa, uint64_t size);
    int (*get_state)(uint64_t first, uint64_t count, uint8_t *states);
    int (*reset)(void);
    /*
     * Have the accelerator drop only a deleted memslot's mappings, not
     * every mapping of the VM, when a chunk of the window is unmapped.
     * Optional; 0, or a negative errno when it cannot.
     */
    int (*isolate_slots)(void);
} SharedPoolOps;

/* The accelerator offers the pool; called once, at accelerator init. */
void shared_pool_register_ops(const SharedPoolOps *ops);

/* Was a shared-pool object created?  Known before the machine is built. */
bool shared_pool_requested(void);

/* The window's size in bytes, or 0 when no pool was requested. */
uint64_t shared_pool_window_size(void);

/*
 * The board places the window at @base in @sysmem, once, before the
 * firmware reads the memory map.  Sets up the backing, configures the
 * accelerator and blocks migration.
 */
bool shared_pool_realize(MemoryRegion *sysmem, hwaddr base, Error **errp);

/*
 * Answer an ACQUIRE of @granules that the accelerator could not serve
 * from its pool: the base of a run of free granules, now backed, or
 * -E2BIG (over the quota) or -ENOMEM.  Called with the BQL held.
 */
int64_t shared_pool_exit_acquire(uint64_t granules);

/*
 * How many bytes from @addr on (at most @len) the guest holds as grants;
 * 0 when @addr is not in a grant.  For the DMA guard; any thread.
 */
hwaddr shared_pool_granted(hwaddr addr, hwaddr len);

#endif
