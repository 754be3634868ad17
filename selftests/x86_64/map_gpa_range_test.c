// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_HC_MAP_GPA_RANGE as the confidential-VM test bed relies on it: the
 * guest's emulated set_memory_decrypted() issues this hypercall and the VMM
 * answers it through KVM_EXIT_HYPERCALL.
 *
 * Checks, from the guest and from userspace:
 *  - without KVM_CAP_EXIT_HYPERCALL, KVM answers -KVM_ENOSYS itself;
 *  - KVM_ENABLE_CAP refuses hypercall bits KVM does not advertise;
 *  - with the exit enabled, KVM rejects bad ranges with -KVM_EINVAL before
 *    userspace sees them (unaligned GPA, zero pages, wrapping range);
 *  - a good range exits to userspace with the guest's arguments, in long
 *    mode, and the value userspace returns is what the guest gets;
 *  - a hypercall number KVM does not implement still gets -KVM_ENOSYS.
 */
#include <stdint.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define TEST_GPA	0x100000000ull
#define TEST_NPAGES	512ull
#define TEST_ATTRS	(KVM_MAP_GPA_RANGE_DECRYPTED | KVM_MAP_GPA_RANGE_PAGE_SZ_2M)
/* What userspace returns for the good call, to prove it reaches RAX. */
#define TEST_RET	0x5a5aull
/* No KVM hypercall has this number. */
#define HC_UNKNOWN	0x7fffffffull

struct bad_range {
	uint64_t gpa;
	uint64_t npages;
};

static const struct bad_range bad_ranges[] = {
	{ TEST_GPA + 1, 1 },			/* not page aligned */
	{ TEST_GPA | 0x800, 1 },		/* not page aligned */
	{ TEST_GPA, 0 },			/* empty */
	{ 0x1000, -1ull },			/* wraps past the top */
	{ TEST_GPA, -(TEST_GPA >> 12) },	/* ends exactly at 2^64 */
};

static void guest_code(void)
{
	uint64_t ret;
	int i;

	/* Phase 1: userspace has not enabled the exit. */
	ret = kvm_hypercall(KVM_HC_MAP_GPA_RANGE, TEST_GPA, TEST_NPAGES, TEST_ATTRS, 0);
	GUEST_ASSERT_EQ(ret, -KVM_ENOSYS);
	GUEST_SYNC(1);

	/* Phase 2: the exit is enabled. */
	for (i = 0; i < ARRAY_SIZE(bad_ranges); i++) {
		ret = kvm_hypercall(KVM_HC_MAP_GPA_RANGE, bad_ranges[i].gpa,
				    bad_ranges[i].npages, TEST_ATTRS, 0);
		__GUEST_ASSERT(ret == -KVM_EINVAL,
			       "bad range %d (gpa 0x%lx, npages 0x%lx): got %ld, want -KVM_EINVAL",
			       i, bad_ranges[i].gpa, bad_ranges[i].npages, (long)ret);
	}

	ret = kvm_hypercall(KVM_HC_MAP_GPA_RANGE, TEST_GPA, TEST_NPAGES, TEST_ATTRS, 0);
	GUEST_ASSERT_EQ(ret, TEST_RET);

	ret = kvm_hypercall(HC_UNKNOWN, 0, 0, 0, 0);
	GUEST_ASSERT_EQ(ret, -KVM_ENOSYS);

	GUEST_DONE();
}

static void test_enable_cap(struct kvm_vm *vm, uint64_t supported)
{
	int i, r;

	TEST_ASSERT(supported & BIT_ULL(KVM_HC_MAP_GPA_RANGE),
		    "KVM_CAP_EXIT_HYPERCALL does not offer KVM_HC_MAP_GPA_RANGE (0x%lx)",
		    supported);

	for (i = 0; i < 64; i++) {
		if (supported & BIT_ULL(i))
			continue;
		r = __vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT_ULL(i));
		TEST_ASSERT(r == -1 && errno == EINVAL,
			    "enabling the exit for unsupported hypercall %d: r = %d, errno = %d",
			    i, r, errno);
	}
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vcpu;
	struct kvm_run *run;
	struct kvm_vm *vm;
	uint64_t supported;
	struct ucall uc;
	bool exited = false;

	TEST_REQUIRE(kvm_has_cap(KVM_CAP_EXIT_HYPERCALL));
	supported = kvm_check_cap(KVM_CAP_EXIT_HYPERCALL);

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	run = vcpu->run;

	vcpu_run(vcpu);
	TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
	default:
		TEST_FAIL("unexpected ucall %lu in phase 1", uc.cmd);
	}

	test_enable_cap(vm, supported);
	vm_enable_cap(vm, KVM_CAP_EXIT_HYPERCALL, BIT_ULL(KVM_HC_MAP_GPA_RANGE));

	for (;;) {
		vcpu_run(vcpu);

		if (run->exit_reason == KVM_EXIT_HYPERCALL) {
			TEST_ASSERT(!exited, "more than one KVM_EXIT_HYPERCALL");
			TEST_ASSERT_EQ(run->hypercall.nr, KVM_HC_MAP_GPA_RANGE);
			TEST_ASSERT_EQ(run->hypercall.args[0], TEST_GPA);
			TEST_ASSERT_EQ(run->hypercall.args[1], TEST_NPAGES);
			TEST_ASSERT_EQ(run->hypercall.args[2], TEST_ATTRS);
			TEST_ASSERT(run->hypercall.flags & KVM_EXIT_HYPERCALL_LONG_MODE,
				    "flags 0x%llx lack KVM_EXIT_HYPERCALL_LONG_MODE",
				    run->hypercall.flags);
			run->hypercall.ret = TEST_RET;
			exited = true;
			continue;
		}

		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_DONE:
			TEST_ASSERT(exited, "the good range never reached userspace");
			kvm_vm_free(vm);
			return 0;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("unexpected ucall %lu", uc.cmd);
		}
	}
}
