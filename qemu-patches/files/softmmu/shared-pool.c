/*
 * The shared pool: memory the host grants a confidential guest, already
 * shared, for its bounce buffers (KVM_HC_SHARED_POOL, docs in the
 * cc-swiotlb tree: shared-pool-abi.md and shared-pool-vmm.md).
 *
 * -object shared-pool turns it on.  The board reserves a window of
 * guest-physical space for it, outside RAM, and backs the window with one
 * RAM block that reserves nothing on the host (RAM_NORESERVE).  The block
 * is mapped into the guest in fixed chunks, each an unmergeable alias, so
 * that a chunk is one KVM memslot which stays put while the guest holds
 * granules in it.
 *
 * KVM keeps each granule free, pooled or held, and grants from the pooled
 * ones without leaving the kernel.  QEMU keeps that pool topped up from a
 * timer, answers the ACQUIREs KVM could not serve (the exit path), and
 * gives memory back to the host with ram_block_discard_range() once KVM
 * has handed it back (KVM_SHARED_POOL_REMOVE).  What the guest releases
 * goes back to KVM's pool with its data: at its next scan QEMU takes it
 * back, discards it and pools it again, so that the memory returns to the
 * host.  A granule is discarded again each time QEMU backs it, so nothing
 * the guest wrote survives in memory that passes through QEMU.
 *
 * QEMU learns of the guest's grants and releases from
 * KVM_SHARED_POOL_GET_STATE; its view is as old as its last scan.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/bitmap.h"
#include "qemu/error-report.h"
#include "qemu/lockable.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qapi/qapi-commands-shared-pool.h"
#include "qapi/qapi-events-shared-pool.h"
#include "qom/object_interfaces.h"
#include "exec/memory.h"
#include "exec/cpu-common.h"
#include "migration/blocker.h"
#include "sysemu/kvm.h"
#include "sysemu/reset.h"
#include "sysemu/runstate.h"
#include "sysemu/sysemu.h"
#include "sysemu/shared-pool.h"
#include "trace.h"

#define SHARED_POOL_MAX_GRANULES    (1ULL << 20)    /* KVM's limit */
#define SHARED_POOL_MAX_CHUNKS      256
#define SHARED_POOL_SCAN_MS         100     /* while grants change */
#define SHARED_POOL_IDLE_SCAN_MS    1000    /* the most it backs off to */
#define SHARED_POOL_UNMAP_DELAY_MS  60000   /* unmap-delay's default */
#define SHARED_POOL_MAX_UNMAP_DELAY_MS  600000

OBJECT_DECLARE_SIMPLE_TYPE(SharedPool, SHARED_POOL)

/**
 * struct SharedPool - the shared-pool object and its window
 *
 * @size, @granule, @quota, @prefill, @low: the configuration, in bytes,
 *   and @unmap_delay, in milliseconds; set before the machine is built,
 *   read-only once @completed
 * @base: the window's guest-physical address, set at realize
 * @chunk_granules: granules per chunk; @nchunks chunks, the last may be
 *   shorter
 * @ram: the window's backing; @window: the window in system memory;
 *   @chunks: aliases of @ram, mapped into @window one by one
 * @chunk_idle_since: for each mapped chunk, the virtual-clock time (ms)
 *   at which a scan first found it with nothing pooled, held or promised,
 *   or -1 while it has something: sp_unmap_idle() unmaps it once it has
 *   been idle for @unmap_delay
 * @view: KVM's state of each granule at the last scan, with QEMU's own
 *   changes since
 * @scan_ms: the timer's interval now
 * @transit: granules answered on the exit path that KVM has not shown
 *   held yet; @transit_old: those answered before the last scan.  Both
 *   are kept off the pool and out of every other answer, and a mark
 *   lasts until a scan shows the granule held, or for two scans.
 * @dirty: granules a scan saw the guest release, whose memory still holds
 *   what the guest wrote: taken back from KVM, discarded and pooled again
 *   by sp_recycle()
 * @zap_all: unmapping a chunk (deleting its memslot) makes KVM drop every
 *   mapping of the VM, which the guest then faults back in; set at
 *   realize, when the accelerator could not isolate the memslots
 *
 * Locking: the memory regions, @chunk_mapped, @chunk_idle_since,
 * @transit, @transit_old, @dirty and the counters change under the BQL
 * only.  @view is written under the BQL and @lock, and read under either:
 * the DMA guard reads it under @lock from I/O threads.
 */
struct SharedPool {
    Object parent_obj;

    uint64_t size;
    uint64_t granule;
    uint64_t quota;
    uint64_t prefill;
    uint64_t low;
    uint32_t unmap_delay;
    bool quota_set;
    bool low_set;
    bool completed;

