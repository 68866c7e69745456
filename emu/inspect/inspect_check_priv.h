/* SPDX-License-Identifier: MIT */
/*
 * Inside the checker: the rule groups of inspect_check.c and
 * inspect_check_pool.c, callable one piece at a time so that the incremental
 * checker (inspect_check_incr.c) re-evaluates only what changed with the very
 * code hs_check() runs. hs_check_snapshot() is these groups in this order:
 *
 *   page rules per memory region, EL2 stage-1 rules per range, the sweep
 *   rules, table pages, guests, pool `hpool`, pool `host_s2_pool`.
 */
#ifndef HS_INSPECT_CHECK_PRIV_H
#define HS_INSPECT_CHECK_PRIV_H

#include "inspect_check.h"
#include "pool_layout.h"

/* Record a violation (counted always, stored up to HS_CHECK_MAX_STORED). */
/* Reset rep for a run on s: the machine's profile gives names and waived rules. */
void hs_chk_report_begin(struct hs_machine *m, const struct hs_snapshot *s,
			 struct hs_check_report *rep);
void hs_chk_report(struct hs_check_report *rep, const char *rule, uint64_t pa, uint64_t pages,
		   unsigned tables, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The snapshot holds no protected host yet: report check-error, return -EAGAIN; else 0. */
int hs_chk_booted(const struct hs_snapshot *s, struct hs_check_report *rep);

/*
 * Page rules over the segments of [from, to). A segment
 * is a maximal run where the host stage-2 range and the vmemmap run are both
 * constant; from and to must be segment boundaries inside one memory
 * region, so that the result is the part of the whole check that lies there.
 */
void hs_chk_pages(const struct hs_snapshot *s, uint64_t from, uint64_t to,
		  struct hs_check_report *rep);
/* EL2 stage-1 rules of range i of s->pt[HS_SNAP_HYP_S1]. */
void hs_chk_el2_range(const struct hs_snapshot *s, size_t i, struct hs_check_report *rep);
/* The sweep rules (inspect_check_sweep.c): pinned pages mapped at EL2, MMIO leaves of the host. */
void hs_chk_sweep(const struct hs_snapshot *s, struct hs_check_report *rep);
/* Table-page rules (every table of the snapshot, in its order). */
void hs_chk_tables(const struct hs_snapshot *s, struct hs_check_report *rep);
/* Guest rules (VM table, guest leaves, share counts, annotations, guest vs EL2). */
void hs_chk_guests(const struct hs_snapshot *s, struct hs_check_report *rep);

/*
 * A buddy pool's rules (inspect_check_pool.c). The pool keeps, per page of
 * its range, whether the page is zero (a free page must be): the full
 * checker starts from nothing, the incremental one keeps it across checks
 * and forgets the pages the CPUs wrote.
 */
struct hs_chk_interval {
	uint64_t start, end;
};

struct hs_chk_pool {
	const char *name; /* the symbol: "hpool" or "host_s2_pool" */
	unsigned tables;  /* HS_CHK_T_HPOOL or HS_CHK_T_HOST_S2_POOL */
	/* the pool as the last run read it */
	bool read_ok;
	uint64_t pool_pa;
	struct hs_pool_layout lay;	/* the struct's layout (the profile's) */
	struct hs_hyp_pool_layout pool; /* decoded */
	/* bitmaps over the pages of [rs, re) */
	uint64_t rs, re, npages;
	uint64_t *known; /* the two bits below are valid */
	uint64_t *zhead; /* bytes 16..4095 are zero (a free block's head) */
	uint64_t *zfull; /* the whole page is zero (a tail page) */
	uint64_t *listed, *leak;
	/* every page the last run read through a free list (sorted by list, not address) */
	struct hs_chk_interval *rd;
	size_t nr_rd, cap_rd;
};

void hs_chk_pool_init(struct hs_chk_pool *p, const char *name, unsigned tables);
void hs_chk_pool_free(struct hs_chk_pool *p);
/* Evaluate the pool's rules on memory now, with s's vmemmap. */
void hs_chk_pool_run(struct hs_machine *m, const struct hs_snapshot *s, struct hs_chk_pool *p,
		     struct hs_check_report *rep);
/* The CPUs wrote the page at pa: forget whether it is zero. */
void hs_chk_pool_forget(struct hs_chk_pool *p, uint64_t pa);
/* Did the last run read the page at pa through a free list? */
bool hs_chk_pool_read(const struct hs_chk_pool *p, uint64_t pa);
/* Is the pool as stored in memory still what the last run read? */
bool hs_chk_pool_same(struct hs_machine *m, const struct hs_chk_pool *p);

#endif
