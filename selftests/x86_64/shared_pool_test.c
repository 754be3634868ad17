// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_HC_SHARED_POOL from both ends: guest code issues the hypercall, and
 * KVM and this test's VMM answer it (Documentation/virt/kvm/x86/
 * hypercalls.rst, "KVM_HC_SHARED_POOL").
 *
 *  - KVM_ENABLE_CAP(KVM_CAP_SHARED_POOL) and the KVM_SHARED_POOL_* ioctls
 *    refuse every bad argument;
 *  - the guest gets -KVM_ENOSYS until the pool is configured, the exit is
 *    enabled and, with KVM_CAP_ENFORCE_PV_FEATURE_CPUID, the CPUID bit set;
 *    the queries return what the VMM configured; every bad input gets its
 *    documented error; CPL 3 gets -KVM_EPERM;
 *  - ACQUIRE through the exit path and through the in-kernel path (with no
 *    exit), RELEASE of a part, RELEASE_ALL, acquire again after release;
 *  - KVM's completion refuses VMM answers that are misaligned, outside the
 *    window, held, pooled, unbacked or over the quota;
 *  - an ACQUIRE over the quota goes to the VMM, and the guest gets
 *    -KVM_E2BIG whatever the VMM answers;
 *  - data written into a grant by either side is seen by the other;
 *  - on a KVM_X86_SW_PROTECTED_VM, KVM refuses private and guest_memfd
 *    granules, and a grant stays shared;
 *  - several vCPUs acquire and release concurrently: no granule is lost or
 *    granted twice, and the binary stats agree.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define GRANULE		0x200000ull		/* 2 MiB */
#define WIN_GPA		0x140000000ull		/* 5 GiB, clear of guest RAM */
#define WIN_GRANULES	8ull
#define WIN_SIZE	(WIN_GRANULES * GRANULE)
#define WIN_SLOT	10
#define WIN_SLOT2	12
#define QUOTA		4ull

#define G(i)		(WIN_GPA + (i) * GRANULE)

/*
 * The window's memory: one memslot from a granule below the window to
 * granule 5, another over granule 7 and a granule past the window, so that
 * granule 6 alone is not backed and answers just outside the window are
 * refused for being outside, not for being unbacked.
 */
static void add_window_slots(struct kvm_vm *vm)
{
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, G(-1), WIN_SLOT,
				    7 * GRANULE / getpagesize(), 0);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, G(7), WIN_SLOT2,
				    2 * GRANULE / getpagesize(), 0);
}

#define PATTERN_GUEST	0x6775657374ull
#define PATTERN_HOST	0x686f7374ull

static uint64_t hc(uint64_t op, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return kvm_hypercall(KVM_HC_SHARED_POOL, op, a1, a2, a3);
}

struct bad_input {
	uint64_t op, a1, a2, a3;
	uint64_t want;
};

/* Checked with granules 1-2 held, nothing pooled (quota 4). */
static const struct bad_input bad_inputs[] = {
	{ KVM_SHARED_POOL_QUERY, 5, 0, 0, -KVM_EINVAL },	/* unknown query */
	{ KVM_SHARED_POOL_QUERY, 0, 1, 0, -KVM_EINVAL },	/* reserved a2 */
	{ KVM_SHARED_POOL_QUERY, 0, 0, 1, -KVM_EINVAL },	/* reserved a3 */
	{ 4, 0, 0, 0, -KVM_EINVAL },				/* unknown op */
	{ -1ull, 0, 0, 0, -KVM_EINVAL },			/* unknown op */
	{ KVM_SHARED_POOL_ACQUIRE, 0, 0, 0, -KVM_EINVAL },	/* zero */
	{ KVM_SHARED_POOL_ACQUIRE, QUOTA + 1, 0, 0, -KVM_EINVAL }, /* > quota */
	{ KVM_SHARED_POOL_ACQUIRE, -1ull, 0, 0, -KVM_EINVAL },
	{ KVM_SHARED_POOL_ACQUIRE, 1, 1, 0, -KVM_EINVAL },	/* reserved a2 */
	{ KVM_SHARED_POOL_RELEASE, G(1), 0, 0, -KVM_EINVAL },	/* zero */
	{ KVM_SHARED_POOL_RELEASE, G(1) + 0x1000, 1, 0, -KVM_EINVAL },
	{ KVM_SHARED_POOL_RELEASE, G(1), 1, 1, -KVM_EINVAL },	/* reserved a3 */
	{ KVM_SHARED_POOL_RELEASE, WIN_GPA - GRANULE, 1, 0, -KVM_EINVAL },
	{ KVM_SHARED_POOL_RELEASE, G(WIN_GRANULES), 1, 0, -KVM_EINVAL },
	{ KVM_SHARED_POOL_RELEASE, G(7), 2, 0, -KVM_EINVAL },	/* runs past */
	{ KVM_SHARED_POOL_RELEASE, G(1), -1ull, 0, -KVM_EINVAL }, /* wraps */
	{ KVM_SHARED_POOL_RELEASE, G(0), 1, 0, -KVM_EFAULT },	/* not held */
	{ KVM_SHARED_POOL_RELEASE, G(1), 3, 0, -KVM_EFAULT },	/* 3 not held */
	{ KVM_SHARED_POOL_RELEASE_ALL, 1, 0, 0, -KVM_EINVAL },	/* reserved */
	{ KVM_SHARED_POOL_RELEASE_ALL, 0, 1, 0, -KVM_EINVAL },
};