    bool realized;
    bool suspended;
    hwaddr base;
    uint64_t ngranules;
    uint64_t chunk_granules;
    uint64_t nchunks;
    MemoryRegion ram;
    MemoryRegion window;
    MemoryRegion *chunks;
    unsigned long *chunk_mapped;
    int64_t *chunk_idle_since;
    unsigned long *transit;
    unsigned long *transit_old;
    unsigned long *dirty;
    uint8_t *scratch;
    QEMUTimer *timer;
    int64_t scan_ms;
    Error *blocker;
    Notifier machine_done;
    Notifier suspend;
    Notifier wakeup;
    bool warned;
    bool zap_all;

    QemuMutex lock;
    uint8_t *view;

    /* counters since QEMU started */
    uint64_t exits;
    uint64_t granted;
    uint64_t granted_granules;
    uint64_t released_granules;
    uint64_t refused_quota;
    uint64_t refused_no_space;
    uint64_t refused_backing;
    uint64_t discarded_granules;
    uint64_t unmapped_chunks;
    uint64_t resets;
};

static SharedPool *the_pool;
static const SharedPoolOps *sp_ops;

void shared_pool_register_ops(const SharedPoolOps *ops)
{
    sp_ops = ops;
}

bool shared_pool_requested(void)
{
    return the_pool;
}

uint64_t shared_pool_window_size(void)
{
    return the_pool ? the_pool->size : 0;
}

static uint64_t sp_low(SharedPool *sp)
{
    return sp->low_set ? sp->low : sp->prefill / 2;
}

static uint64_t sp_quota(SharedPool *sp)
{
    return sp->quota_set ? sp->quota : sp->size;
}

static hwaddr sp_gpa(SharedPool *sp, uint64_t granule)
{
    return sp->base + granule * sp->granule;
}

static uint64_t sp_count(SharedPool *sp, uint8_t state)
{
    uint64_t i, n = 0;

    for (i = 0; i < sp->ngranules; i++) {
        n += sp->view[i] == state;
    }
    return n;
}

/* May QEMU pool or answer granule @i?  Free, and not promised. */
static bool sp_usable(SharedPool *sp, uint64_t i)
{
    return sp->view[i] == SHARED_POOL_FREE &&
           !test_bit(i, sp->transit) && !test_bit(i, sp->transit_old);
}

/* The first run of at most @max usable granules at or after @from. */
static uint64_t sp_find_usable(SharedPool *sp, uint64_t from, uint64_t max,
                               uint64_t *len)
{
    uint64_t i, n;

    for (i = from; i < sp->ngranules && !sp_usable(sp, i); i++) {
        ;
    }
    for (n = 0; i + n < sp->ngranules && n < max && sp_usable(sp, i + n);
         n++) {
        ;
    }
    *len = n;
    return i;
}

static void sp_warn(SharedPool *sp, const char *what, int err)
{
    if (!sp->warned) {
        warn_report("shared-pool: %s failed: %s; the guest may see "
                    "-KVM_ENOMEM until it works again (further failures "
                    "are not reported)", what, strerror(-err));
        sp->warned = true;
    }
}

/*
 * Read every granule's state from KVM into the view.  Counts what went
 * from held back to pooled or free as released, and clears the transit
 * mark of what KVM now shows held.  Returns how many granules changed
 * state since the last scan, or a negative errno.
 */
static int64_t sp_scan(SharedPool *sp)
{
    uint64_t i, released = 0, changed = 0;
    int r;

    r = sp_ops->get_state(0, sp->ngranules, sp->scratch);
    if (r < 0) {
        sp_warn(sp, "KVM_SHARED_POOL_GET_STATE", r);
        return r;
    }
    WITH_QEMU_LOCK_GUARD(&sp->lock) {
        for (i = 0; i < sp->ngranules; i++) {
            uint8_t now = sp->scratch[i];

            if (sp->view[i] == SHARED_POOL_HELD && now != SHARED_POOL_HELD) {
                released++;
                set_bit(i, sp->dirty);
            }
            if (now == SHARED_POOL_HELD) {
                clear_bit(i, sp->transit);
                clear_bit(i, sp->transit_old);
            }
            changed += sp->view[i] != now;
            sp->view[i] = now;
        }
    }
    sp->released_granules += released;
    return changed;
}

static void sp_map_chunks(SharedPool *sp, uint64_t first, uint64_t count)
{
    uint64_t c, last = (first + count - 1) / sp->chunk_granules;

    memory_region_transaction_begin();
    for (c = first / sp->chunk_granules; c <= last; c++) {
        sp->chunk_idle_since[c] = -1;
        if (!test_and_set_bit(c, sp->chunk_mapped)) {
            memory_region_add_subregion(&sp->window,
                                        c * sp->chunk_granules * sp->granule,
                                        &sp->chunks[c]);
            trace_shared_pool_chunk(c, true);
        }
    }
    memory_region_transaction_commit();
}

/* Discard granules @first .. @first + @count - 1: they read as zeroes. */
static int sp_discard(SharedPool *sp, uint64_t first, uint64_t count)
{
    return ram_block_discard_range(sp->ram.ram_block, first * sp->granule,
                                   count * sp->granule);
}

