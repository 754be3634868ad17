// SPDX-License-Identifier: GPL-2.0-only
/*
 * A microbenchmark of cc-swiotlb against swiotlb's own allocator, in one
 * boot, through debugfs:
 *
 *   echo "rate THREADS MSECS" > /sys/kernel/debug/cc_swiotlb_bench/run
 *   echo "latency POOL_MIB OPS" > /sys/kernel/debug/cc_swiotlb_bench/run
 *   cat /sys/kernel/debug/cc_swiotlb_bench/result
 *
 * "rate" runs THREADS kernel threads, one per CPU, for MSECS milliseconds
 * each way, each keeping 16 mappings in flight (map the next, unmap the
 * oldest), sizes drawn from the RFC's mix, and reports map+unmap pairs per
 * second.  A third way, "copy", does only the copy a map does (a memcpy()
 * of the same sizes into a buffer of the thread's own), so the share of
 * the copy in a map can be read off.  "latency" fills a pool of POOL_MIB
 * to 90% with long-lived mappings of the mix, then OPS times maps one
 * more, times the map with interrupts off (so that the time is the map's
 * own), and unmaps a random long-lived one, and reports the mean, the 99th
 * percentile, the 99.9th percentile and the worst map time.  For swiotlb
 * the pool is its default pool, whose size is set at boot (swiotlb=);
 * POOL_MIB must match it.  For cc-swiotlb it is a private allocator with
 * the conversion provider and POOL_MIB of chunks, shared between the
 * classes as the mix's bytes are.
 *
 * swiotlb is measured through swiotlb_tbl_map_single() and
 * swiotlb_tbl_unmap_single(), so cc-swiotlb must be off for the default
 * swiotlb (cc_swiotlb=off); cc-swiotlb through its own entry points,
 * including the chunk lookup an unmap does.  Both copy the buffer in on
 * map, as swiotlb does; neither copies back on unmap.  The device keeps
 * NVMe's min_align_mask (4 KiB - 1) in "latency", none in "rate".
 */

#define pr_fmt(fmt) "cc_swiotlb_bench: " fmt

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>

#include "swiotlb.h"
#include "cc_swiotlb.h"

#define BENCH_WINDOW	16
#define BENCH_ORIG	SZ_256K

/* The RFC's mix (per mille): 3.5% <= 512 B, 54.2% <= 2 KiB, ... */
static const struct {
	unsigned int per_mille;
	size_t size;
} bench_mix[] = {
	{ 35, 256 }, { 542, SZ_2K }, { 336, SZ_4K }, { 47, SZ_16K },
	{ 40, SZ_256K },
};

struct bench_impl {
	const char *name;
	int (*map)(struct device *dev, phys_addr_t orig, size_t size,
		   phys_addr_t *tlb);
	void (*unmap)(struct device *dev, phys_addr_t tlb, size_t size);
};

static struct cc_swiotlb bench_cc;
static bool bench_cc_ready;
static struct device *bench_dev;
static u64 bench_dma_mask = DMA_BIT_MASK(64);
static struct device_dma_parameters bench_parms;
static DEFINE_MUTEX(bench_mutex);
static char bench_result[1024];

static size_t bench_size(void)
{
	unsigned int r = get_random_u32_below(1000), i;

	for (i = 0; i < ARRAY_SIZE(bench_mix) - 1; i++) {
		if (r < bench_mix[i].per_mille)
			break;
		r -= bench_mix[i].per_mille;
	}
	return bench_mix[i].size;
}

static int swiotlb_bench_map(struct device *dev, phys_addr_t orig, size_t size,
			     phys_addr_t *tlb)
{
	*tlb = swiotlb_tbl_map_single(dev, orig, size, 0, DMA_TO_DEVICE,
				      DMA_ATTR_NO_WARN);
	return *tlb == (phys_addr_t)DMA_MAPPING_ERROR ? -ENOSPC : 0;
}

static void swiotlb_bench_unmap(struct device *dev, phys_addr_t tlb,
				size_t size)
{
	swiotlb_tbl_unmap_single(dev, tlb, size, DMA_TO_DEVICE,
				 DMA_ATTR_SKIP_CPU_SYNC);
}

