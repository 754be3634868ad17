// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer for cc-swiotlb's allocator core, in user space.
 *
 * kernel/dma/cc_swiotlb.c is compiled here unchanged, against the shims of
 * shim/, with its conversion provider.  A random sequence of operations
 * drives it: map (any size up to past the largest class, any offset, three
 * min_align_masks, three alloc_align_masks, a device whose DMA mask may not
 * reach the chunks), unmap, sync, bad unmaps, migration to another CPU,
 * kccd's pass, changes of the watermarks and of the idle time, and failures
 * of the page allocator, of the kernel allocators, of the conversions and of
 * the chunk table.  A reference model of the live mappings predicts each
 * answer, and after every pass the allocator's state is checked whole:
 * every slot is in exactly one place (a chunk's free stack, a CPU's
 * magazine, or a live mapping), the counters agree, the chunk table covers
 * each chunk and nothing else, and a chunk's memory stays shared while it
 * is in the pool.  Each live mapping's bounce buffer holds its own pattern,
 * so two mappings that overlap are caught when the first is checked.
 *
 * usage: fuzz [-s SEED] [-t SECONDS] [-n OPS] [-v]
 * Exits 0 after a clean run; on the first violation it prints the seed and
 * the operation number and exits 1 (or aborts on a failed shim assertion).
 */
#include <time.h>
#include <unistd.h>

#include "shim/shim.h"
#include "shim.h"
#include "../../../kernel/dma/cc_swiotlb.c"

static unsigned long long seed;
static unsigned long op;

#define CHECK(cond, fmt, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz: seed %llu op %lu: %s: " fmt "\n", \
			seed, op, #cond, ##__VA_ARGS__);		\
		exit(1);						\
	}								\
} while (0)

static const size_t class_sizes[] = {
	SZ_512, SZ_2K, SZ_4K, SZ_16K, SZ_64K, SZ_256K, SZ_512K,
};

struct mapping {
	struct device *dev;
	phys_addr_t orig;
	phys_addr_t tlb;
	size_t size;
	size_t slot;
	u8 tag;
};

static struct mapping *live;
static unsigned int nr_live, cap_live;

/* Live mappings at most, which bounds the memory the run takes. */
#define MAX_LIVE 1500

#define NR_DEVS 4
static struct device devs[NR_DEVS];
static u64 dev_masks[NR_DEVS];

#define SRC_SIZE (SZ_1M + SZ_8K)
static u8 *src;

static struct cc_swiotlb cc;

static struct {
	unsigned long maps, enospc, e2big, erange, unmaps, bad_unmaps, syncs;
	unsigned long balances, checks;
} st;

static u64 rnd(u64 n)
{
	return n ? shim_rand() % n : 0;
}

/* The slot a mapping must get, computed apart from the allocator. */
static size_t expected_slot(struct device *dev, phys_addr_t orig, size_t size,
			    unsigned int align)
{
	unsigned int mask = dev->min_align_mask;
	size_t need = size + (orig & mask);
	unsigned int i;

	if (need < (size_t)mask + 1)
		need = (size_t)mask + 1;
	if (need < (size_t)align + 1)
		need = (size_t)align + 1;
	for (i = 0; i < ARRAY_SIZE(class_sizes); i++)
		if (class_sizes[i] >= need)
			return class_sizes[i];
	return 0;
}

static struct cc_swiotlb_class *class_by_size(size_t slot)
{
	unsigned int i;

	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++)
		if (cc_swiotlb_class_size(&cc.classes[i]) == slot)
			return &cc.classes[i];
	return NULL;
}

static size_t random_size(void)
{
	static const size_t edges[] = {
		1, 16, 48, 511, 512, 513, 2047, 2048, 2049, 4095, 4096, 4097,
		16383, 16384, 16385, 65535, 65536, 65537, 262143, 262144,
		262145, 524287, 524288, 524289,
	};

	switch (rnd(4)) {
	case 0:
		return edges[rnd(ARRAY_SIZE(edges))];
	case 1:
		return 1 + rnd(SZ_4K);
	case 2:
		return SZ_4K;
	default:
		/* Log-uniform up to 1 MiB: mostly small, some too large. */
		return 1 + rnd(1UL << rnd(21));
	}
}

static void fill_tag(struct mapping *m)
{
	memset(phys_to_virt(m->tlb), m->tag, m->size);
}