/*
 * Back a run of usable granules for the guest: map its chunks, and
 * discard it so that the guest finds zeroes there, whatever was there.
 */
static int sp_back(SharedPool *sp, uint64_t first, uint64_t count)
{
    sp_map_chunks(sp, first, count);
    return sp_discard(sp, first, count);
}

/* Register usable granules, lowest first, until @want bytes are pooled. */
static void sp_fill(SharedPool *sp, uint64_t want)
{
    uint64_t pooled = sp_count(sp, SHARED_POOL_POOLED);
    uint64_t need, first, len, from = 0;
    int r;

    if (pooled * sp->granule >= want) {
        return;
    }
    need = (want - pooled * sp->granule) / sp->granule;
    while (need) {
        first = sp_find_usable(sp, from, need, &len);
        if (!len) {
            return;         /* the window is full */
        }
        r = sp_back(sp, first, len);
        if (r == 0) {
            r = sp_ops->add(sp_gpa(sp, first), len * sp->granule);
        }
        if (r < 0) {
            sp_warn(sp, "backing the pool", r);
            return;
        }
        WITH_QEMU_LOCK_GUARD(&sp->lock) {
            memset(sp->view + first, SHARED_POOL_POOLED, len);
        }
        trace_shared_pool_fill(sp_gpa(sp, first), len);
        need -= len;
        from = first + len;
    }
}

/*
 * Take granules @first .. @first + @count - 1, all pooled, back from KVM
 * and give their memory back to the host.  Returns 0 when they are free
 * and empty; -EBUSY, with nothing changed, when KVM refused because the
 * guest took some of them meanwhile; another negative errno, with nothing
 * changed, when KVM failed; 1 when they are free but could not be
 * discarded: they still hold what was written there, so they must not be
 * pooled again as they are (sp_back() discards them before any use).
 */
static int sp_take_back(SharedPool *sp, uint64_t first, uint64_t count)
{
    int r = sp_ops->remove(sp_gpa(sp, first), count * sp->granule);

    if (r < 0) {
        if (r != -EBUSY) {
            sp_warn(sp, "KVM_SHARED_POOL_REMOVE", r);
        }
        return r;
    }
    WITH_QEMU_LOCK_GUARD(&sp->lock) {
        memset(sp->view + first, SHARED_POOL_FREE, count);
    }
    r = sp_discard(sp, first, count);
    if (r < 0) {
        sp_warn(sp, "discarding released memory", r);
        return 1;
    }
    sp->discarded_granules += count;
    trace_shared_pool_trim(sp_gpa(sp, first), count);
    return 0;
}

/*
 * Take pooled granules above @keep bytes back from KVM, highest first,
 * and give their memory back to the host.
 */
static void sp_trim(SharedPool *sp, uint64_t keep)
{
    uint64_t pooled = sp_count(sp, SHARED_POOL_POOLED);
    uint64_t excess, end, first;

    if (pooled * sp->granule <= keep) {
        return;
    }
    excess = pooled - keep / sp->granule;
    end = sp->ngranules;
    while (excess && end) {
        /* the highest pooled run below @end, at most @excess long */
        while (end && sp->view[end - 1] != SHARED_POOL_POOLED) {
            end--;
        }
        for (first = end; first && end - first < excess &&
             sp->view[first - 1] == SHARED_POOL_POOLED; first--) {
            ;
        }
        if (first == end) {
            break;
        }
        if (sp_take_back(sp, first, end - first) < 0) {
            /* -EBUSY: the guest took some of it meanwhile; next scan */
            break;
        }
        excess -= end - first;
        end = first;
    }
}

/*
 * Give the memory of what the guest released back to the host.  A granule
 * the guest releases goes back to KVM's pool with the guest's data in it,
 * resident in QEMU: take it back from KVM (which refuses with -EBUSY if
 * the guest has taken it again meanwhile), discard it, and pool it again,
 * empty.  A granule the guest holds again is in use, and no longer dirty.
 */