struct bad_answer {
	uint64_t answer;
	uint64_t want;
};

/*
 * The VMM's answers to an ACQUIRE of 2 granules, with granules 1-2 held and
 * granule 3 pooled; KVM must refuse all but the two errors it passes on.
 */
static const struct bad_answer bad_answers[] = {
	{ G(4) + 0x1000, -KVM_ENOMEM },		/* misaligned */
	{ G(-1), -KVM_ENOMEM },			/* starts below the window */
	{ G(7), -KVM_ENOMEM },			/* runs past the window */
	{ 0, -KVM_ENOMEM },			/* guest RAM */
	{ G(1), -KVM_ENOMEM },			/* held */
	{ G(2), -KVM_ENOMEM },			/* half held */
	{ G(3), -KVM_ENOMEM },			/* half pooled */
	{ G(6), -KVM_ENOMEM },			/* first half not backed */
	{ G(5), -KVM_ENOMEM },			/* second half not backed */
	{ -KVM_EINVAL, -KVM_ENOMEM },		/* not for the guest */
	{ -KVM_ENOMEM, -KVM_ENOMEM },
	{ -KVM_E2BIG, -KVM_E2BIG },
};

static void guest_main(void)
{
	uint64_t *p;
	int i;

	/* 1: nothing configured; 2: configured, but the exit not enabled. */
	for (i = 1; i <= 2; i++) {
		GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, 0, 0, 0), -KVM_ENOSYS);
		GUEST_SYNC(i);
	}

	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_GRANULE, 0, 0), GRANULE);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_QUOTA, 0, 0), QUOTA);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_WINDOW_BASE, 0, 0), WIN_GPA);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_WINDOW_SIZE, 0, 0), WIN_SIZE);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0, 0), 0);

	/* 4: the exit path; the VMM answers granules 1-2. */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 2, 0, 0), G(1));
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0, 0), 2);
	for (i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
		const struct bad_input *b = &bad_inputs[i];
		uint64_t r = hc(b->op, b->a1, b->a2, b->a3);

		__GUEST_ASSERT(r == b->want,
			       "bad input %d (op %ld, 0x%lx, 0x%lx, 0x%lx): got %ld, want %ld",
			       i, b->op, b->a1, b->a2, b->a3, (long)r, (long)b->want);
	}
	/* Over the quota (2 + 3 > 4): to the VMM, which cannot grant it. */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 3, 0, 0), -KVM_E2BIG);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 3, 0, 0), -KVM_E2BIG);
	GUEST_SYNC(4);

	/* 5: the VMM answers badly; granule 3 is pooled. */
	for (i = 0; i < ARRAY_SIZE(bad_answers); i++) {
		uint64_t r = hc(KVM_SHARED_POOL_ACQUIRE, 2, 0, 0);

		__GUEST_ASSERT(r == bad_answers[i].want,
			       "bad answer %d (0x%lx): got %ld, want %ld", i,
			       bad_answers[i].answer, (long)r, (long)bad_answers[i].want);
	}
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0, 0), 2);
	GUEST_SYNC(5);

	/*
	 * 6: the in-kernel path; granules 4-5 are pooled, 3 is not.  The quota
	 * is full then, and the next ACQUIRE goes to the VMM.
	 */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 2, 0, 0), G(4));
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 1, 0, 0), -KVM_E2BIG);
	p = (uint64_t *)G(1);
	WRITE_ONCE(p[0], PATTERN_GUEST);
	WRITE_ONCE(p[GRANULE / 8 + 1], PATTERN_GUEST + 1);
	GUEST_SYNC(6);
	GUEST_ASSERT_EQ(READ_ONCE(p[2]), PATTERN_HOST);

	/* 7: release a part, twice, what was never held, the rest. */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE, G(2), 1, 0), 0);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE, G(2), 1, 0), -KVM_EFAULT);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE, G(0), 1, 0), -KVM_EFAULT);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE, G(4), 1, 0), 0);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0, 0), 2);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE_ALL, 0, 0, 0), 2);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0, 0), 0);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE_ALL, 0, 0, 0), 0);
	GUEST_SYNC(7);

	/* 8: acquire again what was released (now pooled), in the kernel. */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 2, 0, 0), G(1));
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE_ALL, 0, 0, 0), 2);
	GUEST_SYNC(8);

	/*
	 * 9: this ACQUIRE exits; vCPU 1 takes granules 4-5 meanwhile, so the
	 * VMM's answer (granules 1-3) would go over the quota.
	 */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 3, 0, 0), -KVM_E2BIG);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0, 0), 2);
	GUEST_SYNC(9);

	/* 10: the VMM resets the pool while this ACQUIRE is out. */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 1, 0, 0), -KVM_ENOMEM);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, KVM_SHARED_POOL_HELD, 0, 0), 0);
	GUEST_DONE();
}

/* KVM_CAP_ENFORCE_PV_FEATURE_CPUID is on and the CPUID bit is clear. */
static void guest_no_cpuid(void)
{
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_QUERY, 0, 0, 0), -KVM_ENOSYS);
	GUEST_DONE();
}

static void guest_second(void)
{
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 2, 0, 0), G(4));
	GUEST_DONE();
}

/*
 * One hypercall at CPL 3 (or 0), with the arguments the host put in the
 * registers, then an OUT that the host sees; no stack, no data.
 */
static void __attribute__((naked)) cpl_stub_vmmcall(void)
{
	asm("1: vmmcall\n\toutb %al, $0x99\n\tjmp 1b");
}

