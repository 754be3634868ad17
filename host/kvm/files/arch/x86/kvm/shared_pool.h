/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __ARCH_X86_KVM_SHARED_POOL_H
#define __ARCH_X86_KVM_SHARED_POOL_H

#include <linux/kvm_host.h>

int kvm_shared_pool_enable(struct kvm *kvm, struct kvm_enable_cap *cap);
long kvm_shared_pool_ioctl(struct kvm *kvm, unsigned int ioctl,
			   void __user *argp);
void kvm_shared_pool_destroy(struct kvm *kvm);
int kvm_shared_pool_complete_acquire(struct kvm_vcpu *vcpu);
bool kvm_shared_pool_hypercall(struct kvm_vcpu *vcpu, unsigned long a0,
			       unsigned long a1, unsigned long a2,
			       unsigned long a3, int op_64_bit,
			       unsigned long *ret);

#endif /* __ARCH_X86_KVM_SHARED_POOL_H */
