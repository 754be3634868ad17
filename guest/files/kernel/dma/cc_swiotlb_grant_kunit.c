// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of cc-swiotlb's host-grant provider, on a fake host.
 *
 * The fake host implements KVM_HC_SHARED_POOL's ABI over a window of 32
 * granules of 2 MiB placed in free physical address space (found with
 * request_free_mem_region(), so nothing backs it: the provider maps it, and
 * the few bytes a test bounces go nowhere).  It can be told to answer the
 * next ACQUIRE with a given value or error, or to hold a different number
 * of granules than it was asked for.  The fallback is a fake too: plain
 * pages, counted.  kccd does not run; the tests call cc_swiotlb_balance().
 */
#include <kunit/test.h>
#include <kunit/device.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kvm_para.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "swiotlb.h"
#include "cc_swiotlb.h"

#define GRANULE		SZ_2M
#define NR_GRANULES	32
#define WINDOW		((u64)NR_GRANULES * GRANULE)

enum fake_mode {
	FAKE_HONEST,	/* lowest free run, or -E2BIG / -ENOMEM */
	FAKE_ANSWER,	/* answer fake.answer, hold nothing */
	FAKE_HOLD,	/* honest, but hold n + fake.hold_delta granules */
};

struct fake_host {
	phys_addr_t base;
	long query[5];		/* granule, quota, base, size, held */
	bool query_override;
	u8 held[NR_GRANULES];
	unsigned long nr_held;
	unsigned long quota;
	enum fake_mode mode;	/* for the next @times ACQUIREs */
	unsigned int times;
	long answer;
	long hold_delta;
	unsigned int calls;
	unsigned int acquires;
	unsigned long last_n;
	unsigned int releases;
	unsigned int bad_releases;
	unsigned int release_alls;
};

struct grant_ctx {
	struct device *dev;
	struct device_dma_parameters parms;
	u64 dma_mask;
	struct fake_host host;
	struct cc_swiotlb_grant g;
	struct cc_swiotlb cc;
	bool cc_ready;
	atomic_t fallback_live;
	u8 *orig;
};

static long fake_acquire(struct fake_host *h, unsigned long n)
{
	unsigned long i, j, run = 0;

	if (h->nr_held + n > h->quota)
		return -E2BIG;
	for (i = 0; i < NR_GRANULES; i++) {
		run = h->held[i] ? 0 : run + 1;
		if (run == n)
			break;
	}
	if (run < n)
		return -ENOMEM;
	for (j = i + 1 - n; j <= i; j++)
		h->held[j] = 1;
	h->nr_held += n;
	return h->base + (i + 1 - n) * (u64)GRANULE;
}

static long fake_release(struct fake_host *h, unsigned long a,
			 unsigned long n)
{
	unsigned long i, first;

	if (a < h->base || !IS_ALIGNED(a - h->base, GRANULE) || !n ||
	    (a - h->base) / GRANULE + n > NR_GRANULES) {
		h->bad_releases++;
		return -EINVAL;
	}
	first = (a - h->base) / GRANULE;
	for (i = first; i < first + n; i++) {
		if (!h->held[i]) {
			h->bad_releases++;
			return -EFAULT;
		}
	}
	for (i = first; i < first + n; i++)
		h->held[i] = 0;
	h->nr_held -= n;
	h->releases++;
	return 0;
}

