// SPDX-License-Identifier: MIT
/*
 * Buddy allocator over the vmemmap, after Linux's nVHE page_alloc.c.
 *
 * Buddies are found by flipping bit (PAGE_SHIFT + order) of the ABSOLUTE
 * physical address, so every free block is naturally aligned to its size and
 * the emulator can check that without knowing where the pool started. A page
 * is the head of a free block iff refcount == 0 and order != HS_NO_ORDER.
 */
#include <hyp/arch.h>
#include <hyp/page_alloc.h>
#include <hyp/string.h>

struct hyp_page *hyp_vmemmap;
s64 hyp_physvirt_offset;

/* The emulator decodes these structures with abi.h: they must not drift. */
_Static_assert(sizeof(struct hyp_page) == HS_HYP_PAGE_SIZE, "hyp_page size");
_Static_assert(offsetof(struct hyp_page, refcount) == 0, "hyp_page refcount");
_Static_assert(offsetof(struct hyp_page, order) == 2, "hyp_page order");
_Static_assert(offsetof(struct hyp_page, guest_shares) == 4, "hyp_page guest_shares");
_Static_assert(sizeof(struct hyp_list) == sizeof(struct hs_list_node), "list node");
_Static_assert(offsetof(struct hyp_list, next) == offsetof(struct hs_list_node, next), "next");
_Static_assert(offsetof(struct hyp_list, prev) == offsetof(struct hs_list_node, prev), "prev");
_Static_assert(sizeof(struct hyp_pool) == sizeof(struct hs_hyp_pool_layout), "pool size");
_Static_assert(offsetof(struct hyp_pool, free_area) ==
		   offsetof(struct hs_hyp_pool_layout, free_area),
	       "pool free_area");
_Static_assert(offsetof(struct hyp_pool, range_start) ==
		   offsetof(struct hs_hyp_pool_layout, range_start),
	       "pool range_start");
_Static_assert(offsetof(struct hyp_pool, range_end) ==
		   offsetof(struct hs_hyp_pool_layout, range_end),
	       "pool range_end");
_Static_assert(offsetof(struct hyp_pool, max_order) ==
		   offsetof(struct hs_hyp_pool_layout, max_order),
	       "pool max_order");
_Static_assert(offsetof(struct hyp_pool, lock) == offsetof(struct hs_hyp_pool_layout, lock),
	       "pool lock");
_Static_assert(HS_MAX_ORDER <= HS_NO_ORDER, "order must fit in u8 below HS_NO_ORDER");

static void hyp_list_init(struct hyp_list *head)
{
	head->next = head;
	head->prev = head;
}

static bool hyp_list_empty(const struct hyp_list *head)
{
	return head->next == head;
}

static void hyp_list_add_tail(struct hyp_list *node, struct hyp_list *head)
{
	node->prev = head->prev;
	node->next = head;
	head->prev->next = node;
	head->prev = node;
}

/* Unlink and zero the node, so the page is all-zero again once allocated. */
static void hyp_list_del_zero(struct hyp_list *node)
{
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->next = NULL;
	node->prev = NULL;
}

static struct hyp_list *page_node(struct hyp_page *p)
{
	return hyp_page_to_virt(p);
}

static u8 order_for_pages(u64 nr_pages)
{
	u8 order = 0;

	while ((1UL << order) < nr_pages)
		order++;
	return order;
}

void hyp_page_ref_inc(struct hyp_page *p)
{
	if (WARN_ON(p->refcount == 0xffff))
		return;
	p->refcount++;
}

bool hyp_page_ref_dec_and_test(struct hyp_page *p)
{
	if (WARN_ON(p->refcount == 0))
		return false;
	p->refcount--;
	return p->refcount == 0;
}

static bool pool_contains(const struct hyp_pool *pool, u64 phys)
{
	return phys >= pool->range_start && phys < pool->range_end;
}

/* The buddy of @p at @order if it is a free block of exactly that order. */
static struct hyp_page *find_free_buddy(struct hyp_pool *pool, struct hyp_page *p, u8 order)
{
	u64 phys = hyp_page_to_phys(p) ^ (HS_PAGE_SIZE << order);
	struct hyp_page *buddy;

	if (!pool_contains(pool, phys))
		return NULL;
	buddy = hyp_phys_to_page(phys);
	if (buddy->order != order || buddy->refcount)
		return NULL;
	return buddy;
}

/* Give the block headed by @p (refcount already 0) back to the free lists. */
static void attach_block(struct hyp_pool *pool, struct hyp_page *p)
{
	u8 order = p->order;
	struct hyp_page *buddy;

	if (WARN_ON(order > pool->max_order))
		return;

	/* Zero first: free memory is zero apart from the list nodes. */
	memzero_pages(hyp_page_to_virt(p), HS_PAGE_SIZE << order);

	for (; order < pool->max_order; order++) {
		buddy = find_free_buddy(pool, p, order);
		if (!buddy)
			break;
		hyp_list_del_zero(page_node(buddy));
		buddy->order = HS_NO_ORDER;
		p->order = HS_NO_ORDER;
		p = buddy < p ? buddy : p;
	}
	p->order = order;
	hyp_list_add_tail(page_node(p), &pool->free_area[order]);
}

