/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel for kernel/dma/cc_swiotlb.c to run in user
 * space, single-threaded, under ASan and UBSan.  Types, lists and the
 * usual helpers come from tools/include; the rest is here.
 *
 * CPUs are simulated: shim_cpu is "the current CPU", which the fuzzer moves
 * at will (a task migrating between map and unmap), and on_each_cpu() runs
 * its function on each in turn.  Interrupts and locks are flags, so that
 * the fuzzer can check that every magazine access happens with interrupts
 * off and that locks are neither recursive nor left held.  Page allocation,
 * the kernel allocators, set_memory_*() and xa_store() can be made to fail.
 */
#ifndef _CC_SWIOTLB_SHIM_H
#define _CC_SWIOTLB_SHIM_H

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kernel.h>
#include <linux/types.h>
#include <linux/list.h>
#include <linux/align.h>
#include <linux/err.h>
#include <linux/init.h>
#include <linux/sizes.h>
#include <vdso/bits.h>

#define CONFIG_CC_SWIOTLB 1
#define CONFIG_SWIOTLB_DYNAMIC 1
#define SHIM_NR_CPUS 4

#define __percpu
#define PAGE_SHIFT	12
#define PAGE_SIZE	BIT(PAGE_SHIFT)
/* One thread: a full barrier is all a barrier can be here. */
#define smp_mb()	__sync_synchronize()
#define cmpxchg(p, o, n) __sync_val_compare_and_swap(p, o, n)

static inline size_t max3(size_t a, size_t b, size_t c)
{
	return max(max(a, b), c);
}

static inline u64 min_not_zero(u64 a, u64 b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return min(a, b);
}

static inline unsigned int order_base_2(unsigned long n)
{
	return n > 1 ? 64 - __builtin_clzl(n - 1) : 0;
}

/* Messages: counted; printed with -v. */
extern unsigned long shim_messages;
extern int shim_verbose;
void shim_msg(const char *fmt, ...);
#define pr_info		shim_msg
#define pr_warn		shim_msg
#define pr_err		shim_msg
#define pr_warn_ratelimited shim_msg

/* Simulated CPUs and interrupts. */
extern int shim_cpu;
extern bool shim_irqs_off[SHIM_NR_CPUS];
int *shim_cpu_first(int *cpu);
#define for_each_possible_cpu(c) \
	for (int *__cpu = shim_cpu_first(&(c)); *__cpu < SHIM_NR_CPUS; ++*__cpu)
#define local_irq_save(f) do {						\
	(f) = shim_irqs_off[shim_cpu];					\
	shim_irqs_off[shim_cpu] = true;					\
} while (0)
#define local_irq_restore(f)	(shim_irqs_off[shim_cpu] = (f))
/* Per-CPU data: an array of SHIM_NR_CPUS copies, its size in front. */
void *shim_alloc_percpu(size_t size);
void shim_free_percpu(void *p);
void *shim_per_cpu_ptr(void *p, int cpu);
/* A CPU's per-CPU data is touched only with its interrupts off. */
void *shim_this_cpu_ptr(void *p);
#define alloc_percpu(type)	shim_alloc_percpu(sizeof(type))
#define free_percpu(p)		shim_free_percpu(p)
#define this_cpu_ptr(p)		shim_this_cpu_ptr(p)
#define per_cpu_ptr(p, c)	shim_per_cpu_ptr(p, c)
void on_each_cpu(void (*fn)(void *), void *info, int wait);

/* Atomics: one thread. */
static inline long atomic_long_read(atomic_long_t *v)
{
	return v->counter;
}

static inline void atomic_long_add(long i, atomic_long_t *v)
{
	v->counter += i;
}

static inline void atomic_long_sub(long i, atomic_long_t *v)
{
	v->counter -= i;
}

static inline void atomic_long_inc(atomic_long_t *v)
{
	v->counter++;
}

/* Locks: flags that catch recursion, imbalance and interrupts left on. */
struct shim_raw_spinlock {
	bool held;
};

#define raw_spinlock_t	struct shim_raw_spinlock

struct mutex {
	bool held;
};

void raw_spin_lock_init(raw_spinlock_t *l);
void raw_spin_lock(raw_spinlock_t *l);
void raw_spin_unlock(raw_spinlock_t *l);
void raw_spin_lock_irq(raw_spinlock_t *l);
void raw_spin_unlock_irq(raw_spinlock_t *l);
#define raw_spin_lock_irqsave(l, f) do {				\
	local_irq_save(f);						\
	raw_spin_lock(l);						\
} while (0)
#define raw_spin_unlock_irqrestore(l, f) do {				\
	raw_spin_unlock(l);						\
	local_irq_restore(f);						\
} while (0)
void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
#define lockdep_assert_held(m)	assert((m)->held)
static inline void cond_resched(void)
{
}

/* Time. */
extern unsigned long jiffies;
#define msecs_to_jiffies(m)	((unsigned long)(m))
#define time_before(a, b)	((long)((a) - (b)) < 0)

/* Wait queues, irq_work, kthreads: kccd never runs here. */
struct wait_queue_head {
	int unused;
};

