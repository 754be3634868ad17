// SPDX-License-Identifier: GPL-2.0-only
/*
 * cc-swiotlb: size-classed bounce buffers for confidential guests.
 *
 * In a confidential guest every streaming DMA bounces through memory shared
 * with the host.  swiotlb finds 2 KiB slots by scanning under per-area locks
 * and grows only by converting private memory from a workqueue.  cc-swiotlb
 * keeps swiotlb's bounce semantics (it hands swiotlb_pool_map() and
 * swiotlb_bounce() pools of its own) and replaces how slots are found and how
 * shared memory is obtained:
 *
 *  - Size classes of 512 B, 2 KiB, 4 KiB, 16 KiB, 64 KiB, 256 KiB and
 *    512 KiB.  A mapping takes exactly one slot of the smallest class that
 *    holds it with its min_align_mask offset, and whose size is at least
 *    min_align_mask + 1 and alloc_align_mask + 1.  Slots are aligned to their
 *    size, so every alignment rule holds without a search.
 *
 *  - Each class is made of chunks: 2 MiB of shared memory (smaller when
 *    memory is fragmented, never below 64 KiB nor below the slot size),
 *    each a struct io_tlb_pool with the class's slot size.  A chunk table
 *    (an xarray indexed by the physical address in 64 KiB units) finds the
 *    chunk of any address in one lookup, however many chunks there are.
 *
 *  - Map and unmap take a slot from, or give it back to, the current CPU's
 *    magazine, with interrupts disabled.  Only when the magazine is empty
 *    (map) or full (unmap) do they take the class's depot lock, to move half
 *    a magazine of slots.  The map path never sleeps, never allocates and
 *    never scans; when the class is empty it fails with DMA_MAPPING_ERROR,
 *    counts the failure and wakes kccd.
 *
 *  - kccd, one kernel thread per allocator, keeps each class between its
 *    watermarks: it adds chunks while the depot holds less than the low
 *    watermark (or the class less than its reserve), and returns chunks that
 *    have been completely free for idle_ms while more than the high
 *    watermark would still be free without them.  Chunks come from a
 *    provider: here, pages converted with set_memory_decrypted().
 *
 * Ordering: a chunk is in the chunk table before any of its slots is in the
 * depot, and leaves the table, followed by an RCU grace period, only after
 * all of its slots are back in the depot and the chunk is off the depot's
 * lists, so swiotlb_find_pool() never returns a freed chunk for an address
 * that is mapped.  Map sets dev->dma_uses_io_tlb as swiotlb_find_slots()
 * does.
 *
 * Devices with their own swiotlb (restricted DMA pools) are not served, and
 * neither are devices whose DMA mask cannot reach every chunk: those map
 * through swiotlb's default pool as before.
 */

#define pr_fmt(fmt) "cc_swiotlb: " fmt

#include <linux/cc_platform.h>
#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>

#define CREATE_TRACE_POINTS
#include <trace/events/cc_swiotlb.h>

#include "swiotlb.h"
#include "cc_swiotlb.h"

static const unsigned int cc_swiotlb_shifts[CC_SWIOTLB_NR_CLASSES] = {
	9, 11, 12, 14, 16, 18, 19,
};

/* The class of each slot shift from CC_SWIOTLB_MIN_SLOT_SHIFT up. */
static const u8 cc_swiotlb_shift_class[] = {
	0,		/* 512 B */
	1, 1,		/* 1 KiB, 2 KiB */
	2,		/* 4 KiB */
	3, 3,		/* 8 KiB, 16 KiB */
	4, 4,		/* 32 KiB, 64 KiB */
	5, 5,		/* 128 KiB, 256 KiB */
	6,		/* 512 KiB */
};

static_assert(ARRAY_SIZE(cc_swiotlb_shift_class) ==
	      CC_SWIOTLB_MAX_SLOT_SHIFT - CC_SWIOTLB_MIN_SLOT_SHIFT + 1);

/**
 * cc_swiotlb_class_for() - the class that serves a mapping
 * @cc:			The allocator.
 * @dev:		Device that maps the buffer.
 * @orig_addr:		Original physical address of the buffer.
 * @mapping_size:	Bytes to map.
 * @alloc_align_mask:	Required alignment of the allocation.
 *
 * The slot must hold the mapping behind its offset (the bits of the
 * device's min_align_mask, which the bounce address keeps), and be at least
 * min_align_mask + 1 and alloc_align_mask + 1 bytes: slots are aligned to
 * their size, so that keeps every bit of both masks.  Such a slot is also
 * page-aligned for a mapping of a page or more.
 *
 * Return: the class, or %NULL if the mapping needs more than the largest.
 */
struct cc_swiotlb_class *cc_swiotlb_class_for(struct cc_swiotlb *cc,
					      struct device *dev,
					      phys_addr_t orig_addr,
					      size_t mapping_size,
					      unsigned int alloc_align_mask)
{
	unsigned int min_align_mask = dma_get_min_align_mask(dev);
	size_t need = mapping_size + (orig_addr & min_align_mask);
	unsigned int shift;

	need = max3(need, (size_t)min_align_mask + 1,
		    (size_t)alloc_align_mask + 1);
	if (need > 1UL << CC_SWIOTLB_MAX_SLOT_SHIFT)
		return NULL;
	shift = max_t(unsigned int, order_base_2(need),
		      CC_SWIOTLB_MIN_SLOT_SHIFT);
	return &cc->classes[cc_swiotlb_shift_class[shift -
						   CC_SWIOTLB_MIN_SLOT_SHIFT]];
}