static void __attribute__((naked)) cpl_stub_vmcall(void)
{
	asm("1: vmcall\n\toutb %al, $0x99\n\tjmp 1b");
}

static int __configure(struct kvm_vm *vm, uint64_t granule, uint64_t base,
		       uint64_t size, uint64_t quota)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SHARED_POOL,
		.args = { granule, base, size, quota },
	};

	return __vm_ioctl(vm, KVM_ENABLE_CAP, &cap);
}

static void configure(struct kvm_vm *vm, uint64_t granule, uint64_t base,
		      uint64_t size, uint64_t quota)
{
	int r = __configure(vm, granule, base, size, quota);

	TEST_ASSERT(!r, "KVM_CAP_SHARED_POOL: %d, errno %d", r, errno);
}

static int pool_range(struct kvm_vm *vm, bool add, uint64_t gpa,
		      uint64_t size, uint64_t flags, uint64_t pad)
{
	struct kvm_shared_pool_range r = {
		.gpa = gpa, .size = size, .flags = flags, .pad = pad,
	};

	if (add)
		return __vm_ioctl(vm, KVM_SHARED_POOL_ADD, &r);
	return __vm_ioctl(vm, KVM_SHARED_POOL_REMOVE, &r);
}

static void pool_add(struct kvm_vm *vm, uint64_t gpa, uint64_t size)
{
	int r = pool_range(vm, true, gpa, size, 0, 0);

	TEST_ASSERT(!r, "KVM_SHARED_POOL_ADD 0x%lx+0x%lx: %d, errno %d",
		    gpa, size, r, errno);
}

static void pool_remove(struct kvm_vm *vm, uint64_t gpa, uint64_t size)
{
	int r = pool_range(vm, false, gpa, size, 0, 0);

	TEST_ASSERT(!r, "KVM_SHARED_POOL_REMOVE 0x%lx+0x%lx: %d, errno %d",
		    gpa, size, r, errno);
}

static int __pool_state(struct kvm_vm *vm, uint64_t first, uint64_t count,
			void *states, uint64_t flags)
{
	struct kvm_shared_pool_state st = {
		.first = first, .count = count,
		.states = (uint64_t)states, .flags = flags,
	};

	return __vm_ioctl(vm, KVM_SHARED_POOL_GET_STATE, &st);
}

/* The window's states as a string, "F" free, "P" pooled, "H" held. */
static const char *pool_states(struct kvm_vm *vm, uint64_t nr)
{
	static char s[512];
	uint8_t st[512];
	uint64_t i;

	TEST_ASSERT(nr < sizeof(s), "%s: window too large", __func__);
	TEST_ASSERT(!__pool_state(vm, 0, nr, st, 0),
		    "KVM_SHARED_POOL_GET_STATE: errno %d", errno);
	for (i = 0; i < nr; i++)
		s[i] = st[i] == KVM_SHARED_POOL_STATE_FREE ? 'F' :
		       st[i] == KVM_SHARED_POOL_STATE_POOLED ? 'P' :
		       st[i] == KVM_SHARED_POOL_STATE_HELD ? 'H' : '?';
	s[nr] = '\0';
	return s;
}

#define ASSERT_STATES(vm, nr, want)					\
do {									\
	const char *__s = pool_states(vm, nr), *__w = (want);		\
	TEST_ASSERT(!strcmp(__s, __w), "states %s, want %s", __s, __w); \
} while (0)

#define STAT(vm, name)	vm_get_stat(vm, "shared_pool_" name)

#define ASSERT_ERRNO(expr, err)						\
do {									\
	int __r = (expr), __e = (err);					\
	TEST_ASSERT(__r == -1 && errno == __e,				\
		    "%s: got %d errno %d, want errno %d", #expr, __r,	\
		    errno, __e);					\
} while (0)