static void check_tag(struct mapping *m)
{
	u8 *p = phys_to_virt(m->tlb);
	size_t i;

	for (i = 0; i < m->size; i++)
		CHECK(p[i] == m->tag,
		      "mapping %#llx+%zu byte %zu is %#x, not its tag %#x: another mapping wrote it",
		      (unsigned long long)m->tlb, m->size, i, p[i], m->tag);
}

static void op_map(void)
{
	static const unsigned int aligns[] = { 0, 0, 0, SZ_4K - 1, SZ_64K - 1 };
	struct device *dev = &devs[rnd(NR_DEVS)];
	unsigned int align = aligns[rnd(ARRAY_SIZE(aligns))];
	unsigned int mask = dev->min_align_mask;
	size_t off = rnd(SZ_8K);
	size_t size = min(random_size(), SRC_SIZE - off);
	phys_addr_t orig = virt_to_phys(src + off), tlb = 0;
	size_t slot = expected_slot(dev, orig, size, align);
	phys_addr_t limit = READ_ONCE(cc.dma_limit);
	struct cc_swiotlb_class *cls = slot ? class_by_size(slot) : NULL;
	long fails = cls ? atomic_long_read(&cls->map_failures) : 0;
	struct io_tlb_pool *pool;
	struct mapping *m;
	int ret;

	CHECK(!shim_irqs_off[shim_cpu], "interrupts left off");
	ret = cc_swiotlb_map_in(&cc, dev, orig, size, align, DMA_TO_DEVICE,
				rnd(2) ? DMA_ATTR_NO_WARN : 0, &tlb);
	CHECK(!shim_irqs_off[shim_cpu], "map returned with interrupts off");
	if (!slot) {
		CHECK(ret == -E2BIG, "%zu bytes at %#llx mask %#x align %#x: %d",
		      size, (unsigned long long)orig, mask, align, ret);
		st.e2big++;
		return;
	}
	CHECK(cc_swiotlb_class_for(&cc, dev, orig, size, align) == cls,
	      "class for %zu bytes, offset %#llx, mask %#x, align %#x", size,
	      (unsigned long long)(orig & mask), mask, align);
	if (limit > dma_get_mask(dev)) {
		CHECK(ret == -ERANGE, "device mask %#llx below chunks at %#llx: %d",
		      (unsigned long long)dma_get_mask(dev),
		      (unsigned long long)limit, ret);
		st.erange++;
		return;
	}
	if (ret == -ENOSPC) {
		CHECK(cls->depot_free == 0,
		      "map failed with %lu slots in the depot", cls->depot_free);
		struct cc_swiotlb_mag *mag = per_cpu_ptr(cls->mags, shim_cpu);

		CHECK(mag->nr == 0, "map failed with slots in this CPU's magazine");
		CHECK(atomic_long_read(&cls->map_failures) == fails + 1,
		      "map failure not counted");
		st.enospc++;
		return;
	}
	CHECK(ret == 0, "map of %zu bytes: %d", size, ret);
	CHECK(dev->dma_uses_io_tlb, "dma_uses_io_tlb not set");
	pool = cc_swiotlb_find_pool_in(&cc, tlb);
	CHECK(pool && pool->cc_chunk, "no chunk for %#llx",
	      (unsigned long long)tlb);
	CHECK(cc_swiotlb_find_pool_in(&cc, tlb + size - 1) == pool,
	      "mapping crosses its chunk");
	CHECK(tlb >= pool->start && tlb + size <= pool->end, "outside chunk");
	CHECK(pool->slot_shift == cls->shift, "slot %u in class %zu",
	      1U << pool->slot_shift, slot);
	CHECK((tlb & mask) == (orig & mask), "min_align_mask %#x: %#llx for %#llx",
	      mask, (unsigned long long)tlb, (unsigned long long)orig);
	CHECK(((tlb & ~(phys_addr_t)mask) & align) == 0,
	      "alloc_align_mask %#x: %#llx", align, (unsigned long long)tlb);
	CHECK((tlb & (slot - 1)) + size <= slot, "mapping overruns its slot");
	CHECK(pool->slots[(tlb - pool->start) >> pool->slot_shift].orig_addr == orig,
	      "slot does not record the original address");
	CHECK(!memcmp(phys_to_virt(tlb), phys_to_virt(orig), size),
	      "the buffer was not copied in");
	CHECK(shim_block_of(pool->vaddr)->shared, "chunk memory is not shared");

	if (nr_live == cap_live) {
		cap_live = cap_live ? 2 * cap_live : 1024;
		live = realloc(live, cap_live * sizeof(*live));
		CHECK(live, "out of memory");
	}
	m = &live[nr_live++];
	*m = (struct mapping){ dev, orig, tlb, size, slot, (u8)rnd(256) };
	fill_tag(m);
	st.maps++;
}