/* Slots a magazine takes from, or gives back to, the depot at once. */
static unsigned int cc_swiotlb_mag_batch(const struct cc_swiotlb_class *cls)
{
	return max(cls->mag_size / 2, 1U);
}

static void cc_swiotlb_kick(struct cc_swiotlb *cc)
{
	irq_work_queue(&cc->kick_work);
}

static void cc_swiotlb_kick_fn(struct irq_work *work)
{
	struct cc_swiotlb *cc = container_of(work, struct cc_swiotlb,
					     kick_work);

	WRITE_ONCE(cc->kick, true);
	wake_up(&cc->wait);
}

/*
 * Fill an empty magazine with up to half its size from the depot.  Called
 * with interrupts disabled.  Returns true if the depot is below the class's
 * low watermark, so that kccd should run.
 */
static bool cc_swiotlb_mag_refill(struct cc_swiotlb_class *cls,
				  struct cc_swiotlb_mag *mag)
{
	unsigned int want = cc_swiotlb_mag_batch(cls);
	struct cc_swiotlb_chunk *chunk;
	unsigned long out;
	bool low;

	raw_spin_lock(&cls->lock);
	while (mag->nr < want && !list_empty(&cls->partial)) {
		chunk = list_first_entry(&cls->partial, struct cc_swiotlb_chunk,
					 node);
		while (mag->nr < want && chunk->nr_free) {
			mag->slot[mag->nr].chunk = chunk;
			mag->slot[mag->nr].index =
				chunk->free[--chunk->nr_free];
			mag->nr++;
			cls->depot_free--;
		}
		chunk->last_used = jiffies;
		if (!chunk->nr_free)
			list_move(&chunk->node, &cls->empty);
	}
	out = cls->nr_slots - cls->depot_free;
	if (out > cls->out_hiwater)
		cls->out_hiwater = out;
	low = (cls->depot_free << cls->shift) < READ_ONCE(cls->low);
	raw_spin_unlock(&cls->lock);
	return low;
}

/*
 * Give the top @n slots of a magazine back to the depot.  Called with
 * interrupts disabled.  A chunk that gets a slot back after it had none in
 * the depot goes to the front of the partial list, so that map keeps
 * using recently used chunks and idle ones stay free for kccd to return.
 */
static void cc_swiotlb_mag_flush(struct cc_swiotlb_class *cls,
				 struct cc_swiotlb_mag *mag, unsigned int n)
{
	struct cc_swiotlb_slot_ref *ref;
	struct cc_swiotlb_chunk *chunk;

	raw_spin_lock(&cls->lock);
	cls->depot_free += n;
	while (n--) {
		ref = &mag->slot[--mag->nr];
		chunk = ref->chunk;
		chunk->free[chunk->nr_free++] = ref->index;
		if (chunk->nr_free == 1)
			list_move(&chunk->node, &cls->partial);
	}
	raw_spin_unlock(&cls->lock);
}

/**
 * cc_swiotlb_map_in() - map a buffer through one allocator
 * @cc:			The allocator.
 * @dev:		Device that maps the buffer.
 * @orig_addr:		Original physical address of the buffer.
 * @mapping_size:	Bytes to map.
 * @alloc_align_mask:	Required alignment of the allocation.
 * @dir:		DMA direction.
 * @attrs:		DMA attributes.
 * @tlb_addr:		Set to the bounce address on success.
 *
 * Any context.  Never sleeps, never allocates memory.
 *
 * Return: 0 on success; -E2BIG if the mapping needs more than the largest
 * class, -ERANGE if the device cannot reach every chunk (both left to
 * swiotlb's own pools); -ENOSPC if the class is empty (counted, kccd woken).
 */
int cc_swiotlb_map_in(struct cc_swiotlb *cc, struct device *dev,
		      phys_addr_t orig_addr, size_t mapping_size,
		      unsigned int alloc_align_mask,
		      enum dma_data_direction dir, unsigned long attrs,
		      phys_addr_t *tlb_addr)
{
	struct cc_swiotlb_class *cls;
	struct cc_swiotlb_slot_ref ref;
	struct cc_swiotlb_mag *mag;
	unsigned int offset;
	unsigned long flags;
	size_t alloc_size;
	bool low = false;
	u64 limit;

	cls = cc_swiotlb_class_for(cc, dev, orig_addr, mapping_size,
				   alloc_align_mask);
	if (!cls)
		return -E2BIG;

	limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);
	if (phys_to_dma_unencrypted(dev, READ_ONCE(cc->dma_limit)) > limit) {
		atomic_long_inc(&cc->mask_fallbacks);
		return -ERANGE;
	}

	local_irq_save(flags);
	mag = this_cpu_ptr(cls->mags);
	if (!mag->nr)
		low = cc_swiotlb_mag_refill(cls, mag);
	if (unlikely(!mag->nr)) {
		local_irq_restore(flags);
		atomic_long_inc(&cls->map_failures);
		trace_cc_swiotlb_map_fail(dev, mapping_size,
					  cc_swiotlb_class_size(cls),
					  READ_ONCE(cls->nr_slots));
		if (!(attrs & DMA_ATTR_NO_WARN))
			dev_warn_ratelimited(dev,
					     "cc-swiotlb: no free %zu-byte slot for %zu bytes\n",
					     cc_swiotlb_class_size(cls),
					     mapping_size);
		cc_swiotlb_kick(cc);
		return -ENOSPC;
	}
	ref = mag->slot[--mag->nr];
	mag->maps++;
	local_irq_restore(flags);
	if (low)
		cc_swiotlb_kick(cc);

	offset = swiotlb_align_offset(dev, cls->shift, alloc_align_mask,
				      orig_addr);
	alloc_size = ALIGN(mapping_size + offset, alloc_align_mask + 1);
	swiotlb_pool_set_alloc_size(&ref.chunk->pool, ref.index, 1, alloc_size,
				    offset);
	*tlb_addr = swiotlb_pool_map(dev, &ref.chunk->pool, ref.index,
				     orig_addr, alloc_size, offset,
				     mapping_size);

	WRITE_ONCE(dev->dma_uses_io_tlb, true);
	/*
	 * Order the flag and the slot's contents before the driver stores the
	 * address; pairs with smp_rmb() in swiotlb_find_pool().  See
	 * swiotlb_find_slots().
	 */
	smp_mb();
	return 0;
}

