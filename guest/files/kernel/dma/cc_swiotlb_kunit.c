// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of cc-swiotlb.
 *
 * Most cases build an allocator of their own on a fake provider (plain
 * pages, no conversion, with a budget of chunks and the option to refuse
 * 2 MiB ones) and drive it directly: class selection, alignment, exhaustion
 * and the reserve, refill and shrink, concurrency, bad unmaps, the DMA-mask
 * fallback.  kccd does not run for them: the tests call cc_swiotlb_balance()
 * themselves.  The last case maps through swiotlb's public entry points and
 * runs only when cc-swiotlb serves the default swiotlb (cc_swiotlb=on, or a
 * guest with memory encryption); otherwise it is skipped and says so.
 */
#include <kunit/test.h>
#include <kunit/device.h>
#include <linux/completion.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swiotlb.h>

#include "swiotlb.h"
#include "cc_swiotlb.h"

#define CHUNK	BIT(CC_SWIOTLB_CHUNK_SHIFT)
/* Mappings each CPU makes in the concurrency case. */
#define CC_TEST_ROUNDS	2000

struct cc_test_provider {
	int budget;		/* chunks it still gives; -1: no limit */
	bool no_large;		/* refuse 2 MiB chunks */
	atomic_t live;		/* chunks handed out and not yet back */
};

struct cc_test_ctx {
	struct device *dev;
	struct device_dma_parameters parms;
	u64 dma_mask;
	struct cc_test_provider prov;
	struct cc_swiotlb cc;
	bool cc_ready;
	u8 *orig;		/* 1 MiB, page-aligned */
};

static int cc_test_get(struct cc_swiotlb *cc, unsigned int shift,
		       struct cc_swiotlb_region *r)
{
	struct cc_test_provider *p = cc->provider_data;
	struct page *page;

	if (!p->budget || (p->no_large && shift == CC_SWIOTLB_CHUNK_SHIFT))
		return -ENOMEM;
	page = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
			   __GFP_NORETRY, shift - PAGE_SHIFT);
	if (!page)
		return -ENOMEM;
	if (p->budget > 0)
		p->budget--;
	atomic_inc(&p->live);
	r->phys = page_to_phys(page);
	r->vaddr = page_address(page);
	r->shift = shift;
	return 0;
}

static int cc_test_put(struct cc_swiotlb *cc, struct cc_swiotlb_region *r)
{
	struct cc_test_provider *p = cc->provider_data;

	atomic_dec(&p->live);
	__free_pages(virt_to_page(r->vaddr), r->shift - PAGE_SHIFT);
	return 0;
}

static const struct cc_swiotlb_provider cc_test_provider = {
	.name = "test",
	.get = cc_test_get,
	.put = cc_test_put,
};

static int cc_test_init(struct kunit *test)
{
	struct cc_test_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->dev = kunit_device_register(test, "cc-swiotlb-kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->dev);
	ctx->dev->dma_parms = &ctx->parms;
	ctx->dma_mask = DMA_BIT_MASK(64);
	ctx->dev->dma_mask = &ctx->dma_mask;
	ctx->dev->coherent_dma_mask = DMA_BIT_MASK(64);
	ctx->prov.budget = -1;
	ctx->orig = alloc_pages_exact(SZ_1M, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->orig);
	test->priv = ctx;
	return 0;
}

static void cc_test_exit(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;

	if (ctx->cc_ready) {
		cc_swiotlb_teardown(&ctx->cc);
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->prov.live), 0);
	}
	free_pages_exact(ctx->orig, SZ_1M);
}

/* An allocator on the fake provider, with the same watermarks per class. */
static struct cc_swiotlb *make_cc(struct kunit *test, unsigned long reserve,
				  unsigned long low, unsigned long high)
{
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb_params p = {
		.reserve = reserve, .low = low, .high = high, .idle_ms = 0,
	};

	KUNIT_ASSERT_EQ(test, cc_swiotlb_setup(&ctx->cc, "cc_test",
					       &cc_test_provider, &p), 0);
	ctx->cc.provider_data = &ctx->prov;
	ctx->cc_ready = true;
	return &ctx->cc;
}

