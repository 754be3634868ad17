// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared pool: KVM_HC_SHARED_POOL, KVM_CAP_SHARED_POOL and the
 * KVM_SHARED_POOL_* VM ioctls.
 *
 * A confidential guest asks the host for guest-physical regions that are
 * already shared, in bulk, instead of converting its own private pages for
 * its bounce buffers.  Grants come only from a window of guest-physical
 * space that the VMM backs with ordinary (non-guest_memfd) memslots, so a
 * grant is shared by construction.  KVM keeps one state per granule of the
 * window (free, pooled or held), serves ACQUIRE from the granules the VMM
 * pooled without leaving the kernel, and exits to the VMM when they cannot
 * serve it or when it is over the quota (so that the VMM sees, and can
 * report, every refusal of its policy); it checks the VMM's answer before
 * the guest sees it.
 * KVM never reads or writes the memory of a granule.
 *
 * See Documentation/virt/kvm/x86/hypercalls.rst and api.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kvm_host.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cpuid.h"
#include "x86.h"
#include "shared_pool.h"

/* The largest window, in granules: the state array is one byte each. */
#define KVM_SHARED_POOL_MAX_GRANULES	BIT_ULL(20)

/**
 * struct kvm_shared_pool - a VM's shared pool
 * @lock: protects every field below and the VM's shared_pool_* stats.
 *	  Taken under kvm->srcu, in vCPU context (the hypercall and its
 *	  completion) and by the VM ioctls; under kvm->lock by
 *	  KVM_CAP_SHARED_POOL.  No other lock is taken under it.
 * @shift: log2 of the granule size, in bytes.
 * @base: guest-physical address of the window's first granule.
 * @nr: granules in the window.
 * @quota: the most granules the guest may hold at once.
 * @held: granules in state KVM_SHARED_POOL_STATE_HELD.
 * @pooled: granules in state KVM_SHARED_POOL_STATE_POOLED.
 * @generation: bumped by every configuration and KVM_SHARED_POOL_RESET, so
 *		that the completion of an exit from before either refuses
 *		the VMM's answer.
 * @state: one KVM_SHARED_POOL_STATE_* per granule of the window.
 *
 * Allocated, configured and then published in kvm->arch.shared_pool by the
 * first KVM_CAP_SHARED_POOL, so a published pool is always configured
 * (@nr > 0); the pointer never changes until the VM is destroyed, and
 * reconfiguring replaces the fields under @lock.
 */
struct kvm_shared_pool {
	struct mutex lock;	/* see @lock above */
	unsigned int shift;
	gpa_t base;
	u64 nr;
	u64 quota;
	u64 held;
	u64 pooled;
	u64 generation;
	u8 *state;
};

static struct kvm_shared_pool *to_pool(struct kvm *kvm)
{
	/* Pairs with smp_store_release() in kvm_shared_pool_enable(). */
	return smp_load_acquire(&kvm->arch.shared_pool);
}

static void pool_update_stats(struct kvm *kvm, struct kvm_shared_pool *pool)
{
	kvm->stat.shared_pool_held_bytes = pool->held << pool->shift;
	kvm->stat.shared_pool_pooled_bytes = pool->pooled << pool->shift;
}

/* Move granules [first, first + n) to @to; they are all in one other state. */
static void pool_set(struct kvm *kvm, struct kvm_shared_pool *pool, u64 first,
		     u64 n, u8 to)
{
	u8 from = pool->state[first];
	u64 i;

	for (i = first; i < first + n; i++)
		pool->state[i] = to;

	if (from == KVM_SHARED_POOL_STATE_HELD)
		pool->held -= n;
	else if (from == KVM_SHARED_POOL_STATE_POOLED)
		pool->pooled -= n;
	if (to == KVM_SHARED_POOL_STATE_HELD)
		pool->held += n;
	else if (to == KVM_SHARED_POOL_STATE_POOLED)
		pool->pooled += n;
	pool_update_stats(kvm, pool);
}

static bool pool_all(struct kvm_shared_pool *pool, u64 first, u64 n, u8 state)
{
	u64 i;

	for (i = first; i < first + n; i++)
		if (pool->state[i] != state)
			return false;
	return true;
}