/* KVM_ENABLE_CAP and the ioctls, before and after configuration. */
static void test_vmm_errors(void)
{
	static const uint64_t bad_caps[][4] = {
		{ 0, WIN_GPA, WIN_SIZE, 1 },			/* granule 0 */
		{ 0x3000, WIN_GPA, 0x3000, 1 },			/* not 2^n */
		{ 0x800, WIN_GPA, 0x800, 1 },			/* < 4 KiB */
		{ 1ull << 31, 1ull << 31, 1ull << 31, 1 },	/* > 1 GiB */
		{ GRANULE, WIN_GPA + 0x1000, WIN_SIZE, 1 },	/* base */
		{ GRANULE, WIN_GPA, 0, 1 },			/* empty */
		{ GRANULE, WIN_GPA, WIN_SIZE + 0x1000, 1 },	/* size */
		{ GRANULE, -GRANULE, 2 * GRANULE, 1 },		/* wraps */
		{ GRANULE, (1ull << 52) - GRANULE, 2 * GRANULE, 1 }, /* 2^52 */
		{ 0x1000, 0, (1ull << 20) * 0x1000 + 0x1000, 1 }, /* too many */
		{ GRANULE, WIN_GPA, WIN_SIZE, 0 },		/* no quota */
		{ GRANULE, WIN_GPA, WIN_SIZE, WIN_GRANULES + 1 },
	};
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint8_t st[4];
	int i;

	vm = vm_create_with_one_vcpu(&vcpu, NULL);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_SHARED_POOL), 1);
	TEST_ASSERT(kvm_check_cap(KVM_CAP_EXIT_HYPERCALL) & BIT_ULL(KVM_HC_SHARED_POOL),
		    "KVM_CAP_EXIT_HYPERCALL does not offer KVM_HC_SHARED_POOL");

	/* Nothing configured yet. */
	ASSERT_ERRNO(pool_range(vm, true, WIN_GPA, GRANULE, 0, 0), ENXIO);
	ASSERT_ERRNO(pool_range(vm, false, WIN_GPA, GRANULE, 0, 0), ENXIO);
	ASSERT_ERRNO(__pool_state(vm, 0, 1, st, 0), ENXIO);
	ASSERT_ERRNO(__vm_ioctl(vm, KVM_SHARED_POOL_RESET, NULL), ENXIO);

	for (i = 0; i < ARRAY_SIZE(bad_caps); i++)
		ASSERT_ERRNO(__configure(vm, bad_caps[i][0], bad_caps[i][1],
					 bad_caps[i][2], bad_caps[i][3]), EINVAL);

	add_window_slots(vm);
	configure(vm, GRANULE, WIN_GPA, WIN_SIZE, QUOTA);

	ASSERT_ERRNO(pool_range(vm, true, G(0), GRANULE, 1, 0), EINVAL);
	ASSERT_ERRNO(pool_range(vm, true, G(0), GRANULE, 0, 1), EINVAL);
	ASSERT_ERRNO(pool_range(vm, true, G(0) + 0x1000, GRANULE, 0, 0), EINVAL);
	ASSERT_ERRNO(pool_range(vm, true, G(0), 0, 0, 0), EINVAL);
	ASSERT_ERRNO(pool_range(vm, true, G(0), 0x1000, 0, 0), EINVAL);
	ASSERT_ERRNO(pool_range(vm, true, WIN_GPA - GRANULE, GRANULE, 0, 0), EINVAL);
	ASSERT_ERRNO(pool_range(vm, true, G(7), 2 * GRANULE, 0, 0), EINVAL);
	ASSERT_ERRNO(pool_range(vm, true, G(5), 2 * GRANULE, 0, 0), ENOENT);
	ASSERT_ERRNO(pool_range(vm, false, G(0), GRANULE, 0, 0), EBUSY);
	ASSERT_STATES(vm, WIN_GRANULES, "FFFFFFFF");

	pool_add(vm, G(0), 2 * GRANULE);
	ASSERT_ERRNO(pool_range(vm, true, G(1), 2 * GRANULE, 0, 0), EBUSY);
	ASSERT_STATES(vm, WIN_GRANULES, "PPFFFFFF");
	TEST_ASSERT_EQ(STAT(vm, "pooled_bytes"), 2 * GRANULE);
	ASSERT_ERRNO(__configure(vm, GRANULE, WIN_GPA, WIN_SIZE, QUOTA), EBUSY);
	pool_remove(vm, G(1), GRANULE);
	ASSERT_STATES(vm, WIN_GRANULES, "PFFFFFFF");

	ASSERT_ERRNO(__pool_state(vm, 0, 0, st, 0), EINVAL);
	ASSERT_ERRNO(__pool_state(vm, WIN_GRANULES, 1, st, 0), EINVAL);
	ASSERT_ERRNO(__pool_state(vm, 7, 2, st, 0), EINVAL);
	ASSERT_ERRNO(__pool_state(vm, 0, 1, st, 1), EINVAL);
	ASSERT_ERRNO(__pool_state(vm, 0, 1, NULL, 0), EFAULT);

	/* RESET returns what was held (nothing) and frees the pooled. */
	TEST_ASSERT_EQ(__vm_ioctl(vm, KVM_SHARED_POOL_RESET, NULL), 0);
	ASSERT_STATES(vm, WIN_GRANULES, "FFFFFFFF");
	TEST_ASSERT_EQ(STAT(vm, "pooled_bytes"), 0);
	/* With nothing pooled or held, it can be configured again. */
	configure(vm, 0x1000, WIN_GPA, WIN_SIZE, 1);
	configure(vm, GRANULE, WIN_GPA, WIN_SIZE, QUOTA);
	kvm_vm_free(vm);
}

static void expect_sync(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage, "stage %lu, want %lu",
			    uc.args[1], stage);
		return;
	case UCALL_DONE:
		TEST_ASSERT(stage == -1ull, "guest done at stage %lu", stage);
		return;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("unexpected ucall %lu", uc.cmd);
	}
}

/*
 * Run to the next stage (-1: GUEST_DONE), answering each ACQUIRE exit with
 * the next of answers[]; return the number of exits.
 */
static int run_answering(struct kvm_vcpu *vcpu, uint64_t stage,
			 const uint64_t *answers, int nr)
{
	struct kvm_run *run = vcpu->run;
	int exits = 0;

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason != KVM_EXIT_HYPERCALL)
			break;
		TEST_ASSERT(exits < nr, "stage %lu: exit %d unexpected", stage, exits);
		TEST_ASSERT_EQ(run->hypercall.nr, KVM_HC_SHARED_POOL);
		TEST_ASSERT_EQ(run->hypercall.args[0], KVM_SHARED_POOL_ACQUIRE);
		TEST_ASSERT(run->hypercall.flags & KVM_EXIT_HYPERCALL_LONG_MODE,
			    "flags 0x%llx", run->hypercall.flags);
		/* KVM must go by what the guest asked for, not by args[1]. */
		run->hypercall.args[1] = 1;
		run->hypercall.ret = answers[exits++];
	}
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	expect_sync(vcpu, stage);
	return exits;
}