static long fake_call(void *data, unsigned long op, unsigned long a1,
		      unsigned long a2)
{
	struct fake_host *h = data;
	enum fake_mode mode;
	long ret;

	h->calls++;
	switch (op) {
	case KVM_SHARED_POOL_QUERY:
		if (a1 > KVM_SHARED_POOL_HELD)
			return -EINVAL;
		if (a1 == KVM_SHARED_POOL_HELD && !h->query_override)
			return h->nr_held;
		return h->query[a1];
	case KVM_SHARED_POOL_ACQUIRE:
		h->acquires++;
		h->last_n = a1;
		mode = h->mode;
		if (!h->times || !--h->times)
			h->mode = FAKE_HONEST;
		if (mode == FAKE_ANSWER)
			return h->answer;
		ret = fake_acquire(h, a1);
		if (mode == FAKE_HOLD && ret >= 0) {
			unsigned long first = (ret - h->base) / GRANULE;

			if (h->hold_delta < 0) {
				h->held[first + a1 - 1] = 0;
				h->nr_held--;
			} else if (first + a1 < NR_GRANULES &&
				   !h->held[first + a1]) {
				h->held[first + a1] = 1;
				h->nr_held++;
			}
		}
		return ret;
	case KVM_SHARED_POOL_RELEASE:
		return fake_release(h, a1, a2);
	case KVM_SHARED_POOL_RELEASE_ALL:
		h->release_alls++;
		ret = h->nr_held;
		memset(h->held, 0, sizeof(h->held));
		h->nr_held = 0;
		return ret;
	}
	return -EINVAL;
}

/* The fallback: plain pages, counted. */
static int fake_fallback_get(struct cc_swiotlb *cc, unsigned int shift,
			     struct cc_swiotlb_region *r)
{
	struct grant_ctx *ctx = container_of(cc, struct grant_ctx, cc);
	struct page *page;

	page = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
			   __GFP_NORETRY, shift - PAGE_SHIFT);
	if (!page)
		return -ENOMEM;
	atomic_inc(&ctx->fallback_live);
	r->phys = page_to_phys(page);
	r->vaddr = page_address(page);
	r->shift = shift;
	return 0;
}

static int fake_fallback_put(struct cc_swiotlb *cc,
			     struct cc_swiotlb_region *r)
{
	struct grant_ctx *ctx = container_of(cc, struct grant_ctx, cc);

	atomic_dec(&ctx->fallback_live);
	__free_pages(virt_to_page(r->vaddr), r->shift - PAGE_SHIFT);
	return 0;
}

static const struct cc_swiotlb_provider fake_fallback = {
	.name = "fake-convert",
	.get = fake_fallback_get,
	.put = fake_fallback_put,
};

static int grant_test_init(struct kunit *test)
{
	struct grant_ctx *ctx;
	struct resource *res;
	struct fake_host *h;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->dev = kunit_device_register(test, "cc-swiotlb-grant-kunit");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->dev);
	ctx->dev->dma_parms = &ctx->parms;
	ctx->dma_mask = DMA_BIT_MASK(64);
	ctx->dev->dma_mask = &ctx->dma_mask;
	ctx->dev->coherent_dma_mask = DMA_BIT_MASK(64);
	ctx->orig = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->orig);

	/* Free physical address space for the window, given up again. */
	res = request_free_mem_region(&iomem_resource, WINDOW + GRANULE,
				      "cc-swiotlb-grant-kunit");
	if (IS_ERR(res))
		kunit_skip(test, "no free physical address space for a window");
	h = &ctx->host;
	h->base = ALIGN(res->start, GRANULE);
	release_mem_region(res->start, resource_size(res));
	h->quota = NR_GRANULES;
	h->query[KVM_SHARED_POOL_GRANULE] = GRANULE;
	h->query[KVM_SHARED_POOL_QUOTA] = h->quota;
	h->query[KVM_SHARED_POOL_WINDOW_BASE] = h->base;
	h->query[KVM_SHARED_POOL_WINDOW_SIZE] = WINDOW;
	test->priv = ctx;
	return 0;
}

static void grant_test_exit(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;

	if (!ctx)
		return;
	if (ctx->cc_ready) {
		cc_swiotlb_teardown(&ctx->cc);
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fallback_live), 0);
	}
	if (ctx->g.grants.next)
		cc_swiotlb_grant_teardown(&ctx->g);
	/* Everything the provider held went back, and nothing else. */
	KUNIT_EXPECT_EQ(test, ctx->host.nr_held, 0);
}

