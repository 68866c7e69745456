/* SPDX-License-Identifier: MIT */
/*
 * The HYP VA layout (seed 002): the linear map takes the half of the
 * hyp_va_bits space that does not hold the idmap page; the private range
 * (I/O, stacks, fixmap) takes the quarter of the idmap's half that does not
 * hold the idmap page, and the vmemmap sits in the top half of that quarter.
 */
#ifndef HS_LAYOUT_H
#define HS_LAYOUT_H

#include <stdint.h>

#include "hs_error.h"

struct hs_layout {
	unsigned va_bits;
	uint64_t idmap_pa;	 /* the idmap page, identity mapped */
	uint64_t memstart;	 /* PA the linear map is relative to */
	uint64_t linear_base;	 /* HYP VA of memstart (the hyp_va_msb tag) */
	uint64_t linear_size;	 /* span of the linear half */
	int64_t physvirt_offset; /* pa = hyp_va + physvirt_offset */
	uint64_t io_map_base;	 /* start of the private range */
	uint64_t vmemmap_base;	 /* HYP VA of pfn 0's struct hs_hyp_page */
	int idmap_upper_half;	 /* the idmap page has bit va_bits-1 set */
};

int hs_layout_compute(uint64_t ram_base, uint64_t ram_size, uint64_t idmap_pa, unsigned va_bits,
		      struct hs_layout *out, struct hs_error *err);

static inline uint64_t hs_layout_hyp_va(const struct hs_layout *l, uint64_t pa)
{
	return pa - (uint64_t)l->physvirt_offset; /* modulo 2^64: any pa is an input */
}
static inline uint64_t hs_layout_pa(const struct hs_layout *l, uint64_t hyp_va)
{
	return hyp_va + (uint64_t)l->physvirt_offset;
}

#endif
