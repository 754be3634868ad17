// SPDX-License-Identifier: GPL-2.0-only
/*
 * What growing cc-swiotlb's shared memory costs, three ways, in one boot
 * (make bench-grow, docs/host-grants.md):
 *
 *   echo "MODE MIB" > /sys/kernel/debug/cc_swiotlb_grow/run
 *   cat /sys/kernel/debug/cc_swiotlb_grow/result
 *   echo release > /sys/kernel/debug/cc_swiotlb_grow/run
 *
 * MODE is one of:
 *
 *   4k     convert MIB of 4 KiB pages to shared, one set_memory_decrypted()
 *          each, scattered through memory: four times as many pages are
 *          allocated and three in four freed first, as on a busy guest
 *          whose free memory is fragmented;
 *   2m     convert MIB in 2 MiB-aligned chunks (order-9 pages), one
 *          set_memory_decrypted() each: the best case for conversion;
 *   grant  ACQUIRE MIB from the host in one KVM_HC_SHARED_POOL hypercall
 *          and map it once, decrypted, with memremap() (the window is
 *          queried at boot, so that the growth makes one hypercall).
 *
 * The time is the growth's own (the conversions, or the ACQUIRE and the
 * mapping), by ktime_get_ns() around it.  The memory stays until
 * "release" gives it back (converted back and freed, or unmapped and
 * released), so that the host can read its counters between the two; a
 * growth while memory is held is refused with -EBUSY.  The result reads
 * "MODE bytes=B ns=T calls=C", C the
 * set_memory_decrypted() calls or hypercalls the growth made.  What the
 * guest's direct map and TLBs paid shows in the emulation's counters
 * (x86/cc_emulation/stats), and the exits in the host's KVM statistics:
 * the benchmark's driver reads both around each run.
 *
 * The host-grant provider must not use the pool, and cc-swiotlb must not
 * convert meanwhile: writes are refused with -EBUSY while cc-swiotlb
 * serves DMA (boot with cc_swiotlb=off).
 */

#define pr_fmt(fmt) "cc_swiotlb_grow: " fmt

#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/kvm_para.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/set_memory.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "cc_swiotlb.h"

#define GROW_MAX_MIB	1024
#define GROW_4K_STRIDE	4	/* 4k: one page kept in this many */

/**
 * struct grow_held - what the last growth holds until "release"
 * @pages: the converted pages (4k, 2m), @n of them, of @order
 * @vaddr: the grant's mapping; @base: its address; @granules: its size
 *
 * Locking: grow_mutex.
 */
static struct grow_held {
	struct page **pages;
	unsigned long n;
	unsigned int order;
	void *vaddr;
	long base;
	unsigned long granules;
} held;

static DEFINE_MUTEX(grow_mutex);
static char grow_result[128];

static void grow_release(void)
{
	unsigned long i;

	for (i = 0; i < held.n; i++) {
		if (set_memory_encrypted((unsigned long)page_address(held.pages[i]),
					 1 << held.order)) {
			/* Shared memory must not go back to private use. */
			pr_warn("conversion back to private failed, leaking %lu KiB\n",
				PAGE_SIZE << held.order >> 10);
			continue;
		}
		__free_pages(held.pages[i], held.order);
	}
	kvfree(held.pages);
	if (held.vaddr) {
		memunmap(held.vaddr);
		kvm_hypercall4(KVM_HC_SHARED_POOL, KVM_SHARED_POOL_RELEASE,
			       held.base, held.granules, 0);
	}
	memset(&held, 0, sizeof(held));
}

/*
 * Convert @pages[0..n-1] to shared, one call each, timed; they are held
 * until "release".  A page whose conversion failed may be partly shared:
 * it is leaked, and the ones after it freed.
 */
static int grow_convert(struct page **pages, unsigned long n,
			unsigned int order, u64 *ns)
{
	unsigned long done, i;
	int ret = 0;
	u64 t0;

	t0 = ktime_get_ns();
	for (done = 0; done < n; done++) {
		ret = set_memory_decrypted((unsigned long)page_address(pages[done]),
					   1 << order);
		if (ret)
			break;
	}
	*ns = ktime_get_ns() - t0;
	if (ret) {
		pr_warn("conversion to shared failed, leaking %lu KiB\n",
			PAGE_SIZE << order >> 10);
		for (i = done + 1; i < n; i++)
			__free_pages(pages[i], order);
	}
	held.pages = pages;
	held.n = done;
	held.order = order;
	return ret;
}

