// SPDX-License-Identifier: GPL-2.0
/*
 * The user-space side of shim/shim.h: simulated CPUs, an xarray, memory
 * with fault injection, and the part of swiotlb's bounce core that
 * cc-swiotlb calls.
 */
#include <stdarg.h>

#include "shim/shim.h"
#include "shim.h"
#include "../../../kernel/dma/swiotlb.h"

int shim_cpu;
bool shim_irqs_off[SHIM_NR_CPUS];
unsigned long jiffies = 1000;
unsigned long shim_messages;
unsigned long shim_trace_map_fail, shim_trace_refill, shim_trace_shrink;
int shim_verbose;
struct shim_faults shim_faults;
static u64 shim_rng_state = 1;

void shim_seed(u64 seed)
{
	shim_rng_state = seed * 2654435761u + 1;
}

u64 shim_rand(void)
{
	/* xorshift64* */
	shim_rng_state ^= shim_rng_state >> 12;
	shim_rng_state ^= shim_rng_state << 25;
	shim_rng_state ^= shim_rng_state >> 27;
	return shim_rng_state * 0x2545f4914f6cdd1dull;
}

static bool shim_fail(unsigned int pct)
{
	return pct && shim_rand() % 100 < pct;
}

void shim_msg(const char *fmt, ...)
{
	va_list ap;

	shim_messages++;
	if (!shim_verbose)
		return;
	/* The kernel's own formats (%pa) are not printf's: print them raw. */
	va_start(ap, fmt);
	fprintf(stderr, "kernel: %s", fmt);
	va_end(ap);
}

void dev_warn_ratelimited(struct device *dev, const char *fmt, ...)
{
	shim_msg(fmt);
}

void dev_err_ratelimited(struct device *dev, const char *fmt, ...)
{
	shim_msg(fmt);
}

int *shim_cpu_first(int *cpu)
{
	*cpu = 0;
	return cpu;
}

/* The copies are aligned like malloc()'s blocks. */
#define PERCPU_HDR 16

void *shim_alloc_percpu(size_t size)
{
	char *p = calloc(1, PERCPU_HDR + SHIM_NR_CPUS * size);

	if (!p)
		return NULL;
	*(size_t *)p = size;
	return p + PERCPU_HDR;
}

void shim_free_percpu(void *p)
{
	if (p)
		free((char *)p - PERCPU_HDR);
}

void *shim_per_cpu_ptr(void *p, int cpu)
{
	assert(cpu >= 0 && cpu < SHIM_NR_CPUS);
	return (char *)p + cpu * *(size_t *)((char *)p - PERCPU_HDR);
}

void *shim_this_cpu_ptr(void *p)
{
	assert(shim_irqs_off[shim_cpu]);
	return shim_per_cpu_ptr(p, shim_cpu);
}

void raw_spin_lock_init(raw_spinlock_t *l)
{
	l->held = false;
}

void raw_spin_lock(raw_spinlock_t *l)
{
	assert(shim_irqs_off[shim_cpu] && !l->held);
	l->held = true;
}

void raw_spin_unlock(raw_spinlock_t *l)
{
	assert(l->held);
	l->held = false;
}

void raw_spin_lock_irq(raw_spinlock_t *l)
{
	assert(!shim_irqs_off[shim_cpu]);
	shim_irqs_off[shim_cpu] = true;
	raw_spin_lock(l);
}

void raw_spin_unlock_irq(raw_spinlock_t *l)
{
	raw_spin_unlock(l);
	shim_irqs_off[shim_cpu] = false;
}

void mutex_init(struct mutex *m)
{
	m->held = false;
}

void mutex_lock(struct mutex *m)
{
	assert(!m->held);
	m->held = true;
}

void mutex_unlock(struct mutex *m)
{
	assert(m->held);
	m->held = false;
}

void xa_init(struct xarray *xa)
{
	xa->bucket = NULL;
	xa->nr = 0;
}

void on_each_cpu(void (*fn)(void *), void *info, int wait)
{
	int saved = shim_cpu, cpu;

	for (cpu = 0; cpu < SHIM_NR_CPUS; cpu++) {
		/* An IPI arrives only where interrupts are on. */
		assert(!shim_irqs_off[cpu]);
		shim_cpu = cpu;
		shim_irqs_off[cpu] = true;
		fn(info);
		shim_irqs_off[cpu] = false;
	}
	shim_cpu = saved;
}

/* The xarray: chained hash buckets. */
#define XA_BUCKETS 4096
struct shim_xa_node {
	unsigned long index;
	void *entry;
	struct shim_xa_node *next;
};

void *xa_load(struct xarray *xa, unsigned long index)
{
	struct shim_xa_node *n;

	if (!xa->bucket)
		return NULL;
	for (n = xa->bucket[index % XA_BUCKETS]; n; n = n->next)
		if (n->index == index)
			return n->entry;
	return NULL;
}

void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)
{
	struct shim_xa_node *n;
	void *old;

	if (shim_fail(shim_faults.xa_store_pct))
		return ERR_PTR(-ENOMEM);
	if (!xa->bucket) {
		xa->bucket = calloc(XA_BUCKETS, sizeof(*xa->bucket));
		assert(xa->bucket);
	}
	for (n = xa->bucket[index % XA_BUCKETS]; n; n = n->next)
		if (n->index == index) {
			old = n->entry;
			n->entry = entry;
			return old;
		}
	n = malloc(sizeof(*n));
	assert(n);
	n->index = index;
	n->entry = entry;
	n->next = xa->bucket[index % XA_BUCKETS];
	xa->bucket[index % XA_BUCKETS] = n;
	xa->nr++;
	return NULL;
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	struct shim_xa_node **p, *n;
	void *old;

	if (!xa->bucket)
		return NULL;
	for (p = &xa->bucket[index % XA_BUCKETS]; (n = *p); p = &n->next)
		if (n->index == index) {
			old = n->entry;
			*p = n->next;
			free(n);
			xa->nr--;
			return old;
		}
	return NULL;
}

