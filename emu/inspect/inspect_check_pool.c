/* SPDX-License-Identifier: MIT */
/*
 * The buddy-pool rules (pool-*): follow every free list of `hpool` or
 * `host_s2_pool` in emulated memory and check each free block against the
 * vmemmap and its own contents.
 *
 * Free pages must be zero, and reading them all is most of what a check
 * costs (a pool of 3,000 free pages is 12 MiB), so whether a page is zero is
 * kept per page: computed when first needed and forgotten when the CPUs
 * write the page (hs_chk_pool_forget). A free block whose pages are all
 * known-good, on no other list and with a clean vmemmap run is accepted in
 * one step; any other block is checked page by page, exactly as the rules
 * read, so the violations are the same either way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inspect_check_priv.h"
#include "layout.h"
#include "profile.h"

#define PAGE HS_PAGE_SIZE
#define NODE_BYTES sizeof(struct hs_list_node)

/* ---- bitmaps over the pool's pages -------------------------------------- */

static bool bit(const uint64_t *b, uint64_t k)
{
	return (b[k / 64] >> (k % 64)) & 1;
}

static void set_bit(uint64_t *b, uint64_t k)
{
	b[k / 64] |= 1ULL << (k % 64);
}

/* The bits [lo, hi) of word w, in place. */
static uint64_t word_mask(uint64_t w, uint64_t lo, uint64_t hi)
{
	uint64_t first = w * 64, m = ~0ULL;
	if (lo > first)
		m &= ~0ULL << (lo - first);
	if (hi < first + 64)
		m &= ~0ULL >> (first + 64 - hi);
	return m;
}

static bool any_set(const uint64_t *b, uint64_t lo, uint64_t hi)
{
	for (uint64_t w = lo / 64; lo < hi && w <= (hi - 1) / 64; w++)
		if (b[w] & word_mask(w, lo, hi))
			return true;
	return false;
}

static bool all_set(const uint64_t *b, uint64_t lo, uint64_t hi)
{
	for (uint64_t w = lo / 64; lo < hi && w <= (hi - 1) / 64; w++) {
		uint64_t m = word_mask(w, lo, hi);
		if ((b[w] & m) != m)
			return false;
	}
	return true;
}

static void set_range(uint64_t *b, uint64_t lo, uint64_t hi)
{
	for (uint64_t w = lo / 64; lo < hi && w <= (hi - 1) / 64; w++)
		b[w] |= word_mask(w, lo, hi);
}

static bool zero(const uint8_t *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)p;
	for (size_t i = 0; i < n / 8; i++)
		if (q[i])
			return false;
	return true;
}

/* ---- the page cache ---------------------------------------------------- */

void hs_chk_pool_init(struct hs_chk_pool *p, const char *name, unsigned tables)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->tables = tables;
}

static void free_bitmaps(struct hs_chk_pool *p)
{
	free(p->known);
	free(p->zhead);
	free(p->zfull);
	free(p->listed);
	free(p->leak);
	p->known = p->zhead = p->zfull = p->listed = p->leak = NULL;
	p->npages = 0;
	p->rs = p->re = 0;
}

void hs_chk_pool_free(struct hs_chk_pool *p)
{
	free_bitmaps(p);
	free(p->rd);
	hs_chk_pool_init(p, p->name, p->tables);
}

/* Bitmaps for [rs, re); what is known about the pages survives only for the same range. */
static int cover(struct hs_chk_pool *p, uint64_t rs, uint64_t re)
{
	if (p->known && p->rs == rs && p->re == re)
		return 0;
	free_bitmaps(p);
	uint64_t n = (re - rs) >> HS_PAGE_SHIFT, words = (n + 63) / 64;
	p->known = calloc(words, 8);
	p->zhead = calloc(words, 8);
	p->zfull = calloc(words, 8);
	p->listed = calloc(words, 8);
	p->leak = calloc(words, 8);
	if (!p->known || !p->zhead || !p->zfull || !p->listed || !p->leak) {
		free_bitmaps(p);
		return -ENOMEM;
	}
	p->rs = rs;
	p->re = re;
	p->npages = n;
	return 0;
}

void hs_chk_pool_forget(struct hs_chk_pool *p, uint64_t pa)
{
	if (p->known && pa >= p->rs && pa < p->re) {
		uint64_t k = (pa - p->rs) >> HS_PAGE_SHIFT;
		p->known[k / 64] &= ~(1ULL << (k % 64));
	}
}

