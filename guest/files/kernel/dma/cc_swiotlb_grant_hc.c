// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shared-pool hypercall (KVM_HC_SHARED_POOL) from debugfs, for tests
 * of the host's answers: window exhausted, quota, release of a region
 * never granted, RELEASE_ALL, a reset with grants held.
 *
 *   echo "OP A1 A2 A3" > /sys/kernel/debug/cc_swiotlb_hc/call
 *   cat /sys/kernel/debug/cc_swiotlb_hc/result
 *
 * makes one hypercall with those four arguments, as given (decimal, or hex
 * with 0x; a negative number is its two's complement), and the result
 * reads back as "OP A1 A2 A3 RET": OP in decimal, A1 to A3 in hex, and RET
 * in signed decimal (a -KVM_E* error or a result).  The call is made
 * whatever the arguments: checking them is the host's job, and what is
 * tested.
 *
 * Regions granted this way are the caller's: nothing here maps them or
 * releases them.  The host-grant provider must not be using the pool at
 * the same time (a RELEASE_ALL would take its grants away under it), so
 * writes are refused with -EBUSY while cc-swiotlb serves DMA (boot with
 * cc_swiotlb=off), and with -ENODEV when the kernel does not run on KVM.
 */

#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/kvm_para.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>

#include "cc_swiotlb.h"

static DEFINE_MUTEX(hc_mutex);
static char hc_result[128];

static ssize_t hc_call_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	long long a[4];
	char cmd[128];
	long ret;

	if (!count || count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	if (sscanf(cmd, "%lli %lli %lli %lli", &a[0], &a[1], &a[2], &a[3]) != 4)
		return -EINVAL;
	if (!kvm_para_available())
		return -ENODEV;
	if (cc_swiotlb_serves())
		return -EBUSY;

	mutex_lock(&hc_mutex);
	ret = kvm_hypercall4(KVM_HC_SHARED_POOL, a[0], a[1], a[2], a[3]);
	scnprintf(hc_result, sizeof(hc_result), "%lld %#llx %#llx %#llx %ld\n",
		  a[0], (u64)a[1], (u64)a[2], (u64)a[3], ret);
	mutex_unlock(&hc_mutex);
	return count;
}

static ssize_t hc_result_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&hc_mutex);
	ret = simple_read_from_buffer(ubuf, count, ppos, hc_result,
				      strlen(hc_result));
	mutex_unlock(&hc_mutex);
	return ret;
}

static const struct file_operations hc_call_fops = {
	.write = hc_call_write,
};

static const struct file_operations hc_result_fops = {
	.read = hc_result_read,
};

static int __init cc_swiotlb_hc_init(void)
{
	struct dentry *dir = debugfs_create_dir("cc_swiotlb_hc", NULL);

	debugfs_create_file("call", 0200, dir, NULL, &hc_call_fops);
	debugfs_create_file("result", 0400, dir, NULL, &hc_result_fops);
	return 0;
}
late_initcall(cc_swiotlb_hc_init);
