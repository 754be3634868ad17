// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of swiotlb's bounce core with pools of any slot size.
 *
 * A slot allocator other than swiotlb's own search builds a struct
 * io_tlb_pool with its own slot size and hands its slots to
 * swiotlb_pool_map(); swiotlb_bounce() and swiotlb_pool_slot_index() then
 * work on it as on swiotlb's 2 KiB pools.  These tests build such pools
 * (512 B to 512 KiB slots), choose slots as such an allocator must, and
 * check the alignment rules of the DMA API, padding slots, the copies in
 * each direction and partial syncs.  A last case maps through swiotlb's
 * default pool, which the test shares with the rest of the system, to check
 * that its behaviour did not change.
 */
#include <kunit/test.h>
#include <kunit/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swiotlb.h>

#include "swiotlb.h"

/* The largest min_align_mask the tests use (NVMe's). */
#define TEST_MAX_MASK	(SZ_4K - 1)
/* What the bounce buffer holds where nothing was copied. */
#define TEST_POISON	0xcc

struct swiotlb_test_ctx {
	struct device *dev;
	struct device_dma_parameters parms;
	u64 dma_mask;
	struct io_tlb_pool pool;
	size_t pool_bytes;
	/* The original buffer (direct-mapped), with room for offsets. */
	u8 *orig;
	size_t orig_size;
};

static int swiotlb_test_init(struct kunit *test)
{
	struct swiotlb_test_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->dev = kunit_device_register(test, "swiotlb-kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->dev);
	ctx->dev->dma_parms = &ctx->parms;
	ctx->dma_mask = DMA_BIT_MASK(64);
	ctx->dev->dma_mask = &ctx->dma_mask;
	ctx->dev->coherent_dma_mask = DMA_BIT_MASK(64);
	test->priv = ctx;
	return 0;
}

static void free_pool(struct swiotlb_test_ctx *ctx)
{
	if (ctx->pool.vaddr)
		free_pages_exact(ctx->pool.vaddr, ctx->pool_bytes);
	if (ctx->orig)
		free_pages_exact(ctx->orig, ctx->orig_size);
	memset(&ctx->pool, 0, sizeof(ctx->pool));
	ctx->orig = NULL;
}

static void swiotlb_test_exit(struct kunit *test)
{
	free_pool(test->priv);
}

/*
 * Room for the largest mapping (two and a half slots, plus an offset below
 * 4 KiB, rounded up to 4 KiB) after the slot that a 4 KiB mask may select.
 */
static unsigned int test_nslots(unsigned int shift)
{
	return ((2 * (TEST_MAX_MASK + 1)) >> min(shift, 12U)) + 4;
}

/*
 * A pool of 1 << shift byte slots, aligned to its size rounded up to a
 * power of two (as the buddy allocator hands out blocks), and so to the
 * slot size and to 4 KiB.
 */
static void make_pool(struct kunit *test, unsigned int shift)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	struct io_tlb_pool *pool = &ctx->pool;
	unsigned int i, nslots = test_nslots(shift);
	size_t align = roundup_pow_of_two((size_t)nslots << shift);

	free_pool(ctx);
	ctx->pool_bytes = (size_t)nslots << shift;
	pool->vaddr = alloc_pages_exact(ctx->pool_bytes, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pool->vaddr);
	pool->start = virt_to_phys(pool->vaddr);
	pool->end = pool->start + ctx->pool_bytes;
	pool->nslabs = nslots;
	pool->slot_shift = shift;
	KUNIT_ASSERT_EQ(test, pool->start & (align - 1), 0);
	pool->slots = kunit_kcalloc(test, nslots, sizeof(*pool->slots),
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pool->slots);
	for (i = 0; i < nslots; i++)
		pool->slots[i].orig_addr = INVALID_PHYS_ADDR;

	/* Three slots' worth at any offset in a 4 KiB page. */
	ctx->orig_size = (3UL << shift) + SZ_8K;
	ctx->orig = alloc_pages_exact(ctx->orig_size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->orig);
	for (i = 0; i < ctx->orig_size; i++)
		ctx->orig[i] = i * 7 + (i >> 12);
}