static void release(unsigned int i)
{
	struct mapping *m = &live[i];
	struct io_tlb_pool *pool = cc_swiotlb_find_pool_in(&cc, m->tlb);
	long bad = atomic_long_read(&cc.bad_unmaps);

	check_tag(m);
	CHECK(pool, "live mapping %#llx has no chunk",
	      (unsigned long long)m->tlb);
	cc_swiotlb_release_in(&cc, m->dev, m->tlb, pool);
	CHECK(!shim_irqs_off[shim_cpu], "unmap returned with interrupts off");
	CHECK(atomic_long_read(&cc.bad_unmaps) == bad, "good unmap called bad");
	live[i] = live[--nr_live];
	st.unmaps++;
}

static void op_unmap(void)
{
	if (nr_live)
		release(rnd(nr_live));
}

/* A double unmap, or an unmap inside a live mapping: counted, ignored. */
static void op_bad_unmap(void)
{
	long bad = atomic_long_read(&cc.bad_unmaps);
	struct io_tlb_pool *pool;
	struct mapping *m, gone;
	unsigned int i;

	if (!nr_live)
		return;
	i = rnd(nr_live);
	m = &live[i];
	if (rnd(2) && m->size >= 2) {
		pool = cc_swiotlb_find_pool_in(&cc, m->tlb);
		cc_swiotlb_release_in(&cc, m->dev, m->tlb + 1, pool);
		CHECK(atomic_long_read(&cc.bad_unmaps) == bad + 1,
		      "unmap inside a mapping not caught");
		check_tag(m);
	} else {
		gone = *m;
		release(i);
		/* Only while its chunk is still there (no pass ran since). */
		pool = cc_swiotlb_find_pool_in(&cc, gone.tlb);
		CHECK(pool, "chunk left while a mapping was being released");
		cc_swiotlb_release_in(&cc, gone.dev, gone.tlb, pool);
		CHECK(atomic_long_read(&cc.bad_unmaps) == bad + 1,
		      "double unmap not caught");
	}
	st.bad_unmaps++;
}

