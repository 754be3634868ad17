// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the emulated confidential-computing guest: what a
 * conversion does to the direct map and what it costs, and how the host
 * answers KVM_HC_MAP_GPA_RANGE calls it must refuse.
 */

#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/kvm_para.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include <linux/pgtable.h>
#include <linux/set_memory.h>

#include "emu.h"

#define CC_EMU_TEST_TRIES	8

/* The paging level mapping @addr in the kernel's page tables, and its state. */
static unsigned int map_level(unsigned long addr, bool *shared)
{
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	*shared = pte && (pte_val(*pte) & BIT_ULL(CC_EMU_SHARED_BIT));
	return pte ? level : PG_LEVEL_NONE;
}

/*
 * A 2 MiB block whose direct map is a 2 MiB or 1 GiB page, or a skip: a
 * block that something split already proves nothing.
 */
static struct page *alloc_large_mapped(struct kunit *test)
{
	struct page *tried[CC_EMU_TEST_TRIES], *found = NULL;
	int i, n = 0;
	bool shared;

	if (!cc_emu_active())
		kunit_skip(test, "the kernel was not booted with cc_emulation");

	while (n < CC_EMU_TEST_TRIES && !found) {
		struct page *page = alloc_pages(GFP_KERNEL | __GFP_NOWARN, PMD_ORDER);

		if (!page)
			break;
		if (map_level((unsigned long)page_address(page), &shared) >= PG_LEVEL_2M)
			found = page;
		else
			tried[n++] = page;
	}
	for (i = 0; i < n; i++)
		__free_pages(tried[i], PMD_ORDER);
	if (!found)
		kunit_skip(test, "no 2 MiB block mapped by a large page");
	return found;
}

static void cc_emu_test_4k_conversion_splits(struct kunit *test)
{
	struct page *page = alloc_large_mapped(test);
	unsigned long addr = (unsigned long)page_address(page);
	unsigned long target = addr + 5 * PAGE_SIZE;
	struct cc_emu_stats before, after;
	bool shared;

	cc_emu_get_stats(&before);
	KUNIT_ASSERT_EQ(test, set_memory_decrypted(target, 1), 0);
	cc_emu_get_stats(&after);

	KUNIT_EXPECT_EQ(test, map_level(target, &shared), PG_LEVEL_4K);
	KUNIT_EXPECT_TRUE(test, shared);
	KUNIT_EXPECT_EQ(test, map_level(target + PAGE_SIZE, &shared), PG_LEVEL_4K);
	KUNIT_EXPECT_FALSE(test, shared);
	KUNIT_EXPECT_EQ(test, map_level(addr, &shared), PG_LEVEL_4K);
	KUNIT_EXPECT_FALSE(test, shared);
	KUNIT_EXPECT_GE(test, after.to_shared.pages - before.to_shared.pages, 1);
	KUNIT_EXPECT_GE(test, after.tlb_flush_requests - before.tlb_flush_requests, 1);
	KUNIT_EXPECT_GE(test, after.cache_flush_requests - before.cache_flush_requests, 1);
	if (cc_emu_host_notified())
		KUNIT_EXPECT_GE(test, after.to_shared.exits - before.to_shared.exits, 1);

	/* A page that cannot be made private again is leaked, never freed. */
	KUNIT_ASSERT_EQ(test, set_memory_encrypted(target, 1), 0);
	KUNIT_EXPECT_EQ(test, map_level(target, &shared), PG_LEVEL_4K);
	KUNIT_EXPECT_FALSE(test, shared);
	__free_pages(page, PMD_ORDER);
}

static void cc_emu_test_2m_conversion_keeps_large_page(struct kunit *test)
{
	struct page *page = alloc_large_mapped(test);
	unsigned long addr = (unsigned long)page_address(page);
	unsigned long last = addr + PMD_SIZE - PAGE_SIZE;
	struct cc_emu_stats before, after;
	bool shared;

	cc_emu_get_stats(&before);
	KUNIT_ASSERT_EQ(test, set_memory_decrypted(addr, PTRS_PER_PMD), 0);
	cc_emu_get_stats(&after);

	/* A 1 GiB page around it splits into 2 MiB pages, no further. */
	KUNIT_EXPECT_EQ(test, map_level(addr, &shared), PG_LEVEL_2M);
	KUNIT_EXPECT_TRUE(test, shared);
	KUNIT_EXPECT_EQ(test, map_level(last, &shared), PG_LEVEL_2M);
	KUNIT_EXPECT_TRUE(test, shared);
	KUNIT_EXPECT_GE(test, after.to_shared.pages - before.to_shared.pages,
			PTRS_PER_PMD);
	if (cc_emu_host_notified())
		KUNIT_EXPECT_GE(test, after.to_shared.exits - before.to_shared.exits, 1);

	KUNIT_ASSERT_EQ(test, set_memory_encrypted(addr, PTRS_PER_PMD), 0);
	KUNIT_EXPECT_EQ(test, map_level(addr, &shared), PG_LEVEL_2M);
	KUNIT_EXPECT_FALSE(test, shared);
	__free_pages(page, PMD_ORDER);
}