static void sp_recycle(SharedPool *sp)
{
    uint64_t first = 0, end;
    int r;

    for (;;) {
        first = find_next_bit(sp->dirty, sp->ngranules, first);
        if (first >= sp->ngranules) {
            return;
        }
        /*
         * Held again, or answered on the exit path since (backing it
         * discarded it then): in use.
         */
        if (sp->view[first] == SHARED_POOL_HELD ||
            test_bit(first, sp->transit) || test_bit(first, sp->transit_old)) {
            clear_bit(first, sp->dirty);
            first++;
            continue;
        }
        if (sp->view[first] != SHARED_POOL_POOLED) {
            /*
             * Free: KVM let go of it, nothing to take back.  If the
             * discard fails, sp_back() discards it before any use.
             */
            r = sp_discard(sp, first, 1);
            if (r < 0) {
                sp_warn(sp, "discarding released memory", r);
            } else {
                sp->discarded_granules++;
            }
            clear_bit(first, sp->dirty);
            first++;
            continue;
        }
        for (end = first + 1; end < sp->ngranules && test_bit(end, sp->dirty) &&
             sp->view[end] == SHARED_POOL_POOLED; end++) {
            ;
        }
        r = sp_take_back(sp, first, end - first);
        if (r == -EBUSY) {
            /* the guest took some of it meanwhile: next scan */
            first = end;
            continue;
        }
        if (r < 0) {
            return;
        }
        bitmap_clear(sp->dirty, first, end - first);
        if (r == 0) {
            /* empty now: pool it again (else left free for sp_fill()) */
            r = sp_ops->add(sp_gpa(sp, first), (end - first) * sp->granule);
            if (r < 0) {
                sp_warn(sp, "pooling released memory again", r);
            } else {
                WITH_QEMU_LOCK_GUARD(&sp->lock) {
                    memset(sp->view + first, SHARED_POOL_POOLED, end - first);
                }
                trace_shared_pool_fill(sp_gpa(sp, first), end - first);
            }
        }
        first = end;
    }
}

/* Chunk @c's granules: the first in *@first; returns how many. */
static uint64_t sp_chunk_span(SharedPool *sp, uint64_t c, uint64_t *first)
{
    *first = c * sp->chunk_granules;
    return MIN(sp->chunk_granules, sp->ngranules - *first);
}

/*
 * Unmap the chunks that have had nothing pooled, held or promised for
 * unmap-delay, or at once with @at_once (a reset, which leaves every
 * granule free).  Unmapping a chunk deletes its memslot, and the next
 * grant there creates it again, so a chunk that the pool's level moves
 * in and out of is kept mapped meanwhile.  Its free granules hold nothing
 * (they were discarded when they became free); unmapping discards the
 * chunk again, since the guest could have written there.  The discard
 * comes after the commit: until the memslot is gone, a vCPU can still
 * fault a page of the chunk in.
 */
static void sp_unmap_idle(SharedPool *sp, bool at_once)
{
    g_autofree unsigned long *gone = bitmap_new(sp->nchunks);
    int64_t now = qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL);
    uint64_t c, i, first, count;
    int r;

    memory_region_transaction_begin();
    for (c = 0; c < sp->nchunks; c++) {
        if (!test_bit(c, sp->chunk_mapped)) {
            continue;
        }
        count = sp_chunk_span(sp, c, &first);
        for (i = first; i < first + count && sp_usable(sp, i); i++) {
            ;
        }
        if (i < first + count) {
            sp->chunk_idle_since[c] = -1;
            continue;
        }
        if (sp->chunk_idle_since[c] < 0) {
            sp->chunk_idle_since[c] = now;
        }
        if (!at_once && now - sp->chunk_idle_since[c] < sp->unmap_delay) {
            continue;
        }
        memory_region_del_subregion(&sp->window, &sp->chunks[c]);
        clear_bit(c, sp->chunk_mapped);
        set_bit(c, gone);
        sp->chunk_idle_since[c] = -1;
        sp->unmapped_chunks++;
        trace_shared_pool_chunk(c, false);
    }
    memory_region_transaction_commit();

    for (c = find_first_bit(gone, sp->nchunks); c < sp->nchunks;
         c = find_next_bit(gone, sp->nchunks, c + 1)) {
        count = sp_chunk_span(sp, c, &first);
        r = sp_discard(sp, first, count);
        if (r < 0) {
            sp_warn(sp, "discarding an unmapped chunk", r);
        }
    }
}

static void sp_age_transit(SharedPool *sp)
{
    bitmap_copy(sp->transit_old, sp->transit, sp->ngranules);
    bitmap_zero(sp->transit, sp->ngranules);
}

/*
 * The background work, on the main loop under the BQL: every 100 ms while
 * the guest's grants change, backing off to once a second while they do
 * not, so that an idle guest does not wake QEMU ten times a second.  An
 * exit brings the next run forward to now.
 */
static void sp_tick(void *opaque)
{
    SharedPool *sp = opaque;
    int64_t changed = sp_scan(sp);

    if (changed >= 0) {
        sp_recycle(sp);
        if (sp_count(sp, SHARED_POOL_POOLED) * sp->granule < sp_low(sp)) {
            sp_fill(sp, sp->prefill);
        }
        sp_trim(sp, sp->prefill);
        sp_unmap_idle(sp, false);
        sp_age_transit(sp);
    }
    if (changed > 0) {
        sp->scan_ms = SHARED_POOL_SCAN_MS;
    } else {
        sp->scan_ms = MIN(sp->scan_ms * 2, SHARED_POOL_IDLE_SCAN_MS);
    }
    timer_mod(sp->timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + sp->scan_ms);
}