static struct cc_swiotlb_class *class_of(struct cc_swiotlb *cc, size_t size)
{
	int i;

	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++)
		if (cc_swiotlb_class_size(&cc->classes[i]) == size)
			return &cc->classes[i];
	return NULL;
}

static const struct {
	size_t size;
	unsigned int off;	/* orig_addr's offset in a 4 KiB page */
	unsigned int min_align_mask;
	unsigned int alloc_align_mask;
	size_t slot;		/* 0: too large for any class */
} class_cases[] = {
	{ 1, 0, 0, 0, SZ_512 },
	{ SZ_512, 0, 0, 0, SZ_512 },
	{ SZ_512 + 1, 0, 0, 0, SZ_2K },
	{ SZ_2K, 0, 0, 0, SZ_2K },
	{ SZ_2K + 1, 0, 0, 0, SZ_4K },
	{ SZ_4K, 0, 0, 0, SZ_4K },
	{ SZ_4K + 1, 0, 0, 0, SZ_16K },
	{ SZ_16K, 0, 0, 0, SZ_16K },
	{ SZ_16K + 1, 0, 0, 0, SZ_64K },
	{ SZ_64K, 0, 0, 0, SZ_64K },
	{ SZ_64K + 1, 0, 0, 0, SZ_256K },
	{ SZ_256K, 0, 0, 0, SZ_256K },
	{ SZ_256K + 1, 0, 0, 0, SZ_512K },
	{ SZ_512K, 0, 0, 0, SZ_512K },
	{ SZ_512K + 1, 0, 0, 0, 0 },
	/* The offset under min_align_mask counts; the mask sets a minimum. */
	{ 1, 0x100, SZ_4K - 1, 0, SZ_4K },
	{ SZ_4K - 0x100, 0x100, SZ_4K - 1, 0, SZ_4K },
	{ SZ_4K - 0x100 + 1, 0x100, SZ_4K - 1, 0, SZ_16K },
	{ SZ_512, 0x100, SZ_2K - 1, 0, SZ_2K },
	{ SZ_2K - 0x100, 0x100, SZ_2K - 1, 0, SZ_2K },
	{ SZ_2K - 0x100 + 1, 0x100, SZ_2K - 1, 0, SZ_4K },
	{ SZ_512K - 1, 1, SZ_4K - 1, 0, SZ_512K },
	{ SZ_512K, 1, SZ_4K - 1, 0, 0 },
	/* Bits of the address outside min_align_mask do not count. */
	{ SZ_512, 0x100, 0, 0, SZ_512 },
	/* alloc_align_mask sets a minimum slot. */
	{ 1, 0, 0, SZ_4K - 1, SZ_4K },
	{ 1, 0, 0, SZ_64K - 1, SZ_64K },
	{ SZ_64K + 1, 0, 0, SZ_4K - 1, SZ_256K },
};

static void cc_test_class_select(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, 0, 0, 0);
	struct cc_swiotlb_class *cls;
	int i;

	for (i = 0; i < ARRAY_SIZE(class_cases); i++) {
		phys_addr_t orig = virt_to_phys(ctx->orig) + class_cases[i].off;

		dma_set_min_align_mask(ctx->dev, class_cases[i].min_align_mask);
		cls = cc_swiotlb_class_for(cc, ctx->dev, orig,
					   class_cases[i].size,
					   class_cases[i].alloc_align_mask);
		if (!class_cases[i].slot) {
			KUNIT_EXPECT_NULL_MSG(test, cls, "case %d", i);
			continue;
		}
		KUNIT_EXPECT_NOT_NULL_MSG(test, cls, "case %d", i);
		if (cls)
			KUNIT_EXPECT_EQ_MSG(test, cc_swiotlb_class_size(cls),
					    class_cases[i].slot, "case %d", i);
	}
}