/**
 * cc_swiotlb_release_in() - release a mapping of one allocator
 * @cc:		The allocator.
 * @dev:	Device that mapped the buffer.
 * @tlb_addr:	Bounce address of the mapping.
 * @pool:	Chunk that holds @tlb_addr.
 *
 * A release of an address that is not the start of a live mapping (a
 * double unmap, or an address inside a mapping) is logged, counted, and
 * otherwise ignored.
 */
void cc_swiotlb_release_in(struct cc_swiotlb *cc, struct device *dev,
			   phys_addr_t tlb_addr, struct io_tlb_pool *pool)
{
	struct cc_swiotlb_chunk *chunk = container_of(pool,
						      struct cc_swiotlb_chunk,
						      pool);
	struct cc_swiotlb_class *cls = chunk->cls;
	unsigned int index = (tlb_addr - pool->start) >> pool->slot_shift;
	struct io_tlb_slot *slot = &pool->slots[index];
	size_t in_slot = tlb_addr & (cc_swiotlb_class_size(cls) - 1);
	struct cc_swiotlb_mag *mag;
	unsigned long flags;
	phys_addr_t orig;

	orig = READ_ONCE(slot->orig_addr);
	if (orig == INVALID_PHYS_ADDR ||
	    in_slot != (orig & dma_get_min_align_mask(dev)) ||
	    cmpxchg(&slot->orig_addr, orig, INVALID_PHYS_ADDR) != orig) {
		atomic_long_inc(&cc->bad_unmaps);
		dev_err_ratelimited(dev,
				    "cc-swiotlb: release of %pa, which is not a mapping\n",
				    &tlb_addr);
		return;
	}
	slot->alloc_size = 0;

	local_irq_save(flags);
	mag = this_cpu_ptr(cls->mags);
	if (mag->nr == cls->mag_size)
		cc_swiotlb_mag_flush(cls, mag, cc_swiotlb_mag_batch(cls));
	mag->slot[mag->nr].chunk = chunk;
	mag->slot[mag->nr].index = index;
	mag->nr++;
	mag->unmaps++;
	local_irq_restore(flags);
}

/**
 * cc_swiotlb_find_pool_in() - find the chunk of an address
 * @cc:		The allocator.
 * @paddr:	Physical address.
 *
 * Any context.  One lookup in the chunk table.
 *
 * Return: the chunk's pool, or %NULL if @paddr is not in a chunk.
 */
struct io_tlb_pool *cc_swiotlb_find_pool_in(struct cc_swiotlb *cc,
					    phys_addr_t paddr)
{
	struct cc_swiotlb_chunk *chunk;

	chunk = xa_load(&cc->chunks, paddr >> CC_SWIOTLB_MIN_CHUNK_SHIFT);
	return chunk ? &chunk->pool : NULL;
}

/**
 * cc_swiotlb_class_free() - slots of a class that are in the depot
 * @cls:	The class.
 *
 * Return: the number of free slots not cached by a CPU.
 */
unsigned long cc_swiotlb_class_free(struct cc_swiotlb_class *cls)
{
	unsigned long flags, n;

	raw_spin_lock_irqsave(&cls->lock, flags);
	n = cls->depot_free;
	raw_spin_unlock_irqrestore(&cls->lock, flags);
	return n;
}

/*
 * Mappings made and released in a class, summed over the CPUs: a snapshot,
 * since the CPUs keep mapping while it is taken.
 */
static void cc_swiotlb_class_counts(struct cc_swiotlb_class *cls,
				    unsigned long *maps, unsigned long *unmaps)
{
	int cpu;

	*maps = 0;
	*unmaps = 0;
	for_each_possible_cpu(cpu) {
		struct cc_swiotlb_mag *mag = per_cpu_ptr(cls->mags, cpu);

		*maps += READ_ONCE(mag->maps);
		*unmaps += READ_ONCE(mag->unmaps);
	}
}

/**
 * cc_swiotlb_class_mapped() - live mappings of a class
 * @cls:	The class.
 *
 * Return: mappings made minus mappings released, summed over the CPUs (a
 * snapshot: the CPUs keep mapping while it is taken).
 */
unsigned long cc_swiotlb_class_mapped(struct cc_swiotlb_class *cls)
{
	unsigned long maps, unmaps;

	cc_swiotlb_class_counts(cls, &maps, &unmaps);
	return maps - unmaps;
}

/* Give every slot of this CPU's magazines back to the depots (IPI). */
static void cc_swiotlb_drain_cpu(void *data)
{
	struct cc_swiotlb *cc = data;
	int i;

	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		struct cc_swiotlb_class *cls = &cc->classes[i];
		struct cc_swiotlb_mag *mag = this_cpu_ptr(cls->mags);

		if (mag->nr)
			cc_swiotlb_mag_flush(cls, mag, mag->nr);
	}
}

static void cc_swiotlb_chunk_free(struct cc_swiotlb_chunk *chunk)
{
	kvfree(chunk->free);
	kvfree(chunk->pool.slots);
	kfree(chunk);
}

