/* SPDX-License-Identifier: MIT */
/*
 * The incremental checker: hs_check() after every hypercall, at the cost of
 * what the hypercall changed.
 *
 * It keeps the last check's decoded state (inspect_check_state.h) and its
 * violations, rule group by rule group, and asks the write log (write_log.h)
 * which physical pages were stored to since. Only what those pages can
 * affect is read and checked again: the table entries that changed, the
 * vmemmap entries that changed, the segments of memory around them, the EL2
 * ranges over them, the pools whose free lists or free pages were touched.
 * Pages no rule reads (stacks, the host context, the host's own memory)
 * cost only their place in the log.
 *
 * The report is always the one hs_check() would give at that moment, entry
 * for entry (rule, page, pages, tables, message, VM, gfn) and counters. When
 * it cannot be sure of that cheaply, it runs the full check instead: the
 * first time, before the boot completes, when the log lost track, when CPU
 * 0's translation registers, the memory regions or the VM table changed,
 * when a table is malformed, or when more violations exist than a report
 * stores.
 */
#ifndef HS_INSPECT_CHECK_INCR_H
#define HS_INSPECT_CHECK_INCR_H

#include "inspect_check.h"

struct hs_check_incr;

/* Start: opens a write-log reader on m (stores are hooked from now on). */
int hs_check_incr_new(struct hs_machine *m, struct hs_check_incr **out, struct hs_error *err);
/* Stop (before hs_machine_destroy). */
void hs_check_incr_free(struct hs_check_incr *ci);

/*
 * hs_check_incr() - check every invariant now; the same report and return
 * value as hs_check(m, rep). Only reads memory (safe from an event callback).
 */
int hs_check_incr(struct hs_check_incr *ci, struct hs_check_report *rep);

/* Forget everything: the next check is a full one. */
void hs_check_incr_reset(struct hs_check_incr *ci);

struct hs_check_incr_stats {
	uint64_t checks, full; /* checks run, of which full */
	bool last_full;	       /* how the last check ran */
	const char *last_why;  /* the last full check's reason */
	uint64_t pages;	       /* pages the log named, over all checks */
};
void hs_check_incr_stats(const struct hs_check_incr *ci, struct hs_check_incr_stats *st);

/* The decoded state the last check used (equal to a fresh HS_SNAP_F_TABLES snapshot). */
const struct hs_snapshot *hs_check_incr_snapshot(const struct hs_check_incr *ci);

#endif