static u8 *bounce_va(struct swiotlb_test_ctx *ctx, phys_addr_t tlb_addr)
{
	return ctx->pool.vaddr + (tlb_addr - ctx->pool.start);
}

/*
 * Map @len bytes at @orig_off in the original buffer, as a slot allocator
 * must: the first slot is the lowest one that keeps the bits of the
 * device's min_align_mask at or above the slot size and is aligned to
 * @align_mask; the allocation is the mapping plus its offset, rounded up to
 * the alignment.  Returns the bounce address; *@first and *@nslots say
 * which slots were claimed.
 */
static phys_addr_t map_at(struct kunit *test, size_t orig_off, size_t len,
			  unsigned int align_mask, unsigned int *first,
			  unsigned int *nslots)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	struct io_tlb_pool *pool = &ctx->pool;
	unsigned int shift = pool->slot_shift;
	unsigned int mask = dma_get_min_align_mask(ctx->dev);
	phys_addr_t orig = virt_to_phys(ctx->orig + orig_off);
	unsigned int offset = swiotlb_align_offset(ctx->dev, shift, align_mask,
						   orig);
	size_t size = ALIGN(len + offset, align_mask + 1);
	/* Bits kept by the slot choice; the pool starts 4 KiB-aligned. */
	unsigned int high = orig & mask & ~(align_mask | ((1U << shift) - 1));

	*first = high >> shift;
	*nslots = DIV_ROUND_UP(size, 1UL << shift);
	KUNIT_ASSERT_LE(test, *first + *nslots, pool->nslabs);
	memset(pool->vaddr + ((size_t)*first << shift), TEST_POISON,
	       (size_t)*nslots << shift);
	swiotlb_pool_set_alloc_size(pool, *first, *nslots, size,
				    swiotlb_align_offset(ctx->dev, shift, 0,
							 orig));
	return swiotlb_pool_map(ctx->dev, pool, *first, orig, size, offset,
				len);
}

/* Nothing but [tlb, tlb + len) was written in the claimed slots. */
static void expect_poison_around(struct kunit *test, phys_addr_t tlb,
				 size_t len, unsigned int first,
				 unsigned int nslots)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	unsigned int shift = ctx->pool.slot_shift;
	phys_addr_t start = ctx->pool.start + ((phys_addr_t)first << shift);
	phys_addr_t end = start + ((phys_addr_t)nslots << shift);

	KUNIT_EXPECT_NULL(test, memchr_inv(bounce_va(ctx, start), TEST_POISON,
					   tlb - start));
	KUNIT_EXPECT_NULL(test, memchr_inv(bounce_va(ctx, tlb) + len,
					   TEST_POISON, end - tlb - len));
}

static const unsigned int test_shifts[] = { 9, 11, 12, 14, 19 };
static const unsigned int test_masks[] = { 0, SZ_2K - 1, SZ_4K - 1 };
static const size_t test_offs[] = { 0, 1, 511, 512, 2047, 2048, 3000, 4095 };
/* Fewer for the largest slots, to keep the suite under a second. */
static const size_t test_offs_large[] = { 0, 4095 };

/*
 * For a buffer at @orig_off, mappings of part of a slot, of one slot and
 * of several, without and with an alignment that needs padding slots: the
 * bounce address keeps every bit of min_align_mask, lies in the claimed
 * slots, holds the original data and nothing else was written, and
 * swiotlb_pool_slot_index() finds the claimed slots again.
 */