static void grant_setup(struct kunit *test, struct grant_ctx *ctx,
			size_t max_bytes)
{
	struct cc_swiotlb_host host = { .call = fake_call, .data = &ctx->host };

	KUNIT_ASSERT_EQ(test, cc_swiotlb_grant_setup(&ctx->g, &host,
						     &fake_fallback,
						     max_bytes), 0);
}

/* An allocator on the grant provider, with the same watermarks per class. */
static struct cc_swiotlb *make_cc(struct kunit *test, unsigned long reserve,
				  unsigned long low, unsigned long high)
{
	struct grant_ctx *ctx = test->priv;
	struct cc_swiotlb_params p = {
		.reserve = reserve, .low = low, .high = high, .idle_ms = 0,
	};

	grant_setup(test, ctx, SZ_64M);
	KUNIT_ASSERT_TRUE(test, ctx->g.on);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_setup(&ctx->cc, "cc-grant-kunit",
					       &cc_swiotlb_grant, &p), 0);
	ctx->cc.provider_data = &ctx->g;
	ctx->cc_ready = true;
	return &ctx->cc;
}

static void set_watermarks(struct cc_swiotlb *cc, unsigned long reserve,
			   unsigned long low, unsigned long high)
{
	int i;

	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		cc->classes[i].reserve = reserve;
		cc->classes[i].low = low;
		cc->classes[i].high = high;
	}
}

static unsigned long nr_grants(struct cc_swiotlb_grant *g)
{
	return list_count_nodes(&g->grants);
}

static long bad_total(struct cc_swiotlb_grant *g)
{
	long n = 0;
	int i;

	for (i = 0; i < CC_GRANT_BAD_NR; i++)
		n += atomic_long_read(&g->bad[i]);
	return n;
}

/* The configuration is read, checked, and the window claimed. */
static void grant_test_setup(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;
	struct resource *busy;

	ctx->host.held[3] = 1;
	ctx->host.nr_held = 1;
	grant_setup(test, ctx, SZ_64M);
	KUNIT_EXPECT_TRUE(test, ctx->g.on);
	KUNIT_EXPECT_EQ(test, ctx->g.base, ctx->host.base);
	KUNIT_EXPECT_EQ(test, ctx->g.size, WINDOW);
	KUNIT_EXPECT_EQ(test, ctx->g.granule_shift, 21U);
	KUNIT_EXPECT_EQ(test, ctx->g.quota, NR_GRANULES);
	/* What a previous kernel held went back. */
	KUNIT_EXPECT_EQ(test, ctx->host.release_alls, 1U);
	KUNIT_EXPECT_EQ(test, ctx->host.nr_held, 0);
	/* The window is claimed: nobody else can have it. */
	busy = request_mem_region(ctx->host.base, GRANULE, "kunit");
	KUNIT_EXPECT_NULL(test, busy);
	if (busy)
		release_mem_region(ctx->host.base, GRANULE);
}

static const struct {
	const char *name;
	int what;	/* QUERY index to override */
	long value;	/* -1: a RAM address */
} bad_configs[] = {
	{ "query error", KVM_SHARED_POOL_GRANULE, -EINVAL },
	{ "no hypercall", KVM_SHARED_POOL_GRANULE, -EOPNOTSUPP },
	{ "granule not a power of two", KVM_SHARED_POOL_GRANULE, 3 * SZ_1M },
	{ "granule below a page", KVM_SHARED_POOL_GRANULE, SZ_2K },
	{ "granule above 1 GiB", KVM_SHARED_POOL_GRANULE, SZ_2G },
	{ "window misaligned", KVM_SHARED_POOL_WINDOW_BASE, -2 },
	{ "window empty", KVM_SHARED_POOL_WINDOW_SIZE, 0 },
	{ "window size misaligned", KVM_SHARED_POOL_WINDOW_SIZE, SZ_1M },
	{ "window above 2^52", KVM_SHARED_POOL_WINDOW_BASE, 1L << 52 },
	{ "window over RAM", KVM_SHARED_POOL_WINDOW_BASE, -1 },
	{ "quota 0", KVM_SHARED_POOL_QUOTA, 0 },
	{ "quota above the window", KVM_SHARED_POOL_QUOTA, NR_GRANULES + 1 },
	{ "held count error", KVM_SHARED_POOL_HELD, -EINVAL },
};

