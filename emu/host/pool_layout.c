/* SPDX-License-Identifier: MIT */
/* Decoding a buddy pool's struct under its layout (pool_layout.h). */
#include "pool_layout.h"

#include <stddef.h>
#include <string.h>

const struct hs_pool_layout hs_pool_layout_bundled = {
    .size = sizeof(struct hs_hyp_pool_layout),
    .free_area = offsetof(struct hs_hyp_pool_layout, free_area),
    .nr_orders = HS_MAX_ORDER,
    .range_start = offsetof(struct hs_hyp_pool_layout, range_start),
    .range_end = offsetof(struct hs_hyp_pool_layout, range_end),
    .max_order = offsetof(struct hs_hyp_pool_layout, max_order),
    .max_order_len = sizeof(((struct hs_hyp_pool_layout *)0)->max_order),
};

static uint64_t field(const void *raw, unsigned off, unsigned len)
{
	uint64_t v = 0;
	memcpy(&v, (const char *)raw + off, len); /* little-endian, as the guest's */
	return v;
}

void hs_pool_decode(const struct hs_pool_layout *l, const void *raw, struct hs_hyp_pool_layout *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned o = 0; o < l->nr_orders && o < HS_MAX_ORDER; o++)
		memcpy(&out->free_area[o], (const char *)raw + hs_pool_head_off(l, o),
		       sizeof(out->free_area[o]));
	out->range_start = field(raw, l->range_start, 8);
	out->range_end = field(raw, l->range_end, 8);
	out->max_order = (uint32_t)field(raw, l->max_order, l->max_order_len);
}
