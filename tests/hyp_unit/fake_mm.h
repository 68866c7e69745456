/* SPDX-License-Identifier: MIT */
/*
 * Fake physical memory for host unit tests of hyp/ (Hafnium's fake arch):
 * an aligned host buffer pretending to be physical pages at FAKE_PHYS_BASE,
 * with a refcount per page, behind a struct hyp_mm_ops. Physical addresses
 * differ from host pointers, so PA/VA mix-ups in the code under test fail.
 */
#ifndef HYP_UNIT_FAKE_MM_H
#define HYP_UNIT_FAKE_MM_H

#include <hyp/arch.h>
#include <hyp/pgtable.h>

#define FAKE_PHYS_BASE 0x880000000UL /* 34 GiB: 64 KiB-aligned, outside test IPAs */

struct fake_mm {
	u8 *buf;
	u64 nr_pages;
	int *refcount;
	u64 live_pages;	 /* pages currently allocated */
	u64 alloc_limit; /* refuse allocations beyond this many live pages */
	struct hyp_mm_ops ops;
};

/* Set up the global fake with @nr_pages pages and reset hs_fake_arch. */
struct fake_mm *fake_mm_init(u64 nr_pages);
void fake_mm_fini(void);

u64 fake_virt_to_phys(void *addr);
void *fake_phys_to_virt(u64 phys);
int fake_page_count(void *addr);

#endif