/*
 * Map @size bytes at @off in the original buffer, check the bounce
 * buffer's address and contents, let the "device" write, copy back and
 * release.
 */
static void check_map(struct kunit *test, struct cc_swiotlb *cc, size_t size,
		      unsigned int off, unsigned int align_mask, u8 val)
{
	struct cc_test_ctx *ctx = test->priv;
	unsigned int mask = dma_get_min_align_mask(ctx->dev);
	phys_addr_t orig = virt_to_phys(ctx->orig) + off, tlb;
	struct cc_swiotlb_class *cls;
	struct io_tlb_pool *pool;
	int ret;

	memset(ctx->orig + off, val, size);
	cls = cc_swiotlb_class_for(cc, ctx->dev, orig, size, align_mask);
	KUNIT_ASSERT_NOT_NULL(test, cls);
	ret = cc_swiotlb_map_in(cc, ctx->dev, orig, size, align_mask,
				DMA_BIDIRECTIONAL, 0, &tlb);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "size %zu off %u", size, off);

	pool = cc_swiotlb_find_pool_in(cc, tlb);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_EXPECT_TRUE(test, pool->cc_chunk);
	KUNIT_EXPECT_EQ(test, pool->slot_shift, cls->shift);
	/* The same chunk covers the whole mapping. */
	KUNIT_EXPECT_PTR_EQ(test, cc_swiotlb_find_pool_in(cc, tlb + size - 1),
			    pool);
	KUNIT_EXPECT_EQ(test, tlb & mask, orig & mask);
	KUNIT_EXPECT_EQ(test, (tlb & ~(phys_addr_t)mask) & align_mask, 0);
	if (size >= PAGE_SIZE && !mask && !align_mask)
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(tlb));
	KUNIT_EXPECT_NULL(test, memchr_inv(phys_to_virt(tlb), val, size));

	/* The device writes; a partial sync, then the unmap's copy-back. */
	memset(phys_to_virt(tlb), val + 1, size);
	swiotlb_bounce(ctx->dev, tlb + size / 2, size - size / 2,
		       DMA_FROM_DEVICE, pool);
	KUNIT_EXPECT_NULL(test, memchr_inv(ctx->orig + off, val, size / 2));
	KUNIT_EXPECT_NULL(test, memchr_inv(ctx->orig + off + size / 2, val + 1,
					   size - size / 2));
	swiotlb_bounce(ctx->dev, tlb, size, DMA_FROM_DEVICE, pool);
	KUNIT_EXPECT_NULL(test, memchr_inv(ctx->orig + off, val + 1, size));
	cc_swiotlb_release_in(cc, ctx->dev, tlb, pool);
}

static void cc_test_map_align(struct kunit *test)
{
	static const unsigned int masks[] = { 0, SZ_2K - 1, SZ_4K - 1 };
	static const unsigned int aligns[] = { 0, SZ_4K - 1 };
	static const size_t sizes[] = { 1, 100, SZ_512, SZ_2K - 300, SZ_4K,
					SZ_16K - 1, SZ_64K, SZ_256K - 4000,
					SZ_512K - SZ_4K };
	static const unsigned int offs[] = { 0, 1, 0x7ff, 0x801, 0xfff };
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, CHUNK, 0, 0);
	unsigned int m, a, s, o;
	u8 val = 0;

	cc_swiotlb_balance(cc, false);
	for (m = 0; m < ARRAY_SIZE(masks); m++) {
		dma_set_min_align_mask(ctx->dev, masks[m]);
		for (a = 0; a < ARRAY_SIZE(aligns); a++)
			for (s = 0; s < ARRAY_SIZE(sizes); s++)
				for (o = 0; o < ARRAY_SIZE(offs); o++, val += 2)
					check_map(test, cc, sizes[s], offs[o],
						  aligns[a], val);
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bad_unmaps), 0);
}

