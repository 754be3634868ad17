// SPDX-License-Identifier: GPL-2.0-only
/*
 * cc-swiotlb's host-grant provider: shared memory the host grants in bulk.
 *
 * A KVM host that offers KVM_FEATURE_SHARED_POOL lends the guest regions of
 * a window of guest-physical space that it has already backed with shared
 * memory (Documentation/virt/kvm/x86/hypercalls.rst, KVM_HC_SHARED_POOL).
 * Bounce memory then costs no conversion of private pages: no direct-map
 * split, no cache or TLB flush, no KVM_HC_MAP_GPA_RANGE.
 *
 *  - At boot the provider reads the granule, the quota and the window,
 *    checks them, and claims the window with request_mem_region(), so that
 *    neither a PCI BAR nor hot-added memory can be placed in it.  Whatever a
 *    previous kernel (kexec, crash) left held is released first.
 *
 *  - kccd tells the provider how much it is about to need (prepare); the
 *    provider asks for it in one ACQUIRE of up to max_bytes, maps the grant
 *    once with memremap() (non-RAM: a decrypted, large-page mapping), and
 *    hands it to cc-swiotlb as chunks of up to 2 MiB, split further only
 *    when a smaller chunk is asked for.
 *
 *  - Every answer is checked before anything touches it: granule-aligned,
 *    inside the window, disjoint from RAM and from every grant held, and
 *    the host's count of granules held grew by exactly the number asked
 *    for.  A bad answer is never mapped.  It is counted, logged once per
 *    reason, released back when it could be a real region, and the request
 *    falls back to the conversion provider.
 *
 *  - A grant goes back to the host (RELEASE) when cc-swiotlb has returned
 *    every chunk of it, which it does only for chunks with no live mapping
 *    that stayed idle above the high watermark.  The syscore shutdown hook
 *    releases everything (RELEASE_ALL) after the devices are shut down, on
 *    reboot and kexec.
 *
 *  - Refusals (-E2BIG over the quota, -ENOMEM) and bad answers make the
 *    provider fall back to conversions for a while (100 ms, doubling up to
 *    10 s); -KVM_ENOSYS turns grants off for the boot.
 */

#define pr_fmt(fmt) "cc_swiotlb: " fmt

#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/jiffies.h>
#include <linux/kvm_para.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/syscore_ops.h>

#include "cc_swiotlb.h"

#define CC_GRANT_BACKOFF_MIN	(HZ / 10)
#define CC_GRANT_BACKOFF_MAX	(10 * HZ)

/*
 * The highest window end accepted: the ABI's 2^52, and the first address
 * the CPU cannot reach.
 */
#define CC_GRANT_MAX_END	BIT_ULL(52)

static const char * const cc_grant_bad_names[CC_GRANT_BAD_NR] = {
	[CC_GRANT_BAD_ERROR]	= "error",
	[CC_GRANT_BAD_ALIGN]	= "misaligned",
	[CC_GRANT_BAD_WINDOW]	= "outside_window",
	[CC_GRANT_BAD_RAM]	= "ram",
	[CC_GRANT_BAD_OVERLAP]	= "overlap",
	[CC_GRANT_BAD_SIZE]	= "size",
};

/**
 * struct cc_grant - a region the guest holds
 * @node:	In &cc_swiotlb_grant.grants.
 * @res:	The region, a child of &cc_swiotlb_grant.window.
 * @vaddr:	Its mapping.
 * @granules:	Its size in granules.
 * @out:	Bytes of it that cc-swiotlb has as chunks.
 * @free:	Its pieces that cc-swiotlb does not have, each a struct
 *		cc_grant_piece.
 *
 * Protected by &cc_swiotlb.mutex.
 */
struct cc_grant {
	struct list_head node;
	struct resource *res;
	void *vaddr;
	unsigned long granules;
	size_t out;
	struct list_head free;
};

/**
 * struct cc_grant_piece - a naturally aligned part of a grant
 * @node:	In &cc_grant.free while cc-swiotlb does not have it.
 * @grant:	The grant.
 * @phys:	Its address, aligned to its size.
 * @shift:	Log2 of its size.
 *
 * A piece handed out is &cc_swiotlb_region.priv of the chunk.
 */