/**
 * struct cc_emu_hc_case - one KVM_HC_MAP_GPA_RANGE call and its answer
 * @name: what is wrong with it
 * @gpa: a0, or an offset from a page the test owns if @own
 * @npages: a1
 * @attrs: a2
 * @own: @gpa is an offset into a private page the test allocated
 * @ret: the answer expected: KVM's own for the first three cases (x86.c
 *       refuses them before any exit), the VMM's for the others.  Refusing
 *       MMIO, non-RAM and page sizes above 1 GiB is this test bed's VMM
 *       policy (docs/dma-guard.md); the ABI itself reserves bits 63:5.
 */
struct cc_emu_hc_case {
	const char *name;
	u64 gpa;
	u64 npages;
	u64 attrs;
	bool own;
	long ret;
};

#define MAP_ENC		KVM_MAP_GPA_RANGE_ENCRYPTED
#define MAP_DEC		KVM_MAP_GPA_RANGE_DECRYPTED

static void cc_emu_test_map_gpa_range_refusals(struct kunit *test)
{
	/*
	 * The firmware may reserve the top of RAM below 4 GiB in the e820
	 * map, so max_pfn can stop short of what the VMM backs; but below
	 * 4 GiB nothing past RAM's end is RAM, and above it RAM ends at
	 * max_pfn.
	 */
	u64 ram_end = PFN_PHYS(max_pfn), past = max_t(u64, ram_end, SZ_4G);
	u64 across = ram_end <= SZ_4G ? (SZ_4G - ram_end) / PAGE_SIZE + 1 : 2;
	const struct cc_emu_hc_case cases[] = {
		{ "unaligned address", 1, 1, MAP_ENC, true, -KVM_EINVAL },
		{ "no pages", 0, 0, MAP_ENC, true, -KVM_EINVAL },
		{ "size wraps around", 0, U64_MAX, MAP_ENC, true, -KVM_EINVAL },
		{ "size overflows in bytes", 0, BIT_ULL(52), MAP_ENC, true, -KVM_EINVAL },
		{ "end past 2^52", BIT_ULL(52) - PAGE_SIZE, 2, MAP_ENC, false, -KVM_EINVAL },
		{ "local APIC MMIO", 0xfee00000, 1, MAP_ENC, false, -KVM_EINVAL },
		{ "past the end of RAM", past, 1, MAP_ENC, false, -KVM_EINVAL },
		{ "across the end of RAM", ram_end - PAGE_SIZE, across, MAP_ENC, false,
		  -KVM_EINVAL },
		{ "reserved attribute bit 5", 0, 1, MAP_ENC | BIT_ULL(5), true, -KVM_EINVAL },
		{ "reserved attribute bit 63", 0, 1, MAP_ENC | BIT_ULL(63), true, -KVM_EINVAL },
		{ "page size 3", 0, 1, MAP_ENC | 3, true, -KVM_EINVAL },
		{ "page size 15", 0, 1, MAP_ENC | 15, true, -KVM_EINVAL },
		/* Sharing widens what devices may reach: refused the same way. */
		{ "shared: local APIC MMIO", 0xfee00000, 1, MAP_DEC, false, -KVM_EINVAL },
		{ "shared: past the end of RAM", past, 1, MAP_DEC, false, -KVM_EINVAL },
		{ "shared: across the end of RAM", ram_end - PAGE_SIZE, across, MAP_DEC, false,
		  -KVM_EINVAL },
		{ "shared: size overflows in bytes", 0, BIT_ULL(52), MAP_DEC, true, -KVM_EINVAL },
		{ "shared: reserved attribute bit 5", 0, 1, MAP_DEC | BIT_ULL(5), true,
		  -KVM_EINVAL },
		{ "shared: page size 3", 0, 1, MAP_DEC | 3, true, -KVM_EINVAL },
		/* The controls: a private page made private again. */
		{ "valid, already private", 0, 1, MAP_ENC, true, 0 },
		{ "valid, 2 MiB size hint", 0, 1, MAP_ENC | KVM_MAP_GPA_RANGE_PAGE_SZ_2M, true, 0 },
	};
	struct page *page;
	int i;

	if (!kvm_para_available() ||
	    !kvm_para_has_feature(KVM_FEATURE_HC_MAP_GPA_RANGE))
		kunit_skip(test, "the host does not offer KVM_HC_MAP_GPA_RANGE");

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct cc_emu_hc_case *c = &cases[i];
		u64 gpa = c->own ? page_to_phys(page) + c->gpa : c->gpa;
		long ret;

		ret = kvm_hypercall3(KVM_HC_MAP_GPA_RANGE, gpa, c->npages, c->attrs);
		KUNIT_EXPECT_EQ_MSG(test, ret, c->ret, "%s: gpa %#llx npages %#llx attrs %#llx",
				    c->name, gpa, c->npages, c->attrs);
	}
	__free_page(page);
}

static struct kunit_case cc_emu_test_cases[] = {
	KUNIT_CASE(cc_emu_test_4k_conversion_splits),
	KUNIT_CASE(cc_emu_test_2m_conversion_keeps_large_page),
	KUNIT_CASE(cc_emu_test_map_gpa_range_refusals),
	{}
};

static struct kunit_suite cc_emu_test_suite = {
	.name = "x86_cc_emulation",
	.test_cases = cc_emu_test_cases,
};

kunit_test_suite(cc_emu_test_suite);
