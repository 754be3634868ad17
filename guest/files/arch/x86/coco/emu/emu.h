/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _X86_COCO_EMU_H
#define _X86_COCO_EMU_H

#include <linux/types.h>

/*
 * Bits 52-58 of a page-table entry are ignored by the MMU at every paging
 * level; Linux uses 57 and 58.  Bit 56 stands for "shared with the host",
 * set by cc_mkdec() the way TDX sets its shared bit, except that nothing
 * enforces it.
 */
#define CC_EMU_SHARED_BIT	56

/**
 * struct cc_emu_dir_stats - conversions in one direction
 * @calls: set_memory_{de,en}crypted() calls the host accepted
 * @pages: 4 KiB pages they converted
 * @ranges: physically contiguous ranges the host was (or would have been)
 *          told about
 * @exits: KVM_HC_MAP_GPA_RANGE hypercalls made, each one exit to the host
 * @errors: hypercalls the host refused
 */
struct cc_emu_dir_stats {
	u64 calls;
	u64 pages;
	u64 ranges;
	u64 exits;
	u64 errors;
};

/**
 * struct cc_emu_stats - a snapshot of the emulation's counters
 * @to_shared: private to shared conversions (set_memory_decrypted())
 * @to_private: shared to private conversions (set_memory_encrypted())
 * @tlb_flush_requests: conversions that asked set_memory for a TLB flush
 * @cache_flush_requests: conversions that asked for a cache flush
 */
struct cc_emu_stats {
	struct cc_emu_dir_stats to_shared;
	struct cc_emu_dir_stats to_private;
	u64 tlb_flush_requests;
	u64 cache_flush_requests;
};

#if IS_ENABLED(CONFIG_KUNIT)
bool cc_emu_active(void);
bool cc_emu_host_notified(void);
void cc_emu_get_stats(struct cc_emu_stats *stats);
#endif

#endif /* _X86_COCO_EMU_H */