int64_t shared_pool_exit_acquire(uint64_t granules)
{
    SharedPool *sp = the_pool;
    uint64_t held, first, len, from = 0;
    int64_t ret;

    if (!sp || !sp->realized) {
        return -ENOMEM;
    }
    sp->exits++;
    if (sp_scan(sp) < 0) {
        sp->refused_backing++;
        ret = -ENOMEM;
        goto out;
    }
    held = sp_count(sp, SHARED_POOL_HELD);
    if (granules > sp_quota(sp) / sp->granule ||
        held + granules > sp_quota(sp) / sp->granule) {
        sp->refused_quota++;
        qapi_event_send_shared_pool_quota(granules * sp->granule,
                                          held * sp->granule,
                                          sp_quota(sp));
        ret = -E2BIG;
        goto out;
    }
    do {
        first = sp_find_usable(sp, from, granules, &len);
        from = first + len;
    } while (len && len < granules);
    if (len < granules) {
        sp->refused_no_space++;
        ret = -ENOMEM;
        goto out;
    }
    if (sp_back(sp, first, granules) < 0) {
        sp->refused_backing++;
        ret = -ENOMEM;
        goto out;
    }
    bitmap_set(sp->transit, first, granules);
    sp->granted++;
    sp->granted_granules += granules;
    ret = sp_gpa(sp, first);
    /* The pool ran short: top it up now rather than at the next tick. */
    timer_mod(sp->timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL));
out:
    trace_shared_pool_exit(granules, ret < 0 ? 0 : ret, ret < 0 ? ret : 0);
    return ret;
}

hwaddr shared_pool_granted(hwaddr addr, hwaddr len)
{
    SharedPool *sp = the_pool;
    uint64_t i, first, last, n, held;
    g_autofree uint8_t *states = NULL;
    hwaddr end;

    if (!sp || !qatomic_read(&sp->realized) || !len ||
        addr < sp->base || addr - sp->base >= sp->size) {
        return 0;
    }
    end = sp->base + sp->size;
    if (len < end - addr) {
        end = addr + len;
    }
    first = (addr - sp->base) / sp->granule;
    last = (end - 1 - sp->base) / sp->granule;
    n = last - first + 1;

    WITH_QEMU_LOCK_GUARD(&sp->lock) {
        for (held = 0; held < n; held++) {
            if (sp->view[first + held] != SHARED_POOL_HELD) {
                break;
            }
        }
    }
    if (held < n) {
        /*
         * KVM may have granted it since the last scan (the in-kernel
         * path does not tell QEMU): ask.
         */
        i = first + held;
        n = MIN(last - i + 1, 512);
        states = g_malloc(n);
        if (sp_ops->get_state(i, n, states) == 0) {
            uint64_t k;

            for (k = 0; k < n && states[k] == SHARED_POOL_HELD; k++) {
                ;
            }
            held += k;
        }
    }
    return MIN(end, sp_gpa(sp, first + held)) - addr;
}

/*
 * Whatever a new boot finds must be fresh: take everything back from KVM
 * and from the guest, give the memory to the host, and fill the pool
 * again.  S3 resume runs the reset handlers too, but the guest keeps its
 * memory (and grants) across S3, so a wakeup is left alone.
 */
static void sp_reset(void *opaque)
{
    SharedPool *sp = opaque;
    int r;

    if (sp->suspended && runstate_check(RUN_STATE_RUNNING)) {
        return;                 /* S3 wakeup */
    }
    sp->suspended = false;

    r = sp_ops->reset();
    if (r < 0) {
        sp_warn(sp, "KVM_SHARED_POOL_RESET", r);
    }
    WITH_QEMU_LOCK_GUARD(&sp->lock) {
        memset(sp->view, SHARED_POOL_FREE, sp->ngranules);
    }
    bitmap_zero(sp->transit, sp->ngranules);
    bitmap_zero(sp->transit_old, sp->ngranules);
    bitmap_zero(sp->dirty, sp->ngranules);
    /* Every chunk is idle now: unmapping one discards it. */
    sp_unmap_idle(sp, true);
    sp->resets++;
    sp_fill(sp, sp->prefill);
    trace_shared_pool_reset(r);
}

static void sp_suspend(Notifier *n, void *data)
{
    container_of(n, SharedPool, suspend)->suspended = true;
}

static void sp_wakeup(Notifier *n, void *data)
{
    container_of(n, SharedPool, wakeup)->suspended = false;
}

/*
 * Runs after the board is built.  A board that does not place a window
 * (anything but pc and q35) would leave the object doing nothing: refuse.
 * Otherwise register the reset handler here, after the one that resets
 * the devices (see guest-shared.c), so that no device still DMAs into a
 * grant when the pool is emptied; the first reset, at start-up, fills it.
 */
static void sp_machine_done(Notifier *n, void *data)
{
    SharedPool *sp = container_of(n, SharedPool, machine_done);

    if (!sp->realized) {
        error_report("shared-pool: this machine has no place for the "
                     "window; use a pc or q35 machine");
        exit(1);
    }
    qemu_register_reset(sp_reset, sp);
    qemu_register_suspend_notifier(&sp->suspend);
    qemu_register_wakeup_notifier(&sp->wakeup);
    sp->timer = timer_new_ms(QEMU_CLOCK_VIRTUAL, sp_tick, sp);
    sp->scan_ms = SHARED_POOL_SCAN_MS;
    timer_mod(sp->timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + sp->scan_ms);
}

