/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bounce core of swiotlb, for slot allocators inside kernel/dma.
 *
 * swiotlb_tbl_map_single() finds free slots, then records the mapping in
 * them and fills the bounce buffer (swiotlb_pool_map()); the sync paths and
 * the copy-back on unmap use swiotlb_bounce().  None of that depends on how
 * the slots were found, and all of it works on a struct io_tlb_pool with any
 * power-of-two slot size (pool->slot_shift).  Finding a pool from an address
 * (__swiotlb_find_pool()) and releasing slots (swiotlb_release_slots()) are
 * still swiotlb's own: another allocator needs hooks there.
 *
 * What a slot allocator that builds its own pools must do:
 * - start each pool at an address aligned to its slot size;
 * - choose slots so that the DMA address of the bounce buffer keeps every
 *   bit of the device's min_align_mask, including those at or above the
 *   slot size (swiotlb_align_offset() only covers the bits below it), and
 *   size the allocation as mapping size plus that offset;
 * - record each allocation's size with swiotlb_pool_set_alloc_size();
 * - keep the historical rule that an allocation of PAGE_SIZE or more with
 *   neither alloc_align_mask nor min_align_mask is page-aligned;
 * - under CONFIG_SWIOTLB_DYNAMIC, set dev->dma_uses_io_tlb followed by
 *   smp_mb() before the address is returned, as swiotlb_find_slots() does,
 *   so that swiotlb_find_pool() looks for the pool;
 * - report its own limit through swiotlb_max_mapping_size(), and its own
 *   usage, which swiotlb's debugfs counters do not include.
 */
#ifndef _KERNEL_DMA_SWIOTLB_H
#define _KERNEL_DMA_SWIOTLB_H

#include <linux/dma-mapping.h>
#include <linux/swiotlb.h>

#define INVALID_PHYS_ADDR (~(phys_addr_t)0)

/**
 * struct io_tlb_slot - IO TLB slot descriptor
 * @orig_addr:	The original address corresponding to a mapped entry.
 * @alloc_size:	Size of the allocated buffer.
 * @list:	The free list describing the number of free entries available
 *		from each index. Used only by swiotlb's own slot search.
 * @pad_slots:	Number of preceding padding slots. Valid only in the first
 *		allocated non-padding slot.
 */
struct io_tlb_slot {
	phys_addr_t orig_addr;
	size_t alloc_size;
	unsigned short list;
	unsigned short pad_slots;
};

/**
 * swiotlb_pool_slot_size() - Get the size of each slot of a pool.
 * @pool:	The pool.
 *
 * Return: the slot size in bytes.
 */
static inline size_t swiotlb_pool_slot_size(const struct io_tlb_pool *pool)
{
	return 1UL << pool->slot_shift;
}

/**
 * swiotlb_align_offset() - Get required offset into an IO TLB allocation.
 * @dev:         Owning device.
 * @slot_shift:  Log2 of the slot size of the pool that serves the allocation.
 * @align_mask:  Allocation alignment mask.
 * @addr:        DMA address.
 *
 * Return the minimum offset from the start of an IO TLB allocation which is
 * required for a given buffer address and allocation alignment to keep the
 * device happy.
 *
 * First, the address bits covered by min_align_mask must be identical in the
 * original address and the bounce buffer address. High bits are preserved by
 * choosing a suitable IO TLB slot, but bits below @slot_shift require extra
 * padding bytes before the bounce buffer.
 *
 * Second, @align_mask specifies which bits of the first allocated slot must
 * be zero. This may require allocating additional padding slots, and then the
 * offset (in bytes) from the first such padding slot is returned.
 *
 * Return: the offset in bytes.
 */
static inline unsigned int swiotlb_align_offset(struct device *dev,
						unsigned int slot_shift,
						unsigned int align_mask,
						u64 addr)
{
	return addr & dma_get_min_align_mask(dev) &
		(align_mask | ((1U << slot_shift) - 1));
}

/**
 * swiotlb_pool_set_alloc_size() - Record the size of a new allocation.
 * @pool:	Pool that holds the slots.
 * @index:	Index of the first allocated slot, padding slots included.
 * @nslots:	Number of allocated slots.
 * @alloc_size:	Allocated bytes from the start of slot @index, alignment
 *		padding included.
 * @offset:	swiotlb_align_offset() of the original address for @pool's
 *		slot size and an @align_mask of 0.
 *
 * Each slot records the bytes from the original address's offset in it to
 * the end of the allocation; swiotlb_bounce() checks syncs against it and
 * swiotlb_pool_slot_index() counts the slots from it.
 */
static inline void swiotlb_pool_set_alloc_size(struct io_tlb_pool *pool,
					       unsigned int index,
					       unsigned int nslots,
					       size_t alloc_size,
					       unsigned int offset)
{
	unsigned int i;

	for (i = 0; i < nslots; i++)
		pool->slots[index + i].alloc_size = alloc_size -
			(offset + ((size_t)i << pool->slot_shift));
}

phys_addr_t swiotlb_pool_map(struct device *dev, struct io_tlb_pool *pool,
			     unsigned int index, phys_addr_t orig_addr,
			     size_t alloc_size, unsigned int offset,
			     size_t mapping_size);
unsigned int swiotlb_pool_slot_index(struct device *dev,
				     struct io_tlb_pool *pool,
				     phys_addr_t tlb_addr,
				     unsigned int *nslots);
void swiotlb_bounce(struct device *dev, phys_addr_t tlb_addr, size_t size,
		    enum dma_data_direction dir, struct io_tlb_pool *mem);

#endif /* _KERNEL_DMA_SWIOTLB_H */
