/* SPDX-License-Identifier: GPL-2.0 */
/* The fuzzer's controls over the shims (shim.c). */
#ifndef _CC_SWIOTLB_SHIM_CTL_H
#define _CC_SWIOTLB_SHIM_CTL_H

/* Failure rates, in percent. */
struct shim_faults {
	unsigned int pages_pct;		/* alloc_pages() */
	unsigned int large_pages_pct;	/* alloc_pages() of 2 MiB or more */
	unsigned int kalloc_pct;	/* kzalloc(), kvcalloc(), ... */
	unsigned int decrypt_pct;	/* set_memory_decrypted() */
	unsigned int encrypt_pct;	/* set_memory_encrypted() */
	unsigned int xa_store_pct;	/* xa_store() */
};

extern struct shim_faults shim_faults;

#define SHIM_MAX_BLOCKS 4096
struct shim_block {
	void *addr;
	size_t size;
	bool shared;
};

extern struct shim_block shim_blocks[SHIM_MAX_BLOCKS];
extern int shim_nr_blocks;
struct shim_block *shim_block_of(const void *addr);

void shim_seed(u64 seed);
u64 shim_rand(void);

#endif
