/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cc-swiotlb: size-classed bounce buffers fed by a kernel thread.
 *
 * The hooks swiotlb.c calls, and the allocator's structures for its KUnit
 * suite.  See kernel/dma/cc_swiotlb.c for the design.
 */
#ifndef _KERNEL_DMA_CC_SWIOTLB_H
#define _KERNEL_DMA_CC_SWIOTLB_H

#include <linux/dma-direction.h>
#include <linux/irq_work.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/swiotlb.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

/* The classes: 512 B, 2 KiB, 4 KiB, 16 KiB, 64 KiB, 256 KiB, 512 KiB. */
#define CC_SWIOTLB_NR_CLASSES		7
#define CC_SWIOTLB_MIN_SLOT_SHIFT	9
#define CC_SWIOTLB_MAX_SLOT_SHIFT	19

/* Chunks are 2 MiB when the provider has them, never below 64 KiB. */
#define CC_SWIOTLB_CHUNK_SHIFT		21
#define CC_SWIOTLB_MIN_CHUNK_SHIFT	16

/* Slots in a CPU's cache of one class, at most. */
#define CC_SWIOTLB_MAG_SIZE		32U

struct cc_swiotlb;
struct cc_swiotlb_class;

/**
 * struct cc_swiotlb_region - shared memory from a provider
 * @phys:	Physical address, aligned to the region's size.
 * @vaddr:	Kernel virtual address, mapped shared (decrypted).
 * @shift:	Log2 of the size in bytes.
 */
struct cc_swiotlb_region {
	phys_addr_t phys;
	void *vaddr;
	unsigned int shift;
};

/**
 * struct cc_swiotlb_provider - where shared memory comes from
 * @name:	Short name, used in debugfs file names and in messages.
 * @get:	Fill @r with one zeroed, shared region of 1 << @shift bytes.
 *		Process context; may sleep.  Return 0, or a negative errno
 *		when the provider has none of that size now.
 * @put:	Take back a region that @get returned.  Process context.
 *		Return 0, or a negative errno when the memory could not be
 *		made private again and was leaked.
 *
 * Both are called with &cc_swiotlb.mutex held.
 */
struct cc_swiotlb_provider {
	const char *name;
	int (*get)(struct cc_swiotlb *cc, unsigned int shift,
		   struct cc_swiotlb_region *r);
	int (*put)(struct cc_swiotlb *cc, struct cc_swiotlb_region *r);
};

/**
 * struct cc_swiotlb_chunk - a region of shared memory owned by one class
 * @pool:	The slots, as a swiotlb pool with the class's slot size, so that
 *		swiotlb's bounce core works on it unchanged.
 * @cls:	The class that owns the chunk.
 * @region:	The memory, as the provider handed it out.
 * @node:	In the class's @partial or @empty list.
 * @free:	Stack of the indices of the chunk's slots held by the depot.
 * @nr_free:	Number of entries in @free.
 * @last_used:	jiffies when the depot last handed out one of its slots.
 *
 * @node, @free, @nr_free and @last_used are protected by the class's
 * &cc_swiotlb_class.lock.  A slot that is neither in @free nor in a CPU's
 * magazine is mapped; its &io_tlb_slot.orig_addr is valid.
 */
struct cc_swiotlb_chunk {
	struct io_tlb_pool pool;
	struct cc_swiotlb_class *cls;
	struct cc_swiotlb_region region;
	struct list_head node;
	unsigned int *free;
	unsigned int nr_free;
	unsigned long last_used;
};

/**
 * struct cc_swiotlb_slot_ref - a free slot in a magazine
 * @chunk:	Chunk that holds the slot.
 * @index:	Index of the slot in @chunk.
 */
struct cc_swiotlb_slot_ref {
	struct cc_swiotlb_chunk *chunk;
	unsigned int index;
};

/**
 * struct cc_swiotlb_mag - one CPU's cache of free slots of one class
 * @nr:		Number of slots in @slot.
 * @maps:	Mappings made on this CPU.
 * @unmaps:	Mappings released on this CPU.
 * @slot:	The free slots; only the first &cc_swiotlb_class.mag_size
 *		entries are used.
 *
 * Accessed only by its CPU with interrupts disabled, or by another CPU
 * while that CPU runs cc_swiotlb_drain_cpu() from an IPI (interrupts
 * disabled there too).  @maps and @unmaps are read racily for statistics.
 */
struct cc_swiotlb_mag {
	unsigned int nr;
	unsigned long maps;
	unsigned long unmaps;
	struct cc_swiotlb_slot_ref slot[CC_SWIOTLB_MAG_SIZE];
};

