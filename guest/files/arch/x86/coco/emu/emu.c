// SPDX-License-Identifier: GPL-2.0-only
/*
 * An emulated confidential-computing guest, for testing.
 *
 * Machines without SEV or TDX cannot run a confidential guest, yet the code
 * that serves one (swiotlb bouncing, set_memory_decrypted() and the
 * allocators built on it) needs a guest that behaves, and pays, like one.
 * With "cc_emulation" on the command line this kernel reports guest memory
 * encryption through cc_platform_has(), so generic code takes the paths it
 * takes on real hardware: swiotlb is sized as for a CoCo guest and every
 * streaming DMA bounces, virtio devices must offer VIRTIO_F_ACCESS_PLATFORM,
 * and dma_alloc_coherent() converts what it hands out (from the atomic pool
 * when it cannot sleep).
 *
 * A conversion does the work a real guest does around it:
 *
 *  - the direct map changes: "shared" is a page-table bit the MMU ignores
 *    (CC_EMU_SHARED_BIT, set by cc_mkdec() as TDX sets its shared bit), so a
 *    conversion that covers part of a large page splits it;
 *  - set_memory asks for a cache flush and a TLB flush;
 *  - the host is told with KVM_HC_MAP_GPA_RANGE, one hypercall (one exit)
 *    per physically contiguous range, so that the VMM can track what is
 *    shared and refuse device DMA to anything else.  As on TDX, private to
 *    shared is announced after the page tables change and shared to private
 *    before.
 *
 * What it does not emulate: memory is not encrypted and the host can read
 * all of it; nothing validates or accepts pages (no PVALIDATE, no TDX page
 * accept); the host enforces nothing unless the VMM chooses to; and a
 * conversion costs one exit per range, not SEV-SNP's one per 64 page-state
 * entries nor TDX's one per 2 MiB.  Never use it for anything but testing.
 */

#define pr_fmt(fmt) "cc_emulation: " fmt

#include <linux/atomic.h>
#include <linux/cc_platform.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/kvm_para.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vmstat.h>

#include <kunit/visibility.h>

#include <asm/coco.h>
#include <asm/cpufeature.h>
#include <asm/x86_init.h>

#include "emu.h"

/**
 * struct cc_emu_counters - live counters of one direction of conversion
 * @calls:  see struct cc_emu_dir_stats
 * @pages:  see struct cc_emu_dir_stats
 * @ranges: see struct cc_emu_dir_stats
 * @exits:  see struct cc_emu_dir_stats
 * @errors: see struct cc_emu_dir_stats
 *
 * Conversions run concurrently (set_memory takes its conversion lock for
 * read), so every counter is atomic and none is protected by a lock.
 */
struct cc_emu_counters {
	atomic64_t calls;
	atomic64_t pages;
	atomic64_t ranges;
	atomic64_t exits;
	atomic64_t errors;
};

static struct cc_emu_counters cc_emu_to_shared;
static struct cc_emu_counters cc_emu_to_private;
static atomic64_t cc_emu_tlb_flushes;
static atomic64_t cc_emu_cache_flushes;

/* The host takes KVM_HC_MAP_GPA_RANGE (KVM_FEATURE_HC_MAP_GPA_RANGE). */
static bool cc_emu_notify __ro_after_init;

/* Tell the host that @npages pages at @pa are now private (@enc) or shared. */
static int cc_emu_map_gpa_range(struct cc_emu_counters *c, phys_addr_t pa,
				unsigned long npages, bool enc)
{
	unsigned long attrs = KVM_MAP_GPA_RANGE_PAGE_SZ_4K;
	long ret;

	atomic64_inc(&c->ranges);
	if (!cc_emu_notify)
		return 0;

	attrs |= enc ? KVM_MAP_GPA_RANGE_ENCRYPTED : KVM_MAP_GPA_RANGE_DECRYPTED;
	atomic64_inc(&c->exits);
	ret = kvm_hypercall3(KVM_HC_MAP_GPA_RANGE, pa, npages, attrs);
	if (ret) {
		atomic64_inc(&c->errors);
		pr_err_ratelimited("host refused to make %pa+%#lx pages %s: %ld\n",
				   &pa, npages, enc ? "private" : "shared", ret);
		return -EIO;
	}
	return 0;
}

