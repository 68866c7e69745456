/* SPDX-License-Identifier: MIT */
/*
 * The architecture's rules for changing live translation table entries and
 * for TLB maintenance, as pure functions (no machine, no hypervisor): what a
 * TLBI instruction invalidates, and what a change of one descriptor requires.
 *
 * References are to the Arm ARM, DDI 0487 K.a:
 *  - D8.16.1 "Using break-before-make when updating translation table
 *    entries": R_WHZWS lists the changes that need break-before-make (memory
 *    type, shareability or cacheability, output address, block size, a global
 *    entry over non-global ones); R_RDDMVT the sequence (invalid entry, DSB,
 *    broadcast TLBI, DSB, new entry, DSB).
 *  - D8.17 "TLB maintenance": an entry that gives a Translation or Access
 *    flag fault is never held in a TLB; other changes of an entry used with a
 *    VMID or ASID (permissions included) need the TLB entries invalidated
 *    before the change is guaranteed visible (R_GPPYH).
 *  - C5.5 (TLBI instructions): operands (VA[55:12] or IPA[51:12] in bits
 *    [43:0], TTL hint in [47:44], ASID in [63:48]); stage-2 and EL1&0 forms
 *    act on the VMID in VTTBR_EL2; IPAS2E1* invalidate stage-2-only entries,
 *    so entries that combine stage 1 and stage 2 need a stage-1 invalidation
 *    for the VMID after the stage-2 one has completed.
 *  - B2.3.12 (DSB): a TLBI completes only at a DSB of the PE that issued it,
 *    over the domain the TLBI reaches (NSH for local forms, ISH or wider for
 *    the broadcast ones); DSB ST/LD variants do not complete maintenance.
 */
#ifndef HS_TLB_RULES_H
#define HS_TLB_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "pt_walk.h"

/* The translation regimes a TLB entry can belong to. */
enum hs_tlb_regime {
	HS_TLB_EL2,  /* EL2 stage 1 (nVHE: no ASID, no VMID) */
	HS_TLB_S2,   /* stage 2 of the EL1&0 regime, per VMID */
	HS_TLB_EL10, /* EL1&0 stage 1 (and combined stage 1+2), per VMID and ASID */
	HS_TLB_NR_REGIMES
};

/* What one TLBI instruction invalidates. */
struct hs_tlbi_scope {
	bool known;	  /* the operation was recognised */
	bool broadcast;	  /* ...IS / ...OS: every PE in the domain, else the issuing PE */
	bool by_addr;	  /* by VA / IPA, else everything in the regime(s) */
	bool last_level;  /* ...L forms: final-level (leaf) entries only, no walk caches */
	unsigned regimes; /* bit per enum hs_tlb_regime */
	bool all_vmids;	  /* ALLE1: every VMID (else the VMID below) */
	uint16_t vmid;	  /* VTTBR_EL2.VMID of the issuing PE (stage-2 and EL1&0 forms) */
	uint64_t addr;	  /* by_addr: the VA or IPA (page aligned) */
	int ttl_level;	  /* TTL hint: the level of the entry, or -1 when no hint */
};

/*
 * Decode a TLBI operation (its name as the machine reports it, e.g.
 * "IPAS2E1IS", "VALE2", "VMALLS12E1IS") with its operand and the VTTBR_EL2
 * live on the issuing PE. Unknown names give known == false.
 */
void hs_tlbi_decode(const char *op, uint64_t operand, uint64_t vttbr, struct hs_tlbi_scope *out);

/* Does a DSB with this CRm option complete maintenance the TLBI issued (broadcast or not)? */
bool hs_dsb_completes_tlbi(unsigned option, bool broadcast);
/* Does a DSB with this CRm option make earlier stores visible to other PEs' table walks? */
bool hs_dsb_orders_stores(unsigned option, bool broadcast);

/* How one descriptor changes, as the rules judge it. */
enum hs_desc_change {
	HS_DC_SAME,	 /* nothing a TLB holds differs (equal, or only ignored/SW bits) */
	HS_DC_MAKE,	 /* invalid -> valid: no TLB holds the invalid entry */
	HS_DC_BREAK,	 /* valid -> invalid: TLBs may hold the old entry until invalidated */
	HS_DC_RELAX,	 /* valid -> valid, permissions or AF gained: no BBM, no stale harm */
	HS_DC_RESTRICT,	 /* valid -> valid, permissions lost: no BBM, but TLBI needed */
	HS_DC_NEEDS_BBM, /* valid -> valid that R_WHZWS forbids without break-before-make */
	HS_DC_INVALID,	 /* invalid -> invalid (annotations): nothing cached */
};

/*
 * Judge the change of the descriptor at `level` of a regime of `stage` from
 * old to new. For NEEDS_BBM, why names the field ("output address", "block
 * size", "memory type", "shareability", "contiguous", "table address").
 */
enum hs_desc_change hs_desc_change(enum hs_pt_stage stage, int level, uint64_t old, uint64_t new,
				   const char **why);
/* "same", "make", "break", "relax", "restrict", "needs-bbm", "invalid" */
const char *hs_desc_change_name(enum hs_desc_change c);

/* Is the descriptor at level valid (bit 0), and a table (not a block or page)? */
bool hs_desc_valid(uint64_t desc);
bool hs_desc_is_table(int level, uint64_t desc);
/* The output address or next-table address of a 4 KiB-granule descriptor (bits [47:12]). */
uint64_t hs_desc_oa(uint64_t desc);
/* Bytes an entry at level covers with the 4 KiB granule. */
uint64_t hs_level_size(int level);

#endif
