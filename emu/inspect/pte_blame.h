/* SPDX-License-Identifier: MIT */
/*
 * PTE provenance: who wrote each page-table entry, and when. Every CPU store
 * into a walk-reachable table page (EL2 stage 1, the host's stage 2, every
 * VM's stage 2: the index of tlb_check.h's hs_tlb_index_new, fed by the
 * store tap's page-granular traps, so it costs nothing on stores elsewhere)
 * is kept per descriptor: old and new value, CPU, exception level, PC,
 * instruction count and the hypercall in progress on that CPU. Each
 * descriptor keeps its last HS_BLAME_DEPTH stores; at most HS_BLAME_MAX_DESCS
 * descriptors are kept (more are counted as dropped).
 *
 * A page that becomes a table page starts a new history: its descriptors'
 * records from an earlier life (the page was a table, freed, reused) are
 * dropped, and the time it became reachable is kept, since stores made
 * before (a table built before its root was loaded, a page zeroed before it
 * was linked) were not watched.
 */
#ifndef HS_PTE_BLAME_H
#define HS_PTE_BLAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"
#include "strbuf.h"

#define HS_BLAME_DEPTH 8
#define HS_BLAME_MAX_DESCS (1u << 18)

struct hs_blame_rec {
	uint64_t desc_pa;
	uint64_t old, new; /* the whole descriptor before and after */
	uint64_t pc;	   /* the store; 0 when unknown */
	uint64_t icount;   /* machine instruction count at the store */
	unsigned cpu, el;
	int hvc_nr;	      /* hypercall in progress on that CPU; -1 when not one of ours */
	const char *hvc_name; /* static; NULL when no hypercall was in progress */
};

/* When a table page became reachable (its history starts there). */
struct hs_blame_epoch {
	uint64_t icount;
	unsigned cpu;
	const char *hvc_name; /* hypercall in progress then, or NULL */
};

struct hs_blame;

/* Start recording on m (from its present state on). */
int hs_blame_new(struct hs_machine *m, struct hs_blame **out, struct hs_error *err);
void hs_blame_free(struct hs_blame *b);
/*
 * The machine's memory was replaced (a checkpoint restored): forget the
 * stores made after the machine's instruction count now (the run that was
 * undone) and index the table pages again from the present state, keeping
 * the histories before it.
 */
int hs_blame_reindex(struct hs_blame *b, struct hs_error *err);

/*
 * The stores kept for the descriptor at desc_pa (8-byte aligned), most
 * recent first, into out[0..max); returns how many are kept (<= HS_BLAME_DEPTH).
 * *total (may be NULL) gets how many were recorded since its page became a table.
 */
size_t hs_blame_history(const struct hs_blame *b, uint64_t desc_pa, struct hs_blame_rec *out,
			size_t max, uint64_t *total);
/* The last store to the descriptor; false when none is kept. */
bool hs_blame_last(const struct hs_blame *b, uint64_t desc_pa, struct hs_blame_rec *out);
/* Is the page holding pa a table page now? If so, when it became one. */
bool hs_blame_epoch(const struct hs_blame *b, uint64_t pa, struct hs_blame_epoch *out);

struct hs_blame_stats {
	size_t tables;	  /* table pages watched now */
	size_t descs;	  /* descriptors with a history */
	uint64_t stores;  /* stores recorded */
	uint64_t dropped; /* stores not kept: too many descriptors */
};
void hs_blame_stats(const struct hs_blame *b, struct hs_blame_stats *st);

/* One record as a line ("icount N cpuC ELe HVC at WHERE: OLD -> NEW") / a JSON object. */
void hs_blame_rec_text(struct hs_strbuf *sb, struct hs_machine *m, const struct hs_blame_rec *r);
void hs_blame_rec_json(struct hs_strbuf *sb, struct hs_machine *m, const struct hs_blame_rec *r);

#endif