static void cc_swiotlb_chunk_unindex(struct cc_swiotlb *cc,
				     struct cc_swiotlb_chunk *chunk,
				     unsigned long n)
{
	unsigned long first = chunk->pool.start >> CC_SWIOTLB_MIN_CHUNK_SHIFT;
	unsigned long i;

	for (i = 0; i < n; i++)
		xa_erase(&cc->chunks, first + i);
}

/* Add one chunk to a class.  Called with cc->mutex held. */
static int cc_swiotlb_grow(struct cc_swiotlb_class *cls)
{
	struct cc_swiotlb *cc = cls->cc;
	unsigned int min_shift = max_t(unsigned int, cls->shift,
				       CC_SWIOTLB_MIN_CHUNK_SHIFT);
	unsigned long i, nslots, nindex;
	struct cc_swiotlb_chunk *chunk;
	struct cc_swiotlb_region r;
	unsigned int shift;
	phys_addr_t last;
	int ret = -ENOMEM;

	lockdep_assert_held(&cc->mutex);

	chunk = kzalloc(sizeof(*chunk), GFP_KERNEL);
	if (!chunk)
		goto fail;

	/* A 2 MiB chunk keeps its large page; fall back when fragmented. */
	for (shift = CC_SWIOTLB_CHUNK_SHIFT; shift >= min_shift; shift--) {
		ret = cc->provider->get(cc, shift, &r);
		if (!ret)
			break;
	}
	if (ret)
		goto free_chunk;

	nslots = 1UL << (shift - cls->shift);
	chunk->pool.slots = kvcalloc(nslots, sizeof(*chunk->pool.slots),
				     GFP_KERNEL);
	chunk->free = kvmalloc_array(nslots, sizeof(*chunk->free), GFP_KERNEL);
	if (!chunk->pool.slots || !chunk->free) {
		ret = -ENOMEM;
		goto put_region;
	}
	for (i = 0; i < nslots; i++) {
		chunk->pool.slots[i].orig_addr = INVALID_PHYS_ADDR;
		/* Hand out the lowest slot first. */
		chunk->free[i] = nslots - 1 - i;
	}
	chunk->nr_free = nslots;
	chunk->cls = cls;
	chunk->region = r;
	chunk->last_used = jiffies;
	chunk->pool.start = r.phys;
	chunk->pool.end = r.phys + (1UL << shift);
	chunk->pool.vaddr = r.vaddr;
	chunk->pool.nslabs = nslots;
	chunk->pool.slot_shift = cls->shift;
	chunk->pool.late_alloc = true;
	chunk->pool.cc_chunk = true;
	INIT_LIST_HEAD(&chunk->node);

	nindex = 1UL << (shift - CC_SWIOTLB_MIN_CHUNK_SHIFT);
	for (i = 0; i < nindex; i++) {
		ret = xa_err(xa_store(&cc->chunks,
				      (r.phys >> CC_SWIOTLB_MIN_CHUNK_SHIFT) + i,
				      chunk, GFP_KERNEL));
		if (ret) {
			cc_swiotlb_chunk_unindex(cc, chunk, i);
			goto put_region;
		}
	}

	last = chunk->pool.end - 1;
	if (last > cc->dma_limit)
		WRITE_ONCE(cc->dma_limit, last);

	raw_spin_lock_irq(&cls->lock);
	list_add_tail(&chunk->node, &cls->partial);
	cls->nr_chunks++;
	cls->nr_slots += nslots;
	cls->depot_free += nslots;
	raw_spin_unlock_irq(&cls->lock);

	atomic_long_add(1UL << shift, &cc->bytes);
	atomic_long_inc(shift == CC_SWIOTLB_CHUNK_SHIFT ? &cc->chunks_large :
			&cc->chunks_small);
	atomic_long_inc(&cls->refills);
	trace_cc_swiotlb_refill(cc_swiotlb_class_size(cls), r.phys,
				1UL << shift, nslots);
	return 0;

put_region:
	if (cc->provider->put(cc, &r))
		atomic_long_inc(&cc->leaked);
free_chunk:
	if (chunk)
		cc_swiotlb_chunk_free(chunk);
fail:
	atomic_long_inc(&cls->refill_failures);
	return ret;
}

/* Take a chunk out of the class and give it back.  cc->mutex held. */
static void cc_swiotlb_chunk_return(struct cc_swiotlb *cc,
				    struct cc_swiotlb_chunk *chunk)
{
	size_t size = chunk->pool.end - chunk->pool.start;

	cc_swiotlb_chunk_unindex(cc, chunk, size >> CC_SWIOTLB_MIN_CHUNK_SHIFT);
	/* Lookups that found the chunk before it left the table are done. */
	synchronize_rcu();
	atomic_long_sub(size, &cc->bytes);
	if (cc->provider->put(cc, &chunk->region))
		atomic_long_inc(&cc->leaked);
	cc_swiotlb_chunk_free(chunk);
}

/*
 * Return one idle, completely free chunk if the depot keeps at least the
 * high watermark without it and the class keeps its reserve.  cc->mutex
 * held.  The search for the chunk is linear in the class's chunks: it runs
 * in kccd only.
 */