/* Run to the next stage (-1: GUEST_DONE), with no exit on the way. */
static void run_until_sync(struct kvm_vcpu *vcpu, uint64_t stage)
{
	run_answering(vcpu, stage, NULL, 0);
}

static void test_guest(void)
{
	const uint64_t good = G(1), over = G(1), e2big = -KVM_E2BIG;
	/* over the quota: a region KVM must refuse, and the VMM's refusal */
	const uint64_t first_answers[] = { good, G(4), -KVM_E2BIG };
	uint64_t answers[ARRAY_SIZE(bad_answers)];
	struct kvm_vcpu *vcpus[3];
	uint64_t *host, refusals;
	struct kvm_vm *vm;
	int i, n;

	/*
	 * vCPU 0 runs the stages with the CPUID bit set and enforced; vCPU 1
	 * takes granules in stage 9; vCPU 2 has the bit clear and enforced.
	 * KVM refuses to change CPUID once a vCPU has run: set it up now.
	 */
	vm = vm_create_with_vcpus(3, guest_main, vcpus);
	vcpu_arch_set_entry_point(vcpus[1], guest_second);
	vcpu_arch_set_entry_point(vcpus[2], guest_no_cpuid);
	vcpu_enable_cap(vcpus[0], KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 1);
	vcpu_set_cpuid_feature(vcpus[0], X86_FEATURE_KVM_SHARED_POOL);
	vcpu_enable_cap(vcpus[2], KVM_CAP_ENFORCE_PV_FEATURE_CPUID, 1);
	vcpu_clear_cpuid_feature(vcpus[2], X86_FEATURE_KVM_SHARED_POOL);
	add_window_slots(vm);
	virt_map(vm, WIN_GPA, WIN_GPA, 6 * GRANULE / getpagesize());
	host = addr_gpa2hva(vm, G(1));

	run_until_sync(vcpus[0], 1);
	configure(vm, GRANULE, WIN_GPA, WIN_SIZE, QUOTA);
	run_until_sync(vcpus[0], 2);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT_ULL(KVM_HC_SHARED_POOL));
	/* 3: everything on, but the CPUID bit clear and enforced. */
	run_until_sync(vcpus[2], -1ull);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), 0);

	/*
	 * 4: one exit, answered well (run_answering() also sets args[1] to 1:
	 * KVM grants the 2 granules asked for); the bad inputs never exit;
	 * the two ACQUIREs over the quota do, and get -KVM_E2BIG whatever the
	 * answer.
	 */
	n = run_answering(vcpus[0], 4, first_answers, ARRAY_SIZE(first_answers));
	TEST_ASSERT_EQ(n, 3);
	TEST_ASSERT_EQ(STAT(vm, "exits"), 3);
	TEST_ASSERT_EQ(STAT(vm, "grants"), 1);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), ARRAY_SIZE(bad_inputs) + 2);
	TEST_ASSERT_EQ(STAT(vm, "held_bytes"), 2 * GRANULE);
	ASSERT_STATES(vm, WIN_GRANULES, "FHHFFFFF");

	/* 5: bad answers; granule 3 pooled, a run of 1 cannot serve 2. */
	pool_add(vm, G(3), GRANULE);
	for (i = 0; i < ARRAY_SIZE(bad_answers); i++)
		answers[i] = bad_answers[i].answer;
	n = run_answering(vcpus[0], 5, answers, ARRAY_SIZE(answers));
	TEST_ASSERT_EQ(n, ARRAY_SIZE(bad_answers));
	TEST_ASSERT_EQ(STAT(vm, "exits"), 3 + ARRAY_SIZE(bad_answers));
	TEST_ASSERT_EQ(STAT(vm, "grants"), 1);
	refusals = ARRAY_SIZE(bad_inputs) + 2 + ARRAY_SIZE(bad_answers);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), refusals);
	ASSERT_STATES(vm, WIN_GRANULES, "FHHPFFFF");

	/*
	 * 6: pooled granules are granted without an exit; data is shared; the
	 * ACQUIRE over the quota exits.
	 */
	pool_remove(vm, G(3), GRANULE);
	pool_add(vm, G(4), 2 * GRANULE);
	n = run_answering(vcpus[0], 6, &e2big, 1);
	TEST_ASSERT_EQ(n, 1);
	TEST_ASSERT_EQ(STAT(vm, "exits"), 4 + ARRAY_SIZE(bad_answers));
	TEST_ASSERT_EQ(STAT(vm, "grants"), 2);
	TEST_ASSERT_EQ(STAT(vm, "held_bytes"), 4 * GRANULE);
	TEST_ASSERT_EQ(STAT(vm, "pooled_bytes"), 0);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), refusals + 1);	/* -KVM_E2BIG */
	ASSERT_STATES(vm, WIN_GRANULES, "FHHFHHFF");
	TEST_ASSERT_EQ(READ_ONCE(host[0]), PATTERN_GUEST);
	TEST_ASSERT_EQ(READ_ONCE(host[GRANULE / 8 + 1]), PATTERN_GUEST + 1);
	WRITE_ONCE(host[2], PATTERN_HOST);

	/* 7: releases; what was held becomes pooled. */
	run_until_sync(vcpus[0], 7);
	ASSERT_STATES(vm, WIN_GRANULES, "FPPFPPFF");
	TEST_ASSERT_EQ(STAT(vm, "releases"), 4);
	TEST_ASSERT_EQ(STAT(vm, "held_bytes"), 0);
	TEST_ASSERT_EQ(STAT(vm, "pooled_bytes"), 4 * GRANULE);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), refusals + 3);	/* 2 -KVM_EFAULT */

	/* 8: granted again from the pool, in the kernel. */
	run_until_sync(vcpus[0], 8);
	TEST_ASSERT_EQ(STAT(vm, "exits"), 4 + ARRAY_SIZE(bad_answers));
	TEST_ASSERT_EQ(STAT(vm, "grants"), 3);
	ASSERT_STATES(vm, WIN_GRANULES, "FPPFPPFF");

	/* 9: over the quota by the time the VMM answers. */
	pool_remove(vm, G(1), 2 * GRANULE);
	vcpu_run(vcpus[0]);
	TEST_ASSERT_KVM_EXIT_REASON(vcpus[0], KVM_EXIT_HYPERCALL);
	TEST_ASSERT_EQ(vcpus[0]->run->hypercall.args[1], 3);
	run_until_sync(vcpus[1], -1ull);
	ASSERT_STATES(vm, WIN_GRANULES, "FFFFHHFF");
	vcpus[0]->run->hypercall.ret = over;
	run_until_sync(vcpus[0], 9);
	ASSERT_STATES(vm, WIN_GRANULES, "FFFFHHFF");
	TEST_ASSERT_EQ(STAT(vm, "grants"), 4);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), refusals + 4);
	TEST_ASSERT_EQ(STAT(vm, "releases"), 6);

	/*
	 * 10: a reset frees everything and says how much was held; an
	 * ACQUIRE that exited before it gets no grant, even for a good answer.
	 */
	vcpu_run(vcpus[0]);
	TEST_ASSERT_KVM_EXIT_REASON(vcpus[0], KVM_EXIT_HYPERCALL);
	TEST_ASSERT_EQ(vcpus[0]->run->hypercall.ret, -KVM_ENOMEM);
	TEST_ASSERT_EQ(__vm_ioctl(vm, KVM_SHARED_POOL_RESET, NULL), 2);
	ASSERT_STATES(vm, WIN_GRANULES, "FFFFFFFF");
	TEST_ASSERT_EQ(STAT(vm, "held_bytes"), 0);
	vcpus[0]->run->hypercall.ret = G(0);
	run_until_sync(vcpus[0], -1ull);
	ASSERT_STATES(vm, WIN_GRANULES, "FFFFFFFF");
	TEST_ASSERT_EQ(STAT(vm, "grants"), 4);
	kvm_vm_free(vm);
}