/* The whole state: every slot in exactly one place, counters that agree. */
static void check_state(void)
{
	unsigned long bytes = 0, xa_entries = 0;
	unsigned int c, i, cpu;

	for (cpu = 0; cpu < SHIM_NR_CPUS; cpu++)
		CHECK(!shim_irqs_off[cpu], "CPU %u left with interrupts off", cpu);
	CHECK(!cc.mutex.held, "mutex left held");

	for (c = 0; c < CC_SWIOTLB_NR_CLASSES; c++) {
		struct cc_swiotlb_class *cls = &cc.classes[c];
		size_t slot = cc_swiotlb_class_size(cls);
		unsigned long nchunks = 0, nslots = 0, nfree = 0, nmag = 0;
		unsigned long nlive = 0;
		struct cc_swiotlb_chunk *chunk;
		struct list_head *lists[] = { &cls->partial, &cls->empty };
		unsigned int l;

		CHECK(!cls->lock.held, "class lock left held");
		for (l = 0; l < 2; l++)
			list_for_each_entry(chunk, lists[l], node) {
				size_t size = chunk->pool.end - chunk->pool.start;
				unsigned long k, idx;

				CHECK(chunk->cls == cls, "chunk in another class's list");
				CHECK((l == 0) == (chunk->nr_free > 0),
				      "chunk with %u free on the %s list",
				      chunk->nr_free, l ? "empty" : "partial");
				CHECK(size >= max_t(size_t, slot, SZ_64K) &&
				      size <= SZ_2M && !(size & (size - 1)) &&
				      !(chunk->pool.start & (size - 1)),
				      "chunk of %zu bytes at %#llx", size,
				      (unsigned long long)chunk->pool.start);
				CHECK(chunk->pool.nslabs == size / slot &&
				      chunk->pool.slot_shift == cls->shift &&
				      chunk->pool.cc_chunk, "chunk geometry");
				CHECK(shim_block_of(chunk->pool.vaddr) &&
				      shim_block_of(chunk->pool.vaddr)->shared,
				      "chunk memory not shared");
				for (k = 0; k < size / SZ_64K; k++)
					CHECK(xa_load(&cc.chunks,
						      (chunk->pool.start >> 16) + k) == chunk,
					      "chunk table misses part of a chunk");
				xa_entries += size / SZ_64K;
				bytes += size;
				nchunks++;
				nslots += chunk->pool.nslabs;
				nfree += chunk->nr_free;
				/* Free slots: each once, none mapped. */
				for (k = 0; k < chunk->nr_free; k++) {
					idx = chunk->free[k];
					CHECK(idx < chunk->pool.nslabs, "free index");
					CHECK(chunk->pool.slots[idx].orig_addr ==
					      INVALID_PHYS_ADDR, "free slot is mapped");
					chunk->pool.slots[idx].orig_addr = 1;
				}
			}
		for (cpu = 0; cpu < SHIM_NR_CPUS; cpu++) {
			struct cc_swiotlb_mag *mag = per_cpu_ptr(cls->mags, cpu);

			CHECK(mag->nr <= cls->mag_size, "magazine over its size");
			for (i = 0; i < mag->nr; i++) {
				struct io_tlb_slot *s;

				CHECK(mag->slot[i].chunk->cls == cls,
				      "magazine holds another class's slot");
				s = &mag->slot[i].chunk->pool.slots[mag->slot[i].index];
				CHECK(s->orig_addr == INVALID_PHYS_ADDR,
				      "a slot is free twice, or free and mapped");
				s->orig_addr = 1;
			}
			nmag += mag->nr;
		}
		/* Put the marks back. */
		for (l = 0; l < 2; l++)
			list_for_each_entry(chunk, lists[l], node)
				for (i = 0; i < chunk->pool.nslabs; i++)
					if (chunk->pool.slots[i].orig_addr == 1)
						chunk->pool.slots[i].orig_addr =
							INVALID_PHYS_ADDR;
		for (i = 0; i < nr_live; i++)
			nlive += live[i].slot == slot;
		CHECK(nchunks == cls->nr_chunks, "class %zu: %lu chunks, counted %lu",
		      slot, nchunks, cls->nr_chunks);
		CHECK(nslots == cls->nr_slots, "class %zu: slots", slot);
		CHECK(nfree == cls->depot_free, "class %zu: depot %lu, counted %lu",
		      slot, nfree, cls->depot_free);
		CHECK(nfree + nmag + nlive == nslots,
		      "class %zu: %lu free + %lu cached + %lu mapped != %lu slots",
		      slot, nfree, nmag, nlive, nslots);
		CHECK(cc_swiotlb_class_mapped(cls) == nlive,
		      "class %zu: %lu mapped by the counters, %lu live", slot,
		      cc_swiotlb_class_mapped(cls), nlive);
	}
	CHECK(atomic_long_read(&cc.bytes) == (long)bytes, "bytes %ld, held %lu",
	      atomic_long_read(&cc.bytes), bytes);
	CHECK(cc.chunks.nr == xa_entries, "chunk table has %lu entries, chunks %lu",
	      cc.chunks.nr, xa_entries);
	for (i = 0; i < nr_live; i++)
		CHECK(cc_swiotlb_find_pool_in(&cc, live[i].tlb),
		      "a live mapping's chunk left the table");
	st.checks++;
}

static void op_balance(void)
{
	bool faults = shim_faults.pages_pct || shim_faults.kalloc_pct ||
		      shim_faults.decrypt_pct || shim_faults.xa_store_pct;
	unsigned int c;

	jiffies += rnd(300);
	cc_swiotlb_balance(&cc, rnd(4) != 0);
	check_state();
	if (faults)
		return;
	/* With a provider that never fails, every class meets its floor. */
	for (c = 0; c < CC_SWIOTLB_NR_CLASSES; c++) {
		struct cc_swiotlb_class *cls = &cc.classes[c];

		CHECK((cls->nr_slots << cls->shift) >= cls->reserve &&
		      (cls->depot_free << cls->shift) >= cls->low,
		      "class %zu below its reserve or low watermark after a pass",
		      cc_swiotlb_class_size(cls));
	}
	st.balances++;
}

