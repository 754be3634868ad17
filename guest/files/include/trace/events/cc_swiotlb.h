/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM cc_swiotlb

#if !defined(_TRACE_CC_SWIOTLB_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_CC_SWIOTLB_H

#include <linux/tracepoint.h>

/* A mapping found its class empty: the map returned DMA_MAPPING_ERROR. */
TRACE_EVENT(cc_swiotlb_map_fail,
	    TP_PROTO(struct device *dev, size_t size, unsigned int slot_size,
		     unsigned long slots),
	    TP_ARGS(dev, size, slot_size, slots),
	    TP_STRUCT__entry(__string(dev_name, dev_name(dev))
			     __field(size_t, size)
			     __field(unsigned int, slot_size)
			     __field(unsigned long, slots)),
	    TP_fast_assign(__assign_str(dev_name);
			   __entry->size = size;
			   __entry->slot_size = slot_size;
			   __entry->slots = slots;),
	    TP_printk("dev_name: %s size: %zu class: %u slots: %lu",
		      __get_str(dev_name), __entry->size, __entry->slot_size,
		      __entry->slots)
);

/* A chunk joined (refill) or left (shrink) a class. */
DECLARE_EVENT_CLASS(cc_swiotlb_chunk,
		    TP_PROTO(unsigned int slot_size, phys_addr_t start,
			     size_t size, unsigned long slots),
		    TP_ARGS(slot_size, start, size, slots),
		    TP_STRUCT__entry(__field(unsigned int, slot_size)
				     __field(u64, start)
				     __field(size_t, size)
				     __field(unsigned long, slots)),
		    TP_fast_assign(__entry->slot_size = slot_size;
				   __entry->start = start;
				   __entry->size = size;
				   __entry->slots = slots;),
		    TP_printk("class: %u start: 0x%llx size: %zu slots: %lu",
			      __entry->slot_size, __entry->start,
			      __entry->size, __entry->slots)
);

DEFINE_EVENT(cc_swiotlb_chunk, cc_swiotlb_refill,
	     TP_PROTO(unsigned int slot_size, phys_addr_t start, size_t size,
		      unsigned long slots),
	     TP_ARGS(slot_size, start, size, slots)
);

DEFINE_EVENT(cc_swiotlb_chunk, cc_swiotlb_shrink,
	     TP_PROTO(unsigned int slot_size, phys_addr_t start, size_t size,
		      unsigned long slots),
	     TP_ARGS(slot_size, start, size, slots)
);

#endif /* _TRACE_CC_SWIOTLB_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