/*
 * Granule index of @gpa for a range of @n granules inside the window, or
 * -1 if @gpa is not granule-aligned or the range is not inside the window.
 */
static s64 pool_index(struct kvm_shared_pool *pool, u64 gpa, u64 n)
{
	u64 first;

	if (gpa < pool->base || gpa & ((1ULL << pool->shift) - 1))
		return -1;
	first = (gpa - pool->base) >> pool->shift;
	if (!n || first >= pool->nr || n > pool->nr - first)
		return -1;
	return first;
}

/*
 * Whether granules [first, first + n) may be shared with the guest: each
 * byte is in a valid memslot of address space 0 that is writable and has
 * no guest_memfd, and none is private.  Called under kvm->srcu.
 */
static bool pool_backed(struct kvm *kvm, struct kvm_shared_pool *pool,
			u64 first, u64 n)
{
	unsigned int gshift = pool->shift - PAGE_SHIFT;
	gfn_t start = gpa_to_gfn(pool->base) + (first << gshift);
	gfn_t end = start + (n << gshift);
	struct kvm_memory_slot *slot;
	gfn_t gfn = start;

	while (gfn < end) {
		slot = gfn_to_memslot(kvm, gfn);
		if (!slot || kvm_slot_can_be_private(slot) ||
		    slot->flags & (KVM_MEM_READONLY | KVM_MEMSLOT_INVALID))
			return false;
		gfn = slot->base_gfn + slot->npages;
	}
#ifdef CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES
	if (!kvm_range_has_memory_attributes(kvm, start, end,
					     KVM_MEMORY_ATTRIBUTE_PRIVATE, 0))
		return false;
#endif
	return true;
}

/* The lowest run of @n pooled granules, or -1; O(granules in the window). */
static s64 pool_find_pooled(struct kvm_shared_pool *pool, u64 n)
{
	u64 i, run = 0;

	if (pool->pooled < n)
		return -1;
	for (i = 0; i < pool->nr; i++) {
		run = pool->state[i] == KVM_SHARED_POOL_STATE_POOLED ? run + 1 : 0;
		if (run == n)
			return i + 1 - n;
	}
	return -1;
}

/*
 * The lowest run of @n pooled granules that is still backed, or -1.  A run
 * whose memslot the VMM deleted (a VMM bug) leaves the pool: it is free.
 */
static s64 pool_find_backed(struct kvm *kvm, struct kvm_shared_pool *pool,
			    u64 n)
{
	s64 first;

	while ((first = pool_find_pooled(pool, n)) >= 0) {
		if (pool_backed(kvm, pool, first, n))
			return first;
		pool_set(kvm, pool, first, n, KVM_SHARED_POOL_STATE_FREE);
	}
	return -1;
}

static gpa_t pool_gpa(struct kvm_shared_pool *pool, u64 first)
{
	return pool->base + (first << pool->shift);
}

static unsigned long pool_grant(struct kvm *kvm, struct kvm_shared_pool *pool,
				u64 first, u64 n)
{
	pool_set(kvm, pool, first, n, KVM_SHARED_POOL_STATE_HELD);
	kvm->stat.shared_pool_grants++;
	return pool_gpa(pool, first);
}

/**
 * kvm_shared_pool_complete_acquire - complete an ACQUIRE that exited
 * @vcpu: the vCPU, back from userspace
 *
 * Checks the VMM's answer in run->hypercall.ret against what the guest
 * asked for (kept in vcpu->arch, not taken from kvm_run again) and against
 * the pool as it is now; the guest gets the region or an error
 * (-KVM_E2BIG if it would hold more than its quota, whatever the answer).
 *
 * Return: as kvm_skip_emulated_instruction().
 */