static void op_watermarks(void)
{
	static const unsigned long sizes[] = {
		0, SZ_64K, SZ_512K, SZ_1M, SZ_2M, SZ_4M, SZ_8M,
	};
	struct cc_swiotlb_class *cls = &cc.classes[rnd(CC_SWIOTLB_NR_CLASSES)];
	unsigned long a = sizes[rnd(ARRAY_SIZE(sizes))];
	unsigned long b = sizes[rnd(ARRAY_SIZE(sizes))];

	cls->reserve = sizes[rnd(ARRAY_SIZE(sizes))];
	cls->low = min(a, b);
	cls->high = max(a, b);
	cc.params.idle_ms = rnd(4) ? rnd(400) : 0;
}

static void op_faults(void)
{
	unsigned int *pct[] = {
		&shim_faults.pages_pct, &shim_faults.large_pages_pct,
		&shim_faults.kalloc_pct, &shim_faults.decrypt_pct,
		&shim_faults.encrypt_pct, &shim_faults.xa_store_pct,
	};
	unsigned int i;

	phys_addr_t limit = READ_ONCE(cc.dma_limit);

	for (i = 0; i < ARRAY_SIZE(pct); i++)
		*pct[i] = rnd(3) ? 0 : rnd(60);
	if (rnd(2))
		memset(&shim_faults, 0, sizeof(shim_faults));

	/* The last device: a DMA mask on either side of the chunks' reach. */
	switch (rnd(4)) {
	case 0:
		dev_masks[NR_DEVS - 1] = DMA_BIT_MASK(64);
		break;
	case 1:
		dev_masks[NR_DEVS - 1] = DMA_BIT_MASK(32);
		break;
	case 2:
		dev_masks[NR_DEVS - 1] = limit;
		break;
	default:
		dev_masks[NR_DEVS - 1] = limit - 1;
		break;
	}
}

/* cc_swiotlb= on the command line: known answers, then noise. */
static void fuzz_parse(void)
{
	static const struct {
		const char *arg;
		int enable;
		unsigned long reserve, low, high;
		unsigned int idle_ms;
	} cases[] = {
		{ "on", 1, SZ_2M, SZ_1M, SZ_8M, 5000 },
		{ "off", 0, SZ_2M, SZ_1M, SZ_8M, 5000 },
		{ "on,reserve=4M,low=2M,high=16M,idle_ms=100", 1, SZ_4M, SZ_2M,
		  16 * SZ_1M, 100 },
		{ "low=512K", -1, SZ_2M, SZ_512K, SZ_8M, 5000 },
		/* Errors: reported, ignored. */
		{ "bogus,on", 1, SZ_2M, SZ_1M, SZ_8M, 5000 },
		{ "low=", -1, SZ_2M, SZ_1M, SZ_8M, 5000 },
		{ "low=3X", -1, SZ_2M, SZ_1M, SZ_8M, 5000 },
		{ "idle_ms=-1", -1, SZ_2M, SZ_1M, SZ_8M, 5000 },
		{ "low=16M", -1, SZ_2M, SZ_1M, SZ_8M, 5000 },
		{ "", -1, SZ_2M, SZ_1M, SZ_8M, 5000 },
	};
	static const char *const words[] = {
		"on", "off", "reserve=", "low=", "high=", "idle_ms=", "1", "2M",
		"0x10K", "G", "=", ",", "-", "99999999999999999999", "k",
	};
	const struct cc_swiotlb_params def = cc_swiotlb_params;
	char buf[256];
	unsigned int i, n;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		long msgs = shim_messages;

		cc_swiotlb_params = def;
		cc_swiotlb_enable = -1;
		snprintf(buf, sizeof(buf), "%s", cases[i].arg);
		cc_swiotlb_parse(buf);
		CHECK(cc_swiotlb_enable == cases[i].enable &&
		      cc_swiotlb_params.reserve == cases[i].reserve &&
		      cc_swiotlb_params.low == cases[i].low &&
		      cc_swiotlb_params.high == cases[i].high &&
		      cc_swiotlb_params.idle_ms == cases[i].idle_ms,
		      "cc_swiotlb=%s", cases[i].arg);
		/* Exactly the error cases say something. */
		CHECK((shim_messages != msgs) == (i >= 4 && i <= 8),
		      "cc_swiotlb=%s: messages", cases[i].arg);
	}
	for (i = 0; i < 20000; i++) {
		size_t len = 0;

		for (n = rnd(8); n; n--)
			len += snprintf(buf + len, sizeof(buf) - len, "%s",
					words[rnd(ARRAY_SIZE(words))]);
		cc_swiotlb_params = def;
		cc_swiotlb_parse(buf);
		CHECK(cc_swiotlb_params.low <= cc_swiotlb_params.high,
		      "cc_swiotlb=%s left low above high", buf);
	}
	cc_swiotlb_params = def;
}

