/* SPDX-License-Identifier: GPL-2.0 */
/* cc-swiotlb's tracepoints, counted. */
#include "../../shim.h"

extern unsigned long shim_trace_map_fail, shim_trace_refill, shim_trace_shrink;

static inline void trace_cc_swiotlb_map_fail(struct device *dev, size_t size,
					     unsigned int slot_size,
					     unsigned long slots)
{
	shim_trace_map_fail++;
}

static inline void trace_cc_swiotlb_refill(unsigned int slot_size,
					   phys_addr_t start, size_t size,
					   unsigned long slots)
{
	shim_trace_refill++;
}

static inline void trace_cc_swiotlb_shrink(unsigned int slot_size,
					   phys_addr_t start, size_t size,
					   unsigned long slots)
{
	shim_trace_shrink++;
}