/* A bad configuration leaves grants off, and every request falls back. */
static void grant_test_bad_config(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;
	struct fake_host *h = &ctx->host;
	long saved[5];
	int i;

	memcpy(saved, h->query, sizeof(saved));
	for (i = 0; i < ARRAY_SIZE(bad_configs); i++) {
		long v = bad_configs[i].value;

		memcpy(h->query, saved, sizeof(saved));
		h->query[KVM_SHARED_POOL_HELD] = 0;
		h->query_override = true;
		if (v == -1)
			v = ALIGN_DOWN(virt_to_phys(ctx->orig), GRANULE);
		else if (v == -2)
			v = h->base + SZ_1M;
		h->query[bad_configs[i].what] = v;
		memset(&ctx->g, 0, sizeof(ctx->g));
		grant_setup(test, ctx, SZ_64M);
		KUNIT_EXPECT_FALSE_MSG(test, ctx->g.on, "%s", bad_configs[i].name);
		KUNIT_EXPECT_NOT_NULL_MSG(test, ctx->g.why, "%s",
					  bad_configs[i].name);
		KUNIT_EXPECT_NULL_MSG(test, ctx->g.window, "%s",
				      bad_configs[i].name);
		if (ctx->g.window)
			release_mem_region(ctx->g.base, ctx->g.size);
	}
	h->query_override = false;

	/* With grants off, the allocator converts and never asks. */
	memset(&ctx->g, 0, sizeof(ctx->g));
	h->query[KVM_SHARED_POOL_GRANULE] = 3;
	grant_setup(test, ctx, SZ_64M);
	KUNIT_ASSERT_FALSE(test, ctx->g.on);
	h->calls = 0;
	{
		struct cc_swiotlb_params p = {
			.reserve = 0, .low = SZ_64K, .high = SZ_8M,
		};

		KUNIT_ASSERT_EQ(test, cc_swiotlb_setup(&ctx->cc, "cc-grant-kunit",
						       &cc_swiotlb_grant, &p), 0);
		ctx->cc.provider_data = &ctx->g;
		ctx->cc_ready = true;
		cc_swiotlb_balance(&ctx->cc, false);
	}
	KUNIT_EXPECT_EQ(test, h->calls, 0U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.fallbacks),
			(long)CC_SWIOTLB_NR_CLASSES);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fallback_live),
			CC_SWIOTLB_NR_CLASSES);
}

/* kccd's pass asks for what every class lacks, in one ACQUIRE. */
static void grant_test_bulk(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, 0, SZ_64K, SZ_8M);

	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, ctx->host.acquires, 1U);
	KUNIT_EXPECT_EQ(test, ctx->host.last_n, (unsigned long)CC_SWIOTLB_NR_CLASSES);
	KUNIT_EXPECT_EQ(test, nr_grants(&ctx->g), 1UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->chunks_large),
			(long)CC_SWIOTLB_NR_CLASSES);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.fallbacks), 0);
	KUNIT_EXPECT_EQ(test, ctx->host.nr_held,
			(unsigned long)CC_SWIOTLB_NR_CLASSES);

	/* 16 MiB more for one class: one more ACQUIRE, of 8 granules. */
	cc->classes[0].low = SZ_16M + SZ_64K;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, ctx->host.acquires, 2U);
	KUNIT_EXPECT_EQ(test, ctx->host.last_n, 8UL);
	KUNIT_EXPECT_EQ(test, cc->classes[0].nr_chunks, 9UL);

	/* max_bytes caps one ACQUIRE; the rest comes in further ones. */
	ctx->g.max_bytes = SZ_4M;
	cc->classes[1].low = SZ_8M + SZ_64K;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, ctx->host.last_n, 2UL);
	KUNIT_EXPECT_EQ(test, cc->classes[1].nr_chunks, 5UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.fallbacks), 0);
}