int kvm_shared_pool_complete_acquire(struct kvm_vcpu *vcpu)
{
	struct kvm_shared_pool *pool = to_pool(vcpu->kvm);
	u64 answer = vcpu->run->hypercall.ret;
	u64 n = vcpu->arch.shared_pool_exit.count;
	unsigned long ret = -KVM_ENOMEM;
	s64 first;

	mutex_lock(&pool->lock);
	if (vcpu->arch.shared_pool_exit.generation != pool->generation)
		goto refuse;		/* reset or reconfigured meanwhile */
	if ((s64)answer < 0) {
		/* The VMM's own refusal: pass on the two the ABI allows. */
		if (answer == -KVM_E2BIG)
			ret = -KVM_E2BIG;
		goto refuse;
	}
	if (pool->held + n > pool->quota) {
		ret = -KVM_E2BIG;
		goto refuse;
	}
	first = pool_index(pool, answer, n);
	if (first < 0 ||
	    !pool_all(pool, first, n, KVM_SHARED_POOL_STATE_FREE) ||
	    !pool_backed(vcpu->kvm, pool, first, n))
		goto refuse;
	ret = pool_grant(vcpu->kvm, pool, first, n);
	goto out;
refuse:
	vcpu->kvm->stat.shared_pool_refusals++;
out:
	mutex_unlock(&pool->lock);
	kvm_rax_write(vcpu, ret);
	++vcpu->stat.hypercalls;
	return kvm_skip_emulated_instruction(vcpu);
}

static unsigned long pool_query(struct kvm_shared_pool *pool, unsigned long what)
{
	switch (what) {
	case KVM_SHARED_POOL_GRANULE:
		return 1UL << pool->shift;
	case KVM_SHARED_POOL_QUOTA:
		return pool->quota;
	case KVM_SHARED_POOL_WINDOW_BASE:
		return pool->base;
	case KVM_SHARED_POOL_WINDOW_SIZE:
		return pool->nr << pool->shift;
	case KVM_SHARED_POOL_HELD:
		return pool->held;
	default:
		return -KVM_EINVAL;
	}
}

static void shared_pool_exit(struct kvm_vcpu *vcpu, u64 n)
{
	struct kvm_run *run = vcpu->run;

	vcpu->arch.shared_pool_exit.count = n;
	vcpu->arch.shared_pool_exit.generation = to_pool(vcpu->kvm)->generation;
	run->exit_reason = KVM_EXIT_HYPERCALL;
	run->hypercall.nr = KVM_HC_SHARED_POOL;
	memset(run->hypercall.args, 0, sizeof(run->hypercall.args));
	run->hypercall.args[0] = KVM_SHARED_POOL_ACQUIRE;
	run->hypercall.args[1] = n;
	run->hypercall.ret = -KVM_ENOMEM;
	run->hypercall.flags = KVM_EXIT_HYPERCALL_LONG_MODE;
	vcpu->arch.complete_userspace_io = kvm_shared_pool_complete_acquire;
}

/**
 * kvm_shared_pool_hypercall - KVM_HC_SHARED_POOL
 * @vcpu: the calling vCPU, at CPL 0
 * @a0: the operation
 * @a1: its first argument
 * @a2: its second argument
 * @a3: reserved, must be zero
 * @op_64_bit: whether the guest called from 64-bit mode
 * @ret: the value for the guest's RAX, unless the call exits
 *
 * Context: vCPU context, under kvm->srcu; may sleep.
 * Return: true if the call exits to userspace with KVM_EXIT_HYPERCALL
 * (an ACQUIRE the pooled granules cannot serve, or over the quota), false
 * if it completed and @ret holds the result.
 */