static bool cc_swiotlb_shrink_one(struct cc_swiotlb_class *cls)
{
	unsigned long idle = msecs_to_jiffies(READ_ONCE(cls->cc->params.idle_ms));
	unsigned long high = READ_ONCE(cls->high);
	unsigned long reserve = READ_ONCE(cls->reserve);
	struct cc_swiotlb_chunk *chunk, *found = NULL;
	unsigned long n;

	raw_spin_lock_irq(&cls->lock);
	list_for_each_entry_reverse(chunk, &cls->partial, node) {
		n = chunk->pool.nslabs;
		if (chunk->nr_free != n ||
		    time_before(jiffies, chunk->last_used + idle))
			continue;
		if (((cls->depot_free - n) << cls->shift) < high ||
		    ((cls->nr_slots - n) << cls->shift) < reserve)
			break;
		found = chunk;
		list_del_init(&chunk->node);
		cls->nr_chunks--;
		cls->nr_slots -= n;
		cls->depot_free -= n;
		break;
	}
	raw_spin_unlock_irq(&cls->lock);
	if (!found)
		return false;

	atomic_long_inc(&cls->shrinks);
	trace_cc_swiotlb_shrink(cc_swiotlb_class_size(cls), found->pool.start,
				found->pool.end - found->pool.start,
				found->pool.nslabs);
	cc_swiotlb_chunk_return(cls->cc, found);
	return true;
}

static bool cc_swiotlb_wants_chunk(struct cc_swiotlb_class *cls)
{
	unsigned long flags, free, total;

	raw_spin_lock_irqsave(&cls->lock, flags);
	free = cls->depot_free << cls->shift;
	total = cls->nr_slots << cls->shift;
	raw_spin_unlock_irqrestore(&cls->lock, flags);
	return total < READ_ONCE(cls->reserve) || free < READ_ONCE(cls->low);
}

/**
 * cc_swiotlb_balance() - one pass of kccd
 * @cc:		The allocator.
 * @shrink:	Also return idle chunks above the high watermark.
 *
 * Adds chunks to every class below its reserve or low watermark until it is
 * above both or the provider has no more.  With @shrink, and when a class's
 * free slots, including those cached by CPUs, exceed its high watermark,
 * first brings every CPU's cached slots back to the depots and then returns
 * idle chunks while the high watermark stays free.  Process context.
 */
void cc_swiotlb_balance(struct cc_swiotlb *cc, bool shrink)
{
	bool drained = false;
	int i;

	mutex_lock(&cc->mutex);
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		struct cc_swiotlb_class *cls = &cc->classes[i];

		while (cc_swiotlb_wants_chunk(cls))
			if (cc_swiotlb_grow(cls))
				break;
	}
	for (i = 0; shrink && i < CC_SWIOTLB_NR_CLASSES; i++) {
		struct cc_swiotlb_class *cls = &cc->classes[i];
		unsigned long out = cls->nr_slots - cc_swiotlb_class_mapped(cls);

		if ((out << cls->shift) <= READ_ONCE(cls->high))
			continue;
		if (!drained) {
			on_each_cpu(cc_swiotlb_drain_cpu, cc, 1);
			drained = true;
		}
		while (cc_swiotlb_shrink_one(cls))
			cond_resched();
	}
	mutex_unlock(&cc->mutex);
}

static int cc_swiotlb_kccd(void *data)
{
	struct cc_swiotlb *cc = data;
	unsigned long timeout;

	while (!kthread_should_stop()) {
		timeout = msecs_to_jiffies(max(READ_ONCE(cc->params.idle_ms),
					       100U));
		wait_event_interruptible_timeout(cc->wait,
						 READ_ONCE(cc->kick) ||
						 kthread_should_stop(),
						 timeout);
		WRITE_ONCE(cc->kick, false);
		cc_swiotlb_balance(cc, true);
	}
	return 0;
}

/**
 * cc_swiotlb_setup() - initialise an allocator with no memory
 * @cc:		The allocator, zeroed.
 * @name:	Its name.
 * @provider:	Where its chunks come from.
 * @params:	Its tunables.
 *
 * Return: 0, or -ENOMEM.
 */
int cc_swiotlb_setup(struct cc_swiotlb *cc, const char *name,
		     const struct cc_swiotlb_provider *provider,
		     const struct cc_swiotlb_params *params)
{
	int i;

	cc->name = name;
	cc->provider = provider;
	cc->params = *params;
	xa_init(&cc->chunks);
	mutex_init(&cc->mutex);
	init_waitqueue_head(&cc->wait);
	init_irq_work(&cc->kick_work, cc_swiotlb_kick_fn);

	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		struct cc_swiotlb_class *cls = &cc->classes[i];
		unsigned int per_chunk;

		cls->cc = cc;
		cls->shift = cc_swiotlb_shifts[i];
		/* At most a quarter of a chunk in one CPU's cache. */
		per_chunk = 1U << (CC_SWIOTLB_CHUNK_SHIFT - cls->shift);
		cls->mag_size = clamp(per_chunk / 4, 1U, CC_SWIOTLB_MAG_SIZE);
		raw_spin_lock_init(&cls->lock);
		INIT_LIST_HEAD(&cls->partial);
		INIT_LIST_HEAD(&cls->empty);
		cls->reserve = params->reserve;
		cls->low = params->low;
		cls->high = params->high;
		cls->mags = alloc_percpu(struct cc_swiotlb_mag);
		if (!cls->mags)
			goto free_mags;
	}
	return 0;

free_mags:
	while (i--)
		free_percpu(cc->classes[i].mags);
	return -ENOMEM;
}

/**
 * cc_swiotlb_teardown() - return every chunk of an allocator
 * @cc:		The allocator, without a kccd thread.
 *
 * For the KUnit suite.  A chunk with live mappings is leaked, with a
 * warning: its slots may still be in use.
 */