/* A smaller chunk is split from a granule; both halves are used. */
static void grant_test_split(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;
	struct cc_swiotlb_region a, b;

	make_cc(test, 0, 0, 0);
	mutex_lock(&ctx->cc.mutex);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_grant.get(&ctx->cc, 16, &a), 0);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_grant.get(&ctx->cc, 16, &b), 0);
	KUNIT_EXPECT_EQ(test, ctx->host.acquires, 1U);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(a.phys, SZ_64K));
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(b.phys, SZ_64K));
	KUNIT_EXPECT_NE(test, a.phys, b.phys);
	KUNIT_EXPECT_EQ(test, ALIGN_DOWN(a.phys, GRANULE),
			ALIGN_DOWN(b.phys, GRANULE));
	KUNIT_EXPECT_PTR_EQ(test, b.vaddr, a.vaddr + (b.phys - a.phys));
	KUNIT_EXPECT_EQ(test, cc_swiotlb_grant.put(&ctx->cc, &a), 0);
	KUNIT_EXPECT_EQ(test, ctx->host.releases, 0U);
	KUNIT_EXPECT_EQ(test, cc_swiotlb_grant.put(&ctx->cc, &b), 0);
	/* The grant's last chunk came back: the grant went back. */
	KUNIT_EXPECT_EQ(test, ctx->host.releases, 1U);
	KUNIT_EXPECT_EQ(test, ctx->host.nr_held, 0UL);
	mutex_unlock(&ctx->cc.mutex);
}

enum {
	ANS_BELOW = 1, ANS_ABOVE, ANS_STRADDLE, ANS_WRAP, ANS_MISALIGNED,
	ANS_RAM, ANS_REPEAT, ANS_OVERLAP, ANS_SHORT, ANS_LONG,
};

static const struct {
	const char *name;
	int answer;		/* ANS_*, or 0 for @error */
	long error;
	int bad;		/* enum cc_grant_bad, or -1: a refusal */
	bool released;		/* given back to the host */
} hostile[] = {
	{ "below the window", ANS_BELOW, 0, CC_GRANT_BAD_WINDOW, false },
	{ "above the window", ANS_ABOVE, 0, CC_GRANT_BAD_WINDOW, false },
	{ "across the window's end", ANS_STRADDLE, 0, CC_GRANT_BAD_WINDOW, false },
	{ "wrapping", ANS_WRAP, 0, CC_GRANT_BAD_WINDOW, false },
	{ "misaligned", ANS_MISALIGNED, 0, CC_GRANT_BAD_ALIGN, false },
	{ "guest RAM", ANS_RAM, 0, CC_GRANT_BAD_RAM, false },
	{ "repeated base", ANS_REPEAT, 0, CC_GRANT_BAD_OVERLAP, false },
	{ "overlapping a grant", ANS_OVERLAP, 0, CC_GRANT_BAD_OVERLAP, false },
	{ "short", ANS_SHORT, 0, CC_GRANT_BAD_SIZE, true },
	{ "long", ANS_LONG, 0, CC_GRANT_BAD_SIZE, true },
	{ "-KVM_EINVAL", 0, -EINVAL, CC_GRANT_BAD_ERROR, false },
	{ "-KVM_EFAULT", 0, -EFAULT, CC_GRANT_BAD_ERROR, false },
	{ "-KVM_EPERM", 0, -EPERM, CC_GRANT_BAD_ERROR, false },
	{ "unknown error", 0, -4000, CC_GRANT_BAD_ERROR, false },
	{ "-KVM_E2BIG", 0, -E2BIG, -1, false },
	{ "-KVM_ENOMEM", 0, -ENOMEM, -1, false },
};