static void check_map(struct kunit *test, size_t orig_off)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	struct io_tlb_pool *pool = &ctx->pool;
	unsigned int mask = dma_get_min_align_mask(ctx->dev);
	size_t slot = swiotlb_pool_slot_size(pool);
	phys_addr_t orig = virt_to_phys(ctx->orig + orig_off), tlb;
	const size_t lens[] = { 1, slot - (orig & mask & (slot - 1)),
				2 * slot + slot / 2 };
	const unsigned int aligns[] = { 0, TEST_MAX_MASK };
	unsigned int l, a, first, nslots, index, n;

	for (a = 0; a < ARRAY_SIZE(aligns); a++) {
		/* An alignment below the slot size changes nothing. */
		if (a && aligns[a] < slot)
			break;
		for (l = 0; l < ARRAY_SIZE(lens); l++) {
			tlb = map_at(test, orig_off, lens[l], aligns[a],
				     &first, &nslots);
			KUNIT_EXPECT_EQ(test, tlb & mask, orig & mask);
			KUNIT_EXPECT_GE(test, tlb,
					pool->start + first * slot);
			KUNIT_EXPECT_LE(test, tlb + lens[l],
					pool->start + (first + nslots) * slot);
			KUNIT_EXPECT_EQ(test, memcmp(bounce_va(ctx, tlb),
						     ctx->orig + orig_off,
						     lens[l]), 0);
			expect_poison_around(test, tlb, lens[l], first,
					     nslots);
			index = swiotlb_pool_slot_index(ctx->dev, pool, tlb,
							&n);
			KUNIT_EXPECT_EQ(test, index, first);
			KUNIT_EXPECT_EQ(test, n, nslots);
			/* The mask may need padding slots when aligned. */
			KUNIT_EXPECT_EQ(test,
					pool->slots[(tlb - pool->start) /
						    slot].pad_slots,
					(tlb - pool->start) / slot - first);
		}
	}
}

static void swiotlb_test_map_align(struct kunit *test)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	unsigned int s, m, o, noffs;
	const size_t *offs;

	for (s = 0; s < ARRAY_SIZE(test_shifts); s++) {
		make_pool(test, test_shifts[s]);
		offs = test_offs;
		noffs = ARRAY_SIZE(test_offs);
		if (test_shifts[s] > 16) {
			offs = test_offs_large;
			noffs = ARRAY_SIZE(test_offs_large);
		}
		for (m = 0; m < ARRAY_SIZE(test_masks); m++) {
			dma_set_min_align_mask(ctx->dev, test_masks[m]);
			for (o = 0; o < noffs; o++)
				check_map(test, offs[o]);
		}
	}
}

/*
 * A device that writes part of a mapping: a sync for the CPU of a part that
 * starts anywhere in the mapping (also within the first bytes of a later
 * slot, where swiotlb_bounce() works with a negative offset) and crosses a
 * slot boundary copies exactly that part back; a sync for the device copies
 * exactly that part out.  Only a window around the part is compared.
 */
static void check_partial_sync(struct kunit *test, phys_addr_t tlb, u8 *orig,
			       size_t len, size_t off, u8 dev_val, u8 cpu_val)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	size_t n = min_t(size_t, len - off, 300);
	size_t lo = off > 64 ? off - 64 : 0;
	size_t hi = min(len, off + n + 64);
	u8 *bounce = bounce_va(ctx, tlb);

	/* The "device" writes the window; the CPU syncs part of it. */
	memset(orig + lo, TEST_POISON, hi - lo);
	memset(bounce + lo, dev_val, hi - lo);
	__swiotlb_sync_single_for_cpu(ctx->dev, tlb + off, n, DMA_FROM_DEVICE,
				      &ctx->pool);
	KUNIT_EXPECT_NULL(test, memchr_inv(orig + off, dev_val, n));
	KUNIT_EXPECT_NULL(test, memchr_inv(orig + lo, TEST_POISON, off - lo));
	KUNIT_EXPECT_NULL(test, memchr_inv(orig + off + n, TEST_POISON,
					   hi - off - n));

	/* The CPU writes the window; part of it goes out. */
	memset(orig + lo, cpu_val, hi - lo);
	__swiotlb_sync_single_for_device(ctx->dev, tlb + off, n, DMA_TO_DEVICE,
					 &ctx->pool);
	KUNIT_EXPECT_NULL(test, memchr_inv(bounce + off, cpu_val, n));
	KUNIT_EXPECT_NULL(test, memchr_inv(bounce + lo, dev_val, off - lo));
	KUNIT_EXPECT_NULL(test, memchr_inv(bounce + off + n, dev_val,
					   hi - off - n));
}

