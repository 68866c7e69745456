/* SPDX-License-Identifier: MIT */
/*
 * A model of what the TLBs of each CPU may still hold, per descriptor
 * location, written from the Arm rules (arch/tlb_rules.h), not from hyp/:
 * Casemate's idea of a location that "may be cached since the last covering
 * invalidation was completed by a DSB". It is fed the machine's events
 * (tlb_check.c does that) and needs nothing but a way to read memory, so it
 * is unit-tested on fake memory.
 *
 * Roots are the tables CPUs have in TTBR0_EL2 (EL2 stage 1) and VTTBR_EL2
 * (stage 2, per VMID). A root's entries may be cached on a CPU:
 *  - EL2: from the time the CPU loads it (the current regime may be walked
 *    speculatively at any time) until it completes a TLBI ALLE2 with another
 *    root loaded;
 *  - stage 2: from the time the CPU runs at EL1/EL0 with it and HCR_EL2.VM
 *    set (a regime of a lower EL is not walked speculatively while the CPU
 *    is at EL2) until it completes an invalidation of its whole VMID.
 * A root no CPU has loaded or may have cached is dropped; its tables are no
 * concern of the TLBs any more.
 *
 * Every store to a table page of a known root is judged (hs_desc_change):
 * a break (valid -> invalid) or a loss of permissions leaves the location
 * pending, with the old value and the CPUs that may hold it, until TLBIs
 * covering it (regime, VMID, address, level, last-level or not) are
 * completed by DSBs on the CPUs that issued them; for stage 2 the entries
 * that combine stage 1 and 2 must also go (VMALLE1 for the VMID, issued once
 * the stage-2 invalidation completed, or VMALLS12E1 / ALLE1).
 */
#ifndef HS_TLB_MODEL_H
#define HS_TLB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pt_walk.h"
#include "tlb_rules.h"

#define HS_TLB_MAX_CPUS 16

enum hs_tlb_rule {
	HS_TLB_R_BBM,		  /* valid -> valid change that needs break-before-make */
	HS_TLB_R_TLBI_BEFORE_DSB, /* TLBI before a DSB made the table store visible to walks */
	HS_TLB_R_UNMAP_NO_TLBI,	  /* unmapped, not invalidated before reuse or return */
	HS_TLB_R_PERM_NO_TLBI,	  /* permissions reduced, not invalidated before reuse or return */
	HS_TLB_R_TABLE_NO_TLBI,	  /* table unlinked, walk caches not invalidated before reuse */
	HS_TLB_R_WRONG_VMID,	  /* the TLBI for the address ran with another VMID loaded */
	HS_TLB_R_WRONG_REGIME,	  /* the TLBI for the address targeted another regime */
	HS_TLB_R_NO_DSB,	  /* TLBI issued but never completed by a DSB on its CPU */
	HS_TLB_R_TABLE_MAPPED,	  /* a live table page mapped by a stage-2 leaf */
	HS_TLB_NR_RULES
};
/* "bbm", "tlbi-before-dsb", "unmap-no-tlbi", ... */
const char *hs_tlb_rule_name(enum hs_tlb_rule r);
/* The architecture reference the rule comes from. */
const char *hs_tlb_rule_ref(enum hs_tlb_rule r);
/* Parse a rule name; -1 when unknown. */
int hs_tlb_rule_parse(const char *name);

struct hs_tlb_violation {
	enum hs_tlb_rule rule;
	enum hs_tlb_regime regime; /* of the descriptor: HS_TLB_EL2 or HS_TLB_S2 */
	uint16_t vmid;
	uint64_t root_pa, table_pa, desc_pa;
	uint64_t ia; /* first input address the entry translates */
	int level;
	uint64_t old, new; /* the change at issue */
	unsigned cpu;	   /* the CPU that made the change */
	uint64_t pc;	   /* the store that made it */
	uint64_t at_pc;	   /* where it was found (TLBI, reusing store); 0 at a hypercall's return */
	uint64_t icount;   /* when it was found */
	char hvc[32];	   /* the hypercall in progress on that CPU ("" when none) */
	char detail[256];
};