/*
 * A class holds what its reserve gave it and no more when the provider
 * has nothing left: the next map fails cleanly and is counted, and a
 * release makes room again.  Shrinking never goes below the reserve.
 */
static void cc_test_exhaust_reserve(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, CHUNK, 0, 0);
	struct cc_swiotlb_class *cls = class_of(cc, SZ_512K);
	phys_addr_t orig = virt_to_phys(ctx->orig), tlb[5];
	unsigned int n = CHUNK / SZ_512K, i;
	int ret;

	ctx->prov.budget = CC_SWIOTLB_NR_CLASSES;
	cc_swiotlb_balance(cc, false);
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++)
		KUNIT_EXPECT_EQ(test, cc->classes[i].nr_chunks, 1);
	KUNIT_EXPECT_EQ(test, ctx->prov.budget, 0);

	migrate_disable();
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig,
							SZ_512K, 0,
							DMA_TO_DEVICE, 0,
							&tlb[i]), 0);
	ret = cc_swiotlb_map_in(cc, ctx->dev, orig, SZ_512K, 0, DMA_TO_DEVICE,
				DMA_ATTR_NO_WARN, &tlb[n]);
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cls->map_failures), 1);

	cc_swiotlb_release_in(cc, ctx->dev, tlb[0],
			      cc_swiotlb_find_pool_in(cc, tlb[0]));
	KUNIT_EXPECT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig, SZ_512K,
						0, DMA_TO_DEVICE, 0, &tlb[0]),
			0);
	migrate_enable();

	/* Full, but at its watermarks: kccd's pass changes nothing. */
	cc_swiotlb_balance(cc, true);
	KUNIT_EXPECT_EQ(test, cls->nr_chunks, 1);
	for (i = 0; i < n; i++)
		cc_swiotlb_release_in(cc, ctx->dev, tlb[i],
				      cc_swiotlb_find_pool_in(cc, tlb[i]));

	/* All free, idle, high watermark 0: the reserve still stays. */
	cc_swiotlb_balance(cc, true);
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++)
		KUNIT_EXPECT_EQ(test, cc->classes[i].nr_chunks, 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cls->shrinks), 0);
}

/*
 * kccd's pass adds a chunk when the free slots fall below the low
 * watermark, returns idle chunks only while the high watermark stays free,
 * and never returns a chunk with a live mapping.
 */
static void cc_test_refill_shrink(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, 0, SZ_1M, SZ_4M);
	struct cc_swiotlb_class *cls = class_of(cc, SZ_4K);
	unsigned int per_chunk = CHUNK / SZ_4K, n = per_chunk / 2 + 64, i;
	phys_addr_t orig = virt_to_phys(ctx->orig);
	phys_addr_t *tlb;
	struct io_tlb_pool *pool;

	tlb = kunit_kcalloc(test, per_chunk * 2, sizeof(*tlb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tlb);

	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, cls->nr_chunks, 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cls->refills), 1);

	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig,
							SZ_4K, 0,
							DMA_TO_DEVICE, 0,
							&tlb[i]), 0);
	KUNIT_EXPECT_LT(test, cc_swiotlb_class_free(cls) * SZ_4K,
			(unsigned long)SZ_1M);
	KUNIT_EXPECT_EQ(test, cc_swiotlb_class_mapped(cls), n);
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, cls->nr_chunks, 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cls->refills), 2);

	for (i = 0; i < n; i++)
		cc_swiotlb_release_in(cc, ctx->dev, tlb[i],
				      cc_swiotlb_find_pool_in(cc, tlb[i]));
	KUNIT_EXPECT_EQ(test, cc_swiotlb_class_mapped(cls), 0);

	/* 4 MiB free: returning a chunk would leave 2 MiB < high. */
	cc_swiotlb_balance(cc, true);
	KUNIT_EXPECT_EQ(test, cls->nr_chunks, 2);

	WRITE_ONCE(cls->high, SZ_2M);
	cc_swiotlb_balance(cc, true);
	KUNIT_EXPECT_EQ(test, cls->nr_chunks, 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cls->shrinks), 1);

	/* A live mapping pins its chunk, whatever the watermarks say. */
	KUNIT_ASSERT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig, SZ_4K, 0,
						DMA_TO_DEVICE, 0, &tlb[0]), 0);
	WRITE_ONCE(cls->low, 0);
	WRITE_ONCE(cls->high, 0);
	cc_swiotlb_balance(cc, true);
	KUNIT_EXPECT_EQ(test, cls->nr_chunks, 1);
	pool = cc_swiotlb_find_pool_in(cc, tlb[0]);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	cc_swiotlb_release_in(cc, ctx->dev, tlb[0], pool);
	cc_swiotlb_balance(cc, true);
	KUNIT_EXPECT_EQ(test, cls->nr_chunks, 0);
	KUNIT_EXPECT_NULL(test, cc_swiotlb_find_pool_in(cc, tlb[0]));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bytes),
			(CC_SWIOTLB_NR_CLASSES - 1) * CHUNK);
}