/* Learn whether the pages [lo, hi) (indices) are zero, for those not known yet. */
static void learn(struct hs_machine *m, struct hs_chk_pool *p, uint64_t lo, uint64_t hi)
{
	for (uint64_t w = lo / 64; lo < hi && w <= (hi - 1) / 64; w++) {
		uint64_t todo = ~p->known[w] & word_mask(w, lo, hi);
		while (todo) {
			uint64_t k = w * 64 + (uint64_t)__builtin_ctzll(todo);
			todo &= todo - 1;
			const uint8_t *pg = hs_phys_ptr(m, p->rs + (k << HS_PAGE_SHIFT), PAGE);
			if (!pg)
				continue; /* not RAM: never checked, never known */
			bool tail = zero(pg + NODE_BYTES, PAGE - NODE_BYTES);
			if (tail)
				p->zhead[w] |= 1ULL << (k % 64);
			else
				p->zhead[w] &= ~(1ULL << (k % 64));
			if (tail && zero(pg, NODE_BYTES))
				p->zfull[w] |= 1ULL << (k % 64);
			else
				p->zfull[w] &= ~(1ULL << (k % 64));
			set_bit(p->known, k);
		}
	}
}

/* Is the page (index k) zero where a free page must be (head: past its list node)? */
static bool page_clean(struct hs_machine *m, struct hs_chk_pool *p, uint64_t k, bool head)
{
	learn(m, p, k, k + 1);
	if (!bit(p->known, k))
		return true; /* not RAM: the rules skip it */
	return bit(head ? p->zhead : p->zfull, k);
}

/* ---- free blocks ------------------------------------------------------- */

/* The first vmemmap run ending after pa (NULL: none). */
static const struct hs_snap_vm_range *first_run_from(const struct hs_snapshot *s, uint64_t pa)
{
	size_t i = hs_snap_vm_lower(s, pa);
	return i < s->nr_vm ? &s->vm[i] : NULL;
}

/*
 * Can the block [npa, bend) of order o be accepted without looking at its
 * pages one by one: none listed yet, refcount 0 and the right orders in the
 * vmemmap, every page zero where it must be?
 */
static bool block_clean(struct hs_machine *m, const struct hs_snapshot *s, struct hs_chk_pool *p,
			uint64_t npa, uint64_t bend, unsigned o)
{
	uint64_t k0 = (npa - p->rs) >> HS_PAGE_SHIFT, k1 = (bend - p->rs) >> HS_PAGE_SHIFT;
	if (any_set(p->listed, k0, k1))
		return false;
	const struct hs_snap_vm_range *v = first_run_from(s, npa);
	for (; v && v < s->vm + s->nr_vm && v->start < bend; v++) {
		if (!v->backed)
			continue;
		if (HS_VM_RC(v->val))
			return false;
		bool has_head = v->start <= npa;
		bool has_tail = v->end > npa + PAGE && bend > npa + PAGE;
		if (has_head && HS_VM_ORDER(v->val) != o)
			return false;
		if (has_tail && HS_VM_ORDER(v->val) != HS_NO_ORDER)
			return false;
	}
	if (!hs_phys_is_ram(m, npa, bend - npa))
		return false; /* the slow path knows which pages to skip */
	learn(m, p, k0, k1);
	return bit(p->zhead, k0) && all_set(p->zfull, k0 + 1, k1);
}

/* The rules for each page of a block, one by one. */
static void block_pages(struct hs_machine *m, const struct hs_snapshot *s, struct hs_chk_pool *p,
			uint64_t npa, uint64_t bend, unsigned o, struct hs_check_report *rep)
{
	const char *name = p->name;
	unsigned tt = p->tables;
	for (uint64_t pa = npa; pa < bend; pa += PAGE) {
		uint64_t k = (pa - p->rs) >> HS_PAGE_SHIFT;
		if (bit(p->listed, k)) {
			hs_chk_report(rep, "pool-overlap", pa, 1, tt,
				      "%s: page is in two free blocks", name);
			continue;
		}
		set_bit(p->listed, k);
		const struct hs_snap_vm_range *vm = hs_snap_vm_find(s, pa);
		if (vm && vm->backed) {
			unsigned rc = HS_VM_RC(vm->val), ord = HS_VM_ORDER(vm->val);
			if (rc)
				hs_chk_report(rep, "pool-refcount", pa, 1, tt | HS_CHK_T_VMEMMAP,
					      "%s: free page has refcount %u", name, rc);
			if (pa == npa && ord != o)
				hs_chk_report(rep, "pool-order", pa, 1, tt | HS_CHK_T_VMEMMAP,
					      "%s: head of an order-%u free block has order %u",
					      name, o, ord);
			if (pa != npa && ord != HS_NO_ORDER)
				hs_chk_report(rep, "pool-order", pa, 1, tt | HS_CHK_T_VMEMMAP,
					      "%s: tail page of an order-%u block has order %u",
					      name, o, ord);
		}
		if (!page_clean(m, p, k, pa == npa))
			hs_chk_report(rep, "pool-zero", pa, 1, tt, "%s: free page is not zeroed",
				      name);
	}
}

