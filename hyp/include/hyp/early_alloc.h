/* SPDX-License-Identifier: MIT */
/*
 * The early bump allocator: hands out zeroed pages from one range while the
 * hyp builds its first tables, before the buddy allocator exists. Pages are
 * never freed; the pages used (always a prefix of the range) are later given
 * to hyp_pool_init() as its reserved pages.
 */
#ifndef HYP_EARLY_ALLOC_H
#define HYP_EARLY_ALLOC_H

#include <hyp/pgtable.h>
#include <hyp/types.h>

struct hyp_early_alloc {
	u64 base; /* HYP VA of the first page */
	u64 end;  /* HYP VA, exclusive */
	u64 cur;  /* next free page */
};

/** hyp_early_alloc_init() - manage [@virt, @virt + @size) (page-aligned HYP VAs). */
void hyp_early_alloc_init(struct hyp_early_alloc *ea, void *virt, u64 size);

/**
 * hyp_early_alloc_contig() - @nr_pages zeroed contiguous pages.
 * Return: their HYP VA, or NULL when the range is exhausted (nothing used).
 */
void *hyp_early_alloc_contig(struct hyp_early_alloc *ea, u64 nr_pages);

/**
 * hyp_early_alloc_contig_unzeroed() - the same, left as they are: for a
 * range whose own allocator zeroes each page as it hands it out (an early
 * allocator's pages, a hyp_pool's free pages), so nothing reads it twice.
 */
void *hyp_early_alloc_contig_unzeroed(struct hyp_early_alloc *ea, u64 nr_pages);

/** hyp_early_alloc_page() - one zeroed page; @arg is the allocator (mm_ops style). */
void *hyp_early_alloc_page(void *arg);

/**
 * hyp_early_alloc_pages_exact() - @size bytes (a power-of-two number of
 * pages), zeroed and aligned to @size, e.g. concatenated stage-2 roots. The
 * pages skipped to align count as used. @arg is the allocator.
 */
void *hyp_early_alloc_pages_exact(size_t size, void *arg);

/** hyp_early_alloc_nr_used_pages() - pages handed out (or skipped) so far. */
u64 hyp_early_alloc_nr_used_pages(const struct hyp_early_alloc *ea);

/** hyp_early_alloc_page_used() - whether the page at HYP VA @virt was used. */
bool hyp_early_alloc_page_used(const struct hyp_early_alloc *ea, const void *virt);

/**
 * hyp_early_alloc_mm_ops() - fill @ops for building tables from @ea: early
 * pages are never freed, so get/put are no-ops and page_count reports 0
 * (unmap then keeps empty tables); table refcounts must be recomputed when
 * the tables move to the buddy allocator. Filled at run time on purpose:
 * the hyp runs at a different VA than it is linked, so no static tables of
 * function pointers.
 */
void hyp_early_alloc_mm_ops(struct hyp_mm_ops *ops, struct hyp_early_alloc *ea,
			    void *(*phys_to_virt)(u64 phys), u64 (*virt_to_phys)(void *addr));

#endif /* HYP_EARLY_ALLOC_H */