int main(int argc, char **argv)
{
	struct cc_swiotlb_params p = {
		.reserve = SZ_2M, .low = SZ_1M, .high = SZ_8M, .idle_ms = 50,
	};
	unsigned long max_ops = ~0UL, leaked_blocks;
	double seconds = 10;
	time_t start = time(NULL);
	unsigned int i;
	int opt;

	seed = time(NULL);
	while ((opt = getopt(argc, argv, "s:t:n:v")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			max_ops = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			shim_verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-t SECONDS] [-n OPS] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	shim_seed(seed);
	printf("fuzz: seed %llu, %.0f s or %lu operations\n", seed, seconds,
	       max_ops);
	fuzz_parse();

	src = malloc(SRC_SIZE);
	CHECK(src, "out of memory");
	for (i = 0; i < SRC_SIZE; i++)
		src[i] = rnd(256);
	for (i = 0; i < NR_DEVS; i++) {
		static const unsigned int masks[] = { 0, SZ_2K - 1, SZ_4K - 1, 0 };

		devs[i].name = "fuzz";
		devs[i].min_align_mask = masks[i];
		dev_masks[i] = DMA_BIT_MASK(64);
		devs[i].dma_mask = &dev_masks[i];
	}

	CHECK(cc_swiotlb_setup(&cc, "fuzz", &cc_swiotlb_convert, &p) == 0,
	      "setup");
	cc_swiotlb_balance(&cc, false);
	check_state();

	for (op = 1; op <= max_ops; op++) {
		unsigned int r = rnd(1000);

		if (!(op & 1023) && difftime(time(NULL), start) >= seconds)
			break;
		if (r < 450 && nr_live < MAX_LIVE) {
			op_map();
		} else if (r < 880) {
			op_unmap();
		} else if (r < 900) {
			op_bad_unmap();
		} else if (r < 960) {
			if (nr_live) {
				check_tag(&live[rnd(nr_live)]);
				st.syncs++;
			}
		} else if (r < 980) {
			shim_cpu = rnd(SHIM_NR_CPUS);
		} else if (r < 992) {
			op_balance();
		} else if (r < 997) {
			op_watermarks();
		} else {
			op_faults();
		}
	}

	/* Drain: everything unmapped, no floor, no faults: nothing held. */
	while (nr_live)
		release(nr_live - 1);
	memset(&shim_faults, 0, sizeof(shim_faults));
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++) {
		cc.classes[i].reserve = 0;
		cc.classes[i].low = 0;
		cc.classes[i].high = 0;
	}
	cc.params.idle_ms = 0;
	cc_swiotlb_balance(&cc, true);
	check_state();
	for (i = 0; i < CC_SWIOTLB_NR_CLASSES; i++)
		CHECK(cc.classes[i].nr_chunks == 0, "class %zu kept chunks",
		      cc_swiotlb_class_size(&cc.classes[i]));
	cc_swiotlb_teardown(&cc);

	/* What is left is exactly what the provider leaked on purpose. */
	leaked_blocks = shim_nr_blocks;
	CHECK(leaked_blocks == (unsigned long)atomic_long_read(&cc.leaked),
	      "%lu blocks left, %ld leaked", leaked_blocks,
	      atomic_long_read(&cc.leaked));
	while (shim_nr_blocks)
		free(shim_blocks[--shim_nr_blocks].addr);
	free(live);
	free(src);

	printf("fuzz: %lu operations: %lu maps, %lu unmaps, %lu syncs\n",
	       op - 1, st.maps, st.unmaps, st.syncs);
	printf("fuzz: refused: %lu full (-ENOSPC), %lu too large, %lu out of reach\n",
	       st.enospc, st.e2big, st.erange);
	printf("fuzz: %lu bad unmaps caught, %lu passes of kccd, %lu state checks\n",
	       st.bad_unmaps, st.balances, st.checks);
	printf("fuzz: %lu chunks added, %lu returned, %lu leaked on failed conversions\n",
	       shim_trace_refill, shim_trace_shrink, leaked_blocks);
	printf("fuzz: pass\n");
	return 0;
}
