// SPDX-License-Identifier: MIT
#include <hyp/early_alloc.h>
#include <hyp/string.h>

void hyp_early_alloc_init(struct hyp_early_alloc *ea, void *virt, u64 size)
{
	ea->base = (u64)(uintptr_t)virt;
	ea->end = ea->base + ALIGN_DOWN(size, HS_PAGE_SIZE);
	ea->cur = ea->base;
}

static void *early_alloc_at(struct hyp_early_alloc *ea, u64 start, u64 nr_pages, bool zero)
{
	u64 size = nr_pages * HS_PAGE_SIZE;

	if (!nr_pages || start > ea->end || size > ea->end - start)
		return NULL;
	ea->cur = start + size;
	if (zero)
		memzero_pages((void *)(uintptr_t)start, size);
	return (void *)(uintptr_t)start;
}

void *hyp_early_alloc_contig(struct hyp_early_alloc *ea, u64 nr_pages)
{
	return early_alloc_at(ea, ea->cur, nr_pages, true);
}

void *hyp_early_alloc_contig_unzeroed(struct hyp_early_alloc *ea, u64 nr_pages)
{
	return early_alloc_at(ea, ea->cur, nr_pages, false);
}

void *hyp_early_alloc_page(void *arg)
{
	return hyp_early_alloc_contig(arg, 1);
}

void *hyp_early_alloc_pages_exact(size_t size, void *arg)
{
	struct hyp_early_alloc *ea = arg;

	if (!size || size & (size - 1) || size < HS_PAGE_SIZE)
		return NULL;
	/*
	 * Aligning the HYP VA aligns the PA too: the linear-map offset is a
	 * multiple of far more than the 64 KiB a 16-page root needs.
	 */
	return early_alloc_at(ea, ALIGN(ea->cur, (u64)size), size / HS_PAGE_SIZE, true);
}

u64 hyp_early_alloc_nr_used_pages(const struct hyp_early_alloc *ea)
{
	return (ea->cur - ea->base) >> HS_PAGE_SHIFT;
}

bool hyp_early_alloc_page_used(const struct hyp_early_alloc *ea, const void *virt)
{
	u64 va = (u64)(uintptr_t)virt;

	return va >= ea->base && va < ea->cur;
}

static void early_get_page(void *addr)
{
	(void)addr;
}

static void early_put_page(void *addr)
{
	(void)addr;
}

static int early_page_count(void *addr)
{
	(void)addr;
	return 0;
}

void hyp_early_alloc_mm_ops(struct hyp_mm_ops *ops, struct hyp_early_alloc *ea,
			    void *(*phys_to_virt)(u64 phys), u64 (*virt_to_phys)(void *addr))
{
	ops->zalloc_page = hyp_early_alloc_page;
	ops->zalloc_pages_exact = hyp_early_alloc_pages_exact;
	ops->get_page = early_get_page;
	ops->put_page = early_put_page;
	ops->page_count = early_page_count;
	ops->phys_to_virt = phys_to_virt;
	ops->virt_to_phys = virt_to_phys;
	ops->arg = ea;
}