void cc_swiotlb_teardown(struct cc_swiotlb *cc)
{
	struct cc_swiotlb_chunk *chunk, *tmp;
	LIST_HEAD(gone);
	int i;

	irq_work_sync(&cc->kick_work);
	on_each_cpu(cc_swiotlb_drain_cpu, cc, 1);
	mutex_lock(&cc->mutex);
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		struct cc_swiotlb_class *cls = &cc->classes[i];

		raw_spin_lock_irq(&cls->lock);
		list_splice_init(&cls->partial, &gone);
		list_splice_init(&cls->empty, &gone);
		raw_spin_unlock_irq(&cls->lock);
		list_for_each_entry_safe(chunk, tmp, &gone, node) {
			list_del(&chunk->node);
			if (chunk->nr_free != chunk->pool.nslabs) {
				pr_warn("%s: leaking a chunk with %lu live mappings\n",
					cc->name,
					chunk->pool.nslabs - chunk->nr_free);
				continue;
			}
			cc_swiotlb_chunk_return(cc, chunk);
		}
		free_percpu(cls->mags);
		cls->mags = NULL;
	}
	mutex_unlock(&cc->mutex);
	xa_destroy(&cc->chunks);
}

/**
 * cc_swiotlb_max_size() - the largest mapping cc-swiotlb takes for a device
 * @dev:	The device.
 *
 * Return: the largest slot less the worst min_align_mask offset.
 */
size_t cc_swiotlb_max_size(struct device *dev)
{
	return (1UL << CC_SWIOTLB_MAX_SLOT_SHIFT) - dma_get_min_align_mask(dev);
}

/*
 * The conversion provider: zeroed pages from the page allocator, converted
 * to shared with set_memory_decrypted() and back with set_memory_encrypted().
 * Zeroed first, so that no private data is ever shared.
 */
static int cc_swiotlb_convert_get(struct cc_swiotlb *cc, unsigned int shift,
				  struct cc_swiotlb_region *r)
{
	unsigned int order = shift - PAGE_SHIFT;
	gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN;
	struct page *page;
	void *vaddr;

	if (order)
		gfp |= __GFP_NORETRY;
	page = alloc_pages(gfp, order);
	if (!page)
		return -ENOMEM;
	vaddr = page_address(page);
	if (set_memory_decrypted((unsigned long)vaddr, 1 << order)) {
		/*
		 * The pages may be partly shared now: never give them back to
		 * the page allocator.  Leaked on purpose, as dma-direct does.
		 */
		pr_warn_ratelimited("%s: conversion to shared failed, leaking %u KiB\n",
				    cc->name, 1U << (shift - 10));
		atomic_long_inc(&cc->leaked);
		return -EIO;
	}
	r->phys = page_to_phys(page);
	r->vaddr = vaddr;
	r->shift = shift;
	return 0;
}

static int cc_swiotlb_convert_put(struct cc_swiotlb *cc,
				  struct cc_swiotlb_region *r)
{
	unsigned int order = r->shift - PAGE_SHIFT;

	if (set_memory_encrypted((unsigned long)r->vaddr, 1 << order)) {
		/* Shared or half-converted memory must not become private use. */
		pr_warn_ratelimited("%s: conversion to private failed, leaking %u KiB\n",
				    cc->name, 1U << (r->shift - 10));
		return -EIO;
	}
	__free_pages(virt_to_page(r->vaddr), order);
	return 0;
}

const struct cc_swiotlb_provider cc_swiotlb_convert = {
	.name = "convert",
	.get = cc_swiotlb_convert_get,
	.put = cc_swiotlb_convert_put,
};

/* The allocator of devices that use the default swiotlb. */
DEFINE_STATIC_KEY_FALSE(cc_swiotlb_active);
static struct cc_swiotlb cc_swiotlb_default;

/* -1: on in a guest with memory encryption, off elsewhere. */
static int cc_swiotlb_enable __initdata = -1;
static struct cc_swiotlb_params cc_swiotlb_params __initdata = {
	.reserve = SZ_2M,
	.low = SZ_1M,
	.high = SZ_8M,
	.idle_ms = 5000,
};

/*
 * cc_swiotlb=[on|off][,reserve=SIZE][,low=SIZE][,high=SIZE][,idle_ms=N]
 * (see docs): a bad option is reported and ignored.
 */
static int __init cc_swiotlb_parse(char *str)
{
	struct cc_swiotlb_params p = cc_swiotlb_params;
	char *opt, *end;
	unsigned long *size;

	while ((opt = strsep(&str, ",")) != NULL) {
		size = NULL;
		if (!*opt)
			continue;
		if (!strcmp(opt, "on")) {
			cc_swiotlb_enable = 1;
		} else if (!strcmp(opt, "off")) {
			cc_swiotlb_enable = 0;
		} else if (str_has_prefix(opt, "reserve=")) {
			size = &p.reserve;
		} else if (str_has_prefix(opt, "low=")) {
			size = &p.low;
		} else if (str_has_prefix(opt, "high=")) {
			size = &p.high;
		} else if (str_has_prefix(opt, "idle_ms=")) {
			if (kstrtouint(opt + strlen("idle_ms="), 0, &p.idle_ms))
				pr_err("bad idle_ms in '%s', ignored\n", opt);
		} else {
			pr_err("unknown option '%s', ignored\n", opt);
		}
		if (size) {
			char *val = strchr(opt, '=') + 1;
			unsigned long long v = memparse(val, &end);

			if (end == val || *end)
				pr_err("bad size in '%s', ignored\n", opt);
			else
				*size = v;
		}
	}
	if (p.low > p.high)
		pr_err("low=%lu is above high=%lu; the defaults stay\n",
		       p.low, p.high);
	else
		cc_swiotlb_params = p;
	return 0;
}
early_param("cc_swiotlb", cc_swiotlb_parse);