void xa_destroy(struct xarray *xa)
{
	struct shim_xa_node *n, *next;
	int b;

	if (!xa->bucket)
		return;
	for (b = 0; b < XA_BUCKETS; b++)
		for (n = xa->bucket[b]; n; n = next) {
			next = n->next;
			free(n);
		}
	free(xa->bucket);
	xa->bucket = NULL;
	xa->nr = 0;
}

void *kzalloc(size_t size, gfp_t gfp)
{
	return shim_fail(shim_faults.kalloc_pct) ? NULL : calloc(1, size);
}

void kfree(const void *p)
{
	free((void *)p);
}

void *kvcalloc(size_t n, size_t size, gfp_t gfp)
{
	return shim_fail(shim_faults.kalloc_pct) ? NULL : calloc(n, size);
}

void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	return shim_fail(shim_faults.kalloc_pct) ? NULL : malloc(n * size);
}

/* Every block of pages, with its state, until it is freed. */
struct shim_block shim_blocks[SHIM_MAX_BLOCKS];
int shim_nr_blocks;

struct shim_block *shim_block_of(const void *addr)
{
	int i;

	for (i = 0; i < shim_nr_blocks; i++)
		if ((const char *)addr >= (char *)shim_blocks[i].addr &&
		    (const char *)addr < (char *)shim_blocks[i].addr +
					 shim_blocks[i].size)
			return &shim_blocks[i];
	return NULL;
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	size_t size = PAGE_SIZE << order;
	void *p;

	if (shim_fail(shim_faults.pages_pct) ||
	    (order >= 9 && shim_fail(shim_faults.large_pages_pct)) ||
	    shim_nr_blocks == SHIM_MAX_BLOCKS)
		return NULL;
	p = aligned_alloc(size, size);
	assert(p);
	/* Old contents, as the page allocator would leave them. */
	memset(p, 0xa5, size);
	if (gfp & __GFP_ZERO)
		memset(p, 0, size);
	shim_blocks[shim_nr_blocks++] = (struct shim_block){ p, size, false };
	return (struct page *)p;
}

void __free_pages(struct page *page, unsigned int order)
{
	struct shim_block *b = shim_block_of(page);

	assert(b && b->addr == (void *)page && b->size == PAGE_SIZE << order);
	/* Shared memory must never go back to the page allocator. */
	assert(!b->shared);
	free(b->addr);
	*b = shim_blocks[--shim_nr_blocks];
}

static int shim_set_shared(unsigned long addr, int numpages, bool shared,
			   unsigned int fail_pct)
{
	struct shim_block *b = shim_block_of((void *)addr);

	assert(b && b->addr == (void *)addr &&
	       b->size == (size_t)numpages * PAGE_SIZE);
	assert(b->shared != shared);
	if (shim_fail(fail_pct)) {
		/* Half done: its state is unknown, as on real hardware. */
		b->shared = true;
		return -EIO;
	}
	b->shared = shared;
	return 0;
}

int set_memory_decrypted(unsigned long addr, int numpages)
{
	return shim_set_shared(addr, numpages, true, shim_faults.decrypt_pct);
}

int set_memory_encrypted(unsigned long addr, int numpages)
{
	return shim_set_shared(addr, numpages, false, shim_faults.encrypt_pct);
}

unsigned long long memparse(const char *s, char **end)
{
	unsigned long long v = strtoull(s, end, 0);

	switch (**end) {
	case 'G':
	case 'g':
		v <<= 10;
		fallthrough;
	case 'M':
	case 'm':
		v <<= 10;
		fallthrough;
	case 'K':
	case 'k':
		v <<= 10;
		(*end)++;
		break;
	}
	return v;
}

int kstrtouint(const char *s, unsigned int base, unsigned int *res)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > UINT_MAX)
		return -EINVAL;
	*res = v;
	return 0;
}

/*
 * swiotlb's bounce core, as far as cc-swiotlb uses it: record the mapping
 * in its slots and copy the buffer in (kernel/dma/swiotlb.c does the same
 * for any slot size).
 */
phys_addr_t swiotlb_pool_map(struct device *dev, struct io_tlb_pool *pool,
			     unsigned int index, phys_addr_t orig_addr,
			     size_t alloc_size, unsigned int offset,
			     size_t mapping_size)
{
	unsigned int shift = pool->slot_shift, pad = offset >> shift, i;
	phys_addr_t tlb;

	offset &= (1U << shift) - 1;
	index += pad;
	assert(index < pool->nslabs);
	pool->slots[index].pad_slots = pad;
	for (i = 0; i < DIV_ROUND_UP(alloc_size, 1UL << shift) - pad; i++)
		pool->slots[index + i].orig_addr = orig_addr +
						   ((phys_addr_t)i << shift);
	tlb = pool->start + ((phys_addr_t)index << shift) + offset;
	assert(tlb + mapping_size <= pool->end);
	memcpy(phys_to_virt(tlb), phys_to_virt(orig_addr), mapping_size);
	return tlb;
}

void swiotlb_bounce(struct device *dev, phys_addr_t tlb_addr, size_t size,
		    enum dma_data_direction dir, struct io_tlb_pool *mem)
{
	assert(tlb_addr >= mem->start && tlb_addr + size <= mem->end);
}