/* Make @gva's mapping user-accessible at every level. */
static void make_user(struct kvm_vm *vm, uint64_t gva)
{
	uint64_t *pte = addr_gpa2hva(vm, vm->pgd);
	int level;

	for (level = 3; level >= 0; level--) {
		uint64_t *e = &pte[(gva >> (12 + 9 * level)) & 0x1ff];

		*e |= PTE_USER_MASK;
		if (!level || (*e & PTE_LARGE_MASK))
			break;
		pte = addr_gpa2hva(vm, PTE_GET_PA(*e));
	}
}

/* The hypercall from CPL 3 gets -KVM_EPERM, from CPL 0 an answer. */
static void test_cpl(void)
{
	void *stub = host_cpu_is_amd ? cpl_stub_vmmcall : cpl_stub_vmcall;
	struct kvm_vcpu *vcpu;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_vm *vm;
	int cpl;

	vm = vm_create_with_one_vcpu(&vcpu, NULL);
	configure(vm, GRANULE, WIN_GPA, WIN_SIZE, QUOTA);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT_ULL(KVM_HC_SHARED_POOL));
	make_user(vm, (uint64_t)stub);

	for (cpl = 3; cpl >= 0; cpl -= 3) {
		vcpu_sregs_get(vcpu, &sregs);
		sregs.cs.dpl = cpl;
		sregs.cs.selector = (sregs.cs.selector & ~3) | cpl;
		sregs.ss.dpl = cpl;
		sregs.ss.selector = (sregs.ss.selector & ~3) | cpl;
		vcpu_sregs_set(vcpu, &sregs);

		vcpu_regs_get(vcpu, &regs);
		regs.rip = (uint64_t)stub;
		regs.rflags = 0x2 | (3 << 12);		/* IOPL 3, for the OUT */
		regs.rax = KVM_HC_SHARED_POOL;
		regs.rbx = KVM_SHARED_POOL_QUERY;
		regs.rcx = KVM_SHARED_POOL_GRANULE;
		regs.rdx = 0;
		regs.rsi = 0;
		vcpu_regs_set(vcpu, &regs);

		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		TEST_ASSERT_EQ(vcpu->run->io.port, 0x99);
		vcpu_regs_get(vcpu, &regs);
		TEST_ASSERT(regs.rax == (cpl ? (uint64_t)-KVM_EPERM : GRANULE),
			    "CPL %d: got %lld", cpl, (long long)regs.rax);
		/* -KVM_EPERM comes before the pool: no refusal counted. */
		TEST_ASSERT_EQ(STAT(vm, "refusals"), 0);
	}
	kvm_vm_free(vm);
}

#define PRIV_SLOT	11

static void guest_private(void)
{
	uint64_t *p = (uint64_t *)G(0);

	/* Granule 0 is shared; 1 is private; 2 is in a guest_memfd slot. */
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 1, 0, 0), G(0));
	WRITE_ONCE(p[0], PATTERN_GUEST);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 1, 0, 0), -KVM_ENOMEM);
	GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_ACQUIRE, 1, 0, 0), -KVM_ENOMEM);
	GUEST_DONE();
}