bool __cc_swiotlb_map(struct device *dev, phys_addr_t orig_addr,
		      size_t mapping_size, unsigned int alloc_align_mask,
		      enum dma_data_direction dir, unsigned long attrs,
		      phys_addr_t *tlb_addr)
{
	int ret = cc_swiotlb_map_in(&cc_swiotlb_default, dev, orig_addr,
				    mapping_size, alloc_align_mask, dir, attrs,
				    tlb_addr);

	if (ret == -E2BIG || ret == -ERANGE)
		return false;
	if (ret)
		*tlb_addr = (phys_addr_t)DMA_MAPPING_ERROR;
	return true;
}

struct io_tlb_pool *__cc_swiotlb_find_pool(phys_addr_t paddr)
{
	return cc_swiotlb_find_pool_in(&cc_swiotlb_default, paddr);
}

void __cc_swiotlb_release(struct device *dev, phys_addr_t tlb_addr,
			  struct io_tlb_pool *pool)
{
	cc_swiotlb_release_in(&cc_swiotlb_default, dev, tlb_addr, pool);
}

static int __init cc_swiotlb_init(void)
{
	struct cc_swiotlb *cc = &cc_swiotlb_default;
	struct task_struct *t;
	int ret;

	if (cc_swiotlb_enable < 0)
		cc_swiotlb_enable = cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT);
	if (!cc_swiotlb_enable)
		return 0;
	if (!is_swiotlb_allocated()) {
		pr_info("off: no swiotlb to serve\n");
		return 0;
	}

	ret = cc_swiotlb_setup(cc, "cc_swiotlb", &cc_swiotlb_convert,
			       &cc_swiotlb_params);
	if (ret)
		goto fail;
	/* The reserve and the low watermark of every class, now. */
	cc_swiotlb_balance(cc, false);
	t = kthread_run(cc_swiotlb_kccd, cc, "kccd");
	if (IS_ERR(t)) {
		ret = PTR_ERR(t);
		goto teardown;
	}
	cc->kccd = t;
	static_branch_enable(&cc_swiotlb_active);
	pr_info("on: %ld KiB from %s; per class reserve %lu KiB, low %lu KiB, high %lu KiB, idle %u ms\n",
		atomic_long_read(&cc->bytes) >> 10, cc->provider->name,
		cc->params.reserve >> 10, cc->params.low >> 10,
		cc->params.high >> 10, cc->params.idle_ms);
	return 0;

teardown:
	cc_swiotlb_teardown(cc);
fail:
	pr_err("off: setup failed (%d)\n", ret);
	return ret;
}
subsys_initcall(cc_swiotlb_init);

#ifdef CONFIG_DEBUG_FS

#define CC_CLASS_ATTR(name, expr)					\
static int cc_class_##name##_get(void *data, u64 *val)			\
{									\
	struct cc_swiotlb_class *cls = data;				\
	unsigned long flags;						\
									\
	raw_spin_lock_irqsave(&cls->lock, flags);			\
	*val = (expr);							\
	raw_spin_unlock_irqrestore(&cls->lock, flags);			\
	return 0;							\
}									\
DEFINE_DEBUGFS_ATTRIBUTE(cc_class_##name##_fops, cc_class_##name##_get,	\
			 NULL, "%llu\n")

CC_CLASS_ATTR(chunks, cls->nr_chunks);
CC_CLASS_ATTR(slots_total, cls->nr_slots);
CC_CLASS_ATTR(slots_free, cls->depot_free);
CC_CLASS_ATTR(slots_used, cls->nr_slots - cls->depot_free);
CC_CLASS_ATTR(bytes, cls->nr_slots << cls->shift);
CC_CLASS_ATTR(map_failures, atomic_long_read(&cls->map_failures));
CC_CLASS_ATTR(refills, atomic_long_read(&cls->refills));
CC_CLASS_ATTR(refill_failures, atomic_long_read(&cls->refill_failures));
CC_CLASS_ATTR(shrinks, atomic_long_read(&cls->shrinks));

static int cc_class_slots_mapped_get(void *data, u64 *val)
{
	*val = cc_swiotlb_class_mapped(data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cc_class_slots_mapped_fops,
			 cc_class_slots_mapped_get, NULL, "%llu\n");

/* Mappings made since boot, summed over the CPUs. */
static int cc_class_maps_get(void *data, u64 *val)
{
	unsigned long maps, unmaps;

	cc_swiotlb_class_counts(data, &maps, &unmaps);
	*val = maps;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cc_class_maps_fops, cc_class_maps_get, NULL,
			 "%llu\n");

static int cc_class_hiwater_get(void *data, u64 *val)
{
	struct cc_swiotlb_class *cls = data;

	*val = READ_ONCE(cls->out_hiwater);
	return 0;
}

/* Writing 0 resets the high-water mark to the slots out now. */
static int cc_class_hiwater_set(void *data, u64 val)
{
	struct cc_swiotlb_class *cls = data;

	if (val)
		return -EINVAL;
	raw_spin_lock_irq(&cls->lock);
	cls->out_hiwater = cls->nr_slots - cls->depot_free;
	raw_spin_unlock_irq(&cls->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(cc_class_hiwater_fops, cc_class_hiwater_get,
			 cc_class_hiwater_set, "%llu\n");

/*
 * The watermarks: bytes, written under cc->mutex; a write that would leave
 * low above high is refused.  kccd acts on a change at once.
 */
static int cc_class_watermark_set(struct cc_swiotlb_class *cls,
				  unsigned long *wm, u64 val)
{
	unsigned long low = wm == &cls->low ? val : cls->low;
	unsigned long high = wm == &cls->high ? val : cls->high;
	int ret = -EINVAL;

	mutex_lock(&cls->cc->mutex);
	if (val <= ULONG_MAX && low <= high) {
		WRITE_ONCE(*wm, val);
		ret = 0;
	}
	mutex_unlock(&cls->cc->mutex);
	if (!ret)
		cc_swiotlb_kick(cls->cc);
	return ret;
}

static int cc_class_reserve_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct cc_swiotlb_class *)data)->reserve);
	return 0;
}