#define wait_queue_head_t	struct wait_queue_head
static inline void init_waitqueue_head(struct wait_queue_head *w)
{
}

static inline void wake_up(struct wait_queue_head *w)
{
}

#define wait_event_interruptible_timeout(w, c, t) \
	((void)(w), (void)(c), (void)(t))
struct irq_work {
	void (*func)(struct irq_work *work);
};

static inline void init_irq_work(struct irq_work *w,
				 void (*f)(struct irq_work *work))
{
	w->func = f;
}

/* Runs at once: it only sets a flag and wakes kccd. */
static inline bool irq_work_queue(struct irq_work *w)
{
	w->func(w);
	return true;
}

static inline void irq_work_sync(struct irq_work *w)
{
}

struct task_struct;
#define kthread_should_stop()	false
#define kthread_run(fn, data, name) \
	((void)(fn), (void)(data), (void)(name), \
	 (struct task_struct *)ERR_PTR(-ENOMEM))

/* Static keys. */
struct static_key_false {
	bool enabled;
};

#define DEFINE_STATIC_KEY_FALSE(k)	struct static_key_false k
#define DECLARE_STATIC_KEY_FALSE(k)	extern struct static_key_false k
#define static_branch_unlikely(k)	((k)->enabled)
#define static_branch_enable(k)		((k)->enabled = true)

/* Init calls and parameters: nothing calls them but the fuzzer. */
#define subsys_initcall(f) \
	static int (*__shim_init_##f)(void) __maybe_unused = f
static inline bool str_has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

unsigned long long memparse(const char *s, char **end);
int kstrtouint(const char *s, unsigned int base, unsigned int *res);

/* A small xarray: a hash table of index -> entry; xa_store() can fail. */
struct shim_xa_node;
struct xarray {
	struct shim_xa_node **bucket;
	unsigned long nr;
};

void xa_init(struct xarray *xa);
void *xa_load(struct xarray *xa, unsigned long index);
void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp);
void *xa_erase(struct xarray *xa, unsigned long index);
void xa_destroy(struct xarray *xa);
static inline int xa_err(void *entry)
{
	return IS_ERR(entry) ? (int)PTR_ERR(entry) : 0;
}

/* Memory: allocators that can fail, pages as aligned heap blocks. */
#define __GFP_ZERO	0x100u
#define __GFP_NOWARN	0x200u
#define __GFP_NORETRY	0x400u
void *kzalloc(size_t size, gfp_t gfp);
void kfree(const void *p);
void *kvcalloc(size_t n, size_t size, gfp_t gfp);
void *kvmalloc_array(size_t n, size_t size, gfp_t gfp);
#define kvfree(p)	kfree(p)
struct page *alloc_pages(gfp_t gfp, unsigned int order);
void __free_pages(struct page *page, unsigned int order);
#define page_address(p)		((void *)(p))
#define page_to_phys(p)		((phys_addr_t)(uintptr_t)(p))
#define virt_to_page(v)		((struct page *)(v))
#define phys_to_virt(p)		((void *)(uintptr_t)(p))
#define virt_to_phys(v)		((phys_addr_t)(uintptr_t)(v))
int set_memory_decrypted(unsigned long addr, int numpages);
int set_memory_encrypted(unsigned long addr, int numpages);

/* Devices and the DMA API. */
enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,
	DMA_FROM_DEVICE = 2,
	DMA_NONE = 3,
};

#define DMA_MAPPING_ERROR	(~(u64)0)
static inline u64 shim_dma_bit_mask(unsigned int n)
{
	return n == 64 ? ~0ULL : (1ULL << n) - 1;
}

#define DMA_BIT_MASK(n)		shim_dma_bit_mask(n)
#define DMA_ATTR_SKIP_CPU_SYNC	BIT(5)
#define DMA_ATTR_NO_WARN	BIT(8)
struct device {
	const char *name;
	u64 *dma_mask;
	u64 bus_dma_limit;
	unsigned int min_align_mask;
	bool dma_uses_io_tlb;
};

static inline unsigned int dma_get_min_align_mask(struct device *dev)
{
	return dev->min_align_mask;
}

static inline u64 dma_get_mask(struct device *dev)
{
	return *dev->dma_mask;
}

static inline u64 phys_to_dma_unencrypted(struct device *dev, phys_addr_t p)
{
	return p;
}

void dev_warn_ratelimited(struct device *dev, const char *fmt, ...);
void dev_err_ratelimited(struct device *dev, const char *fmt, ...);

/* What swiotlb provides: the pool, and the bounce core (shim.c). */
struct io_tlb_slot;
struct io_tlb_pool {
	phys_addr_t start;
	phys_addr_t end;
	void *vaddr;
	unsigned long nslabs;
	unsigned int slot_shift;
	bool late_alloc;
	unsigned int nareas;
	unsigned int area_nslabs;
	void *areas;
	struct io_tlb_slot *slots;
	bool cc_chunk;
};

static inline bool is_swiotlb_allocated(void)
{
	return true;
}

#define CC_ATTR_GUEST_MEM_ENCRYPT	0
static inline bool cc_platform_has(int attr)
{
	return false;
}

#endif /* _CC_SWIOTLB_SHIM_H */