/*
 * On a KVM_X86_SW_PROTECTED_VM: a grant from an ordinary memslot is shared;
 * KVM refuses granules with private attributes or in a guest_memfd slot.
 */
static void test_private(void)
{
	const struct vm_shape shape = {
		.mode = VM_MODE_DEFAULT,
		.type = KVM_X86_SW_PROTECTED_VM,
	};
	const uint64_t answers[] = { G(0), G(1), G(2) };
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint64_t *host;
	int fd;

	if (!(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM))) {
		print_skip("KVM_X86_SW_PROTECTED_VM not supported: private-memory case");
		return;
	}

	vm = vm_create_shape_with_one_vcpu(shape, &vcpu, guest_private);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, WIN_GPA, WIN_SLOT,
				    2 * GRANULE / getpagesize(), 0);
	fd = vm_create_guest_memfd(vm, GRANULE, 0);
	vm_mem_add(vm, VM_MEM_SRC_ANONYMOUS, G(2), PRIV_SLOT,
		   GRANULE / getpagesize(), KVM_MEM_GUEST_MEMFD, fd, 0);
	virt_map(vm, WIN_GPA, WIN_GPA, GRANULE / getpagesize());
	host = addr_gpa2hva(vm, G(0));

	configure(vm, GRANULE, WIN_GPA, 4 * GRANULE, 3);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT_ULL(KVM_HC_SHARED_POOL));
	vm_mem_set_private(vm, G(1), GRANULE);

	ASSERT_ERRNO(pool_range(vm, true, G(1), GRANULE, 0, 0), ENOENT);
	ASSERT_ERRNO(pool_range(vm, true, G(2), GRANULE, 0, 0), ENOENT);

	TEST_ASSERT_EQ(run_answering(vcpu, -1ull, answers, ARRAY_SIZE(answers)), 3);
	ASSERT_STATES(vm, 4, "HFFF");
	TEST_ASSERT_EQ(READ_ONCE(host[0]), PATTERN_GUEST);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), 2);
	close(fd);
	kvm_vm_free(vm);
}

/*
 * Concurrency: 4 KiB granules, 48 of 64 pooled, acquired and released at
 * will.  Each vCPU wants up to C_HOLD * 4 granules, so that three or more
 * of them want more than the window: the pool runs out and fragments, some
 * ACQUIREs are over the quota, and some exit; this VMM answers those with
 * free granules when it finds a run (racing with the in-kernel grants and
 * the other vCPUs' exits, which KVM's completion must sort out).
 */
#define C_GRANULE	0x1000ull
#define C_GRANULES	64ull
#define C_POOLED	48ull
#define C_WINDOW	(C_GRANULES * C_GRANULE)
#define C_QUOTA		C_GRANULES
#define C_MAX_VCPUS	8
#define C_HOLD		8			/* grants each vCPU keeps */
#define C_SECONDS	2

static bool c_stop;

struct c_counts {
	uint64_t grants, released, refused, exits, answered;
};

static void guest_concurrent(uint32_t id)
{
	uint64_t base[C_HOLD] = {}, len[C_HOLD] = {};
	struct c_counts c = {};
	uint64_t rng = id * 2654435761u + 1, r, g;
	int k;

	while (!READ_ONCE(c_stop)) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		k = (rng >> 33) % C_HOLD;
		if (len[k]) {
			/* Still ours?  Then give it back. */
			for (g = 0; g < len[k]; g++)
				__GUEST_ASSERT(READ_ONCE(*(uint64_t *)(base[k] + g * C_GRANULE)) ==
					       ((uint64_t)id << 32 | k),
					       "vCPU %u: granule 0x%lx granted twice",
					       id, (unsigned long)(base[k] + g * C_GRANULE));
			GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE, base[k], len[k], 0), 0);
			c.released += len[k];
			len[k] = 0;
			continue;
		}
		len[k] = 1 + (rng >> 40) % 4;
		r = hc(KVM_SHARED_POOL_ACQUIRE, len[k], 0, 0);
		if ((int64_t)r < 0) {
			__GUEST_ASSERT(r == -KVM_ENOMEM || r == -KVM_E2BIG,
				       "vCPU %u: ACQUIRE %lu: %ld", id, len[k], (long)r);
			c.refused++;
			len[k] = 0;
			continue;
		}
		__GUEST_ASSERT(r >= WIN_GPA && !(r & (C_GRANULE - 1)) &&
			       r + len[k] * C_GRANULE <= WIN_GPA + C_WINDOW,
			       "vCPU %u: bad grant 0x%lx", id, r);
		base[k] = r;
		c.grants++;
		for (g = 0; g < len[k]; g++)
			WRITE_ONCE(*(uint64_t *)(r + g * C_GRANULE), (uint64_t)id << 32 | k);
	}
	for (k = 0; k < C_HOLD; k++) {
		if (!len[k])
			continue;
		GUEST_ASSERT_EQ(hc(KVM_SHARED_POOL_RELEASE, base[k], len[k], 0), 0);
		c.released += len[k];
	}
	GUEST_SYNC_ARGS(0, c.grants, c.released, c.refused, 0);
	GUEST_DONE();
}

struct c_thread {
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct c_counts c;
};