/*
 * Each hostile or broken answer is refused, counted, never mapped, given
 * back when it may be real, and the request falls back to conversions.
 */
static void grant_test_hostile(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;
	struct fake_host *h = &ctx->host;
	struct cc_swiotlb_grant *g = &ctx->g;
	struct cc_swiotlb_region first, second, r;
	int i;

	make_cc(test, 0, 0, 0);
	mutex_lock(&ctx->cc.mutex);
	/* A grant held throughout, for the overlap cases: granules 0-1. */
	g->want = SZ_4M;
	KUNIT_ASSERT_EQ(test, cc_swiotlb_grant.get(&ctx->cc, 21, &first), 0);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_grant.get(&ctx->cc, 21, &second), 0);
	KUNIT_ASSERT_EQ(test, first.phys, h->base);
	KUNIT_ASSERT_EQ(test, second.phys, h->base + GRANULE);
	KUNIT_ASSERT_EQ(test, h->acquires, 1U);

	for (i = 0; i < ARRAY_SIZE(hostile); i++) {
		long bad_before = bad_total(g);
		long bad_reason = hostile[i].bad >= 0 ?
			atomic_long_read(&g->bad[hostile[i].bad]) : 0;
		long quota = atomic_long_read(&g->refused_quota);
		long nomem = atomic_long_read(&g->refused_nomem);
		long fallbacks = atomic_long_read(&g->fallbacks);
		long acquires = atomic_long_read(&g->acquires);
		unsigned int releases = h->releases + h->bad_releases;
		unsigned long grants = nr_grants(g);
		long ans = 0;

		switch (hostile[i].answer) {
		case ANS_BELOW:
			ans = h->base - GRANULE;
			break;
		case ANS_ABOVE:
			ans = h->base + WINDOW;
			break;
		case ANS_STRADDLE:
			ans = h->base + WINDOW - GRANULE;
			break;
		case ANS_WRAP:
			ans = -(long)GRANULE;
			break;
		case ANS_MISALIGNED:
			ans = h->base + 2 * GRANULE + PAGE_SIZE;
			break;
		case ANS_RAM:
			ans = ALIGN_DOWN(virt_to_phys(ctx->orig), GRANULE);
			break;
		case ANS_REPEAT:
			ans = h->base;
			break;
		case ANS_OVERLAP:
			ans = h->base + GRANULE;
			break;
		}
		if (hostile[i].answer == ANS_SHORT ||
		    hostile[i].answer == ANS_LONG) {
			h->mode = FAKE_HOLD;
			h->hold_delta = hostile[i].answer == ANS_SHORT ? -1 : 1;
		} else {
			h->mode = FAKE_ANSWER;
			h->answer = hostile[i].answer ? ans : hostile[i].error;
			/* -ENOMEM: asked again for the 1 granule needed. */
			h->times = hostile[i].error == -ENOMEM ? 2 : 1;
		}
		/*
		 * Two granules, so that a straddling answer crosses the end.
		 * A back-off no step of the test outlives (see
		 * grant_test_fallback()).
		 */
		g->retry_at = jiffies;
		g->backoff = 5 * HZ;
		g->want = SZ_4M;
		KUNIT_ASSERT_EQ_MSG(test, cc_swiotlb_grant.get(&ctx->cc, 21, &r),
				    0, "%s", hostile[i].name);
		KUNIT_EXPECT_EQ_MSG(test, h->last_n,
				    hostile[i].error == -ENOMEM ? 1UL : 2UL,
				    "%s", hostile[i].name);
		/* Refused: nothing new held or mapped, a fallback chunk. */
		KUNIT_EXPECT_EQ_MSG(test, nr_grants(g), grants, "%s",
				    hostile[i].name);
		KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&g->acquires),
				    acquires, "%s", hostile[i].name);
		KUNIT_EXPECT_NULL_MSG(test, r.priv, "%s", hostile[i].name);
		KUNIT_EXPECT_EQ_MSG(test, atomic_long_read(&g->fallbacks),
				    fallbacks + 1, "%s", hostile[i].name);
		if (hostile[i].bad >= 0) {
			long bad = atomic_long_read(&g->bad[hostile[i].bad]);

			KUNIT_EXPECT_EQ_MSG(test, bad, bad_reason + 1, "%s",
					    hostile[i].name);
			KUNIT_EXPECT_EQ_MSG(test, bad_total(g), bad_before + 1,
					    "%s", hostile[i].name);
		} else if (hostile[i].error == -E2BIG) {
			quota = atomic_long_read(&g->refused_quota) - quota;
			KUNIT_EXPECT_EQ_MSG(test, quota, 1L, "%s",
					    hostile[i].name);
		} else {
			/* Tried 2 granules, then the 1 the chunk needs. */
			nomem = atomic_long_read(&g->refused_nomem) - nomem;
			KUNIT_EXPECT_EQ_MSG(test, nomem, 2L, "%s",
					    hostile[i].name);
		}
		KUNIT_EXPECT_EQ_MSG(test, h->releases + h->bad_releases,
				    releases + hostile[i].released, "%s",
				    hostile[i].name);
		/* The held grant is untouched. */
		KUNIT_EXPECT_TRUE_MSG(test, h->held[0] && h->held[1], "%s",
				      hostile[i].name);
		/* Deferred: the next request falls back without asking. */
		KUNIT_EXPECT_TRUE_MSG(test, time_before(jiffies, g->retry_at),
				      "%s", hostile[i].name);
		KUNIT_EXPECT_EQ(test, cc_swiotlb_grant.put(&ctx->cc, &r), 0);
		/* Whatever a broken host kept for us, it is not ours. */
		if (hostile[i].answer == ANS_SHORT || hostile[i].answer == ANS_LONG) {
			memset(h->held + 2, 0, NR_GRANULES - 2);
			h->nr_held = 2;
		}
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&g->fallback_now), 0);
	KUNIT_EXPECT_EQ(test, cc_swiotlb_grant.put(&ctx->cc, &first), 0);
	KUNIT_EXPECT_EQ(test, cc_swiotlb_grant.put(&ctx->cc, &second), 0);
	KUNIT_EXPECT_EQ(test, g->held, 0UL);
	mutex_unlock(&ctx->cc.mutex);
}