/* With no 2 MiB block, chunks are smaller, but never below a slot. */
static void cc_test_small_chunks(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, SZ_1M, 0, 0);
	int i;

	ctx->prov.no_large = true;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->chunks_large), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&cc->chunks_small), 0);
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		struct cc_swiotlb_class *cls = &cc->classes[i];
		struct cc_swiotlb_chunk *chunk;

		KUNIT_EXPECT_GE(test, cls->nr_slots << cls->shift,
				(unsigned long)SZ_1M);
		list_for_each_entry(chunk, &cls->partial, node)
			KUNIT_EXPECT_EQ(test, chunk->pool.end - chunk->pool.start,
					(phys_addr_t)SZ_1M);
	}
	check_map(test, cc, SZ_512K - SZ_4K, 0, 0, 7);
	check_map(test, cc, 100, 0x123, 0, 9);
}

struct cc_test_worker {
	struct kunit *test;
	struct cc_swiotlb *cc;
	struct completion done;
	unsigned long maps, failures, errors;
};

static int cc_test_worker_fn(void *data)
{
	static const size_t sizes[] = { 16, 48, SZ_512, SZ_2K, SZ_4K, SZ_4K,
					SZ_4K, SZ_16K, SZ_64K, SZ_256K };
	struct cc_test_worker *w = data;
	struct cc_test_ctx *ctx = w->test->priv;
	phys_addr_t orig = virt_to_phys(ctx->orig), tlb;
	unsigned int i;

	for (i = 0; i < CC_TEST_ROUNDS; i++) {
		size_t size = sizes[get_random_u32_below(ARRAY_SIZE(sizes))];
		u8 val = i;
		int ret;

		ret = cc_swiotlb_map_in(w->cc, ctx->dev, orig, size, 0,
					DMA_TO_DEVICE, DMA_ATTR_NO_WARN, &tlb);
		if (ret) {
			w->failures++;
			continue;
		}
		w->maps++;
		/* Nobody else may write to our slot while we hold it. */
		memset(phys_to_virt(tlb), val, size);
		if (i & 1)
			cond_resched();
		if (memchr_inv(phys_to_virt(tlb), val, size))
			w->errors++;
		cc_swiotlb_release_in(w->cc, ctx->dev, tlb,
				      cc_swiotlb_find_pool_in(w->cc, tlb));
	}
	complete(&w->done);
	return 0;
}