/* The VMM's answer: the lowest run of @n free granules, or -KVM_ENOMEM. */
static uint64_t c_answer(struct kvm_vm *vm, uint64_t n)
{
	uint8_t st[C_GRANULES];
	uint64_t i, run = 0;

	TEST_ASSERT(!__pool_state(vm, 0, C_GRANULES, st, 0),
		    "KVM_SHARED_POOL_GET_STATE: errno %d", errno);
	for (i = 0; i < C_GRANULES; i++) {
		run = st[i] == KVM_SHARED_POOL_STATE_FREE ? run + 1 : 0;
		if (run == n)
			return WIN_GPA + (i + 1 - n) * C_GRANULE;
	}
	return -KVM_ENOMEM;
}

static void *c_run(void *arg)
{
	struct c_thread *t = arg;
	struct kvm_run *run = t->vcpu->run;
	struct ucall uc;

	for (;;) {
		vcpu_run(t->vcpu);
		if (run->exit_reason == KVM_EXIT_HYPERCALL) {
			run->hypercall.ret = c_answer(t->vm, run->hypercall.args[1]);
			t->c.exits++;
			t->c.answered += (int64_t)run->hypercall.ret >= 0;
			continue;
		}
		TEST_ASSERT_KVM_EXIT_REASON(t->vcpu, KVM_EXIT_IO);
		switch (get_ucall(t->vcpu, &uc)) {
		case UCALL_SYNC:
			t->c.grants = uc.args[2];
			t->c.released = uc.args[3];
			t->c.refused = uc.args[4];
			break;
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
	}
}

static void test_concurrent(int nr_vcpus)
{
	struct c_thread t[C_MAX_VCPUS] = {};
	pthread_t threads[C_MAX_VCPUS];
	struct kvm_vcpu *vcpus[C_MAX_VCPUS];
	struct c_counts sum = {};
	const char *states;
	uint64_t pooled = 0;
	struct kvm_vm *vm;
	int i;

	vm = vm_create_with_vcpus(nr_vcpus, guest_concurrent, vcpus);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, WIN_GPA, WIN_SLOT,
				    C_GRANULES * C_GRANULE / getpagesize(), 0);
	virt_map(vm, WIN_GPA, WIN_GPA, C_GRANULES * C_GRANULE / getpagesize());
	configure(vm, C_GRANULE, WIN_GPA, C_GRANULES * C_GRANULE, C_QUOTA);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT_ULL(KVM_HC_SHARED_POOL));
	pool_add(vm, WIN_GPA, C_POOLED * C_GRANULE);

	for (i = 0; i < nr_vcpus; i++) {
		vcpu_args_set(vcpus[i], 1, i);
		t[i].vcpu = vcpus[i];
		t[i].vm = vm;
		pthread_create(&threads[i], NULL, c_run, &t[i]);
	}
	sleep(C_SECONDS);
	WRITE_ONCE(c_stop, true);
	sync_global_to_guest(vm, c_stop);
	for (i = 0; i < nr_vcpus; i++) {
		pthread_join(threads[i], NULL);
		sum.grants += t[i].c.grants;
		sum.released += t[i].c.released;
		sum.refused += t[i].c.refused;
		sum.exits += t[i].c.exits;
		sum.answered += t[i].c.answered;
	}
	pr_info("concurrent: %d vCPUs, %lu grants, %lu granules released, %lu refused, %lu exits (%lu answered)\n",
		nr_vcpus, sum.grants, sum.released, sum.refused, sum.exits,
		sum.answered);

	TEST_ASSERT(sum.grants > nr_vcpus, "only %lu grants in %d s", sum.grants, C_SECONDS);
	if (nr_vcpus >= 3)
		TEST_ASSERT(sum.exits && sum.refused,
			    "%d vCPUs never ran the pool dry (%lu exits, %lu refused)",
			    nr_vcpus, sum.exits, sum.refused);
	TEST_ASSERT_EQ(STAT(vm, "grants"), sum.grants);
	TEST_ASSERT_EQ(STAT(vm, "releases"), sum.released);
	TEST_ASSERT_EQ(STAT(vm, "exits"), sum.exits);
	TEST_ASSERT_EQ(STAT(vm, "refusals"), sum.refused);
	TEST_ASSERT_EQ(STAT(vm, "held_bytes"), 0);

	/* Nothing held, nothing lost: what was pooled or granted is pooled. */
	states = pool_states(vm, C_GRANULES);
	for (i = 0; i < C_GRANULES; i++)
		pooled += states[i] == 'P';
	TEST_ASSERT(!strchr(states, 'H') && pooled >= C_POOLED,
		    "states %s after every vCPU released everything", states);
	TEST_ASSERT_EQ(STAT(vm, "pooled_bytes"), pooled * C_GRANULE);
	kvm_vm_free(vm);
}

static void help(const char *name)
{
	printf("usage: %s [-n vCPUs]\n"
	       " -n: vCPUs in the concurrency test, 1 to %d (default 4)\n",
	       name, C_MAX_VCPUS);
	exit(KSFT_FAIL);
}

int main(int argc, char *argv[])
{
	int opt, nr_vcpus = 4;

	while ((opt = getopt(argc, argv, "hn:")) != -1) {
		switch (opt) {
		case 'n':
			nr_vcpus = atoi_positive("Number of vCPUs", optarg);
			if (nr_vcpus > C_MAX_VCPUS)
				help(argv[0]);
			break;
		default:
			help(argv[0]);
		}
	}

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_SHARED_POOL));
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_ENFORCE_PV_FEATURE_CPUID));

	test_vmm_errors();
	test_guest();
	test_cpl();
	test_private();
	test_concurrent(nr_vcpus);
	return 0;
}
