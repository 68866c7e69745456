/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor's buddy page allocator (the idea of Linux's nVHE
 * page_alloc.c) and its per-page metadata, the vmemmap.
 *
 * The vmemmap is an array of struct hyp_page indexed by ABSOLUTE pfn; a free
 * block's metadata lives in its first page (order != HS_NO_ORDER, refcount 0).
 * Free pages are zero except their first 16 bytes, which hold the list node
 * linking them into pool->free_area[order]. Both layouts are fixed by abi.h
 * because the emulator's checker reads them.
 */
#ifndef HYP_PAGE_ALLOC_H
#define HYP_PAGE_ALLOC_H

#include <hyp/types.h>
#include <hypscope/abi.h>

/* One vmemmap entry; layout documented with HS_HYP_PAGE_SIZE in abi.h. */
struct hyp_page {
	u16 refcount;
	u8 order;
	u8 host_state : 4;
	u8 __hyp_state_comp : 4; /* ~state: zeroed vmemmap = hyp NOPAGE */
	u32 guest_shares;	 /* host->guest share count */
};

/* Circular doubly-linked list; an empty head points to itself. */
struct hyp_list {
	struct hyp_list *next;
	struct hyp_list *prev;
};

/* Layout = struct hs_hyp_pool_layout (static-asserted in page_alloc.c). */
struct hyp_pool {
	struct hyp_list free_area[HS_MAX_ORDER];
	u64 range_start; /* PA of the first page managed */
	u64 range_end;	 /* PA, exclusive */
	u32 max_order;	 /* inclusive: blocks of order 0..max_order */
	u32 lock;
};

/*
 * Hyp globals set up at boot (defined in page_alloc.c): the vmemmap base
 * (indexed by absolute pfn) and the linear-map offset, __hyp_pa(v) = v +
 * hyp_physvirt_offset. Host unit tests point them at their fake buffer.
 */
extern struct hyp_page *hyp_vmemmap;
extern s64 hyp_physvirt_offset;

static inline void *hyp_phys_to_virt(u64 phys)
{
	return (void *)(uintptr_t)(phys - (u64)hyp_physvirt_offset);
}

static inline u64 hyp_virt_to_phys(const void *addr)
{
	return (u64)(uintptr_t)addr + (u64)hyp_physvirt_offset;
}

static inline struct hyp_page *hyp_phys_to_page(u64 phys)
{
	return &hyp_vmemmap[phys >> HS_PAGE_SHIFT];
}

static inline struct hyp_page *hyp_virt_to_page(const void *addr)
{
	return hyp_phys_to_page(hyp_virt_to_phys(addr));
}

static inline u64 hyp_page_to_pfn(const struct hyp_page *p)
{
	return (u64)(p - hyp_vmemmap);
}

static inline u64 hyp_page_to_phys(const struct hyp_page *p)
{
	return hyp_page_to_pfn(p) << HS_PAGE_SHIFT;
}

static inline void *hyp_page_to_virt(const struct hyp_page *p)
{
	return hyp_phys_to_virt(hyp_page_to_phys(p));
}

static inline unsigned hyp_page_host_state(const struct hyp_page *p)
{
	return p->host_state;
}

static inline void hyp_page_set_host_state(struct hyp_page *p, unsigned state)
{
	p->host_state = state & 0xf;
}

/*
 * Stored as ~state & 0xf (abi.h). Decoding only the two state bits makes a
 * zeroed entry read as HS_PAGE_NOPAGE (3), which is the point of storing the
 * complement; values written by the setter decode identically either way.
 */
static inline unsigned hyp_page_hyp_state(const struct hyp_page *p)
{
	return ~p->__hyp_state_comp & 0x3;
}

static inline void hyp_page_set_hyp_state(struct hyp_page *p, unsigned state)
{
	p->__hyp_state_comp = ~state & 0xf;
}

/**
 * hyp_page_ref_inc() - take a reference on @p; WARNs (and refuses) instead
 * of wrapping the 16-bit count.
 */
void hyp_page_ref_inc(struct hyp_page *p);

/**
 * hyp_page_ref_dec_and_test() - drop a reference on @p.
 * Return: true when the count reached zero. Dropping a zero count WARNs and
 * returns false, so a double free never reaches the free lists.
 */
bool hyp_page_ref_dec_and_test(struct hyp_page *p);

/**
 * hyp_pool_init() - hand [pfn, pfn + nr_pages) to @pool.
 * @reserved_pages: how many pages at the start of the range stay allocated
 *                  (refcount 1): the ones the early allocator already used.
 * The vmemmap entries of the range must be mapped. Every other page is
 * zeroed and put on the free lists, coalesced into the largest blocks.
 * Return: 0, or -EINVAL for an empty range or reserved_pages > nr_pages.
 */
int hyp_pool_init(struct hyp_pool *pool, u64 pfn, u32 nr_pages, u32 reserved_pages);

/**
 * hyp_alloc_pages() - allocate 2^@order physically contiguous pages.
 * Return: the HYP VA of the block, zeroed, its first page with refcount 1
 * (split higher-order blocks as needed), or NULL when nothing fits.
 */
void *hyp_alloc_pages(struct hyp_pool *pool, u8 order);

/**
 * hyp_split_page() - turn an allocated block headed by @p into 2^order
 * independent order-0 pages, each with refcount 1 (e.g. concatenated
 * stage-2 roots, whose pages are then freed one by one).
 */
void hyp_split_page(struct hyp_page *p);

/** hyp_get_page() - take a reference on the allocated page at HYP VA @addr. */
void hyp_get_page(struct hyp_pool *pool, void *addr);

/**
 * hyp_put_page() - drop a reference on the page at HYP VA @addr; at zero the
 * block is zeroed, coalesced with its free buddies and put on a free list.
 */
void hyp_put_page(struct hyp_pool *pool, void *addr);

/** hyp_page_count() - the refcount of the page at HYP VA @addr. */
int hyp_page_count(void *addr);

#endif /* HYP_PAGE_ALLOC_H */