struct hs_tlb_model_ops {
	/* The regime a root needs to be walked (EL2: TCR of `cpu`; stage 2: its VTCR); 0 or -1. */
	int (*root_regime)(void *ud, unsigned cpu, enum hs_tlb_regime regime, uint64_t ttbr,
			   struct hs_pt_regime *out);
	void (*watch)(void *ud, uint64_t page_pa, bool on); /* the model now tracks the page */
	void (*violation)(void *ud, const struct hs_tlb_violation *v);
	void *ud;
	/*
	 * Only keep the index of table pages (PTE provenance): nothing is judged,
	 * a table unlinked leaves the index at once, and a root stays while a
	 * CPU has it loaded or it is kept (hs_tlb_model_assume_cached), not
	 * because a TLB may cache it.
	 */
	bool index_only;
};

struct hs_tlb_model;

struct hs_tlb_model *hs_tlb_model_new(const struct hs_phys *phys, unsigned nr_cpus,
				      const struct hs_tlb_model_ops *ops);
void hs_tlb_model_free(struct hs_tlb_model *m);

/*
 * Index only: the stage-2 roots in `keep` (VTTBR values: the VMs that exist)
 * stay; every other stage-2 root no CPU has loaded goes, with its tables.
 */
void hs_tlb_model_keep_s2(struct hs_tlb_model *m, const uint64_t *keep, size_t nr);

/* CPU `cpu` writes `ttbr` to TTBR0_EL2 (regime EL2) or VTTBR_EL2 (regime S2). */
void hs_tlb_model_load(struct hs_tlb_model *m, unsigned cpu, enum hs_tlb_regime regime,
		       uint64_t ttbr);
/* A root's entries may be cached on the CPUs in mask (enabling the model mid-run). */
void hs_tlb_model_assume_cached(struct hs_tlb_model *m, unsigned cpu, enum hs_tlb_regime regime,
				uint64_t ttbr, uint32_t mask);
/* The CPU runs at EL1/EL0 with its VTTBR_EL2 (stage 2 on when s2_on: HCR_EL2.VM). */
void hs_tlb_model_lower_el_runs(struct hs_tlb_model *m, unsigned cpu, bool s2_on);
/* Index again the roots whose regime could not be read before (after TCR/VTCR writes). */
void hs_tlb_model_retry_roots(struct hs_tlb_model *m, unsigned cpu);

/*
 * The descriptor holding a store of `size` bytes at pa (the bytes old_bytes
 * before, val after) before and after it, from the word in memory now.
 */
void hs_desc_merge_store(uint64_t word, uint64_t pa, unsigned size, uint64_t old_bytes,
			 uint64_t val, uint64_t *old, uint64_t *new);
/*
 * A store of `size` bytes at pa on a tracked page, before or after it lands:
 * `old` and `val` are the bytes before and after. pc is the storing instruction.
 */
void hs_tlb_model_store(struct hs_tlb_model *m, unsigned cpu, uint64_t pa, unsigned size,
			uint64_t old, uint64_t val, uint64_t pc, uint64_t icount);
void hs_tlb_model_tlbi(struct hs_tlb_model *m, unsigned cpu, const struct hs_tlbi_scope *s,
		       uint64_t pc, uint64_t icount);
void hs_tlb_model_dsb(struct hs_tlb_model *m, unsigned cpu, unsigned option, uint64_t pc);
/* Hypercall boundaries: what is still pending at a return is reported. */
void hs_tlb_model_hvc_enter(struct hs_tlb_model *m, unsigned cpu, const char *name);
void hs_tlb_model_hvc_exit(struct hs_tlb_model *m, unsigned cpu, uint64_t icount);

/* One location whose old value TLBs may still hold. */
struct hs_tlb_pending_info {
	enum hs_tlb_regime regime;
	uint16_t vmid;
	uint64_t table_pa, desc_pa, ia;
	int level;
	uint64_t stale, cur;
	uint32_t cpus; /* CPUs that may hold it */
	unsigned cpu;
	uint64_t pc;
};
/* Copy up to max pending locations into out; returns how many there are. */
size_t hs_tlb_model_pending(const struct hs_tlb_model *m, struct hs_tlb_pending_info *out,
			    size_t max);

struct hs_tlb_model_stats {
	size_t roots, tables, pending;
	uint64_t stores, tlbis, dsbs, violations;
};
void hs_tlb_model_stats(const struct hs_tlb_model *m, struct hs_tlb_model_stats *st);
/* Is page_pa a table page of a known root? */
bool hs_tlb_model_tracks(const struct hs_tlb_model *m, uint64_t page_pa);

#endif