static int cc_class_reserve_set(void *data, u64 val)
{
	struct cc_swiotlb_class *cls = data;

	return cc_class_watermark_set(cls, &cls->reserve, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(cc_class_reserve_fops, cc_class_reserve_get,
			 cc_class_reserve_set, "%llu\n");

static int cc_class_low_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct cc_swiotlb_class *)data)->low);
	return 0;
}

static int cc_class_low_set(void *data, u64 val)
{
	struct cc_swiotlb_class *cls = data;

	return cc_class_watermark_set(cls, &cls->low, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(cc_class_low_fops, cc_class_low_get,
			 cc_class_low_set, "%llu\n");

static int cc_class_high_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct cc_swiotlb_class *)data)->high);
	return 0;
}

static int cc_class_high_set(void *data, u64 val)
{
	struct cc_swiotlb_class *cls = data;

	return cc_class_watermark_set(cls, &cls->high, val);
}
DEFINE_DEBUGFS_ATTRIBUTE(cc_class_high_fops, cc_class_high_get,
			 cc_class_high_set, "%llu\n");

static const struct {
	const char *name;
	umode_t mode;
	const struct file_operations *fops;
} cc_class_files[] = {
	{ "chunks",		0400, &cc_class_chunks_fops },
	{ "bytes",		0400, &cc_class_bytes_fops },
	{ "slots_total",	0400, &cc_class_slots_total_fops },
	{ "slots_free",		0400, &cc_class_slots_free_fops },
	{ "slots_used",		0400, &cc_class_slots_used_fops },
	{ "slots_mapped",	0400, &cc_class_slots_mapped_fops },
	{ "slots_hiwater",	0600, &cc_class_hiwater_fops },
	{ "maps",		0400, &cc_class_maps_fops },
	{ "map_failures",	0400, &cc_class_map_failures_fops },
	{ "refills",		0400, &cc_class_refills_fops },
	{ "refill_failures",	0400, &cc_class_refill_failures_fops },
	{ "shrinks",		0400, &cc_class_shrinks_fops },
	{ "reserve",		0600, &cc_class_reserve_fops },
	{ "low",		0600, &cc_class_low_fops },
	{ "high",		0600, &cc_class_high_fops },
};

#define CC_ATTR(name, expr)						\
static int cc_##name##_get(void *data, u64 *val)			\
{									\
	struct cc_swiotlb *cc = data;					\
									\
	*val = (expr);							\
	return 0;							\
}									\
DEFINE_DEBUGFS_ATTRIBUTE(cc_##name##_fops, cc_##name##_get, NULL, "%llu\n")

CC_ATTR(bytes, atomic_long_read(&cc->bytes));
CC_ATTR(chunks_large, atomic_long_read(&cc->chunks_large));
CC_ATTR(chunks_small, atomic_long_read(&cc->chunks_small));
CC_ATTR(leaked, atomic_long_read(&cc->leaked));
CC_ATTR(bad_unmaps, atomic_long_read(&cc->bad_unmaps));
CC_ATTR(mask_fallbacks, atomic_long_read(&cc->mask_fallbacks));

static const struct {
	const char *name;
	const struct file_operations *fops;
} cc_files[] = {
	{ "bytes",		&cc_bytes_fops },
	{ "chunks_large",	&cc_chunks_large_fops },
	{ "chunks_small",	&cc_chunks_small_fops },
	{ "leaked",		&cc_leaked_fops },
	{ "bad_unmaps",		&cc_bad_unmaps_fops },
	{ "mask_fallbacks",	&cc_mask_fallbacks_fops },
};

static int cc_swiotlb_provider_show(struct seq_file *m, void *v)
{
	struct cc_swiotlb *cc = m->private;

	seq_printf(m, "%s\n", cc->provider->name);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cc_swiotlb_provider);

static int __init cc_swiotlb_debugfs_init(void)
{
	struct cc_swiotlb *cc = &cc_swiotlb_default;
	struct dentry *root;
	char name[8];
	int i, f;

	if (!static_key_enabled(&cc_swiotlb_active))
		return 0;
	root = debugfs_create_dir("cc_swiotlb", NULL);
	debugfs_create_file("provider", 0400, root, cc,
			    &cc_swiotlb_provider_fops);
	debugfs_create_u32("idle_ms", 0600, root, &cc->params.idle_ms);
	for (f = 0; f < ARRAY_SIZE(cc_files); f++)
		debugfs_create_file_unsafe(cc_files[f].name, 0400, root, cc,
					   cc_files[f].fops);

	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		struct cc_swiotlb_class *cls = &cc->classes[i];
		size_t size = cc_swiotlb_class_size(cls);

		if (size < SZ_1K)
			snprintf(name, sizeof(name), "%zu", size);
		else
			snprintf(name, sizeof(name), "%zuK", size >> 10);
		cls->debugfs = debugfs_create_dir(name, root);
		for (f = 0; f < ARRAY_SIZE(cc_class_files); f++)
			debugfs_create_file_unsafe(cc_class_files[f].name,
						   cc_class_files[f].mode,
						   cls->debugfs, cls,
						   cc_class_files[f].fops);
	}
	return 0;
}
late_initcall(cc_swiotlb_debugfs_init);

#endif /* CONFIG_DEBUG_FS */