bool kvm_shared_pool_hypercall(struct kvm_vcpu *vcpu, unsigned long a0,
			       unsigned long a1, unsigned long a2,
			       unsigned long a3, int op_64_bit,
			       unsigned long *ret)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_shared_pool *pool = to_pool(kvm);
	bool exit = false;
	s64 first;

	if (!pool || !guest_pv_has(vcpu, KVM_FEATURE_SHARED_POOL) ||
	    !(kvm->arch.hypercall_exit_enabled & BIT(KVM_HC_SHARED_POOL))) {
		*ret = -KVM_ENOSYS;
		return false;
	}

	mutex_lock(&pool->lock);
	*ret = -KVM_EINVAL;
	if (!op_64_bit || a3)
		goto out;

	switch (a0) {
	case KVM_SHARED_POOL_QUERY:
		if (!a2)
			*ret = pool_query(pool, a1);
		break;
	case KVM_SHARED_POOL_ACQUIRE:
		if (a2 || !a1 || a1 > pool->quota)
			break;
		if (pool->held + a1 <= pool->quota) {
			first = pool_find_backed(kvm, pool, a1);
			if (first >= 0) {
				*ret = pool_grant(kvm, pool, first, a1);
				break;
			}
		}
		/*
		 * Let the VMM find, back and answer with free granules, or
		 * refuse a request over the quota with -KVM_E2BIG: the quota
		 * is its policy, and it reports the refusal.
		 */
		kvm->stat.shared_pool_exits++;
		shared_pool_exit(vcpu, a1);
		exit = true;
		break;
	case KVM_SHARED_POOL_RELEASE:
		first = pool_index(pool, a1, a2);
		if (first < 0)
			break;
		if (!pool_all(pool, first, a2, KVM_SHARED_POOL_STATE_HELD)) {
			*ret = -KVM_EFAULT;
			break;
		}
		pool_set(kvm, pool, first, a2, KVM_SHARED_POOL_STATE_POOLED);
		kvm->stat.shared_pool_releases += a2;
		*ret = 0;
		break;
	case KVM_SHARED_POOL_RELEASE_ALL:
		if (a1 || a2)
			break;
		*ret = pool->held;
		kvm->stat.shared_pool_releases += pool->held;
		for (first = 0; first < pool->nr; first++)
			if (pool->state[first] == KVM_SHARED_POOL_STATE_HELD)
				pool_set(kvm, pool, first, 1,
					 KVM_SHARED_POOL_STATE_POOLED);
		break;
	default:
		break;
	}
out:
	if (!exit && (long)*ret < 0)
		kvm->stat.shared_pool_refusals++;
	mutex_unlock(&pool->lock);
	return exit;
}

/**
 * kvm_shared_pool_enable - KVM_CAP_SHARED_POOL
 * @kvm: the VM
 * @cap: args[0] granule size, args[1] window base, args[2] window size,
 *	 args[3] quota in granules
 *
 * Return: 0, -EINVAL for a bad argument, -EBUSY if granules are pooled or
 * held, -ENOMEM.
 */
int kvm_shared_pool_enable(struct kvm *kvm, struct kvm_enable_cap *cap)
{
	u64 granule = cap->args[0], base = cap->args[1], size = cap->args[2];
	u64 quota = cap->args[3], nr;
	struct kvm_shared_pool *pool;
	bool fresh = false;
	u8 *state, *old;
	int r;

	if (!is_power_of_2(granule) || granule < PAGE_SIZE || granule > SZ_1G ||
	    !IS_ALIGNED(base, granule) || !size || !IS_ALIGNED(size, granule) ||
	    base + size < base || base + size > BIT_ULL(52))
		return -EINVAL;
	nr = size / granule;
	if (nr > KVM_SHARED_POOL_MAX_GRANULES || !quota || quota > nr)
		return -EINVAL;

	state = kvzalloc(nr, GFP_KERNEL_ACCOUNT);
	if (!state)
		return -ENOMEM;

	mutex_lock(&kvm->lock);
	pool = kvm->arch.shared_pool;
	if (!pool) {
		pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
		if (!pool) {
			r = -ENOMEM;
			goto out_unlock;
		}
		mutex_init(&pool->lock);
		fresh = true;
	}

	mutex_lock(&pool->lock);
	if (pool->held || pool->pooled) {
		mutex_unlock(&pool->lock);
		r = -EBUSY;
		goto out_unlock;
	}
	old = pool->state;
	pool->state = state;
	pool->shift = ilog2(granule);
	pool->base = base;
	pool->nr = nr;
	pool->quota = quota;
	pool->generation++;
	pool_update_stats(kvm, pool);
	mutex_unlock(&pool->lock);
	if (fresh)	/* configured, then published: pairs with to_pool() */
		smp_store_release(&kvm->arch.shared_pool, pool);
	mutex_unlock(&kvm->lock);
	kvfree(old);
	return 0;

out_unlock:
	mutex_unlock(&kvm->lock);
	kvfree(state);
	return r;
}

/* KVM_SHARED_POOL_ADD and KVM_SHARED_POOL_REMOVE, under kvm->srcu. */
static int pool_add_remove(struct kvm *kvm, struct kvm_shared_pool *pool,
			   struct kvm_shared_pool_range *range, bool add)
{
	s64 first;
	u64 n;