/* Take the free block @p off its list and split it down to @order. */
static void extract_block(struct hyp_pool *pool, struct hyp_page *p, u8 order)
{
	struct hyp_page *buddy;

	hyp_list_del_zero(page_node(p));
	while (p->order > order) {
		/* Halve: the upper half becomes a free block of its own. */
		p->order--;
		buddy = hyp_phys_to_page(hyp_page_to_phys(p) + (HS_PAGE_SIZE << p->order));
		buddy->order = p->order;
		hyp_list_add_tail(page_node(buddy), &pool->free_area[buddy->order]);
	}
}

/*
 * At init, free the pages from @p on (@left of them up to the pool's end) as
 * one block: the largest naturally aligned one (by absolute PA, as buddies
 * are found) that fits, up to max_order. Freeing every page on its own
 * coalesces them into the same blocks, listed in the same (ascending) order,
 * but writes a list node into nearly every page on the way: one copy-on-write
 * fault of the emulator's RAM per pool page (at 16 GiB 68 MiB of table pools).
 * Returns the pages freed.
 */
static u32 free_init_block(struct hyp_pool *pool, struct hyp_page *p, u32 left)
{
	u64 pfn = hyp_page_to_phys(p) >> HS_PAGE_SHIFT;
	u8 order = 0;
	u64 i;

	while (order < pool->max_order && !(pfn & (1UL << order)) && (2UL << order) <= left)
		order++;
	for (i = 1; i < (1UL << order); i++) {
		p[i].refcount = 0;
		p[i].order = HS_NO_ORDER;
	}
	p->refcount = 0;
	p->order = order;
	attach_block(pool, p);
	return 1U << order;
}

int hyp_pool_init(struct hyp_pool *pool, u64 pfn, u32 nr_pages, u32 reserved_pages)
{
	struct hyp_page *p;
	u32 i;

	if (!nr_pages || reserved_pages > nr_pages)
		return -EINVAL;

	pool->lock = 0;
	for (i = 0; i < HS_MAX_ORDER; i++)
		hyp_list_init(&pool->free_area[i]);
	pool->max_order = min((u32)HS_MAX_ORDER - 1, (u32)order_for_pages(nr_pages));
	pool->range_start = pfn << HS_PAGE_SHIFT;
	pool->range_end = (pfn + nr_pages) << HS_PAGE_SHIFT;

	/* Every page starts as an allocated order-0 page... */
	p = hyp_phys_to_page(pool->range_start);
	for (i = 0; i < nr_pages; i++) {
		p[i].order = 0;
		p[i].refcount = 1;
	}
	/* ...and all but the reserved ones are freed. */
	for (i = reserved_pages; i < nr_pages;)
		i += free_init_block(pool, &p[i], nr_pages - i);
	return 0;
}

void *hyp_alloc_pages(struct hyp_pool *pool, u8 order)
{
	struct hyp_page *p;
	u32 i = order;

	hyp_spin_lock(&pool->lock);
	while (i <= pool->max_order && hyp_list_empty(&pool->free_area[i]))
		i++;
	if (i > pool->max_order) {
		hyp_spin_unlock(&pool->lock);
		return NULL;
	}
	p = hyp_virt_to_page(pool->free_area[i].next);
	extract_block(pool, p, order);
	WARN_ON(p->refcount);
	p->refcount = 1;
	hyp_spin_unlock(&pool->lock);

	return hyp_page_to_virt(p);
}

void hyp_split_page(struct hyp_page *p)
{
	u8 order = p->order;
	u64 i;

	if (WARN_ON(order == HS_NO_ORDER || order >= HS_MAX_ORDER))
		return;
	p->order = 0;
	for (i = 1; i < (1UL << order); i++) {
		WARN_ON(p[i].refcount);
		p[i].order = 0;
		p[i].refcount = 1;
	}
}

void hyp_get_page(struct hyp_pool *pool, void *addr)
{
	struct hyp_page *p = hyp_virt_to_page(addr);

	hyp_spin_lock(&pool->lock);
	/* A pool page with no reference is on a free list: never revive it. */
	if (!WARN_ON(!pool_contains(pool, hyp_virt_to_phys(addr)) || !p->refcount))
		hyp_page_ref_inc(p);
	hyp_spin_unlock(&pool->lock);
}

void hyp_put_page(struct hyp_pool *pool, void *addr)
{
	struct hyp_page *p = hyp_virt_to_page(addr);

	hyp_spin_lock(&pool->lock);
	if (!WARN_ON(!pool_contains(pool, hyp_virt_to_phys(addr))) && hyp_page_ref_dec_and_test(p))
		attach_block(pool, p);
	hyp_spin_unlock(&pool->lock);
}

int hyp_page_count(void *addr)
{
	return hyp_virt_to_page(addr)->refcount;
}