/* Map and unmap from every CPU at once, moving slots between CPUs. */
static void cc_test_concurrent(struct kunit *test)
{
	struct cc_swiotlb *cc = make_cc(test, 4 * CHUNK, 0, 0);
	struct cc_test_worker *w;
	unsigned long maps = 0;
	int cpu, i, n = 0;

	cc_swiotlb_balance(cc, false);
	w = kunit_kcalloc(test, nr_cpu_ids, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		w[cpu].test = test;
		w[cpu].cc = cc;
		init_completion(&w[cpu].done);
		t = kthread_run_on_cpu(cc_test_worker_fn, &w[cpu], cpu,
				       "cc_test/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		n++;
	}
	for_each_online_cpu(cpu) {
		wait_for_completion(&w[cpu].done);
		KUNIT_EXPECT_EQ(test, w[cpu].failures, 0);
		KUNIT_EXPECT_EQ(test, w[cpu].errors, 0);
		maps += w[cpu].maps;
	}
	kunit_info(test, "%d CPUs, %lu mappings\n", n, maps);
	KUNIT_EXPECT_EQ(test, maps, (unsigned long)CC_TEST_ROUNDS * n);

	/* Every slot is back: in a magazine or in the depot, none lost. */
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++)
		KUNIT_EXPECT_EQ(test, cc_swiotlb_class_mapped(&cc->classes[i]),
				0);
	WRITE_ONCE(cc->classes[0].high, 1);	/* makes the pass drain CPUs */
	cc_swiotlb_balance(cc, true);
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++)
		KUNIT_EXPECT_EQ(test, cc_swiotlb_class_free(&cc->classes[i]),
				cc->classes[i].nr_slots);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bad_unmaps), 0);
}

/* A double unmap, or an unmap inside a mapping: logged, counted, ignored. */
static void cc_test_bad_unmap(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, CHUNK, 0, 0);
	struct cc_swiotlb_class *cls = class_of(cc, SZ_2K);
	phys_addr_t orig = virt_to_phys(ctx->orig), a, b;
	struct io_tlb_pool *pool;

	cc_swiotlb_balance(cc, false);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig, SZ_1K, 0,
						DMA_TO_DEVICE, 0, &a), 0);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig, SZ_1K, 0,
						DMA_TO_DEVICE, 0, &b), 0);
	pool = cc_swiotlb_find_pool_in(cc, a);
	KUNIT_ASSERT_NOT_NULL(test, pool);

	cc_swiotlb_release_in(cc, ctx->dev, a, pool);
	cc_swiotlb_release_in(cc, ctx->dev, a, pool);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bad_unmaps), 1);

	pool = cc_swiotlb_find_pool_in(cc, b);
	cc_swiotlb_release_in(cc, ctx->dev, b + 8, pool);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bad_unmaps), 2);
	KUNIT_EXPECT_EQ(test, cc_swiotlb_class_mapped(cls), 1);
	cc_swiotlb_release_in(cc, ctx->dev, b, pool);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bad_unmaps), 2);
	KUNIT_EXPECT_EQ(test, cc_swiotlb_class_mapped(cls), 0);
}

/* A device that cannot reach every chunk is left to swiotlb's own pools. */
static void cc_test_dma_mask(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, CHUNK, 0, 0);
	phys_addr_t orig = virt_to_phys(ctx->orig), tlb;

	cc_swiotlb_balance(cc, false);
	ctx->dma_mask = READ_ONCE(cc->dma_limit) - 1;
	KUNIT_EXPECT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig, SZ_4K, 0,
						DMA_TO_DEVICE, 0, &tlb),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->mask_fallbacks), 1);
	ctx->dma_mask = READ_ONCE(cc->dma_limit);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev, orig, SZ_4K, 0,
						DMA_TO_DEVICE, 0, &tlb), 0);
	cc_swiotlb_release_in(cc, ctx->dev, tlb,
			      cc_swiotlb_find_pool_in(cc, tlb));
}

/*
 * Through swiotlb's public entry points, when cc-swiotlb serves the default
 * swiotlb: the mapping lands in a chunk, min_align_mask is kept, the
 * directions and DMA_ATTR_SKIP_CPU_SYNC are honoured, partial syncs work,
 * and the maximum mapping size is the largest class's.
 */