/* The pool struct at p->pool_pa under p->lay, decoded as the bundled one. */
static int read_pool(struct hs_machine *m, const struct hs_chk_pool *p,
		     struct hs_hyp_pool_layout *out)
{
	uint8_t raw[4096];
	if (p->lay.size > sizeof(raw) || hs_phys_read(m, p->pool_pa, raw, p->lay.size, NULL))
		return -EFAULT;
	hs_pool_decode(&p->lay, raw, out);
	return 0;
}

static int note_read(struct hs_chk_pool *p, uint64_t start, uint64_t end)
{
	if (hs_snap_grow((void **)&p->rd, &p->cap_rd, p->nr_rd + 1, sizeof(*p->rd)))
		return -ENOMEM;
	p->rd[p->nr_rd++] = (struct hs_chk_interval){start, end};
	return 0;
}

/* Follow the free list of order o. */
static void walk_list(struct hs_machine *m, const struct hs_snapshot *s, struct hs_chk_pool *p,
		      unsigned o, struct hs_check_report *rep)
{
	const struct hs_layout *l = hs_machine_layout(m);
	const char *name = p->name;
	unsigned tt = p->tables;
	uint64_t rs = p->rs, re = p->re;
	uint64_t head = hs_layout_hyp_va(l, p->pool_pa) + hs_pool_head_off(&p->lay, o);
	uint64_t prev = head, node = p->pool.free_area[o].next, steps = 0;
	/* Linux's hyp_pool_init initialises the heads up to max_order only: none above */
	if (!node && o > p->pool.max_order)
		return;
	if (!node) {
		hs_chk_report(rep, "pool-list", p->pool_pa, 0, tt,
			      "%s: free_area[%u] head has a NULL next pointer", name, o);
		return;
	}
	while (node != head) {
		uint64_t npa = hs_layout_pa(l, node);
		if (++steps > p->npages) {
			hs_chk_report(rep, "pool-list", npa, 1, tt,
				      "%s: free list of order %u does not close (loop)", name, o);
			return;
		}
		if ((node & (PAGE - 1)) || npa < rs || npa >= re) {
			hs_chk_report(rep, "pool-list", hs_layout_pa(l, prev) & ~(PAGE - 1), 1, tt,
				      "%s: order-%u list node after VA %#" PRIx64
				      " points to %#" PRIx64 ", not a page of the pool",
				      name, o, prev, node);
			return;
		}
		struct hs_list_node ln;
		const uint8_t *page = hs_phys_ptr(m, npa, PAGE);
		if (!page) {
			hs_chk_report(rep, "pool-list", npa, 1, tt,
				      "%s: node %#" PRIx64 " unreadable", name, npa);
			return;
		}
		memcpy(&ln, page, sizeof(ln));
		if (ln.prev != prev)
			hs_chk_report(rep, "pool-list", npa, 1, tt,
				      "%s: order-%u node's prev is %#" PRIx64
				      ", expected %#" PRIx64,
				      name, o, ln.prev, prev);
		rep->free_blocks_checked++;
		uint64_t bsz = PAGE << o, bend = npa + bsz;
		if (o > p->pool.max_order)
			hs_chk_report(rep, "pool-range", npa, 1ULL << o, tt,
				      "%s: block of order %u above max_order %u", name, o,
				      p->pool.max_order);
		if (npa & (bsz - 1))
			hs_chk_report(rep, "pool-align", npa, 1ULL << o, tt,
				      "%s: order-%u block at %#" PRIx64
				      " is not aligned to %#" PRIx64,
				      name, o, npa, bsz);
		if (bend > re) {
			hs_chk_report(rep, "pool-range", npa, 1ULL << o, tt,
				      "%s: order-%u block %#" PRIx64 "-%#" PRIx64
				      " ends past the pool (%#" PRIx64 ")",
				      name, o, npa, bend - 1, re);
			bend = re;
		}
		if (note_read(p, npa, bend))
			hs_chk_report(rep, "check-error", npa, 0, tt, "%s: out of memory", name);
		if (block_clean(m, s, p, npa, bend, o))
			set_range(p->listed, (npa - rs) >> HS_PAGE_SHIFT,
				  (bend - rs) >> HS_PAGE_SHIFT);
		else
			block_pages(m, s, p, npa, bend, o, rep);
		prev = node;
		node = ln.next;
	}
}