/* Announce a range that is not linear (vmalloc): one call per physical run. */
static int cc_emu_notify_walk(struct cc_emu_counters *c, unsigned long vaddr,
			      int numpages, bool enc)
{
	phys_addr_t start = 0;
	unsigned long n = 0;
	unsigned int level;
	int i, ret;

	for (i = 0; i < numpages; i++) {
		unsigned long va = vaddr + i * PAGE_SIZE;
		phys_addr_t pa;

		if (WARN_ONCE(!lookup_address(va, &level),
			      "conversion of unmapped address %#lx\n", va))
			return -EFAULT;
		pa = slow_virt_to_phys((void *)va);
		if (n && pa == start + n * PAGE_SIZE) {
			n++;
			continue;
		}
		if (n) {
			ret = cc_emu_map_gpa_range(c, start, n, enc);
			if (ret)
				return ret;
		}
		start = pa;
		n = 1;
	}
	return cc_emu_map_gpa_range(c, start, n, enc);
}

/*
 * Announce the conversion of @numpages pages at @vaddr, one hypercall per
 * physically contiguous range.  The direct map and the kernel image are
 * linear, so they make one range; anything else is walked.  Calls and pages
 * count only conversions the host accepted.
 */
static int cc_emu_notify_range(unsigned long vaddr, int numpages, bool enc)
{
	struct cc_emu_counters *c = enc ? &cc_emu_to_private : &cc_emu_to_shared;
	unsigned long last = vaddr + (numpages - 1) * PAGE_SIZE;
	int ret;

	if (numpages <= 0)
		return 0;

	if (virt_addr_valid((void *)vaddr) && virt_addr_valid((void *)last) &&
	    __pa(last) - __pa(vaddr) == last - vaddr)
		ret = cc_emu_map_gpa_range(c, __pa(vaddr), numpages, enc);
	else
		ret = cc_emu_notify_walk(c, vaddr, numpages, enc);
	if (ret)
		return ret;

	atomic64_inc(&c->calls);
	atomic64_add(numpages, &c->pages);
	return 0;
}

static int cc_emu_enc_status_change_prepare(unsigned long vaddr, int numpages,
					    bool enc)
{
	/* Take the pages back from the host before using them as private. */
	return enc ? cc_emu_notify_range(vaddr, numpages, enc) : 0;
}

static int cc_emu_enc_status_change_finish(unsigned long vaddr, int numpages,
					   bool enc)
{
	/* Offer the pages to the host once the page tables say shared. */
	return enc ? 0 : cc_emu_notify_range(vaddr, numpages, enc);
}

static bool cc_emu_enc_tlb_flush_required(bool enc)
{
	atomic64_inc(&cc_emu_tlb_flushes);
	return true;
}

static bool cc_emu_enc_cache_flush_required(void)
{
	/* As on TDX and on SEV without SME_COHERENT: always. */
	atomic64_inc(&cc_emu_cache_flushes);
	return true;
}

VISIBLE_IF_KUNIT bool cc_emu_active(void)
{
	return cc_vendor == CC_VENDOR_EMULATED;
}

VISIBLE_IF_KUNIT bool cc_emu_host_notified(void)
{
	return cc_emu_notify;
}

static void cc_emu_read_dir(struct cc_emu_dir_stats *d,
			    struct cc_emu_counters *c)
{
	d->calls = atomic64_read(&c->calls);
	d->pages = atomic64_read(&c->pages);
	d->ranges = atomic64_read(&c->ranges);
	d->exits = atomic64_read(&c->exits);
	d->errors = atomic64_read(&c->errors);
}

/**
 * cc_emu_get_stats() - read the emulation's counters
 * @stats: where to put them
 *
 * Each counter is read atomically, the set is not: conversions that run
 * meanwhile may be counted in some fields and not yet in others.
 */
VISIBLE_IF_KUNIT void cc_emu_get_stats(struct cc_emu_stats *stats)
{
	cc_emu_read_dir(&stats->to_shared, &cc_emu_to_shared);
	cc_emu_read_dir(&stats->to_private, &cc_emu_to_private);
	stats->tlb_flush_requests = atomic64_read(&cc_emu_tlb_flushes);
	stats->cache_flush_requests = atomic64_read(&cc_emu_cache_flushes);
}