bool shared_pool_realize(MemoryRegion *sysmem, hwaddr base, Error **errp)
{
    SharedPool *sp = the_pool;
    uint64_t c, quota_granules;
    int r;

    assert(sp && !sp->realized);
    if (!kvm_enabled()) {
        error_setg(errp, "shared-pool: needs the KVM accelerator");
        return false;
    }
    if (!sp_ops) {
        error_setg(errp, "shared-pool: this KVM does not offer the shared "
                   "pool (KVM_CAP_SHARED_POOL, and hypercall 13 in "
                   "KVM_CAP_EXIT_HYPERCALL)");
        return false;
    }
    if (base & (sp->granule - 1) || base + sp->size < base ||
        base + sp->size > (1ULL << 52)) {
        error_setg(errp, "shared-pool: no room for a window of 0x%" PRIx64
                   " bytes at 0x%" HWADDR_PRIx, sp->size, base);
        return false;
    }
    r = ram_block_discard_require(true);
    if (r < 0) {
        error_setg_errno(errp, -r, "shared-pool: gives memory back by "
                         "discarding it, and discarding RAM is disabled "
                         "(by vfio, SEV or another user)");
        return false;
    }

    error_setg(&sp->blocker, "shared-pool: the granules the guest holds "
               "are not migrated");
    if (migrate_add_blocker(sp->blocker, errp) < 0) {
        error_free(sp->blocker);
        sp->blocker = NULL;
        goto err_discard;
    }

    sp->base = base;
    sp->ngranules = sp->size / sp->granule;
    sp->chunk_granules = DIV_ROUND_UP(sp->ngranules, SHARED_POOL_MAX_CHUNKS);
    sp->nchunks = DIV_ROUND_UP(sp->ngranules, sp->chunk_granules);

    memory_region_init_ram_flags_nomigrate(&sp->ram, OBJECT(sp),
                                           "shared-pool.ram", sp->size,
                                           RAM_NORESERVE, errp);
    if (!sp->ram.ram_block) {
        goto err_blocker;
    }
    memory_region_init(&sp->window, OBJECT(sp), "shared-pool", sp->size);
    sp->chunks = g_new0(MemoryRegion, sp->nchunks);
    for (c = 0; c < sp->nchunks; c++) {
        uint64_t off = c * sp->chunk_granules * sp->granule;
        g_autofree char *name = g_strdup_printf("shared-pool.chunk%" PRIu64,
                                                c);

        memory_region_init_alias(&sp->chunks[c], OBJECT(sp), name, &sp->ram,
                                 off, MIN(sp->size - off,
                                          sp->chunk_granules * sp->granule));
        memory_region_set_unmergeable(&sp->chunks[c], true);
    }
    sp->chunk_mapped = bitmap_new(sp->nchunks);
    sp->chunk_idle_since = g_new(int64_t, sp->nchunks);
    for (c = 0; c < sp->nchunks; c++) {
        sp->chunk_idle_since[c] = -1;
    }
    sp->transit = bitmap_new(sp->ngranules);
    sp->transit_old = bitmap_new(sp->ngranules);
    sp->dirty = bitmap_new(sp->ngranules);
    sp->view = g_malloc0(sp->ngranules);
    sp->scratch = g_malloc0(sp->ngranules);

    quota_granules = sp_quota(sp) / sp->granule;
    r = sp_ops->configure(sp->granule, base, sp->size, quota_granules);
    if (r < 0) {
        error_setg_errno(errp, -r, "shared-pool: KVM refused the window "
                         "(KVM_CAP_SHARED_POOL)");
        goto err_free;
    }
    /*
     * A chunk is unmapped when its granules are all free again, possibly
     * many times while the guest runs.  Where KVM would drop all of the
     * guest's mappings each time, the guest pays in faults, not in
     * correctness: say so once.
     */
    r = sp_ops->isolate_slots ? sp_ops->isolate_slots() : -ENOTSUP;
    sp->zap_all = r < 0;
    if (sp->zap_all) {
        warn_report("shared-pool: KVM drops all of the guest's mappings "
                    "whenever a chunk of the window is unmapped (%s)",
                    strerror(-r));
    }
    memory_region_add_subregion(sysmem, base, &sp->window);
    qatomic_set(&sp->realized, true);
    trace_shared_pool_realize(base, sp->size, sp->granule, quota_granules,
                              sp->chunk_granules);
    return true;

err_free:
    g_free(sp->scratch);
    g_free(sp->view);
    g_free(sp->dirty);
    g_free(sp->transit_old);
    g_free(sp->transit);
    g_free(sp->chunk_idle_since);
    g_free(sp->chunk_mapped);
    for (c = 0; c < sp->nchunks; c++) {
        object_unparent(OBJECT(&sp->chunks[c]));
    }
    g_free(sp->chunks);
    object_unparent(OBJECT(&sp->window));
    object_unparent(OBJECT(&sp->ram));
err_blocker:
    migrate_del_blocker(sp->blocker);
    error_free(sp->blocker);
    sp->blocker = NULL;
err_discard:
    ram_block_discard_require(false);
    return false;
}