/* Pages with refcount 0 that no list holds, reported as runs. */
static void unlisted(const struct hs_snapshot *s, struct hs_chk_pool *p,
		     struct hs_check_report *rep)
{
	uint64_t words = (p->npages + 63) / 64;
	memset(p->leak, 0, words * 8);
	for (const struct hs_snap_vm_range *v = first_run_from(s, p->rs);
	     v && v < s->vm + s->nr_vm && v->start < p->re; v++) {
		if (!v->backed || HS_VM_RC(v->val))
			continue;
		uint64_t a = v->start > p->rs ? v->start : p->rs,
			 b = v->end < p->re ? v->end : p->re;
		set_range(p->leak, (a - p->rs) >> HS_PAGE_SHIFT, (b - p->rs) >> HS_PAGE_SHIFT);
	}
	uint64_t run = 0, run_start = 0;
	for (uint64_t w = 0; w < words; w++) {
		uint64_t leak = p->leak[w] & ~p->listed[w];
		if (!leak && !run)
			continue;
		for (uint64_t k = w * 64; k < w * 64 + 64 && k <= p->npages; k++) {
			bool is = k < p->npages && ((leak >> (k % 64)) & 1);
			if (is) {
				if (!run++)
					run_start = p->rs + (k << HS_PAGE_SHIFT);
			} else if (run) {
				hs_chk_report(rep, "pool-unlisted", run_start, run,
					      p->tables | HS_CHK_T_VMEMMAP,
					      "%s: %" PRIu64
					      " page(s) with refcount 0 on no free list",
					      p->name, run);
				run = 0;
			}
		}
	}
	if (run)
		hs_chk_report(rep, "pool-unlisted", run_start, run, p->tables | HS_CHK_T_VMEMMAP,
			      "%s: %" PRIu64 " page(s) with refcount 0 on no free list", p->name,
			      run);
}

static int cmp_interval(const void *a, const void *b)
{
	const struct hs_chk_interval *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

void hs_chk_pool_run(struct hs_machine *m, const struct hs_snapshot *s, struct hs_chk_pool *p,
		     struct hs_check_report *rep)
{
	p->nr_rd = 0;
	struct hs_error err = {0};
	if (hs_machine_pool_layout(m, &p->lay, &err)) {
		p->read_ok = false;
		hs_chk_report(rep, "check-error", 0, 0, p->tables, "the pool `%s`: %s", p->name,
			      err.msg);
		return;
	}
	p->read_ok = !hs_sym_pa(m, p->name, &p->pool_pa, NULL) && !read_pool(m, p, &p->pool);
	if (!p->read_ok) {
		hs_chk_report(rep, "check-error", 0, 0, p->tables, "cannot read the pool `%s`",
			      p->name);
		return;
	}
	if (!p->pool.range_end)
		return; /* not initialised yet */
	uint64_t rs = p->pool.range_start, re = p->pool.range_end;
	if (rs >= re || (rs | re) & (PAGE - 1) || ((re - rs) >> HS_PAGE_SHIFT) > (1u << 24)) {
		hs_chk_report(rep, "pool-range", rs, 0, p->tables,
			      "%s: bad range %#" PRIx64 "-%#" PRIx64, p->name, rs, re);
		return;
	}
	if (cover(p, rs, re)) {
		hs_chk_report(rep, "check-error", rs, 0, p->tables, "%s: out of memory", p->name);
		return;
	}
	memset(p->listed, 0, (p->npages + 63) / 64 * 8);
	for (unsigned o = 0; o < p->lay.nr_orders; o++)
		walk_list(m, s, p, o, rep);
	unlisted(s, p, rep);
	/*
	 * Sorted by start, each end raised to the largest end so far: blocks of
	 * a corrupt list may overlap, and then one lookup still answers.
	 */
	qsort(p->rd, p->nr_rd, sizeof(*p->rd), cmp_interval);
	for (size_t i = 1; i < p->nr_rd; i++)
		if (p->rd[i].end < p->rd[i - 1].end)
			p->rd[i].end = p->rd[i - 1].end;
}

bool hs_chk_pool_read(const struct hs_chk_pool *p, uint64_t pa)
{
	size_t lo = 0, hi = p->nr_rd;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->rd[mid].start <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && pa < p->rd[lo - 1].end;
}

bool hs_chk_pool_same(struct hs_machine *m, const struct hs_chk_pool *p)
{
	struct hs_hyp_pool_layout now;
	if (!p->read_ok || read_pool(m, p, &now))
		return false;
	/* the lock word changes with every call; the rules read everything else */
	for (unsigned o = 0; o < HS_MAX_ORDER; o++)
		if (now.free_area[o].next != p->pool.free_area[o].next)
			return false;
	return now.range_start == p->pool.range_start && now.range_end == p->pool.range_end &&
	       now.max_order == p->pool.max_order;
}
