/* SPDX-License-Identifier: MIT */
/*
 * The live TLB checker: the TLB model (tlb_model.h) fed by the machine's
 * events — table stores from the write log's tap (the pages of every table
 * the model tracks), TLBIs decoded with the issuing CPU's VTTBR, DSBs from
 * the barrier feed, TTBR0_EL2/VTTBR_EL2/HCR_EL2 writes, hypercall entry and
 * return, and the times a CPU runs at EL1 (when its stage 2 may be cached).
 *
 * Each violation names the rule, the descriptor (regime, VMID, table,
 * level, input address, old and new value), the CPU, the storing PC as
 * symbol and source line, where it was found, and the hypercall in
 * progress. With stop on, the machine stops (HS_STOP_CHECK) at the next
 * barrier after it (hs_machine_request_stop), like a watchpoint.
 */
#ifndef HS_TLB_CHECK_H
#define HS_TLB_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "machine.h"
#include "strbuf.h"
#include "tlb_model.h"

struct hs_tlb_check;

struct hs_tlb_check_entry {
	struct hs_tlb_violation v;
	char where[160]; /* the store: "pgt_break_pte+0xc (pgtable.c:242)" */
	char at[160];	 /* where it was found, or "hypercall return" */
};

/* Start checking from the machine's present state (tables indexed, hooks in). */
int hs_tlb_check_new(struct hs_machine *m, struct hs_tlb_check **out, struct hs_error *err);

/*
 * The same model as an index of the walk-reachable table pages only (PTE
 * provenance, pte_blame.h): no barrier feed, no rules judged; the pages
 * watched through the store tap are exactly the table pages of the roots
 * some CPU has loaded, the host's stage 2 and every VM's (re-read at the
 * return of hypercalls whose name holds "_vm" or "finalize"). on_watch (may
 * be NULL) hears each page as it becomes a table page or stops being one.
 */
struct hs_tlb_index_opts {
	void (*on_watch)(void *ud, uint64_t page_pa, bool on);
	void *ud;
};
int hs_tlb_index_new(struct hs_machine *m, const struct hs_tlb_index_opts *o,
		     struct hs_tlb_check **out, struct hs_error *err);
void hs_tlb_check_free(struct hs_tlb_check *c);
/* Stop the machine at each violation (default off: record only). */
void hs_tlb_check_set_stop(struct hs_tlb_check *c, bool stop);

size_t hs_tlb_check_count(const struct hs_tlb_check *c);
const struct hs_tlb_check_entry *hs_tlb_check_get(const struct hs_tlb_check *c, size_t i);
/* Violations of one rule (by name) so far. */
size_t hs_tlb_check_count_rule(const struct hs_tlb_check *c, const char *rule);
void hs_tlb_check_clear(struct hs_tlb_check *c);
const struct hs_tlb_model *hs_tlb_check_model(const struct hs_tlb_check *c);

/* One violation as a line of text / a JSON object. */
void hs_tlb_check_entry_text(struct hs_strbuf *sb, const struct hs_tlb_check_entry *e);
void hs_tlb_check_entry_json(struct hs_strbuf *sb, const struct hs_tlb_check_entry *e);
/* The whole report: violations from index `from`, pending maintenance, counts. */
void hs_tlb_check_text(struct hs_strbuf *sb, const struct hs_tlb_check *c, size_t from);
void hs_tlb_check_json(struct hs_strbuf *sb, const struct hs_tlb_check *c, size_t from);

#endif