SharedPoolInfo *qmp_x_query_shared_pool(Error **errp)
{
    SharedPool *sp = the_pool;
    SharedPoolInfo *info;
    uint64_t c, mapped = 0;

    if (!sp || !sp->realized) {
        error_setg(errp, "there is no shared pool (-object shared-pool)");
        return NULL;
    }
    if (sp_scan(sp) < 0) {
        error_setg(errp, "shared-pool: KVM_SHARED_POOL_GET_STATE failed");
        return NULL;
    }
    for (c = 0; c < sp->nchunks; c++) {
        mapped += test_bit(c, sp->chunk_mapped);
    }

    info = g_new0(SharedPoolInfo, 1);
    info->base = sp->base;
    info->size = sp->size;
    info->granule = sp->granule;
    info->quota = sp_quota(sp);
    info->prefill = sp->prefill;
    info->low = sp_low(sp);
    info->held_bytes = sp_count(sp, SHARED_POOL_HELD) * sp->granule;
    info->pooled_bytes = sp_count(sp, SHARED_POOL_POOLED) * sp->granule;
    info->mapped_chunks = mapped;
    info->chunk_size = sp->chunk_granules * sp->granule;
    info->zap_all = sp->zap_all;
    info->unmap_delay = sp->unmap_delay;
    info->unmapped_chunks = sp->unmapped_chunks;
    info->exits = sp->exits;
    info->granted = sp->granted;
    info->granted_bytes = sp->granted_granules * sp->granule;
    info->released = sp->released_granules;
    info->released_bytes = sp->released_granules * sp->granule;
    info->refused_quota = sp->refused_quota;
    info->refused_no_space = sp->refused_no_space;
    info->refused_backing = sp->refused_backing;
    info->discarded_bytes = sp->discarded_granules * sp->granule;
    info->resets = sp->resets;
    return info;
}

/* Properties: sizes in bytes, fixed once the object is complete. */
static void sp_get_size(Object *obj, Visitor *v, const char *name,
                        void *opaque, Error **errp)
{
    SharedPool *sp = SHARED_POOL(obj);
    uint64_t value = *(uint64_t *)((char *)sp + (uintptr_t)opaque);

    if (!strcmp(name, "quota")) {
        value = sp_quota(sp);
    } else if (!strcmp(name, "low")) {
        value = sp_low(sp);
    }
    visit_type_size(v, name, &value, errp);
}

/* The properties are fixed once the object is complete. */
static bool sp_may_set(SharedPool *sp, const char *name, Error **errp)
{
    if (sp->completed) {
        error_setg(errp, "shared-pool: '%s' cannot change once the pool "
                   "exists", name);
        return false;
    }
    return true;
}

static void sp_set_size(Object *obj, Visitor *v, const char *name,
                        void *opaque, Error **errp)
{
    SharedPool *sp = SHARED_POOL(obj);
    uint64_t value;

    if (!sp_may_set(sp, name, errp)) {
        return;
    }
    if (!visit_type_size(v, name, &value, errp)) {
        return;
    }
    *(uint64_t *)((char *)sp + (uintptr_t)opaque) = value;
    if (!strcmp(name, "quota")) {
        sp->quota_set = true;
    } else if (!strcmp(name, "low")) {
        sp->low_set = true;
    }
}

/* unmap-delay: milliseconds, fixed once the object is complete. */
static void sp_get_unmap_delay(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    SharedPool *sp = SHARED_POOL(obj);

    visit_type_uint32(v, name, &sp->unmap_delay, errp);
}

static void sp_set_unmap_delay(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    SharedPool *sp = SHARED_POOL(obj);
    uint32_t value;

    if (!sp_may_set(sp, name, errp)) {
        return;
    }
    if (!visit_type_uint32(v, name, &value, errp)) {
        return;
    }
    sp->unmap_delay = value;
}

static bool sp_check_multiple(SharedPool *sp, const char *name,
                              uint64_t value, Error **errp)
{
    if (value % sp->granule) {
        error_setg(errp, "shared-pool: '%s' (%" PRIu64 ") must be a "
                   "multiple of 'granule' (%" PRIu64 ")", name, value,
                   sp->granule);
        return false;
    }
    return true;
}