static int cc_bench_map(struct device *dev, phys_addr_t orig, size_t size,
			phys_addr_t *tlb)
{
	return cc_swiotlb_map_in(&bench_cc, dev, orig, size, 0, DMA_TO_DEVICE,
				 DMA_ATTR_NO_WARN, tlb);
}

static void cc_bench_unmap(struct device *dev, phys_addr_t tlb, size_t size)
{
	cc_swiotlb_release_in(&bench_cc, dev, tlb,
			      cc_swiotlb_find_pool_in(&bench_cc, tlb));
}

static const struct bench_impl bench_impls[] = {
	{ "swiotlb", swiotlb_bench_map, swiotlb_bench_unmap },
	{ "cc-swiotlb", cc_bench_map, cc_bench_unmap },
};

/*
 * A private cc-swiotlb of @bytes, shared between the classes as the mix
 * would fill their slots, for the device's current min_align_mask and
 * page-aligned buffers.
 */
static int bench_cc_setup(unsigned long bytes)
{
	static const struct cc_swiotlb_params p = { .idle_ms = 1000000 };
	struct cc_swiotlb_class *cls[ARRAY_SIZE(bench_mix)];
	unsigned long total = 0, share;
	unsigned int i;
	int ret;

	if (bench_cc_ready) {
		cc_swiotlb_teardown(&bench_cc);
		memset(&bench_cc, 0, sizeof(bench_cc));
		bench_cc_ready = false;
	}
	ret = cc_swiotlb_setup(&bench_cc, "cc_swiotlb_bench",
			       &cc_swiotlb_convert, &p);
	if (ret)
		return ret;
	bench_cc_ready = true;
	for (i = 0; i < ARRAY_SIZE(bench_mix); i++) {
		cls[i] = cc_swiotlb_class_for(&bench_cc, bench_dev, 0,
					      bench_mix[i].size, 0);
		if (!cls[i])
			return -EINVAL;
		total += bench_mix[i].per_mille * cc_swiotlb_class_size(cls[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bench_mix); i++) {
		share = div64_u64((u64)bytes * bench_mix[i].per_mille *
				  cc_swiotlb_class_size(cls[i]), total);
		cls[i]->reserve += max_t(unsigned long, share, SZ_2M);
	}
	cc_swiotlb_balance(&bench_cc, false);
	return 0;
}

/* The copy alone: what a map costs beyond finding and releasing a slot. */
static const struct bench_impl bench_copy = { "copy" };

struct bench_thread {
	const struct bench_impl *impl;
	struct completion *start;
	struct completion done;
	unsigned int msecs;
	unsigned long ops, failures;
};

static int bench_rate_fn(void *data)
{
	struct bench_thread *t = data;
	struct {
		phys_addr_t tlb;
		size_t size;
	} ring[BENCH_WINDOW] = {};
	unsigned int head = 0, n = 0;
	struct page *orig, *copy = NULL;
	phys_addr_t src;
	ktime_t end;

	/*
	 * The buffer starts one page into its block, so that it is not
	 * aligned like the slots of a class: under TCG, whose software TLB is
	 * direct-mapped, a source and a destination at the same offset modulo
	 * its size evict each other on every access.
	 */
	orig = alloc_pages(GFP_KERNEL, get_order(BENCH_ORIG + PAGE_SIZE));
	if (t->impl == &bench_copy)
		copy = alloc_pages(GFP_KERNEL, get_order(BENCH_ORIG));
	wait_for_completion(t->start);
	if (!orig || (t->impl == &bench_copy && !copy)) {
		t->failures++;
		goto out;
	}
	src = page_to_phys(orig) + PAGE_SIZE;
	end = ktime_add_ms(ktime_get(), t->msecs);
	while (ktime_before(ktime_get(), end)) {
		unsigned int i;

		for (i = 0; i < 64; i++) {
			size_t size = bench_size();

			if (copy) {
				memcpy(page_address(copy), phys_to_virt(src),
				       size);
				t->ops++;
				continue;
			}
			if (n == BENCH_WINDOW) {
				t->impl->unmap(bench_dev, ring[head].tlb,
					       ring[head].size);
				n--;
			}
			if (t->impl->map(bench_dev, src, size,
					 &ring[head].tlb)) {
				t->failures++;
				continue;
			}
			ring[head].size = size;
			head = (head + 1) % BENCH_WINDOW;
			n++;
			t->ops++;
		}
		cond_resched();
	}
	while (n--) {
		head = (head + BENCH_WINDOW - 1) % BENCH_WINDOW;
		t->impl->unmap(bench_dev, ring[head].tlb, ring[head].size);
	}
out:
	if (copy)
		__free_pages(copy, get_order(BENCH_ORIG));
	if (orig)
		__free_pages(orig, get_order(BENCH_ORIG + PAGE_SIZE));
	complete(&t->done);
	return 0;
}

static int bench_rate(unsigned int threads, unsigned int msecs, char *buf,
		      size_t len)
{
	struct bench_thread t[2];
	struct completion start;
	size_t off = 0;
	unsigned int i, k;
	int ret;

	if (!threads || threads > min(2U, num_online_cpus()) || !msecs ||
	    msecs > 60000)
		return -EINVAL;
	dma_set_min_align_mask(bench_dev, 0);
	ret = bench_cc_setup(64UL << 20);
	if (ret)
		return ret;
	/* Each way twice: the first touches the pool and warms the caches. */
	for (k = 0; k < 2 * (ARRAY_SIZE(bench_impls) + 1); k++) {
		const struct bench_impl *impl = &bench_copy;
		unsigned long ops = 0, failures = 0;

		if (k / 2 < ARRAY_SIZE(bench_impls))
			impl = &bench_impls[k / 2];
		init_completion(&start);
		for (i = 0; i < threads; i++) {
			struct task_struct *task;

			t[i] = (struct bench_thread){ .impl = impl,
						      .start = &start,
						      .msecs = msecs };
			init_completion(&t[i].done);
			task = kthread_run_on_cpu(bench_rate_fn, &t[i], i,
						  "cc_bench/%u");
			if (IS_ERR(task)) {
				complete_all(&start);
				while (i--)
					wait_for_completion(&t[i].done);
				return PTR_ERR(task);
			}
		}
		/* All start together, once each is on its CPU. */
		complete_all(&start);
		for (i = 0; i < threads; i++) {
			wait_for_completion(&t[i].done);
			ops += t[i].ops;
			failures += t[i].failures;
		}
		if (!(k & 1))
			continue;
		off += scnprintf(buf + off, len - off,
				 "rate impl=%s threads=%u ops_per_sec=%lu failures=%lu\n",
				 impl->name, threads, ops * 1000 / msecs, failures);
	}
	return 0;
}

static int bench_cmp_u32(const void *a, const void *b)
{
	return *(const u32 *)a < *(const u32 *)b ? -1 :
	       *(const u32 *)a > *(const u32 *)b;
}

static int bench_latency_one(const struct bench_impl *impl,
			     unsigned long pool, unsigned int ops, char *buf,
			     size_t len)
{
	struct bench_live {
		phys_addr_t tlb;
		size_t size;
	} *live;
	unsigned long fill = 0, cap = pool / 256, n = 0, i, failures = 0;
	u64 sum = 0;
	u32 *ns;
	struct page *orig;
	int ret = -ENOMEM;

	live = vmalloc_array(cap, sizeof(*live));
	ns = vmalloc_array(ops, sizeof(*ns));
	orig = alloc_pages(GFP_KERNEL, get_order(BENCH_ORIG));
	if (!live || !ns || !orig)
		goto out;

	/* 90% full, with the mix's holes. */
	while (fill < pool / 10 * 9 && n < cap) {
		size_t size = bench_size();

		if (impl->map(bench_dev, page_to_phys(orig), size,
			      &live[n].tlb))
			break;
		live[n].size = size;
		fill += size;
		n++;
		if (!(n & 255))
			cond_resched();
	}
	for (i = 0; i < ops && n; i++) {
		size_t size = bench_size();
		unsigned long victim = get_random_u32_below(n);
		unsigned long flags;
		phys_addr_t tlb;
		u64 t0, t1;

		local_irq_save(flags);
		t0 = ktime_get_ns();
		ret = impl->map(bench_dev, page_to_phys(orig), size, &tlb);
		t1 = ktime_get_ns();
		local_irq_restore(flags);
		ns[i] = min_t(u64, t1 - t0, U32_MAX);
		sum += ns[i];
		impl->unmap(bench_dev, live[victim].tlb, live[victim].size);
		if (ret) {
			failures++;
			live[victim] = live[--n];
		} else {
			live[victim].tlb = tlb;
			live[victim].size = size;
		}
		if (!(i & 255))
			cond_resched();
	}
	while (n--)
		impl->unmap(bench_dev, live[n].tlb, live[n].size);
	if (!i) {
		ret = -ENOSPC;
		goto out;
	}
	sort(ns, i, sizeof(*ns), bench_cmp_u32, NULL);
	scnprintf(buf, len,
		  "latency impl=%s pool_mib=%lu filled_mib=%lu ops=%lu mean_ns=%llu p99_ns=%u p999_ns=%u max_ns=%u failures=%lu\n",
		  impl->name, pool >> 20, fill >> 20, i, div64_u64(sum, i),
		  ns[i * 99 / 100], ns[i * 999 / 1000], ns[i - 1], failures);
	ret = 0;
out:
	if (orig)
		__free_pages(orig, get_order(BENCH_ORIG));
	vfree(ns);
	vfree(live);
	return ret;
}

static int bench_latency(unsigned int mib, unsigned int ops, char *buf,
			 size_t len)
{
	unsigned long pool = (unsigned long)mib << 20;
	size_t off = 0;
	unsigned int k;
	int ret;

	if (!mib || mib > 4096 || !ops || ops > 1000000)
		return -EINVAL;
	dma_set_min_align_mask(bench_dev, SZ_4K - 1);
	ret = bench_cc_setup(pool);
	if (ret)
		return ret;
	for (k = 0; k < ARRAY_SIZE(bench_impls); k++) {
		ret = bench_latency_one(&bench_impls[k], pool, ops, buf + off,
					len - off);
		if (ret)
			return ret;
		off += strlen(buf + off);
	}
	return 0;
}

static ssize_t bench_run_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char cmd[64], what[16];
	unsigned int a, b;
	int ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	if (sscanf(cmd, "%15s %u %u", what, &a, &b) != 3)
		return -EINVAL;
	if (cc_swiotlb_serves()) {
		pr_err("boot with cc_swiotlb=off: swiotlb is measured through its own entry points\n");
		return -EBUSY;
	}
	mutex_lock(&bench_mutex);
	bench_result[0] = '\0';
	if (!strcmp(what, "rate"))
		ret = bench_rate(a, b, bench_result, sizeof(bench_result));
	else if (!strcmp(what, "latency"))
		ret = bench_latency(a, b, bench_result, sizeof(bench_result));
	else
		ret = -EINVAL;
	if (ret)
		scnprintf(bench_result, sizeof(bench_result), "error %d\n", ret);
	mutex_unlock(&bench_mutex);
	return ret ? ret : count;
}

static ssize_t bench_result_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&bench_mutex);
	ret = simple_read_from_buffer(ubuf, count, ppos, bench_result,
				      strlen(bench_result));
	mutex_unlock(&bench_mutex);
	return ret;
}

static const struct file_operations bench_run_fops = {
	.write = bench_run_write,
};

static const struct file_operations bench_result_fops = {
	.read = bench_result_read,
};

static int __init cc_swiotlb_bench_init(void)
{
	struct dentry *dir;

	bench_dev = root_device_register("cc_swiotlb_bench");
	if (IS_ERR(bench_dev))
		return PTR_ERR(bench_dev);
	bench_dev->dma_mask = &bench_dma_mask;
	bench_dev->coherent_dma_mask = DMA_BIT_MASK(64);
	bench_dev->dma_parms = &bench_parms;
	dir = debugfs_create_dir("cc_swiotlb_bench", NULL);
	debugfs_create_file("run", 0200, dir, NULL, &bench_run_fops);
	debugfs_create_file("result", 0400, dir, NULL, &bench_result_fops);
	return 0;
}
late_initcall(cc_swiotlb_bench_init);
