/*
 * QMP x-query-dma-guard: the guest's shared memory and the DMA the guard
 * refused.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/qapi-commands-dma-guard.h"
#include "sysemu/guest-shared.h"
#include "sysemu/dma-guard.h"

static void add_device(const char *path, const DmaGuardDeviceStats *st,
                       void *opaque)
{
    DmaGuardDeviceList ***tail = opaque;
    DmaGuardDevice *dev = g_new0(DmaGuardDevice, 1);

    dev->path = g_strdup(path);
    dev->violations = st->violations;
    dev->first_violation_address = st->first_addr;
    dev->first_violation_length = st->first_len;
    QAPI_LIST_APPEND(*tail, dev);
}

DmaGuardInfo *qmp_x_query_dma_guard(Error **errp)
{
    DmaGuardInfo *info = g_new0(DmaGuardInfo, 1);
    DmaGuardConversions *conv = g_new0(DmaGuardConversions, 1);
    DmaGuardRefusals *ref = g_new0(DmaGuardRefusals, 1);
    DmaGuardDeviceList **tail = &info->devices;
    GuestSharedStats st;

    guest_shared_get_stats(&st);

    conv->to_shared_calls = st.to_shared_calls;
    conv->to_shared_pages = st.to_shared_pages;
    conv->to_private_calls = st.to_private_calls;
    conv->to_private_pages = st.to_private_pages;

    ref->total = st.refused;
    ref->reserved_bits = st.refused_by[GUEST_SHARED_REFUSED_RESERVED_BITS];
    ref->page_size = st.refused_by[GUEST_SHARED_REFUSED_PAGE_SIZE];
    ref->unaligned = st.refused_by[GUEST_SHARED_REFUSED_UNALIGNED];
    ref->no_pages = st.refused_by[GUEST_SHARED_REFUSED_NO_PAGES];
    ref->overflow = st.refused_by[GUEST_SHARED_REFUSED_OVERFLOW];
    ref->not_ram = st.refused_by[GUEST_SHARED_REFUSED_NOT_RAM];

    info->enabled = dma_guard_enabled();
    info->shared_pages = st.shared_pages;
    info->conversions = conv;
    info->refused = ref;
    dma_guard_foreach_device(add_device, &tail);
    return info;
}