static void sp_complete(UserCreatable *uc, Error **errp)
{
    SharedPool *sp = SHARED_POOL(uc);

    if (the_pool) {
        error_setg(errp, "shared-pool: there can be only one, and '%s' "
                   "exists", object_get_canonical_path_component(
                       OBJECT(the_pool)));
        return;
    }
    if (sp->granule < 4 * KiB || sp->granule > 1 * GiB ||
        !is_power_of_2(sp->granule)) {
        error_setg(errp, "shared-pool: 'granule' (%" PRIu64 ") must be a "
                   "power of two from 4 KiB to 1 GiB", sp->granule);
        return;
    }
    if (!sp->size) {
        error_setg(errp, "shared-pool: 'size' must not be 0");
        return;
    }
    if (!sp_check_multiple(sp, "size", sp->size, errp) ||
        !sp_check_multiple(sp, "quota", sp_quota(sp), errp) ||
        !sp_check_multiple(sp, "prefill", sp->prefill, errp)) {
        return;
    }
    if (sp->size / sp->granule > SHARED_POOL_MAX_GRANULES) {
        error_setg(errp, "shared-pool: 'size' (%" PRIu64 ") is more than "
                   "%llu granules", sp->size, SHARED_POOL_MAX_GRANULES);
        return;
    }
    if (!sp_quota(sp) || sp_quota(sp) > sp->size) {
        error_setg(errp, "shared-pool: 'quota' (%" PRIu64 ") must be from "
                   "one granule to 'size' (%" PRIu64 ")", sp_quota(sp),
                   sp->size);
        return;
    }
    if (sp->prefill > sp->size) {
        error_setg(errp, "shared-pool: 'prefill' (%" PRIu64 ") is above "
                   "'size' (%" PRIu64 ")", sp->prefill, sp->size);
        return;
    }
    if (sp_low(sp) > sp->prefill) {
        error_setg(errp, "shared-pool: 'low' (%" PRIu64 ") is above "
                   "'prefill' (%" PRIu64 ")", sp_low(sp), sp->prefill);
        return;
    }
    if (sp->unmap_delay > SHARED_POOL_MAX_UNMAP_DELAY_MS) {
        error_setg(errp, "shared-pool: 'unmap-delay' (%" PRIu32 ") is more "
                   "than %d milliseconds", sp->unmap_delay,
                   SHARED_POOL_MAX_UNMAP_DELAY_MS);
        return;
    }
    sp->completed = true;
    the_pool = sp;
    qemu_add_machine_init_done_notifier(&sp->machine_done);
}

static bool sp_can_be_deleted(UserCreatable *uc)
{
    return false;
}

static void sp_instance_init(Object *obj)
{
    SharedPool *sp = SHARED_POOL(obj);

    sp->size = 1 * GiB;
    sp->granule = 2 * MiB;
    sp->prefill = 64 * MiB;
    sp->unmap_delay = SHARED_POOL_UNMAP_DELAY_MS;
    qemu_mutex_init(&sp->lock);
    sp->machine_done.notify = sp_machine_done;
    sp->suspend.notify = sp_suspend;
    sp->wakeup.notify = sp_wakeup;
}

static void sp_class_init(ObjectClass *oc, void *data)
{
    UserCreatableClass *ucc = USER_CREATABLE_CLASS(oc);
    static const struct {
        const char *name;
        size_t offset;
        const char *desc;
    } props[] = {
        { "size", offsetof(SharedPool, size),
          "the window, in bytes (default 1G)" },
        { "granule", offsetof(SharedPool, granule),
          "the unit of every grant, a power of two (default 2M)" },
        { "quota", offsetof(SharedPool, quota),
          "the most the guest may hold at once (default: size)" },
        { "prefill", offsetof(SharedPool, prefill),
          "bytes kept registered with KVM for grants without an exit "
          "(default 64M)" },
        { "low", offsetof(SharedPool, low),
          "top the pool up when fewer bytes are registered "
          "(default: prefill / 2)" },
    };
    int i;

    ucc->complete = sp_complete;
    ucc->can_be_deleted = sp_can_be_deleted;
    for (i = 0; i < ARRAY_SIZE(props); i++) {
        object_class_property_add(oc, props[i].name, "size", sp_get_size,
                                  sp_set_size, NULL,
                                  (void *)(uintptr_t)props[i].offset);
        object_class_property_set_description(oc, props[i].name,
                                              props[i].desc);
    }
    object_class_property_add(oc, "unmap-delay", "uint32",
                              sp_get_unmap_delay, sp_set_unmap_delay,
                              NULL, NULL);
    object_class_property_set_description(oc, "unmap-delay",
                                          "milliseconds a chunk of the window "
                                          "stays mapped once nothing in it "
                                          "is pooled, held or promised "
                                          "(default 60000)");
}

static const TypeInfo shared_pool_info = {
    .name = TYPE_SHARED_POOL,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(SharedPool),
    .instance_init = sp_instance_init,
    .class_init = sp_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_USER_CREATABLE },
        { }
    },
};

static void shared_pool_register_types(void)
{
    type_register_static(&shared_pool_info);
}

type_init(shared_pool_register_types);
