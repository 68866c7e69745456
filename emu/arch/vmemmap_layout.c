/* SPDX-License-Identifier: MIT */
#include "vmemmap_layout.h"

#include <string.h>

static uint64_t field(uint64_t raw, struct hs_vmemmap_field f)
{
	if (!f.bits || f.shift >= 64)
		return 0;
	raw >>= f.shift;
	return f.bits >= 64 ? raw : raw & ((1ULL << f.bits) - 1);
}

uint64_t hs_vmemmap_raw(const struct hs_vmemmap_layout *l, const void *p)
{
	uint8_t b[8] = {0};
	memcpy(b, p, l->entry_size < 8 ? l->entry_size : 8);
	uint64_t v = 0;
	for (unsigned i = 8; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

void hs_vmemmap_decode(const struct hs_vmemmap_layout *l, uint64_t raw, struct hs_vmemmap_entry *e)
{
	e->refcount = (uint32_t)field(raw, l->refcount);
	uint64_t order = field(raw, l->order);
	e->order = order == l->no_order || order >= HS_VMEMMAP_NO_ORDER ? HS_VMEMMAP_NO_ORDER
									: (uint32_t)order;
	e->guest_shares = (uint32_t)field(raw, l->guest_shares);
	e->host_state =
	    l->host_state.bits ? (uint8_t)field(raw, l->host_state) : HS_VMEMMAP_NO_STATE;
	e->hyp_state = l->hyp_state.bits ? (uint8_t)(field(raw, l->hyp_state) ^ l->hyp_state_xor)
					 : HS_VMEMMAP_NO_STATE;
}