struct cc_grant_piece {
	struct list_head node;
	struct cc_grant *grant;
	phys_addr_t phys;
	unsigned int shift;
};

static long cc_grant_call(struct cc_swiotlb_grant *g, unsigned long op,
			  unsigned long a1, unsigned long a2)
{
	return g->host.call(g->host.data, op, a1, a2);
}

static inline u64 cc_grant_granule(struct cc_swiotlb_grant *g)
{
	return 1ULL << g->granule_shift;
}

static void cc_grant_off(struct cc_swiotlb_grant *g, const char *why)
{
	g->on = false;
	g->why = why;
	pr_info("host grants off: %s; bounce memory is converted\n", why);
}

/* Fall back for a while after a refusal or a bad answer. */
static void cc_grant_defer(struct cc_swiotlb_grant *g)
{
	g->retry_at = jiffies + g->backoff;
	g->backoff = min(g->backoff * 2, (unsigned long)CC_GRANT_BACKOFF_MAX);
}

static void cc_grant_bad(struct cc_swiotlb_grant *g, enum cc_grant_bad why,
			 long ret, unsigned long n)
{
	atomic_long_inc(&g->bad[why]);
	if (!test_and_set_bit(why, &g->warned))
		pr_warn("host grant refused (%s): ACQUIRE of %lu granules answered %#lx; window %pa+%#llx\n",
			cc_grant_bad_names[why], n, ret, &g->base, g->size);
	cc_grant_defer(g);
}

/* Cut [phys, phys + size) into naturally aligned pieces of at most 2 MiB. */
static int cc_grant_carve(struct cc_grant *grant, phys_addr_t phys, u64 size)
{
	struct cc_grant_piece *piece;
	unsigned int shift;

	while (size) {
		shift = min_t(unsigned int, CC_SWIOTLB_CHUNK_SHIFT,
			      phys ? __ffs64(phys) : CC_SWIOTLB_CHUNK_SHIFT);
		shift = min_t(unsigned int, shift, ilog2(size));
		/* Too small for any chunk: held, and never used. */
		if (shift >= CC_SWIOTLB_MIN_CHUNK_SHIFT) {
			piece = kzalloc(sizeof(*piece), GFP_KERNEL);
			if (!piece)
				return -ENOMEM;
			piece->grant = grant;
			piece->phys = phys;
			piece->shift = shift;
			list_add_tail(&piece->node, &grant->free);
		}
		phys += 1ULL << shift;
		size -= 1ULL << shift;
	}
	return 0;
}

static void cc_grant_free(struct cc_grant *grant)
{
	struct cc_grant_piece *piece, *tmp;

	list_for_each_entry_safe(piece, tmp, &grant->free, node)
		kfree(piece);
	kfree(grant);
}

/* Give a grant back; cc-swiotlb has none of it. */
static void cc_grant_release(struct cc_swiotlb_grant *g, struct cc_grant *grant)
{
	phys_addr_t phys = grant->res->start;
	u64 size = resource_size(grant->res);
	long ret;

	list_del(&grant->node);
	memunmap(grant->vaddr);
	__release_region(g->window, phys, size);
	ret = cc_grant_call(g, KVM_SHARED_POOL_RELEASE, phys, grant->granules);
	if (ret) {
		atomic_long_add(grant->granules, &g->leaked);
		pr_warn_ratelimited("the host refused to take back %pa+%#llx (%ld); leaked\n",
				    &phys, size, ret);
	} else {
		atomic_long_inc(&g->releases);
		atomic_long_add(size, &g->released_bytes);
	}
	g->held -= grant->granules;
	cc_grant_free(grant);
}

/*
 * Check an answer to ACQUIRE of @n granules and take it: claim it, map it
 * and cut it into pieces.  @before is the host's count of granules held
 * before the call.  Return 0, or -errno with the answer refused.
 */