static void cc_test_public(struct kunit *test)
{
	struct cc_test_ctx *ctx = test->priv;
	phys_addr_t orig = virt_to_phys(ctx->orig) + 0x234, tlb;
	static const size_t sizes[] = { 64, SZ_4K, SZ_256K + SZ_4K };
	struct io_tlb_pool *pool;
	unsigned int s;

	if (!cc_swiotlb_serves() || !is_swiotlb_active(ctx->dev))
		kunit_skip(test, "cc-swiotlb does not serve the default swiotlb in this boot");

	dma_set_min_align_mask(ctx->dev, SZ_4K - 1);
	KUNIT_EXPECT_EQ(test, swiotlb_max_mapping_size(ctx->dev),
			(size_t)SZ_512K - (SZ_4K - 1));
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		size_t size = sizes[s];
		u8 *buf = ctx->orig + 0x234;

		memset(buf, 0x11, size);
		tlb = swiotlb_tbl_map_single(ctx->dev, orig, size, 0,
					     DMA_TO_DEVICE, 0);
		KUNIT_ASSERT_NE(test, tlb, (phys_addr_t)DMA_MAPPING_ERROR);
		pool = swiotlb_find_pool(ctx->dev, tlb);
		KUNIT_ASSERT_NOT_NULL(test, pool);
		KUNIT_EXPECT_TRUE(test, pool->cc_chunk);
		KUNIT_EXPECT_EQ(test, tlb & (SZ_4K - 1), orig & (SZ_4K - 1));
		KUNIT_EXPECT_NULL(test, memchr_inv(phys_to_virt(tlb), 0x11,
						   size));
		/* DMA_TO_DEVICE: the unmap copies nothing back. */
		memset(phys_to_virt(tlb), 0x22, size);
		swiotlb_tbl_unmap_single(ctx->dev, tlb, size, DMA_TO_DEVICE, 0);
		KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0x11, size));

		/* DMA_FROM_DEVICE, a partial sync, then SKIP_CPU_SYNC. */
		memset(buf, 0x33, size);
		tlb = swiotlb_tbl_map_single(ctx->dev, orig, size, 0,
					     DMA_FROM_DEVICE, 0);
		KUNIT_ASSERT_NE(test, tlb, (phys_addr_t)DMA_MAPPING_ERROR);
		memset(phys_to_virt(tlb), 0x44, size);
		swiotlb_sync_single_for_cpu(ctx->dev, tlb + size / 2,
					    size - size / 2, DMA_FROM_DEVICE);
		KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0x33, size / 2));
		KUNIT_EXPECT_NULL(test, memchr_inv(buf + size / 2, 0x44,
						   size - size / 2));
		memset(phys_to_virt(tlb), 0x55, size);
		swiotlb_tbl_unmap_single(ctx->dev, tlb, size, DMA_FROM_DEVICE,
					 DMA_ATTR_SKIP_CPU_SYNC);
		KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0x33, size / 2));
	}
}

static struct kunit_case cc_swiotlb_test_cases[] = {
	KUNIT_CASE(cc_test_class_select),
	KUNIT_CASE(cc_test_map_align),
	KUNIT_CASE(cc_test_exhaust_reserve),
	KUNIT_CASE(cc_test_refill_shrink),
	KUNIT_CASE(cc_test_small_chunks),
	KUNIT_CASE(cc_test_concurrent),
	KUNIT_CASE(cc_test_bad_unmap),
	KUNIT_CASE(cc_test_dma_mask),
	KUNIT_CASE(cc_test_public),
	{}
};

static struct kunit_suite cc_swiotlb_test_suite = {
	.name = "cc_swiotlb",
	.init = cc_test_init,
	.exit = cc_test_exit,
	.test_cases = cc_swiotlb_test_cases,
};

kunit_test_suite(cc_swiotlb_test_suite);