/**
 * struct cc_swiotlb_class - the slots of one size
 * @cc:		The allocator the class belongs to.
 * @shift:	Log2 of the slot size.
 * @mag_size:	Slots a CPU's magazine holds at most.
 * @mags:	Per-CPU magazines.
 * @lock:	The depot: protects @partial, @empty, @nr_chunks, @nr_slots,
 *		@depot_free, @out_hiwater and each chunk's free stack.  Taken
 *		with interrupts disabled, by map and unmap only when a
 *		magazine runs empty or full, and by kccd.  A raw spinlock: it
 *		is taken in any context, and every critical section is bounded
 *		by the magazine size, except kccd's search for an idle chunk,
 *		which is bounded by the class's chunks.
 * @partial:	Chunks with slots in the depot, most recently used first.
 * @empty:	Chunks with no slot in the depot.
 * @nr_chunks:	Chunks of the class.
 * @nr_slots:	Slots in all of the class's chunks.
 * @depot_free:	Slots in the depot (not in a magazine, not mapped).
 * @out_hiwater: Highest number of slots out of the depot (mapped or in a
 *		magazine) seen when a magazine was refilled.
 * @reserve:	Bytes the class never shrinks below; kccd keeps at least this.
 * @low:	kccd adds chunks while the depot holds fewer free bytes.
 * @high:	kccd returns idle chunks while the depot holds more free bytes.
 * @map_failures: Mappings that found the class empty.
 * @refills:	Chunks added to the class.
 * @shrinks:	Chunks returned to the provider.
 * @refill_failures: Chunks the provider could not give.
 * @debugfs:	The class's debugfs directory.
 *
 * @reserve, @low and @high are written under &cc_swiotlb.mutex and read with
 * READ_ONCE() anywhere.
 */
struct cc_swiotlb_class {
	struct cc_swiotlb *cc;
	unsigned int shift;
	unsigned int mag_size;
	struct cc_swiotlb_mag __percpu *mags;
	raw_spinlock_t lock;
	struct list_head partial;
	struct list_head empty;
	unsigned long nr_chunks;
	unsigned long nr_slots;
	unsigned long depot_free;
	unsigned long out_hiwater;
	unsigned long reserve;
	unsigned long low;
	unsigned long high;
	atomic_long_t map_failures;
	atomic_long_t refills;
	atomic_long_t shrinks;
	atomic_long_t refill_failures;
	struct dentry *debugfs;
};

/**
 * struct cc_swiotlb_params - tunables of an allocator
 * @reserve:	Default &cc_swiotlb_class.reserve, in bytes.
 * @low:	Default &cc_swiotlb_class.low, in bytes.
 * @high:	Default &cc_swiotlb_class.high, in bytes.
 * @idle_ms:	How long a completely free chunk stays unused before kccd
 *		may return it.
 */
struct cc_swiotlb_params {
	unsigned long reserve;
	unsigned long low;
	unsigned long high;
	unsigned int idle_ms;
};

/**
 * struct cc_swiotlb - a size-classed bounce-buffer allocator
 * @name:	Name, for messages and the kernel thread.
 * @provider:	Where chunks come from.
 * @provider_data: For the provider.
 * @params:	The tunables; @params.idle_ms is read with READ_ONCE().
 * @classes:	The size classes, smallest first.
 * @chunks:	Chunk table: every chunk is stored at the indices
 *		phys >> %CC_SWIOTLB_MIN_CHUNK_SHIFT that it covers.  Read under
 *		RCU (xa_load()); written under @mutex.
 * @dma_limit:	Highest physical address of any chunk ever added; a device
 *		whose DMA limit is below it is left to swiotlb's default pool.
 * @mutex:	Serialises provider calls, adding and removing chunks, and
 *		changes of the watermarks.
 * @kccd:	The kernel thread that feeds and shrinks the classes, or %NULL
 *		(the KUnit suite calls cc_swiotlb_balance() itself).
 * @wait:	kccd sleeps here.
 * @kick:	Set to make kccd run a pass now.
 * @kick_work:	Wakes kccd from any context.
 * @bytes:	Bytes held from the provider now.
 * @chunks_large: Chunks of 1 << %CC_SWIOTLB_CHUNK_SHIFT bytes obtained.
 * @chunks_small: Smaller chunks obtained (fragmented memory).
 * @leaked:	Chunks that the provider could not take back and leaked.
 * @bad_unmaps:	Releases of addresses that were not mapped.
 * @mask_fallbacks: Mappings left to swiotlb's default pool because the
 *		device cannot reach every chunk.
 */
struct cc_swiotlb {
	const char *name;
	const struct cc_swiotlb_provider *provider;
	void *provider_data;
	struct cc_swiotlb_params params;
	struct cc_swiotlb_class classes[CC_SWIOTLB_NR_CLASSES];
	struct xarray chunks;
	phys_addr_t dma_limit;
	/* Provider calls, adding and removing chunks, watermarks. */
	struct mutex mutex;
	struct task_struct *kccd;
	wait_queue_head_t wait;
	bool kick;
	struct irq_work kick_work;
	atomic_long_t bytes;
	atomic_long_t chunks_large;
	atomic_long_t chunks_small;
	atomic_long_t leaked;
	atomic_long_t bad_unmaps;
	atomic_long_t mask_fallbacks;
};

static inline size_t cc_swiotlb_class_size(const struct cc_swiotlb_class *cls)
{
	return 1UL << cls->shift;
}

/* The conversion provider (set_memory_decrypted()). */
extern const struct cc_swiotlb_provider cc_swiotlb_convert;