static int cc_grant_take(struct cc_swiotlb_grant *g, long ret, unsigned long n,
			 long before)
{
	u64 size = (u64)n << g->granule_shift;
	phys_addr_t phys = ret;
	struct cc_grant *grant;
	struct resource *res;
	long after;

	if (ret < 0 && ret >= -MAX_ERRNO) {
		switch (ret) {
		case -E2BIG:
			atomic_long_inc(&g->refused_quota);
			cc_grant_defer(g);
			break;
		case -ENOMEM:
			atomic_long_inc(&g->refused_nomem);
			cc_grant_defer(g);
			break;
		case -EOPNOTSUPP:
			cc_grant_off(g, "the host withdrew the hypercall");
			break;
		default:
			cc_grant_bad(g, CC_GRANT_BAD_ERROR, ret, n);
			break;
		}
		return ret;
	}

	if (phys & (cc_grant_granule(g) - 1)) {
		cc_grant_bad(g, CC_GRANT_BAD_ALIGN, ret, n);
		return -EINVAL;
	}
	if (phys + size < phys) {
		cc_grant_bad(g, CC_GRANT_BAD_WINDOW, ret, n);
		return -EINVAL;
	}
	if (region_intersects(phys, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		cc_grant_bad(g, CC_GRANT_BAD_RAM, ret, n);
		return -EINVAL;
	}
	if (phys < g->base || phys + size > g->base + g->size) {
		cc_grant_bad(g, CC_GRANT_BAD_WINDOW, ret, n);
		return -EINVAL;
	}
	/* A child of the window: busy if it overlaps a grant held. */
	res = __request_region(g->window, phys, size, "cc_swiotlb grant", 0);
	if (!res) {
		cc_grant_bad(g, CC_GRANT_BAD_OVERLAP, ret, n);
		return -EINVAL;
	}
	after = cc_grant_call(g, KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0);
	if (after < 0 || after - before != n) {
		cc_grant_bad(g, CC_GRANT_BAD_SIZE, ret, n);
		ret = -EINVAL;
		goto give_back;
	}

	grant = kzalloc(sizeof(*grant), GFP_KERNEL);
	if (!grant) {
		ret = -ENOMEM;
		goto give_back;
	}
	INIT_LIST_HEAD(&grant->free);
	grant->res = res;
	grant->granules = n;
	/* Not RAM: an ioremap_cache() mapping, decrypted, with large pages. */
	grant->vaddr = memremap(phys, size, MEMREMAP_WB | MEMREMAP_DEC);
	if (!grant->vaddr) {
		atomic_long_inc(&g->map_failures);
		pr_warn_ratelimited("cannot map the grant %pa+%#llx; given back\n",
				    &phys, size);
		ret = -ENOMEM;
		goto free_grant;
	}
	ret = cc_grant_carve(grant, phys, size);
	/* A grant too misaligned for any chunk is of no use. */
	if (!ret && list_empty(&grant->free))
		ret = -ENOMEM;
	if (ret)
		goto unmap;
	list_add(&grant->node, &g->grants);
	g->held += n;
	g->backoff = CC_GRANT_BACKOFF_MIN;
	atomic_long_inc(&g->acquires);
	atomic_long_add(size, &g->acquired_bytes);
	return 0;

unmap:
	memunmap(grant->vaddr);
free_grant:
	cc_grant_free(grant);
give_back:
	__release_region(g->window, phys, size);
	/* In the window, aligned, not ours: it may well be held for us. */
	if (cc_grant_call(g, KVM_SHARED_POOL_RELEASE, phys, n))
		atomic_long_add(n, &g->leaked);
	return ret;
}

/* Ask the host for at least @min bytes, for @g->want if it can. */
static int cc_grant_acquire(struct cc_swiotlb_grant *g, size_t min)
{
	unsigned long n, need, room;
	long before, ret;
	int err;

	if (!g->on || time_before(jiffies, g->retry_at))
		return -EAGAIN;

	need = DIV_ROUND_UP(min, cc_grant_granule(g));
	n = DIV_ROUND_UP(clamp(g->want, min, g->max_bytes), cc_grant_granule(g));
	n = max(n, need);
	room = g->quota - g->held;
	if (room < need) {
		atomic_long_inc(&g->refused_quota);
		return -E2BIG;
	}
	n = min(n, room);

	before = cc_grant_call(g, KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0);
	if (before < 0)
		return cc_grant_take(g, before, n, 0);
	for (;;) {
		ret = cc_grant_call(g, KVM_SHARED_POOL_ACQUIRE, n, 0);
		/* A fragmented window may still have a shorter run. */
		if (ret == -ENOMEM && n > need) {
			atomic_long_inc(&g->refused_nomem);
			n = max(n / 2, need);
			continue;
		}
		break;
	}
	err = cc_grant_take(g, ret, n, before);
	if (!err)
		g->want -= min_t(size_t, g->want, (size_t)n << g->granule_shift);
	return err;
}

/* A free piece of exactly 1 << @shift bytes, split from a larger one. */
static struct cc_grant_piece *cc_grant_piece(struct cc_swiotlb_grant *g,
					     unsigned int shift)
{
	struct cc_grant_piece *piece, *best = NULL, *half;
	struct cc_grant *grant;

	list_for_each_entry(grant, &g->grants, node) {
		list_for_each_entry(piece, &grant->free, node) {
			if (piece->shift == shift)
				return piece;
			if (piece->shift > shift &&
			    (!best || piece->shift < best->shift))
				best = piece;
		}
	}
	while (best && best->shift > shift) {
		half = kzalloc(sizeof(*half), GFP_KERNEL);
		if (!half)
			return NULL;
		best->shift--;
		half->grant = best->grant;
		half->shift = best->shift;
		half->phys = best->phys + (1ULL << best->shift);
		list_add(&half->node, &best->node);
	}
	return best;
}

static int cc_grant_get(struct cc_swiotlb *cc, unsigned int shift,
			struct cc_swiotlb_region *r)
{
	struct cc_swiotlb_grant *g = cc->provider_data;
	struct cc_grant_piece *piece;
	int ret;

	piece = cc_grant_piece(g, shift);
	if (!piece && !cc_grant_acquire(g, 1UL << shift))
		piece = cc_grant_piece(g, shift);
	if (piece) {
		list_del_init(&piece->node);
		piece->grant->out += 1UL << shift;
		r->phys = piece->phys;
		r->vaddr = piece->grant->vaddr +
			   (piece->phys - piece->grant->res->start);
		r->shift = shift;
		r->priv = piece;
		return 0;
	}

	ret = g->fallback->get(cc, shift, r);
	if (!ret) {
		r->priv = NULL;
		atomic_long_inc(&g->fallbacks);
		atomic_long_add(1UL << shift, &g->fallback_bytes);
		atomic_long_add(1UL << shift, &g->fallback_now);
	}
	return ret;
}

static int cc_grant_put(struct cc_swiotlb *cc, struct cc_swiotlb_region *r)
{
	struct cc_swiotlb_grant *g = cc->provider_data;
	struct cc_grant_piece *piece = r->priv;
	struct cc_grant *grant;
	int ret;

	if (!piece) {
		ret = g->fallback->put(cc, r);
		atomic_long_sub(1UL << r->shift, &g->fallback_now);
		return ret;
	}
	grant = piece->grant;
	list_add(&piece->node, &grant->free);
	grant->out -= 1UL << r->shift;
	/* cc-swiotlb returns only idle chunks beyond its high watermark. */
	if (!grant->out)
		cc_grant_release(g, grant);
	return 0;
}

static void cc_grant_prepare(struct cc_swiotlb *cc, size_t bytes)
{
	struct cc_swiotlb_grant *g = cc->provider_data;

	g->want = bytes;
}

const struct cc_swiotlb_provider cc_swiotlb_grant = {
	.name = "grant",
	.get = cc_grant_get,
	.put = cc_grant_put,
	.prepare = cc_grant_prepare,
};

/*
 * Read and check the host's configuration and claim the window.  Return 0,
 * or a message for the log.
 */
static const char *cc_grant_configure(struct cc_swiotlb_grant *g)
{
	long granule, quota, base, size, held;

	granule = cc_grant_call(g, KVM_SHARED_POOL_QUERY,
				KVM_SHARED_POOL_GRANULE, 0);
	quota = cc_grant_call(g, KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_QUOTA, 0);
	base = cc_grant_call(g, KVM_SHARED_POOL_QUERY,
			     KVM_SHARED_POOL_WINDOW_BASE, 0);
	size = cc_grant_call(g, KVM_SHARED_POOL_QUERY,
			     KVM_SHARED_POOL_WINDOW_SIZE, 0);
	held = cc_grant_call(g, KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0);
	if (granule == -EOPNOTSUPP)
		return "the host does not serve the hypercall";
	if (granule < 0 || quota < 0 || base < 0 || size < 0 || held < 0)
		return "QUERY failed";
	if (!is_power_of_2(granule) || granule < PAGE_SIZE || granule > SZ_1G)
		return "the granule is not a power of two from 4 KiB to 1 GiB";
	if (!size || !IS_ALIGNED(base, granule) || !IS_ALIGNED(size, granule) ||
	    base + size < base || base + size > CC_GRANT_MAX_END)
		return "the window is empty, misaligned or out of range";
	if (!quota || quota > size / granule)
		return "the quota is 0 or larger than the window";

	g->granule_shift = ilog2(granule);
	g->quota = quota;
	g->base = base;
	g->size = size;
	if (region_intersects(base, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT)
		return "the window intersects RAM";
	g->window = request_mem_region(base, size, "KVM shared pool");
	if (!g->window)
		return "the window is already in use";

	/* What a previous kernel held is ours now, and unknown: give it back. */
	if (held) {
		held = cc_grant_call(g, KVM_SHARED_POOL_RELEASE_ALL, 0, 0);
		pr_info("host grants: released %ld granules a previous kernel held\n",
			held);
	}
	return NULL;
}

/**
 * cc_swiotlb_grant_setup() - start the host-grant provider
 * @g:		Its state, zeroed.
 * @host:	The host end, or %NULL if the host has none.
 * @fallback:	Where chunks come from when grants cannot serve.
 * @max_bytes:	The most one ACQUIRE asks for.
 *
 * Reads the host's granule, quota and window, checks them and claims the
 * window.  When the host does not serve grants or answers badly, grants
 * stay off (&cc_swiotlb_grant.why says why) and every request falls back.
 *
 * Return: 0, also when grants are off.
 */
int cc_swiotlb_grant_setup(struct cc_swiotlb_grant *g,
			   const struct cc_swiotlb_host *host,
			   const struct cc_swiotlb_provider *fallback,
			   size_t max_bytes)
{
	const char *why;

	if (host)
		g->host = *host;
	g->fallback = fallback;
	g->max_bytes = max_bytes;
	g->backoff = CC_GRANT_BACKOFF_MIN;
	g->retry_at = jiffies;
	INIT_LIST_HEAD(&g->grants);

	if (!host) {
		cc_grant_off(g, "the host does not offer them");
		return 0;
	}
	why = cc_grant_configure(g);
	if (why) {
		cc_grant_off(g, why);
		return 0;
	}
	g->on = true;
	pr_info("host grants: window %pa+%#llx, granule %llu KiB, quota %lu granules\n",
		&g->base, g->size, cc_grant_granule(g) >> 10, g->quota);
	return 0;
}

/**
 * cc_swiotlb_grant_teardown() - give back everything held and the window
 * @g:		The provider, whose allocator has returned every chunk.
 *
 * For the KUnit suite.
 */
void cc_swiotlb_grant_teardown(struct cc_swiotlb_grant *g)
{
	struct cc_grant *grant, *tmp;

	list_for_each_entry_safe(grant, tmp, &g->grants, node) {
		WARN_ON(grant->out);
		if (!grant->out)
			cc_grant_release(g, grant);
	}
	if (g->window)
		release_mem_region(g->base, g->size);
	g->window = NULL;
	g->on = false;
}

/**
 * cc_swiotlb_grant_show() - the provider's state, for debugfs
 * @m:		Where to print it.
 * @g:		The provider.
 *
 * Called with &cc_swiotlb.mutex held.
 */
void cc_swiotlb_grant_show(struct seq_file *m, struct cc_swiotlb_grant *g)
{
	struct cc_grant_piece *piece;
	struct cc_grant *grant;
	unsigned long grants = 0;
	u64 cached = 0;
	int i;

	list_for_each_entry(grant, &g->grants, node) {
		grants++;
		list_for_each_entry(piece, &grant->free, node)
			cached += 1ULL << piece->shift;
	}
	seq_printf(m, "state: %s\n", g->on ? "on" : "off");
	if (!g->on)
		seq_printf(m, "off_reason: %s\n", g->why);
	seq_printf(m, "window_base: %#llx\n", (u64)g->base);
	seq_printf(m, "window_size: %llu\n", g->size);
	seq_printf(m, "granule: %llu\n", g->granule_shift ?
		   cc_grant_granule(g) : 0);
	seq_printf(m, "quota: %lu\n", g->quota);
	seq_printf(m, "max_bytes: %zu\n", g->max_bytes);
	seq_printf(m, "grants: %lu\n", grants);
	seq_printf(m, "held_bytes: %llu\n", (u64)g->held << g->granule_shift);
	seq_printf(m, "cached_bytes: %llu\n", cached);
	seq_printf(m, "acquires: %ld\n", atomic_long_read(&g->acquires));
	seq_printf(m, "acquired_bytes: %ld\n",
		   atomic_long_read(&g->acquired_bytes));
	seq_printf(m, "releases: %ld\n", atomic_long_read(&g->releases));
	seq_printf(m, "released_bytes: %ld\n",
		   atomic_long_read(&g->released_bytes));
	seq_printf(m, "refused_quota: %ld\n",
		   atomic_long_read(&g->refused_quota));
	seq_printf(m, "refused_nomem: %ld\n",
		   atomic_long_read(&g->refused_nomem));
	for (i = 0; i < CC_GRANT_BAD_NR; i++)
		seq_printf(m, "bad_%s: %ld\n", cc_grant_bad_names[i],
			   atomic_long_read(&g->bad[i]));
	seq_printf(m, "map_failures: %ld\n",
		   atomic_long_read(&g->map_failures));
	seq_printf(m, "leaked_granules: %ld\n", atomic_long_read(&g->leaked));
	seq_printf(m, "fallbacks: %ld\n", atomic_long_read(&g->fallbacks));
	seq_printf(m, "fallback_bytes: %ld\n",
		   atomic_long_read(&g->fallback_bytes));
	seq_printf(m, "fallback_now: %ld\n",
		   atomic_long_read(&g->fallback_now));
}

/* KVM's end: the hypercall itself. */
static long cc_grant_kvm_call(void *data, unsigned long op, unsigned long a1,
			      unsigned long a2)
{
	/* Every argument an operation does not name must be 0. */
	long ret = kvm_hypercall4(KVM_HC_SHARED_POOL, op, a1, a2, 0);

	return ret == -KVM_ENOSYS ? -EOPNOTSUPP : ret;
}

static void cc_grant_kvm_shutdown(void *data)
{
	/* After device_shutdown(): no device uses a grant any more. */
	kvm_hypercall4(KVM_HC_SHARED_POOL, KVM_SHARED_POOL_RELEASE_ALL, 0, 0, 0);
}

static const struct syscore_ops cc_grant_kvm_syscore_ops = {
	.shutdown = cc_grant_kvm_shutdown,
};

static struct syscore cc_grant_kvm_syscore = {
	.ops = &cc_grant_kvm_syscore_ops,
};

/**
 * cc_swiotlb_grant_kvm() - KVM's end of the grant provider, if it has one
 * @host:	Filled in when KVM offers KVM_FEATURE_SHARED_POOL.
 *
 * Also registers the shutdown hook that releases every grant on reboot and
 * kexec.
 *
 * Return: %true if the host offers grants.
 */
bool __init cc_swiotlb_grant_kvm(struct cc_swiotlb_host *host)
{
	if (!kvm_para_available() ||
	    !kvm_para_has_feature(KVM_FEATURE_SHARED_POOL))
		return false;
	host->call = cc_grant_kvm_call;
	host->data = NULL;
	register_syscore(&cc_grant_kvm_syscore);
	return true;
}