/* A chunk with a live mapping keeps its grant; the rest goes back. */
static void grant_test_shrink_live(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, 0, SZ_64K, SZ_8M);
	phys_addr_t tlb;
	unsigned long granule;

	cc_swiotlb_balance(cc, false);
	KUNIT_ASSERT_EQ(test, nr_grants(&ctx->g), 1UL);
	KUNIT_ASSERT_EQ(test, cc_swiotlb_map_in(cc, ctx->dev,
						virt_to_phys(ctx->orig), 512, 0,
						DMA_TO_DEVICE, 0, &tlb), 0);
	granule = (tlb - ctx->host.base) / GRANULE;

	/* Everything idle may go: only the chunk in use stays. */
	set_watermarks(cc, 0, 0, 0);
	cc_swiotlb_balance(cc, true);
	KUNIT_EXPECT_EQ(test, cc->classes[0].nr_chunks, 1UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bytes), (long)SZ_2M);
	/* Its grant is still held, the mapping's granule with it. */
	KUNIT_EXPECT_EQ(test, nr_grants(&ctx->g), 1UL);
	KUNIT_EXPECT_EQ(test, ctx->host.releases, 0U);
	KUNIT_EXPECT_TRUE(test, ctx->host.held[granule]);

	cc_swiotlb_release_in(cc, ctx->dev, tlb, cc_swiotlb_find_pool_in(cc, tlb));
	cc_swiotlb_balance(cc, true);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&cc->bytes), 0);
	KUNIT_EXPECT_EQ(test, nr_grants(&ctx->g), 0UL);
	KUNIT_EXPECT_EQ(test, ctx->host.releases, 1U);
	KUNIT_EXPECT_EQ(test, ctx->host.nr_held, 0UL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.released_bytes),
			(long)CC_SWIOTLB_NR_CLASSES * SZ_2M);
}

