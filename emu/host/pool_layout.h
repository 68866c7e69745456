/* SPDX-License-Identifier: MIT */
/*
 * A hypervisor's buddy pool, `struct hyp_pool`: a lock, one list head per order
 * (free_area[]), the range of pages it manages and its max_order. The free lists are
 * threaded through the free pages' own memory (a list node at the start of each free
 * block's first page: the bundled hypervisor, Linux 6.x and 7.x alike), so only the
 * struct's layout differs between hypervisors: data from the profile (
 * profile.h), for Linux read from the image's DWARF.
 */
#ifndef HS_POOL_LAYOUT_H
#define HS_POOL_LAYOUT_H

#include <stdint.h>

#include <hypscope/abi.h>

struct hs_pool_layout {
	unsigned size;		/* sizeof(struct hyp_pool) */
	unsigned free_area;	/* offsetof(free_area): list heads of 16 bytes (next, prev) */
	unsigned nr_orders;	/* ARRAY_SIZE(free_area), at most HS_MAX_ORDER */
	unsigned range_start;	/* offsetof, a 64-bit PA */
	unsigned range_end;	/* offsetof, a 64-bit PA */
	unsigned max_order;	/* offsetof */
	unsigned max_order_len; /* its size: 1, 2 or 4 bytes */
};

/* The bundled hypervisor's struct hs_hyp_pool_layout (hypscope/abi.h). */
extern const struct hs_pool_layout hs_pool_layout_bundled;

/*
 * The pool in raw (l->size bytes) under layout l, as the bundled struct: free_area[]
 * beyond l->nr_orders is zero. The list heads' own addresses are the pool's address +
 * hs_pool_head_off(l, order).
 */
void hs_pool_decode(const struct hs_pool_layout *l, const void *raw,
		    struct hs_hyp_pool_layout *out);
static inline uint64_t hs_pool_head_off(const struct hs_pool_layout *l, unsigned order)
{
	return l->free_area + order * (uint64_t)sizeof(struct hs_list_node);
}

#endif