static int __init cc_emu_setup(char *arg)
{
	bool on = true;

	if (arg && kstrtobool(arg, &on)) {
		pr_err("invalid value '%s', expected on or off\n", arg);
		return -EINVAL;
	}
	if (!on)
		return 0;

	if (cc_vendor == CC_VENDOR_EMULATED)
		return 0;
	/* SME, SEV or TDX got here first. */
	if (cc_platform_has(CC_ATTR_MEM_ENCRYPT) || cc_mask) {
		pr_err("memory encryption is already active, not emulating it\n");
		return -EINVAL;
	}
	/*
	 * Only in a VM: on bare metal the vendor would hide an SEV-SNP host.
	 * (An isolated Hyper-V guest's vTOM setup, later in boot, replaces
	 * the vendor and the hooks: the real thing wins.)
	 */
	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR)) {
		pr_err("not running in a VM, not emulating a confidential guest\n");
		return -EINVAL;
	}
	/* A CoCo guest's RNG is seeded from RDRAND or it panics (cc_random_init). */
	if (!boot_cpu_has(X86_FEATURE_RDRAND)) {
		pr_err("the CPU has no RDRAND, not emulating a confidential guest\n");
		return -EINVAL;
	}

	cc_vendor = CC_VENDOR_EMULATED;
	cc_set_mask(BIT_ULL(CC_EMU_SHARED_BIT));

	x86_platform.guest.enc_status_change_prepare = cc_emu_enc_status_change_prepare;
	x86_platform.guest.enc_status_change_finish  = cc_emu_enc_status_change_finish;
	x86_platform.guest.enc_tlb_flush_required    = cc_emu_enc_tlb_flush_required;
	x86_platform.guest.enc_cache_flush_required  = cc_emu_enc_cache_flush_required;

	cc_emu_notify = kvm_para_available() &&
			kvm_para_has_feature(KVM_FEATURE_HC_MAP_GPA_RANGE);

	pr_warn("emulating a confidential guest for testing: no memory is protected\n");
	if (cc_emu_notify)
		pr_info("shared bit %d, conversions reported with KVM_HC_MAP_GPA_RANGE\n",
			CC_EMU_SHARED_BIT);
	else
		pr_warn("shared bit %d, the host lacks KVM_HC_MAP_GPA_RANGE: conversions are not reported\n",
			CC_EMU_SHARED_BIT);
	return 0;
}
early_param("cc_emulation", cc_emu_setup);

static void cc_emu_show_dir(struct seq_file *m, const char *name,
			    struct cc_emu_dir_stats *d)
{
	seq_printf(m, "%s_calls: %llu\n", name, d->calls);
	seq_printf(m, "%s_pages: %llu\n", name, d->pages);
	seq_printf(m, "%s_ranges: %llu\n", name, d->ranges);
	seq_printf(m, "%s_exits: %llu\n", name, d->exits);
	seq_printf(m, "%s_errors: %llu\n", name, d->errors);
}

static int cc_emu_stats_show(struct seq_file *m, void *v)
{
	struct cc_emu_stats s;
	unsigned long *ev;

	cc_emu_get_stats(&s);
	seq_printf(m, "shared_bit: %d\n", CC_EMU_SHARED_BIT);
	seq_printf(m, "host_notified: %d\n", cc_emu_host_notified());
	cc_emu_show_dir(m, "to_shared", &s.to_shared);
	cc_emu_show_dir(m, "to_private", &s.to_private);
	seq_printf(m, "shared_pages: %lld\n",
		   (s64)(s.to_shared.pages - s.to_private.pages));
	seq_printf(m, "tlb_flush_requests: %llu\n", s.tlb_flush_requests);
	seq_printf(m, "cache_flush_requests: %llu\n", s.cache_flush_requests);

	if (!IS_ENABLED(CONFIG_VM_EVENT_COUNTERS))
		return 0;
	ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	if (!ev)
		return -ENOMEM;
	all_vm_events(ev);
	seq_printf(m, "direct_map_2m_splits: %lu\n", ev[DIRECT_MAP_LEVEL2_SPLIT]);
	seq_printf(m, "direct_map_1g_splits: %lu\n", ev[DIRECT_MAP_LEVEL3_SPLIT]);
	kfree(ev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(cc_emu_stats);

static int __init cc_emu_debugfs_init(void)
{
	struct dentry *dir;

	if (!cc_emu_active())
		return 0;
	dir = debugfs_create_dir("cc_emulation", arch_debugfs_dir);
	debugfs_create_file("stats", 0400, dir, NULL, &cc_emu_stats_fops);
	return 0;
}
late_initcall(cc_emu_debugfs_init);