/* Refusals make it fall back for a while; then grants serve again. */
static void grant_test_fallback(struct kunit *test)
{
	struct grant_ctx *ctx = test->priv;
	struct cc_swiotlb *cc = make_cc(test, 0, SZ_64K, SZ_8M);
	struct fake_host *h = &ctx->host;

	/*
	 * Over the quota: one ACQUIRE, then conversions for the pass.  The
	 * test moves the back-off's end itself rather than sleeping: a pass
	 * under nested emulation can take longer than the shortest back-off,
	 * and an idle nested guest may miss its timer (docs/testbed.md).
	 */
	ctx->g.backoff = 5 * HZ;
	h->mode = FAKE_ANSWER;
	h->answer = -E2BIG;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, h->acquires, 1U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.refused_quota), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.fallbacks),
			(long)CC_SWIOTLB_NR_CLASSES);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->fallback_live),
			CC_SWIOTLB_NR_CLASSES);
	/* Deferred by the back-off it had; the next one doubles, capped. */
	KUNIT_EXPECT_TRUE(test, time_before(jiffies, ctx->g.retry_at));
	KUNIT_EXPECT_EQ(test, ctx->g.backoff, 10UL * HZ);

	/* Within the back-off, nothing is asked. */
	cc->classes[0].low = SZ_2M + SZ_64K;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, h->acquires, 1U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.fallbacks),
			(long)CC_SWIOTLB_NR_CLASSES + 1);

	/* After it, grants serve again and the back-off starts over. */
	ctx->g.retry_at = jiffies;
	cc->classes[1].low = SZ_2M + SZ_64K;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, h->acquires, 2U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.acquires), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.fallbacks),
			(long)CC_SWIOTLB_NR_CLASSES + 1);
	KUNIT_EXPECT_EQ(test, h->nr_held, 1UL);
	KUNIT_EXPECT_EQ(test, ctx->g.backoff, (unsigned long)HZ / 10);

	/* -EOPNOTSUPP: off for good; never asked again. */
	h->mode = FAKE_ANSWER;
	h->answer = -EOPNOTSUPP;
	cc->classes[2].low = SZ_2M + SZ_64K;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_FALSE(test, ctx->g.on);
	KUNIT_EXPECT_EQ(test, h->acquires, 3U);
	ctx->g.retry_at = jiffies;
	cc->classes[3].low = SZ_2M + SZ_64K;
	cc_swiotlb_balance(cc, false);
	KUNIT_EXPECT_EQ(test, h->acquires, 3U);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ctx->g.fallbacks),
			(long)CC_SWIOTLB_NR_CLASSES + 3);
}

static struct kunit_case cc_swiotlb_grant_cases[] = {
	KUNIT_CASE(grant_test_setup),
	KUNIT_CASE(grant_test_bad_config),
	KUNIT_CASE(grant_test_bulk),
	KUNIT_CASE(grant_test_split),
	KUNIT_CASE(grant_test_hostile),
	KUNIT_CASE(grant_test_shrink_live),
	KUNIT_CASE(grant_test_fallback),
	{}
};

static struct kunit_suite cc_swiotlb_grant_suite = {
	.name = "cc_swiotlb_grant",
	.init = grant_test_init,
	.exit = grant_test_exit,
	.test_cases = cc_swiotlb_grant_cases,
};

kunit_test_suite(cc_swiotlb_grant_suite);