static void swiotlb_test_partial_sync(struct kunit *test)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	const size_t orig_off = 100;
	unsigned int s, t, first, nslots;
	u8 val = 1;

	dma_set_min_align_mask(ctx->dev, TEST_MAX_MASK);
	for (s = 0; s < ARRAY_SIZE(test_shifts); s++) {
		size_t slot = 1UL << test_shifts[s];
		size_t len = 3 * slot - orig_off;
		/* Offsets into the mapping, around its slot boundaries. */
		const size_t offs[] = { 0, 1, slot - orig_off - 1,
					slot - orig_off, slot - orig_off + 1,
					2 * slot - orig_off + 5, len - 1 };
		phys_addr_t tlb;

		make_pool(test, test_shifts[s]);
		tlb = map_at(test, orig_off, len, 0, &first, &nslots);
		for (t = 0; t < ARRAY_SIZE(offs); t++, val += 2)
			check_partial_sync(test, tlb, ctx->orig + orig_off,
					   len, offs[t], val, val + 1);
	}
}

/*
 * swiotlb's own pools through the public entry points: every bit of
 * min_align_mask is kept, also with an alignment that needs padding slots,
 * and an unmap copies back unless DMA_ATTR_SKIP_CPU_SYNC says not to.
 */
static void check_default_map(struct kunit *test, u8 *buf, size_t len,
			      unsigned int align_mask, u8 val, bool skip_sync)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	unsigned int mask = dma_get_min_align_mask(ctx->dev);
	phys_addr_t orig = virt_to_phys(buf), tlb;
	struct io_tlb_pool *pool;

	memset(buf, val, len);
	tlb = swiotlb_tbl_map_single(ctx->dev, orig, len, align_mask,
				     DMA_BIDIRECTIONAL, 0);
	if (tlb == (phys_addr_t)DMA_MAPPING_ERROR) {
		KUNIT_FAIL(test, "mapping %zu bytes failed", len);
		return;
	}
	/* A pool of swiotlb's, or of another allocator that serves the device. */
	pool = swiotlb_find_pool(ctx->dev, tlb);
	KUNIT_EXPECT_NOT_NULL(test, pool);
	if (pool) {
		KUNIT_EXPECT_GE(test, tlb, pool->start);
		KUNIT_EXPECT_LE(test, tlb + len, pool->end);
	}
	KUNIT_EXPECT_EQ(test, tlb & mask, orig & mask);
	KUNIT_EXPECT_NULL(test, memchr_inv(phys_to_virt(tlb), val, len));

	/* The device writes. */
	memset(phys_to_virt(tlb), val + 1, len);
	swiotlb_tbl_unmap_single(ctx->dev, tlb, len, DMA_BIDIRECTIONAL,
				 skip_sync ? DMA_ATTR_SKIP_CPU_SYNC : 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, skip_sync ? val : val + 1,
					   len));
}

static void swiotlb_test_default_pool(struct kunit *test)
{
	struct swiotlb_test_ctx *ctx = test->priv;
	static const size_t lens[] = { 1, 512, 2048, 4096, 65536 };
	static const unsigned int aligns[] = { 0, PAGE_SIZE - 1 };
	unsigned int m, l, a;
	u8 *buf, val = 1;

	if (!is_swiotlb_active(ctx->dev))
		kunit_skip(test, "no default swiotlb pool");
	buf = kunit_kmalloc(test, SZ_128K, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	for (m = 0; m < ARRAY_SIZE(test_masks); m++) {
		dma_set_min_align_mask(ctx->dev, test_masks[m]);
		for (a = 0; a < ARRAY_SIZE(aligns); a++)
			for (l = 0; l < ARRAY_SIZE(lens); l++, val += 2)
				check_default_map(test, buf + SZ_4K - 300,
						  lens[l], aligns[a], val, !l);
	}
}

static struct kunit_case swiotlb_test_cases[] = {
	KUNIT_CASE(swiotlb_test_map_align),
	KUNIT_CASE(swiotlb_test_partial_sync),
	KUNIT_CASE(swiotlb_test_default_pool),
	{}
};

static struct kunit_suite swiotlb_test_suite = {
	.name = "swiotlb",
	.init = swiotlb_test_init,
	.exit = swiotlb_test_exit,
	.test_cases = swiotlb_test_cases,
};

kunit_test_suite(swiotlb_test_suite);