static int grow_4k(unsigned long bytes, u64 *ns, unsigned long *calls)
{
	unsigned long n = bytes >> PAGE_SHIFT, got, i;
	struct page **all, **kept;
	int ret = -ENOMEM;

	all = kvmalloc_array(GROW_4K_STRIDE * n, sizeof(*all), GFP_KERNEL);
	kept = kvmalloc_array(n, sizeof(*kept), GFP_KERNEL);
	if (!all || !kept)
		goto out;
	for (got = 0; got < GROW_4K_STRIDE * n; got++) {
		all[got] = alloc_page(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
		if (!all[got])
			break;
	}
	/* Keep one page in GROW_4K_STRIDE: the kept ones are scattered. */
	for (i = 0; i < got; i++) {
		if (i % GROW_4K_STRIDE || got < GROW_4K_STRIDE * n)
			__free_page(all[i]);
		else
			kept[i / GROW_4K_STRIDE] = all[i];
	}
	if (got < GROW_4K_STRIDE * n)
		goto out;
	*calls = n;
	ret = grow_convert(kept, n, 0, ns);
	kept = NULL;		/* held */
out:
	kvfree(kept);
	kvfree(all);
	return ret;
}

static int grow_2m(unsigned long bytes, u64 *ns, unsigned long *calls)
{
	unsigned int order = get_order(SZ_2M);
	unsigned long n = bytes / SZ_2M, got, i;
	struct page **chunks;

	chunks = kvmalloc_array(n, sizeof(*chunks), GFP_KERNEL);
	if (!chunks)
		return -ENOMEM;
	for (got = 0; got < n; got++) {
		chunks[got] = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN,
					  order);
		if (!chunks[got])
			break;
	}
	if (got < n) {
		for (i = 0; i < got; i++)
			__free_pages(chunks[i], order);
		kvfree(chunks);
		return -ENOMEM;
	}
	*calls = n;
	return grow_convert(chunks, n, order, ns);
}

/* The host's window, queried once at boot (0: no shared pool). */
static long pool_granule, pool_base, pool_size;

static int grow_grant(unsigned long bytes, u64 *ns, unsigned long *calls)
{
	long granule = pool_granule, base = pool_base, size = pool_size, got;
	unsigned long n;
	void *vaddr;
	u64 t0;

	if (granule <= 0 || base < 0 || size <= 0 || bytes % granule)
		return -ENODEV;
	n = bytes / granule;

	t0 = ktime_get_ns();
	got = kvm_hypercall4(KVM_HC_SHARED_POOL, KVM_SHARED_POOL_ACQUIRE, n,
			     0, 0);
	if (got < 0)
		return -ENOSPC;
	/* Checked before it is mapped, as the provider does. */
	if (got < base || got + bytes > base + size || got % granule) {
		pr_warn("the host answered %#lx, outside its window\n", got);
		return -EIO;
	}
	vaddr = memremap(got, bytes, MEMREMAP_WB | MEMREMAP_DEC);
	*ns = ktime_get_ns() - t0;
	*calls = 1;
	if (!vaddr) {
		kvm_hypercall4(KVM_HC_SHARED_POOL, KVM_SHARED_POOL_RELEASE, got,
			       n, 0);
		return -ENOMEM;
	}
	held.vaddr = vaddr;
	held.base = got;
	held.granules = n;
	return 0;
}

static ssize_t grow_run_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	unsigned long bytes, calls = 0;
	char cmd[32], mode[8];
	unsigned int mib;
	u64 ns = 0;
	int ret;

	if (!count || count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	if (cc_swiotlb_serves())
		return -EBUSY;

	mutex_lock(&grow_mutex);
	if (sysfs_streq(cmd, "release")) {
		grow_release();
		ret = 0;
		goto out;
	}
	ret = -EINVAL;
	if (sscanf(cmd, "%7s %u", mode, &mib) != 2 || !mib ||
	    mib > GROW_MAX_MIB)
		goto out;
	ret = -EBUSY;
	if (held.pages || held.vaddr)
		goto out;
	bytes = (unsigned long)mib << 20;
	if (!strcmp(mode, "4k"))
		ret = grow_4k(bytes, &ns, &calls);
	else if (!strcmp(mode, "2m"))
		ret = grow_2m(bytes, &ns, &calls);
	else if (!strcmp(mode, "grant"))
		ret = grow_grant(bytes, &ns, &calls);
	else
		ret = -EINVAL;
	if (ret)
		scnprintf(grow_result, sizeof(grow_result), "%s error %d\n",
			  mode, ret);
	else
		scnprintf(grow_result, sizeof(grow_result),
			  "%s bytes=%lu ns=%llu calls=%lu\n", mode, bytes, ns,
			  calls);
out:
	mutex_unlock(&grow_mutex);
	return ret ? ret : count;
}

static ssize_t grow_result_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&grow_mutex);
	ret = simple_read_from_buffer(ubuf, count, ppos, grow_result,
				      strlen(grow_result));
	mutex_unlock(&grow_mutex);
	return ret;
}

static const struct file_operations grow_run_fops = {
	.write = grow_run_write,
};

static const struct file_operations grow_result_fops = {
	.read = grow_result_read,
};

static int __init cc_swiotlb_grow_init(void)
{
	struct dentry *dir = debugfs_create_dir("cc_swiotlb_grow", NULL);

	/* Asked now, so that a timed growth makes only its own hypercalls. */
	if (kvm_para_has_feature(KVM_FEATURE_SHARED_POOL)) {
		pool_granule = kvm_hypercall4(KVM_HC_SHARED_POOL,
					      KVM_SHARED_POOL_QUERY,
					      KVM_SHARED_POOL_GRANULE, 0, 0);
		pool_base = kvm_hypercall4(KVM_HC_SHARED_POOL,
					   KVM_SHARED_POOL_QUERY,
					   KVM_SHARED_POOL_WINDOW_BASE, 0, 0);
		pool_size = kvm_hypercall4(KVM_HC_SHARED_POOL,
					   KVM_SHARED_POOL_QUERY,
					   KVM_SHARED_POOL_WINDOW_SIZE, 0, 0);
	}

	debugfs_create_file("run", 0200, dir, NULL, &grow_run_fops);
	debugfs_create_file("result", 0400, dir, NULL, &grow_result_fops);
	return 0;
}
late_initcall(cc_swiotlb_grow_init);
