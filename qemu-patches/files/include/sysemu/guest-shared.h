/*
 * The guest's shared memory: which guest pages a confidential guest has
 * declared shared (decrypted) with the host.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSEMU_GUEST_SHARED_H
#define SYSEMU_GUEST_SHARED_H

#include "exec/hwaddr.h"

/*
 * The shared set is tracked in pages of this size, whatever the target's
 * page size: KVM_HC_MAP_GPA_RANGE counts 4 KiB pages.
 */
#define GUEST_SHARED_PAGE_BITS  12
#define GUEST_SHARED_PAGE_SIZE  (1ULL << GUEST_SHARED_PAGE_BITS)

/* Why a conversion request was refused; each reason is counted. */
typedef enum GuestSharedRefusal {
    GUEST_SHARED_REFUSED_UNALIGNED,     /* gpa not page aligned */
    GUEST_SHARED_REFUSED_NO_PAGES,      /* npages is 0 */
    GUEST_SHARED_REFUSED_OVERFLOW,      /* gpa + npages pages reaches 2^64 */
    GUEST_SHARED_REFUSED_NOT_RAM,       /* some byte is not guest RAM */
    GUEST_SHARED_REFUSED_RESERVED_BITS, /* reserved attribute bits set */
    GUEST_SHARED_REFUSED_PAGE_SIZE,     /* invalid page-size hint */
    GUEST_SHARED_REFUSED__MAX,
} GuestSharedRefusal;

/* A snapshot of the counters, all since QEMU started except @shared_pages. */
typedef struct GuestSharedStats {
    uint64_t shared_pages;          /* pages shared right now */
    uint64_t to_shared_calls;       /* accepted conversions to shared */
    uint64_t to_shared_pages;       /* pages they named (idempotent included) */
    uint64_t to_private_calls;      /* accepted conversions to private */
    uint64_t to_private_pages;
    uint64_t refused;               /* refused requests, all reasons */
    uint64_t refused_by[GUEST_SHARED_REFUSED__MAX];
} GuestSharedStats;

/**
 * guest_shared_convert: make guest pages shared or private
 * @gpa: guest-physical address of the first page, page aligned
 * @npages: number of GUEST_SHARED_PAGE_SIZE pages, at least 1
 * @shared: true to share the pages with the host, false to make them private
 * @why: set to the reason when the request is refused
 *
 * Every byte of the range must be guest RAM (not ROM, not a ROM device,
 * not a device's memory, not MMIO or a hole).  Converting a page to the
 * state it is already in is allowed.  A refused request changes nothing
 * and is counted by reason.
 *
 * Context: the caller holds the big QEMU lock.
 *
 * Returns: true on success, false when the request is refused.
 */
bool guest_shared_convert(uint64_t gpa, uint64_t npages, bool shared,
                          GuestSharedRefusal *why);

/**
 * guest_shared_refuse: count a request refused before it reached
 * guest_shared_convert() (for reasons only the caller can judge, such as
 * the hypercall's attribute bits).
 */
void guest_shared_refuse(GuestSharedRefusal why);

/**
 * guest_shared_find_private: the first page of a range that is not shared
 * @addr: guest-physical address
 * @len: length in bytes, at least 1; @addr + @len - 1 must not wrap
 * @first: set to the first address in [@addr, @addr + @len) that lies in
 *         a private page, when there is one
 *
 * Context: any thread; takes the shared set's own lock.
 *
 * Returns: true when part of the range is private, false when all of it
 * is shared.
 */
bool guest_shared_find_private(uint64_t addr, uint64_t len, uint64_t *first);

/** guest_shared_get_stats: copy the counters into @stats. */
void guest_shared_get_stats(GuestSharedStats *stats);

#endif
