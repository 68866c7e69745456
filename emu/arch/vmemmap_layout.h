/* SPDX-License-Identifier: MIT */
/*
 * A hypervisor's vmemmap: one entry (its `struct hyp_page`) per physical page, indexed
 * by absolute PFN from a base HYP VA. What an entry holds and where differs between
 * hypervisors and between kernel versions (Linux 6.x: refcount and order only; 7.x and
 * the bundled hypervisor: also the host and hyp page states and a guest-share count),
 * so the layout is data, from the hypervisor's profile (emu/host/profile.h) — for
 * Linux, read from the image's DWARF.
 */
#ifndef HS_VMEMMAP_LAYOUT_H
#define HS_VMEMMAP_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

/* A bit field of an entry (little-endian, from the entry's first byte); bits 0: none. */
struct hs_vmemmap_field {
	uint16_t shift;
	uint8_t bits;
};

struct hs_vmemmap_layout {
	uint64_t base_va;    /* HYP VA of pfn 0's entry */
	unsigned entry_size; /* bytes, 1..8 (sizeof(struct hyp_page)) */
	struct hs_vmemmap_field refcount, order, host_state, hyp_state, guest_shares;
	unsigned hyp_state_xor; /* the hyp state is stored as state ^ hyp_state_xor */
	uint64_t no_order;	/* the order of a page that heads no free block */
	/* No state fields: the page states live only in the page tables' software bits. */
	bool states_in_tables;
};

#define HS_VMEMMAP_NO_ORDER 0xff /* decoded order of a page heading no free block */
#define HS_VMEMMAP_NO_STATE 0xf	 /* decoded state the entry does not hold */

struct hs_vmemmap_entry {
	uint32_t refcount, order, guest_shares;
	uint8_t host_state, hyp_state; /* page states, or HS_VMEMMAP_NO_STATE */
};

/* The fields of the raw entry (its entry_size bytes, little-endian) under layout l. */
void hs_vmemmap_decode(const struct hs_vmemmap_layout *l, uint64_t raw, struct hs_vmemmap_entry *e);
/* The raw entry at p (entry_size bytes, any alignment). */
uint64_t hs_vmemmap_raw(const struct hs_vmemmap_layout *l, const void *p);

#endif