	if (range->flags || range->pad ||
	    !IS_ALIGNED(range->size, 1ULL << pool->shift))
		return -EINVAL;
	n = range->size >> pool->shift;
	first = pool_index(pool, range->gpa, n);
	if (first < 0)
		return -EINVAL;

	if (!pool_all(pool, first, n, add ? KVM_SHARED_POOL_STATE_FREE :
					    KVM_SHARED_POOL_STATE_POOLED))
		return -EBUSY;
	if (add && !pool_backed(kvm, pool, first, n))
		return -ENOENT;
	pool_set(kvm, pool, first, n, add ? KVM_SHARED_POOL_STATE_POOLED :
					    KVM_SHARED_POOL_STATE_FREE);
	return 0;
}

/*
 * KVM_SHARED_POOL_GET_STATE: copy the states under the lock, and out to
 * userspace after it, so that a slow user buffer stalls no vCPU.
 */
static int pool_get_state(struct kvm_shared_pool *pool, void __user *argp)
{
	struct kvm_shared_pool_state st;
	int r = 0;
	u8 *buf;

	if (copy_from_user(&st, argp, sizeof(st)))
		return -EFAULT;
	if (st.flags || !st.count || st.count > KVM_SHARED_POOL_MAX_GRANULES)
		return -EINVAL;
	buf = kvmalloc(st.count, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;

	mutex_lock(&pool->lock);
	if (st.first >= pool->nr || st.count > pool->nr - st.first)
		r = -EINVAL;
	else
		memcpy(buf, pool->state + st.first, st.count);
	mutex_unlock(&pool->lock);

	if (!r && copy_to_user(u64_to_user_ptr(st.states), buf, st.count))
		r = -EFAULT;
	kvfree(buf);
	return r;
}

static long pool_reset(struct kvm *kvm, struct kvm_shared_pool *pool)
{
	long held = pool->held;

	memset(pool->state, KVM_SHARED_POOL_STATE_FREE, pool->nr);
	pool->held = 0;
	pool->pooled = 0;
	pool->generation++;
	pool_update_stats(kvm, pool);
	return held;
}

/**
 * kvm_shared_pool_ioctl - the KVM_SHARED_POOL_* VM ioctls
 * @kvm: the VM
 * @ioctl: KVM_SHARED_POOL_ADD, _REMOVE, _GET_STATE or _RESET
 * @argp: the ioctl's argument
 *
 * Takes kvm->srcu, then the pool's lock, in the order of the vCPU path.
 *
 * Return: >= 0 on success (RESET: the granules that were held), -ENXIO if
 * the pool is not configured, -EINVAL if an argument is bad, -EBUSY if a
 * granule is in the wrong state, -ENOENT if one is not backed as it must
 * be, -EFAULT, -ENOMEM.
 */
long kvm_shared_pool_ioctl(struct kvm *kvm, unsigned int ioctl,
			   void __user *argp)
{
	struct kvm_shared_pool *pool = to_pool(kvm);
	struct kvm_shared_pool_range range;
	long r;
	int idx;

	if (!pool)
		return -ENXIO;
	if (ioctl == KVM_SHARED_POOL_GET_STATE)
		return pool_get_state(pool, argp);
	if (ioctl != KVM_SHARED_POOL_RESET &&
	    copy_from_user(&range, argp, sizeof(range)))
		return -EFAULT;

	idx = srcu_read_lock(&kvm->srcu);
	mutex_lock(&pool->lock);
	if (ioctl == KVM_SHARED_POOL_RESET)
		r = pool_reset(kvm, pool);
	else
		r = pool_add_remove(kvm, pool, &range,
				    ioctl == KVM_SHARED_POOL_ADD);
	mutex_unlock(&pool->lock);
	srcu_read_unlock(&kvm->srcu, idx);
	return r;
}

/**
 * kvm_shared_pool_destroy - free a VM's shared pool
 * @kvm: the VM, with no vCPU left
 */
void kvm_shared_pool_destroy(struct kvm *kvm)
{
	struct kvm_shared_pool *pool = kvm->arch.shared_pool;

	if (!pool)
		return;
	mutex_destroy(&pool->lock);
	kvfree(pool->state);
	kfree(pool);
	kvm->arch.shared_pool = NULL;
}