/* The allocator core, for the default instance and the KUnit suite. */
int cc_swiotlb_setup(struct cc_swiotlb *cc, const char *name,
		     const struct cc_swiotlb_provider *provider,
		     const struct cc_swiotlb_params *params);
void cc_swiotlb_teardown(struct cc_swiotlb *cc);
struct cc_swiotlb_class *cc_swiotlb_class_for(struct cc_swiotlb *cc,
					      struct device *dev,
					      phys_addr_t orig_addr,
					      size_t mapping_size,
					      unsigned int alloc_align_mask);
int cc_swiotlb_map_in(struct cc_swiotlb *cc, struct device *dev,
		      phys_addr_t orig_addr, size_t mapping_size,
		      unsigned int alloc_align_mask,
		      enum dma_data_direction dir, unsigned long attrs,
		      phys_addr_t *tlb_addr);
void cc_swiotlb_release_in(struct cc_swiotlb *cc, struct device *dev,
			   phys_addr_t tlb_addr, struct io_tlb_pool *pool);
struct io_tlb_pool *cc_swiotlb_find_pool_in(struct cc_swiotlb *cc,
					    phys_addr_t paddr);
void cc_swiotlb_balance(struct cc_swiotlb *cc, bool shrink);
unsigned long cc_swiotlb_class_free(struct cc_swiotlb_class *cls);
unsigned long cc_swiotlb_class_mapped(struct cc_swiotlb_class *cls);
size_t cc_swiotlb_max_size(struct device *dev);

/* The hooks in swiotlb.c, for devices that use the default swiotlb. */
#ifdef CONFIG_CC_SWIOTLB
DECLARE_STATIC_KEY_FALSE(cc_swiotlb_active);

bool __cc_swiotlb_map(struct device *dev, phys_addr_t orig_addr,
		      size_t mapping_size, unsigned int alloc_align_mask,
		      enum dma_data_direction dir, unsigned long attrs,
		      phys_addr_t *tlb_addr);
struct io_tlb_pool *__cc_swiotlb_find_pool(phys_addr_t paddr);
void __cc_swiotlb_release(struct device *dev, phys_addr_t tlb_addr,
			  struct io_tlb_pool *pool);

/**
 * cc_swiotlb_map() - map a buffer through cc-swiotlb if it is active
 * @dev:		Device that maps the buffer; it uses the default
 *			swiotlb.
 * @orig_addr:		Original physical address of the buffer.
 * @mapping_size:	Bytes to map.
 * @alloc_align_mask:	Required alignment of the allocation.
 * @dir:		DMA direction.
 * @attrs:		DMA attributes.
 * @tlb_addr:		Set to the bounce address, or to %DMA_MAPPING_ERROR.
 *
 * Return: %false if cc-swiotlb leaves the mapping to swiotlb's own pools.
 */
static inline bool cc_swiotlb_map(struct device *dev, phys_addr_t orig_addr,
				  size_t mapping_size,
				  unsigned int alloc_align_mask,
				  enum dma_data_direction dir,
				  unsigned long attrs, phys_addr_t *tlb_addr)
{
	if (!static_branch_unlikely(&cc_swiotlb_active))
		return false;
	return __cc_swiotlb_map(dev, orig_addr, mapping_size, alloc_align_mask,
				dir, attrs, tlb_addr);
}

static inline struct io_tlb_pool *cc_swiotlb_find_pool(phys_addr_t paddr)
{
	if (!static_branch_unlikely(&cc_swiotlb_active))
		return NULL;
	return __cc_swiotlb_find_pool(paddr);
}

/**
 * cc_swiotlb_release() - release a mapping if it is cc-swiotlb's
 * @dev:	Device that mapped the buffer.
 * @tlb_addr:	Bounce address of the mapping.
 * @pool:	The pool swiotlb_find_pool() found for @tlb_addr.
 *
 * Return: %true if @pool is a chunk of cc-swiotlb and the slot was released.
 */
static inline bool cc_swiotlb_release(struct device *dev, phys_addr_t tlb_addr,
				      struct io_tlb_pool *pool)
{
	if (!pool->cc_chunk)
		return false;
	__cc_swiotlb_release(dev, tlb_addr, pool);
	return true;
}

static inline bool cc_swiotlb_serves(void)
{
	return static_branch_unlikely(&cc_swiotlb_active);
}
#else
static inline bool cc_swiotlb_map(struct device *dev, phys_addr_t orig_addr,
				  size_t mapping_size,
				  unsigned int alloc_align_mask,
				  enum dma_data_direction dir,
				  unsigned long attrs, phys_addr_t *tlb_addr)
{
	return false;
}

static inline struct io_tlb_pool *cc_swiotlb_find_pool(phys_addr_t paddr)
{
	return NULL;
}

static inline bool cc_swiotlb_release(struct device *dev, phys_addr_t tlb_addr,
				      struct io_tlb_pool *pool)
{
	return false;
}

static inline bool cc_swiotlb_serves(void)
{
	return false;
}
#endif /* CONFIG_CC_SWIOTLB */

#endif /* _KERNEL_DMA_CC_SWIOTLB_H */
