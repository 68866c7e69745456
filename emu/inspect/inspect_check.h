/* SPDX-License-Identifier: MIT */
/*
 * The invariant checker: an independent specification of the ownership
 * rules of docs/pkvm-reference.md ("Invariants worth checking"), evaluated
 * on a snapshot of the host stage 2, the EL2 stage 1, the vmemmap, the two
 * buddy pools (`hpool`, `host_s2_pool`), every table page and the stage 2
 * of every VM in the hypervisor's VM table. It is written
 * from the rules, not from hyp/: when they disagree, one has a bug.
 *
 * Violations over runs of pages that break a rule the same way are reported
 * once, with the first page and the number of pages.
 */
#ifndef HS_INSPECT_CHECK_H
#define HS_INSPECT_CHECK_H

#include "inspect_snapshot.h"

struct hs_check_waiver;

/* Tables a violation involves. */
#define HS_CHK_T_HOST_S2 (1u << 0)
#define HS_CHK_T_HYP_S1 (1u << 1)
#define HS_CHK_T_VMEMMAP (1u << 2)
#define HS_CHK_T_HPOOL (1u << 3)
#define HS_CHK_T_HOST_S2_POOL (1u << 4)
#define HS_CHK_T_GUEST_S2 (1u << 5) /* a VM's stage 2 or the VM table */

struct hs_check_rule {
	const char *id;
	const char *summary;
};
/* The rules, in the order they are evaluated; NULL-terminated. */
extern const struct hs_check_rule hs_check_rules[];

struct hs_violation {
	const char *rule; /* one of hs_check_rules[].id */
	uint64_t pa;	  /* the (first) page involved */
	uint64_t pages;	  /* pages in the run (1 for single-page rules) */
	unsigned tables;  /* HS_CHK_T_* */
	char msg[200];
	uint64_t vm;  /* guest rules: the VM's handle (0 when none) */
	uint64_t gfn; /* guest rules: the (first) gfn involved */
};

#define HS_CHECK_MAX_STORED 4096 /* further violations are counted, not stored */

struct hs_check_report {
	struct hs_violation *v;
	size_t nr, cap; /* stored */
	size_t total;	/* found (>= nr) */
	uint64_t pages_checked;
	uint64_t tables_checked;
	uint64_t free_blocks_checked;
	/* set by the checker from the machine's profile: */
	const struct hs_pt_swenc *swenc;       /* names of owners and states */
	const struct hs_check_waiver *waivers; /* rules not reported (profile.h) */
	size_t waived;			       /* violations of them, not reported */
	uint64_t pinned[HS_MAX_CPUS + 2];      /* hyp-s1 tables with an extra reference each */
	unsigned nr_pinned;
	uint64_t ro_text_start, ro_text_end; /* hyp text the host stage 2 may map read-only */
	/* page states live in the vmemmap only (Linux 7.x): host stage-2 leaves carry SW
	 * state 0, EL2 leaves of pinned borrowed pages too */
	bool s2_leaf_stateless;
};

void hs_check_report_init(struct hs_check_report *rep);
void hs_check_report_free(struct hs_check_report *rep);

/*
 * hs_check() - check every invariant on the machine as it is now.
 * Only reads memory (safe from an event callback). rep is reset first.
 * To check again and again (after every hypercall), inspect_check_incr.h
 * gives the same report at the cost of what changed.
 * Return: the number of violations (0 = clean), or a negative code when the
 * state could not be read at all (a violation "check-error" then says why).
 */
int hs_check(struct hs_machine *m, struct hs_check_report *rep);
/*
 * Same on an existing snapshot taken with HS_SNAP_F_TABLES (the pools and
 * free-page contents are read from m's memory now).
 */
int hs_check_snapshot(struct hs_machine *m, const struct hs_snapshot *s,
		      struct hs_check_report *rep);

/* Violations of one rule in the report. */
size_t hs_check_count(const struct hs_check_report *rep, const char *rule);
/* Text: one line per violation and a summary; JSON: an object. */
void hs_check_text(const struct hs_check_report *rep, struct hs_strbuf *sb);
void hs_check_json(const struct hs_check_report *rep, struct hs_strbuf *sb);
/* "host-s2,vmemmap" style list of HS_CHK_T_* names. */
void hs_check_tables_str(unsigned tables, struct hs_strbuf *sb);

#endif
